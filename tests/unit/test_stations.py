"""The station queue: longest-waiting first, nobody in two places, rest between matches."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.stations import Waiting, assign, heads, next_wakeup, queue

T0 = dt.datetime(2026, 7, 4, 14, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def waiting(
    key: str, teams: tuple[str, ...], ready: float, order: int = 0, game: str = "g"
) -> Waiting:
    return Waiting(key, game, teams, at(ready), order)


def test_longest_waiting_goes_first_and_plan_order_breaks_ties() -> None:
    matches = [
        waiting("late", ("a", "b"), ready=5, order=0),
        waiting("early", ("c", "d"), ready=1, order=3),
        waiting("early2", ("e", "f"), ready=1, order=1),
    ]
    ordered = queue(matches, busy=set(), last_finished={}, rest=dt.timedelta())
    assert [q.match.key for q in ordered] == ["early2", "early", "late"]


def test_a_team_that_just_played_waits_since_it_finished() -> None:
    matches = [waiting("x", ("a", "b"), ready=0), waiting("y", ("c", "d"), ready=2)]
    ordered = queue(matches, busy=set(), last_finished={"a": at(3)}, rest=dt.timedelta())
    assert [q.match.key for q in ordered] == ["y", "x"]


def test_rest_time_delays_the_call_and_sets_the_wakeup() -> None:
    matches = [waiting("x", ("a", "b"), ready=0)]
    ordered = queue(matches, busy=set(), last_finished={"a": at(1)}, rest=dt.timedelta(minutes=2))
    assert ordered[0].eligible_at == at(3)
    assert assign(ordered, {"g": ["t1"]}, now=at(2)) == []
    assert next_wakeup(ordered, at(2)) == at(3)
    assert [(m.key, s) for m, s in assign(ordered, {"g": ["t1"]}, now=at(3))] == [("x", "t1")]


def test_busy_teams_and_full_games_are_skipped() -> None:
    matches = [
        waiting("x", ("a", "b"), ready=0),
        waiting("y", ("c", "d"), ready=1),
        waiting("z", ("e", "f"), ready=2, game="other"),
    ]
    ordered = queue(matches, busy={"a"}, last_finished={}, rest=dt.timedelta())
    calls = assign(ordered, {"g": ["t1", "t2"], "other": []}, now=at(5))
    assert [(m.key, s) for m, s in calls] == [("y", "t1")]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.sampled_from("abcdefgh"), st.integers(0, 30)),
        max_size=12,
    ),
    st.integers(0, 6),
)
def test_nobody_is_sent_to_two_stations(pairs: list[tuple[str, str, int]], stations: int) -> None:
    matches = [
        waiting(f"m{i}", (a, b), ready=r, order=i) for i, (a, b, r) in enumerate(pairs) if a != b
    ]
    ordered = queue(matches, busy=set(), last_finished={}, rest=dt.timedelta())
    calls = assign(ordered, {"g": [f"t{i}" for i in range(stations)]}, now=at(60))
    teams = [t for m, _ in calls for t in m.teams]
    assert len(teams) == len(set(teams))
    assert len({s for _, s in calls}) == len(calls) <= stations


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcdef"), st.sampled_from("abcdef"), st.integers(0, 30)),
        max_size=15,
    ),
    st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 40)),
    st.integers(0, 20),
)
def test_the_head_of_the_queue_is_the_start_of_the_whole_queue(
    pairs: list[tuple[str, str, int]], finished: dict[str, int], limit: int
) -> None:
    matches = [waiting(f"m{i}", (a, b), ready=r, order=i % 3) for i, (a, b, r) in enumerate(pairs)]
    last = {team: at(minutes) for team, minutes in finished.items()}
    rest = dt.timedelta(minutes=2)
    whole = queue(matches, busy={"a"}, last_finished=last, rest=rest)
    assert queue(matches, busy={"a"}, last_finished=last, rest=rest, limit=limit) == whole[:limit]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcdef"),
            st.sampled_from("abcdef"),
            st.integers(0, 30),
            st.sampled_from(["pong", "flip", "cornhole"]),
        ),
        max_size=20,
    ),
    st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 40)),
    st.integers(0, 8),
    st.dictionaries(st.sampled_from(["pong", "flip", "darts"]), st.integers(0, 5)),
)
def test_heads_in_one_pass_are_the_starts_of_each_queue(
    rows: list[tuple[str, str, int, str]],
    finished: dict[str, int],
    limit: int,
    per_game: dict[str, int],
) -> None:
    matches = [
        waiting(f"m{i}", (a, b), ready=r, order=i % 3, game=g)
        for i, (a, b, r, g) in enumerate(rows)
    ]
    last = {team: at(minutes) for team, minutes in finished.items()}
    options = {"busy": {"b"}, "last_finished": last, "rest": dt.timedelta(minutes=2)}
    whole, by_game = heads(matches, limit=limit, per_game=per_game, **options)  # type: ignore[arg-type]
    assert whole == queue(matches, limit=limit, **options)  # type: ignore[arg-type]
    assert by_game.keys() == per_game.keys()
    for game, count in per_game.items():
        mine = [m for m in matches if m.game_id == game]
        assert by_game[game] == queue(mine, limit=count, **options)  # type: ignore[arg-type]
