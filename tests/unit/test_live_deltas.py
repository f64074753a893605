"""The patches the live channels send instead of whole states: applying one to the old value
gives exactly the new one, and what a result changes on a leaderboard stays small."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beerolympics.live.deltas import apply, denormalize, diff, key_of, normalize

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
    return {"id": key, "game_id": "gm_1", "status": status, "slots": [{"team": {"id": "tm_1"}}]}


def test_match_views_are_kept_once_and_referred_to() -> None:
    stations = {
        "stations": [
            {
                "game_id": "gm_1",
                "station": {"id": "st_1"},
                "now_playing": match("gm_1.a", "called"),
                "up_next": match("gm_1.b", "ready"),
            },
            {
                "game_id": "gm_1",
                "station": {"id": "st_2"},
                "now_playing": None,
                "up_next": match("gm_1.c", "ready"),
            },
        ],
        "queue": [match("gm_1.b", "ready"), match("gm_1.c", "ready"), match("gm_1.d", "ready")],
        "queued": 3,
    }
    flat = normalize(stations)
    assert flat["queue"] == [{"$ref": "gm_1.b"}, {"$ref": "gm_1.c"}, {"$ref": "gm_1.d"}]
    assert set(flat["$matches"]) == {"gm_1.a", "gm_1.b", "gm_1.c", "gm_1.d"}
    assert denormalize(flat) == stations
    # The queue moves on: every table's next match shifts, and the patch says so in ids.
    moved = copy.deepcopy(stations)
    moved["stations"][0]["up_next"], moved["stations"][1]["up_next"] = (
        match("gm_1.c", "ready"),
        match("gm_1.d", "ready"),
    )
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
