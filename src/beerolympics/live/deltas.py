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
- Any other list that changed is replaced whole.

``apply(old, diff(old, new)) == new`` for all JSON values (the property test says so), with
one proviso from Python's equality: ``1``, ``1.0`` and ``true`` compare equal, so a value that
changes only between those is not sent (the views never do that: their fields are typed).
"""

from __future__ import annotations

from typing import Any

JSON = Any


def key_of(item: JSON) -> str | None:
    """The key of a list item: its ``id``, its team's id (a leaderboard row), or its game's and
    station's ids (a station board); None for anything else."""
    if type(item) is not dict:
        return None
    found = item.get("id")
    if type(found) is str:
        return found
    team = item.get("team")
    if type(team) is dict and type(team.get("id")) is str:
        return team["id"]  # type: ignore[no-any-return]
    station, game = item.get("station"), item.get("game_id")
    if type(station) is dict and type(game) is str and type(station.get("id")) is str:
        return f"{game}/{station['id']}"
    return None


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
        patch["o"] = runs
    before = dict(zip(old_keys, old, strict=True))
    items: dict[str, JSON] = {}
    for key, item in zip(new_keys, new, strict=True):
        was = before.get(key)
        if was is None:
            items[key] = [item]
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
                new.append(items[run][0])
            else:
                new.extend(old[run[0] : run[0] + run[1]])
    if items:
        at = {key_of(item): i for i, item in enumerate(new)}
        for key, entry in items.items():
            i = at[key]
            new[i] = entry[0] if type(entry) is list else apply(new[i], entry)
    return new
