"""What changed in a channel's state, as a patch a client applies to what it holds.

The leaderboard and the station board are sent whole once (in a snapshot, or when a client
asks for them) and after that as patches: a result moves two teams' points and a few ranks,
not 128 rows. A patch is computed once per channel per frame, against the state the channel
last sent (its *base*, labelled with the position it reflects), so every subscriber gets the
same text; a client whose state carries another label cannot apply it and asks for the state
instead (see docs/live-protocol.md, "Deltas").

The patch format, applied to a JSON value:

- A patch of an object is an object whose entries say, per key: a string, number, boolean or
  null — the key's new value; ``[value]`` — the key's new value (any JSON, wrapped so it is not
  taken for a patch); ``[]`` — the key is gone; an object — a patch of the key's current value.
- A patch of a list of keyed items (every item an object with an ``id``, or a ``team.id``, or a
  ``game_id`` and a ``station.id``; no key twice) is an object with ``o``, the new order (only
  when it changed), and ``i``, the items that changed, by key, each ``[item]`` (new or replaced)
  or a patch of the item. ``o`` is a list of runs: ``[start, length]`` takes that slice of the
  old list; a string is the key of an item that is new (its value is in ``i``).
  A new item that is only a reference to a match (``{"$ref": key}``) is left out of ``i``.
- Any other list that changed is replaced whole, as is a keyed list none of whose old items
  is kept.

Patched states are *normalized* first (:func:`normalize`): every match view in them (an object
with an ``id``, a ``game_id`` and ``slots``, and the fields of ``MATCH_DEFAULTS``) is kept once
in a table, ``$matches``, by id, :func:`compact` (without the fields at their defaults), and
where it appeared stands ``{"$ref": id}``. The station board names the same match as one
table's match now, another's next and in the queue: normalized, moving a match from the queue
to a table is a few ids, not a few dozen match views. Only a free table has a next match, and a
game's free tables show, in order, the first matches of its queue that can go, then its front;
the queue reorders as results come in (the teams who just played go to the back), which would
change every free table. So the station board's normalized form holds the
free tables' next matches once per game, ``$next``: ``{game id: [{"$ref": id, "waits_for":
[...], "ready_at": ...}, ...]}`` (the i-th for the game's i-th free table; ``waits_for`` and
``ready_at`` left out when empty), and the tables themselves lose ``up_next``, ``waits_for`` and
``ready_at``. A reordered front is then a few runs of one list, not a dozen tables.
And on the leaderboard a row leaves out its ``rank`` when it is the row above's (``$ditto``:
``["rank"]``): teams sharing a rank say it once, so a team moving past a dozen of them changes
one rank, not a dozen. :func:`denormalize` gives the state back as ``GET /stations`` and
``GET /leaderboard`` have it.

``apply(old, diff(old, new)) == new`` for all JSON values (the property test says so), with
one proviso from Python's equality: ``1``, ``1.0`` and ``true`` compare equal, so a value that
changes only between those is not sent (the views never do that: their fields are typed).
"""

from __future__ import annotations

from typing import Any

JSON = Any

#: A match view held once in a state's match table, and where it appears, a reference to it.
REF = "$ref"
MATCHES = "$matches"
#: The same for teams (``{"id", "name", "colour", "flag"}``, as every view names a team).
TEAM = "$team"
TEAMS = "$teams"
_TEAM_KEYS = frozenset(("id", "name", "colour", "flag"))
#: The fields a leaderboard row leaves out when it has the row above's (``["rank"]``: the
#: teams sharing a rank say it once, so one moving past them changes one row, not all).
DITTO = "$ditto"
#: A station board's next matches, per game, in the order of its free tables.
NEXT = "$next"
_NEXT_KEYS = ("up_next", "waits_for", "ready_at")
_TABLES = (MATCHES, TEAMS, NEXT, DITTO)


def key_of(item: JSON) -> str | None:
    """The key of a list item: its ``id``, its team's id (a leaderboard row), or its game's and
    station's ids (a station board); None for anything else."""
    if type(item) is not dict:
        return None
    found = item.get("id")
    if found is None:
        found = item.get(REF, item.get(TEAM))
    if type(found) is str:
        return found
    team = item.get("team")
    if type(team) is dict:
        found = team.get("id", team.get(TEAM))
        if type(found) is str:
            return found
    station, game = item.get("station"), item.get("game_id")
    if type(station) is dict and type(game) is str and type(station.get("id")) is str:
        return f"{game}/{station['id']}"
    return None


