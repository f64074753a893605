"""The patches the live channels send instead of whole states: applying one to the old value
gives exactly the new one, and what a result changes on a leaderboard stays small."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beerolympics.live.deltas import (
    MATCH_DEFAULTS,
    SLOT_DEFAULTS,
    apply,
    brief,
    compact,
    denormalize,
    diff,
    expand,
    key_of,
    normalize,
)

# Scalars as JSON has them. (0, 1 and booleans compare equal in Python: the views never change a
# field between them, so the strategy leaves that out; see the module's docstring.)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=2, max_value=10**6)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f not in (0, 1))
    | st.text(max_size=6)
)
ids = st.sampled_from([f"tm_{i}" for i in range(8)])


def keyed_items(children: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """Lists of items keyed as the views' lists are: by id, by team id, or by game and station."""
    by_id = st.fixed_dictionaries({"id": ids}, optional={"x": children, "y": scalars})
    by_team = st.fixed_dictionaries(
        {"team": st.fixed_dictionaries({"id": ids, "name": st.text(max_size=3)})},
        optional={"rank": scalars, "points": scalars},
    )
    by_station = st.fixed_dictionaries(
        {
            "game_id": st.sampled_from(["gm_a", "gm_b"]),
            "station": st.fixed_dictionaries({"id": ids}),
        },
        optional={"now": children},
    )
    return st.lists(by_id | by_team | by_station, max_size=6)


json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from("abcdef"), children, max_size=5)
        | keyed_items(children)
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.sampled_from("abcdefg"), json_values, max_size=6)


def mutate(value: Any, data: st.DataObject) -> Any:
    """A value like ``value``, with some of it changed: reordered, dropped, added, replaced."""
    if isinstance(value, dict):
        out = {k: mutate(v, data) if data.draw(st.booleans()) else v for k, v in value.items()}
        if out and data.draw(st.booleans()):
            out.pop(data.draw(st.sampled_from(sorted(out))))
        if data.draw(st.booleans()):
            out[data.draw(st.sampled_from("abcdefg"))] = data.draw(json_values)
        return out
    if isinstance(value, list):
        out = [mutate(v, data) if data.draw(st.booleans()) else v for v in value]
        out = data.draw(st.permutations(out)) if data.draw(st.booleans()) else out
        if out and data.draw(st.booleans()):
            del out[data.draw(st.integers(0, len(out) - 1))]
        return out
    return data.draw(json_values) if data.draw(st.booleans()) else value


def roundtrip(value: Any) -> Any:
    """As a client sees it: through JSON."""
    return msgspec.json.decode(msgspec.json.encode(value))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(objects, st.data())
def test_applying_the_patch_gives_the_new_value(old: dict[str, Any], data: st.DataObject) -> None:
    new = mutate(old, data)
    kept = copy.deepcopy(old)
    patch = roundtrip(diff(old, new))
    assert apply(old, patch) == new
    assert old == kept, "the old value is left as it was"
    assert (patch == {}) == (old == new)