def _is_match(value: dict[str, JSON]) -> bool:
    return type(value.get("id")) is str and type(value.get("game_id")) is str and "slots" in value


#: What most match views say (a match waiting for a table, one game, nothing set yet): a match
#: view is sent *compact* (:func:`compact`), without the fields that say these — held so in
#: ``$matches``, and so in ``match_updated`` messages to clients that keep the station board.
#: Part of the protocol: a client fills them in again (:func:`expand`).
MATCH_DEFAULTS: dict[str, JSON] = {
    "kind": "head_to_head",
    "best_of": 1,
    "status": "ready",
    "station": None,
    "winner_to": None,
    "loser_to": None,
    "deadline": None,
    "flagged": None,
}
SLOT_DEFAULTS: dict[str, JSON] = {
    "source": "team",
    "score": None,
    "place": None,
    "winner": False,
    "placeholder": "",
}


def _is_default(value: JSON, default: JSON) -> bool:
    return type(value) is type(default) and value == default


def _whole_match(value: dict[str, JSON]) -> bool:
    """A match view with every field the defaults name (only such views are made compact,
    so that filling them in gives back exactly what was there)."""
    slots = value.get("slots")
    return (
        _is_match(value)
        and MATCH_DEFAULTS.keys() <= value.keys()
        and type(slots) is list
        and all(type(s) is dict and SLOT_DEFAULTS.keys() <= s.keys() for s in slots)
    )


def compact(value: JSON) -> JSON:
    """A match view without the fields at their defaults (anything else as it is)."""
    if type(value) is not dict or not _whole_match(value):
        return value
    out = {
        k: v
        for k, v in value.items()
        if k not in MATCH_DEFAULTS or not _is_default(v, MATCH_DEFAULTS[k])
    }
    out["slots"] = [
        {
            k: v
            for k, v in s.items()
            if k not in SLOT_DEFAULTS or not _is_default(v, SLOT_DEFAULTS[k])
        }
        for s in value["slots"]
    ]
    return out


def brief(match: JSON) -> JSON:
    """A match as a client without the station board is told it changed: which match, of which
    game, its status and its teams (ids; null for a place not known yet). A page needs no more
    to know whether it shows that match; it reads the rest where it shows it."""
    teams = [slot.get("team") for slot in match["slots"]]
    return {
        "id": match["id"],
        "game_id": match["game_id"],
        "status": match.get("status", MATCH_DEFAULTS["status"]),
        "teams": [None if t is None else t.get("id", t.get(TEAM)) for t in teams],
    }


def expand(value: JSON) -> JSON:
    """A match view made :func:`compact` as it was (anything else as it is)."""
    if type(value) is not dict or not _is_match(value) or type(value["slots"]) is not list:
        return value
    out = {**value, **{k: v for k, v in MATCH_DEFAULTS.items() if k not in value}}
    out["slots"] = [
        {**s, **{k: v for k, v in SLOT_DEFAULTS.items() if k not in s}} if type(s) is dict else s
        for s in value["slots"]
    ]
    return out


def normalize(state: dict[str, JSON]) -> dict[str, JSON]:
    """``state`` with each match view kept once in ``$matches`` and each team once in
    ``$teams``, referred to where they were (one that differs from the first seen under its
    id stays where it is)."""
    tables: dict[str, dict[str, JSON]] = {MATCHES: {}, TEAMS: {}}

    def keep(table: str, ref: str, value: dict[str, JSON]) -> JSON:
        known = tables[table].setdefault(value["id"], value)
        return {ref: value["id"]} if known is value or known == value else value

    def walk(value: JSON) -> JSON:
        if type(value) is dict:
            if type(value.get("id")) is str and value.keys() == _TEAM_KEYS:
                return keep(TEAMS, TEAM, value)
            inner = {k: walk(v) for k, v in value.items()}
            if not _whole_match(inner):
                return inner
            flat = compact(inner)
            found = keep(MATCHES, REF, flat)
            return inner if found is flat else found  # (one that differs stays whole)
        if type(value) is list:
            return [walk(v) for v in value]
        return value

    out: dict[str, JSON] = walk(state)
    out |= {name: table for name, table in tables.items() if table}
    boards = out.get("stations")
    if type(boards) is list:
        lifted = _lift_next(boards)
        if lifted is not None:
            out["stations"], out[NEXT] = lifted
    rows = out.get("rows")
    if type(rows) is list and all(type(r) is dict and "rank" in r for r in rows):
        same = [i and _is_default(row["rank"], rows[i - 1]["rank"]) for i, row in enumerate(rows)]
        if any(same):
            out["rows"] = [
                {k: v for k, v in row.items() if k != "rank"} if omit else row
                for omit, row in zip(same, rows, strict=True)
            ]
            out[DITTO] = ["rank"]
    return out


def _fill_ditto(rows: list[JSON]) -> list[JSON]:
    out: list[JSON] = []
    for row in rows:
        if type(row) is dict and "rank" not in row and out:
            row = {**row, "rank": out[-1]["rank"]}
        out.append(row)
    return out


def _empty(value: JSON) -> bool:
    return type(value) is list and not value


def _is_ref(value: JSON) -> bool:
    return type(value) is dict and len(value) == 1 and type(value.get(REF)) is str


def _lift_next(
    boards: list[JSON],
) -> tuple[list[JSON], dict[str, list[dict[str, JSON]]]] | None:
    """The boards without their next matches, and those of each game's free tables (see the
    module's docstring); None when no game's boards have them as the station board does."""
    games: dict[str, list[dict[str, JSON]]] = {}
    unfit: set[str] = set()
    for board in boards:
        if type(board) is not dict or type(board.get("game_id")) is not str:
            continue
        game = board["game_id"]
        entries = games.setdefault(game, [])
        if game in unfit:
            continue
        if not all(key in board for key in (*_NEXT_KEYS, "now_playing")):
            unfit.add(game)
            continue
        nxt, waits, ready = (board[key] for key in _NEXT_KEYS)
        if board["now_playing"] is not None:
            # A busy table has no next match (the queue's front goes to a free one).
            if nxt is not None or not _empty(waits) or ready is not None:
                unfit.add(game)
        elif nxt is None:
            # Free tables past the end of the game's queue: nothing next, nothing to wait for.
            if not _empty(waits) or ready is not None:
                unfit.add(game)
            entries.append({})
        elif not _is_ref(nxt) or (entries and not entries[-1]):
            unfit.add(game)
        else:
            entry = dict(nxt)
            if not _empty(waits):
                entry["waits_for"] = waits
            if ready is not None:
                entry["ready_at"] = ready
            entries.append(entry)
    lifted = {g: [e for e in entries if e] for g, entries in games.items() if g not in unfit}
    if not lifted:
        return None
    out = [
        {k: v for k, v in board.items() if k not in _NEXT_KEYS}
        if type(board) is dict and board.get("game_id") in lifted
        else board
        for board in boards
    ]
    return out, lifted


def _lower_next(boards: list[JSON], lifted: dict[str, list[dict[str, JSON]]]) -> list[JSON]:
    seen: dict[str, int] = {}
    out = []
    for board in boards:
        game = board.get("game_id") if type(board) is dict else None
        if type(game) is not str or game not in lifted:
            out.append(board)
            continue
        entry = None
        if board.get("now_playing") is None:
            i = seen[game] = seen.get(game, -1) + 1
            entries = lifted[game]
            entry = entries[i] if i < len(entries) else None
        out.append(
            board
            | {
                "up_next": {REF: entry[REF]} if entry else None,
                "waits_for": entry.get("waits_for", []) if entry else [],
                "ready_at": entry.get("ready_at") if entry else None,
            }
        )
    return out


def refer_teams(value: JSON, teams: dict[str, JSON]) -> JSON:
    """``value`` with each team that ``teams`` holds as it is referred to, ``{"$team": id}``
    (a match view as a normalized state holds it)."""
    if type(value) is dict:
        if type(value.get("id")) is str and value.keys() == _TEAM_KEYS:
            return {TEAM: value["id"]} if teams.get(value["id"]) == value else value
        return {k: refer_teams(v, teams) for k, v in value.items()}
    if type(value) is list:
        return [refer_teams(v, teams) for v in value]
    return value


def _dereference(value: JSON, matches: dict[str, JSON], teams: dict[str, JSON]) -> JSON:
    """``value`` with each ``{"$ref": id}`` and ``{"$team": id}`` replaced by what it refers to
    (a match filled in, :func:`expand`); ``KeyError`` for one the tables do not hold."""
    if type(value) is dict:
        if len(value) == 1:
            if REF in value:
                return _dereference(expand(matches[value[REF]]), matches, teams)
            if TEAM in value:
                return teams[value[TEAM]]
        return {k: _dereference(v, matches, teams) for k, v in value.items()}
    if type(value) is list:
        return [_dereference(v, matches, teams) for v in value]
    return value