@given(objects, objects)
def test_any_two_values(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply(old, roundtrip(diff(old, new))) == new


def board(points: dict[str, float]) -> dict[str, Any]:
    ordered = sorted(points, key=lambda t: -points[t])
    return {
        "tournament_id": "backyard",
        "rows": [
            {"rank": i + 1, "team": {"id": t, "name": t.upper()}, "points": points[t], "wins": 0}
            for i, t in enumerate(ordered)
        ],
    }


def test_a_team_moving_up_sends_the_moved_rows_and_a_short_order() -> None:
    points = {f"tm_{i:03}": float(1000 - i * 5) for i in range(128)}
    old = board(points)
    points["tm_050"] += 62.0  # from 51st to 39th
    new = board(points)
    patch = diff(old, new)
    assert apply(old, patch) == new
    assert patch["rows"]["o"] == [[0, 38], [50, 1], [38, 12], [51, 77]]
    assert set(patch["rows"]["i"]) == {f"tm_{i:03}" for i in range(38, 51)}
    assert patch["rows"]["i"]["tm_040"] == {"rank": 42}
    assert patch["rows"]["i"]["tm_050"] == {"rank": 39, "points": 812.0}
    assert len(msgspec.json.encode(patch)) < 500 < len(msgspec.json.encode(new)) / 10


def test_keys() -> None:
    assert key_of({"id": "gm_1.W1-1", "status": "ready"}) == "gm_1.W1-1"
    assert key_of({"rank": 1, "team": {"id": "tm_1"}}) == "tm_1"
    assert key_of({"game_id": "gm_1", "station": {"id": "st_2"}}) == "gm_1/st_2"
    assert key_of({"name": "x"}) is None
    assert key_of(["tm_1"]) is None
    # Lists with an item without a key, or a key twice, are replaced whole.
    assert diff({"a": [{"id": "x"}, 1]}, {"a": [1]}) == {"a": [[1]]}
    assert diff({"a": [{"id": "x"}]}, {"a": [{"id": "x"}, {"id": "x"}]}) == {
        "a": [[{"id": "x"}, {"id": "x"}]]
    }


def match(key: str, status: str) -> dict[str, Any]:
    """A match view as the server makes them (every field the compact form leaves out)."""
    slot = {**SLOT_DEFAULTS, "team": {"id": "tm_1"}}
    return {**MATCH_DEFAULTS, "id": key, "game_id": "gm_1", "status": status, "slots": [slot]}


def test_match_views_are_kept_once_and_referred_to() -> None:
    stations = {
        "stations": [
            {
                "game_id": "gm_1",
                "station": {"id": "st_1"},
                "now_playing": match("gm_1.a", "called"),
                "up_next": None,
            },
            {
                "game_id": "gm_1",
                "station": {"id": "st_2"},
                "now_playing": None,
                "up_next": match("gm_1.b", "ready"),
            },
        ],
        "queue": [match("gm_1.b", "ready"), match("gm_1.c", "ready"), match("gm_1.d", "ready")],
        "queued": 3,
    }
    flat = normalize(stations)
    assert flat["queue"] == [{"$ref": "gm_1.b"}, {"$ref": "gm_1.c"}, {"$ref": "gm_1.d"}]
    assert set(flat["$matches"]) == {"gm_1.a", "gm_1.b", "gm_1.c", "gm_1.d"}
    assert denormalize(flat) == stations
    # The queue moves on: the free table's next match is another, said in ids.
    moved = copy.deepcopy(stations)
    moved["stations"][1]["up_next"] = match("gm_1.c", "ready")
    moved["queue"] = moved["queue"][1:]
    patch = diff(flat, normalize(moved))
    assert denormalize(apply(flat, patch)) == moved
    assert len(msgspec.json.encode(patch)) < 200
    # Teams, as every view names them, are kept once too.
    team = {"id": "tm_9", "name": "Hop Stars", "colour": "#123456", "flag": "🍺"}
    rows = {"rows": [{"rank": 1, "team": team}], "waits_for": [team]}
    assert normalize(rows) == {
        "rows": [{"rank": 1, "team": {"$team": "tm_9"}}],
        "waits_for": [{"$team": "tm_9"}],
        "$teams": {"tm_9": team},
    }
    assert denormalize(normalize(rows)) == rows
    assert key_of({"rank": 1, "team": {"$team": "tm_9"}}) == "tm_9"
    # A view that differs from the first seen under its id stays where it is.
    odd = {"a": [match("gm_1.a", "called"), match("gm_1.a", "played")]}
    assert normalize(odd)["a"][1] == match("gm_1.a", "played")
    assert denormalize(normalize(odd)) == odd


@given(objects)
def test_normalizing_keeps_everything(value: dict[str, Any]) -> None:
    assert denormalize(normalize(value)) == value


def table(
    game: str, station: str, nxt: Any, waits: list[Any], ready: str | None, now: Any = None
) -> dict[str, Any]:
    return {
        "game_id": game,
        "station": {"id": station},
        "now_playing": now,
        "up_next": nxt,
        "waits_for": waits,
        "ready_at": ready,
        "auto_call": True,
    }


def test_a_call_changes_the_table_it_fills_and_the_queue_not_every_table() -> None:
    team = {"id": "tm_1", "name": "Hop Stars", "colour": "#123456", "flag": "🍺"}
    queue = ["gm_1.a", "gm_1.b", "gm_1.c", "gm_1.d", "gm_1.e"]

    def stations(called: int) -> dict[str, Any]:
        """Table 5 free (its next match waits for a team) until the queue's first match is
        called to it; the other tables busy, with no next match."""
        boards = [
            table("gm_1", f"st_{i}", None, [], None)
            | {"now_playing": match(f"gm_1.p{i}", "called")}
            for i in range(48)
        ]
        boards[5] = table("gm_1", "st_5", match(queue[0], "ready"), [team], None)
        if called:
            boards[5] |= {
                "now_playing": match(queue[0], "called"),
                "up_next": None,
                "waits_for": [],
            }
        return {
            "stations": boards,
            "queue": [match(k, "ready") for k in queue[called:]],
            "queued": len(queue) - called,
        }

    old, new = normalize(stations(0)), normalize(stations(1))
    assert denormalize(old) == stations(0)
    patch = diff(old, new)
    assert list(patch["stations"]["i"]) == ["gm_1/st_5"]  # the one table
    assert patch["queue"] == {"o": [[1, 4]]}
    assert denormalize(apply(old, roundtrip(patch))) == stations(1)
    assert len(msgspec.json.encode(patch)) < 300


some_match = st.builds(match, st.sampled_from(["gm_a.1", "gm_a.2", "gm_b.1"]), st.text(max_size=2))


def test_free_tables_next_matches_are_held_once_per_game_and_move_as_the_queue_does() -> None:
    team = {"id": "tm_1", "name": "Hop Stars", "colour": "#123456", "flag": "🍺"}
    front = [f"gm_1.r{i}" for i in range(10)]

    def stations(first: int) -> dict[str, Any]:
        """Tables 0-39 busy; tables 40-47 free, the i-th showing the front's i-th match (from
        ``first`` on: the matches before it went to the back of the queue)."""
        boards = [
            table("gm_1", f"st_{i}", None, [], None, match(f"gm_1.p{i}", "called"))
            for i in range(40)
        ]
        heads = front[first:]
        boards += [
            table("gm_1", f"st_{40 + i}", match(heads[i], "ready"), [team], None) for i in range(8)
        ]
        return {"stations": boards, "queue": [], "queued": 0}

    old, new = normalize(stations(0)), normalize(stations(1))
    assert "up_next" not in old["stations"][0]
    assert old["$next"]["gm_1"][:2] == [
        {"$ref": "gm_1.r0", "waits_for": [{"$team": "tm_1"}]},
        {"$ref": "gm_1.r1", "waits_for": [{"$team": "tm_1"}]},
    ]
    assert denormalize(old) == stations(0)
    patch = diff(old, new)
    assert "stations" not in patch  # the tables are as they were
    assert patch["$next"]["gm_1"]["o"] == [[1, 7], "gm_1.r8"]
    assert denormalize(apply(old, roundtrip(patch))) == stations(1)
    # A busy table with a next match is not a board as the server makes it: kept inline.
    odd = stations(0)
    odd["stations"][0]["up_next"] = match("gm_1.r9", "ready")
    assert "$next" not in normalize(odd)
    assert denormalize(normalize(odd)) == odd


boards = st.lists(
    st.builds(
        table,
        st.sampled_from(["gm_a", "gm_b"]),
        ids,
        st.none() | some_match,
        st.lists(st.fixed_dictionaries({"id": ids}), max_size=2),
        st.none() | st.just("2026-12-04T06:00:00Z"),
        st.none() | some_match,
    ),
    max_size=6,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(boards, boards)
def test_station_boards_normalized_and_patched_give_the_boards_back(
    old: list[Any], new: list[Any]
) -> None:
    before, after = normalize({"stations": old}), normalize({"stations": new})
    assert denormalize(before) == {"stations": old}
    assert denormalize(apply(before, roundtrip(diff(before, after)))) == {"stations": new}


def test_match_views_are_held_and_sent_without_their_defaults() -> None:
    called = match("gm_1.a", "called") | {"station": {"id": "st_1", "name": "Table 1"}}
    called["slots"][0] |= {"winner": True, "score": 10.0}
    small = compact(called)
    assert small == {
        "id": "gm_1.a",
        "game_id": "gm_1",
        "status": "called",
        "station": {"id": "st_1", "name": "Table 1"},
        "slots": [{"team": {"id": "tm_1"}, "winner": True, "score": 10.0}],
    }
    assert expand(small) == called
    assert normalize({"a": called})["$matches"]["gm_1.a"] == compact(
        called | {"slots": [called["slots"][0] | {"team": {"id": "tm_1"}}]}
    )
    # A view without some of those fields is not made compact (nor held in $matches): what
    # a client fills in is exactly what was left out.
    partial = {"id": "gm_1.b", "game_id": "gm_1", "slots": [{"team": None}]}
    assert compact(partial) == partial
    assert normalize({"a": [partial]}) == {"a": [partial]}
    # Equal but of another type (1 and true, 0 and false) is not a default.
    odd = match("gm_1.c", "ready") | {"best_of": True}
    assert expand(compact(odd)) == odd
    assert type(expand(compact(odd))["best_of"]) is bool


def test_a_match_in_brief_says_which_match_its_status_and_teams_whole_or_compact() -> None:
    ready = match("gm_1.a", "ready")
    ready["slots"].append({**SLOT_DEFAULTS, "team": None, "placeholder": "Winner of A v B"})
    said = {"id": "gm_1.a", "game_id": "gm_1", "status": "ready", "teams": ["tm_1", None]}
    assert brief(ready) == said
    # Compact, its status at the default is left out: the brief says it all the same.
    assert "status" not in compact(ready)
    assert brief(compact(ready)) == said
    assert brief(match("gm_1.b", "confirmed"))["status"] == "confirmed"
    # A team said as the station board's ({"$team": id}) is the same team.
    assert brief(ready | {"slots": [{"team": {"$team": "tm_1"}}]})["teams"] == ["tm_1"]


@given(json_values)
def test_expanding_a_compact_value_gives_it_back(value: Any) -> None:
    assert expand(compact(value)) == value


def test_teams_sharing_a_rank_say_it_once() -> None:
    points = {f"tm_{i:03}": 10.0 if i < 20 else 0.0 for i in range(30)}
    old = board(points)
    for i, row in enumerate(old["rows"]):
        row["rank"] = 1 if i < 20 else 21  # two ties, as the leaderboard ranks them
    new = copy.deepcopy(old)
    new["rows"].insert(0, new["rows"].pop(25) | {"rank": 1, "points": 20.0})
    for row in new["rows"][1:21]:
        row["rank"] = 2
    flat = normalize(old)
    assert flat["$ditto"] == ["rank"]
    assert [("rank" in row) for row in flat["rows"]] == [True] + [False] * 19 + [True] + [False] * 9
    assert denormalize(flat) == old
    patch = diff(flat, normalize(new))
    # The team that moved up, and the first of those it passed: not twenty ranks.
    assert len([k for k, v in patch["rows"]["i"].items() if "rank" in v]) == 2
    assert denormalize(apply(flat, roundtrip(patch))) == new


rows = st.lists(
    st.fixed_dictionaries(
        {
            "rank": st.none() | st.sampled_from([1, 2, 1.0, True]),
            "team": st.fixed_dictionaries({"id": ids}),
        }
    ),
    max_size=6,
    unique_by=lambda r: r["team"]["id"],
)


@given(rows, rows)
def test_leaderboard_rows_normalized_and_patched_give_the_rows_back(
    old: list[Any], new: list[Any]
) -> None:
    before, after = normalize({"rows": old}), normalize({"rows": new})
    back = denormalize(roundtrip(before))["rows"]
    assert back == old
    # A rank equal but of another type (1, 1.0, true) is said, not taken from the row above.
    assert [type(r["rank"]) for r in back] == [type(r["rank"]) for r in old]
    assert denormalize(apply(before, roundtrip(diff(before, after)))) == {"rows": new}