def _tables_of(state: dict[str, JSON]) -> tuple[dict[str, JSON], dict[str, JSON]]:
    return state.get(MATCHES) or {}, state.get(TEAMS) or {}


def resolve(value: JSON, state: dict[str, JSON]) -> JSON:
    """``value``, a part of the normalized ``state`` (a match of its ``$matches``, say), with
    its references replaced by what they refer to and filled in (:func:`expand`); ``KeyError``
    for one the state does not hold."""
    return expand(_dereference(value, *_tables_of(state)))


def denormalize(state: dict[str, JSON]) -> dict[str, JSON]:
    """The state :func:`normalize` was given."""
    lifted = state.get(NEXT)
    if lifted and type(state.get("stations")) is list:
        state = state | {"stations": _lower_next(state["stations"], lifted)}
    if DITTO in state and type(state.get("rows")) is list:
        state = state | {"rows": _fill_ditto(state["rows"])}
    matches, teams = _tables_of(state)
    return {k: _dereference(v, matches, teams) for k, v in state.items() if k not in _TABLES}


def _keys(items: list[JSON]) -> list[str] | None:
    keys = []
    for item in items:
        found = key_of(item)
        if found is None:
            return None
        keys.append(found)
    return keys if len(set(keys)) == len(keys) else None


def diff(old: dict[str, JSON], new: dict[str, JSON]) -> dict[str, JSON]:
    """The patch that turns the object ``old`` into ``new`` (empty when they are equal)."""
    patch: dict[str, JSON] = {}
    for key, value in new.items():
        if key not in old:
            patch[key] = _set(value)
        else:
            before = old[key]
            if before != value:
                patch[key] = _change(before, value)
    for key in old:
        if key not in new:
            patch[key] = []
    return patch


def _set(value: JSON) -> JSON:
    return [value] if isinstance(value, (dict, list)) else value


def _change(old: JSON, new: JSON) -> JSON:
    if type(old) is dict and type(new) is dict:
        return diff(old, new)
    if type(old) is list and type(new) is list:
        patch = _list_diff(old, new)
        if patch is not None:
            return patch
    return _set(new)


def _list_diff(old: list[JSON], new: list[JSON]) -> dict[str, JSON] | None:
    old_keys, new_keys = _keys(old), _keys(new)
    if old_keys is None or new_keys is None:
        return None
    patch: dict[str, JSON] = {}
    if old_keys != new_keys:
        at = {key: i for i, key in enumerate(old_keys)}
        runs: list[JSON] = []
        for key in new_keys:
            i = at.get(key)
            if i is None:
                runs.append(key)
            elif runs and type(runs[-1]) is list and runs[-1][0] + runs[-1][1] == i:
                runs[-1][1] += 1
            else:
                runs.append([i, 1])
        if all(type(run) is str for run in runs):
            return None  # nothing of the old list is kept: the new one whole is shorter
        patch["o"] = runs
    before = dict(zip(old_keys, old, strict=True))
    items: dict[str, JSON] = {}
    for key, item in zip(new_keys, new, strict=True):
        was = before.get(key)
        if was is None:
            if not (_is_ref(item) and item[REF] == key):
                items[key] = [item]  # (a reference to a match is said by its key alone)
        elif was != item:
            items[key] = diff(was, item)
    if items:
        patch["i"] = items
    return patch


def apply(value: JSON, patch: dict[str, JSON]) -> JSON:
    """``value`` with ``patch`` applied (``value`` itself is left as it was)."""
    if type(value) is list:
        return _apply_list(value, patch)
    if type(value) is not dict:
        raise ValueError("a patch applies to an object or a list of keyed items")
    out = dict(value)
    for key, entry in patch.items():
        if type(entry) is list:
            if entry:
                out[key] = entry[0]
            else:
                out.pop(key, None)
        elif type(entry) is dict:
            out[key] = apply(out[key], entry)
        else:
            out[key] = entry
    return out


def _apply_list(old: list[JSON], patch: dict[str, JSON]) -> list[JSON]:
    items: dict[str, JSON] = patch.get("i", {})
    runs = patch.get("o")
    if runs is None:
        new = list(old)
    else:
        new = []
        for run in runs:
            if type(run) is str:
                new.append(items[run][0] if run in items else {REF: run})
            else:
                new.extend(old[run[0] : run[0] + run[1]])
    if items:
        at = {key_of(item): i for i, item in enumerate(new)}
        for key, entry in items.items():
            i = at[key]
            new[i] = entry[0] if type(entry) is list else apply(new[i], entry)
    return new
