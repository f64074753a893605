"""The station queue: longest-waiting first, nobody in two places, rest between matches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from beerolympics.domain.stations import Queued, Waiting, WaitingQueue, fill, heads

T0 = dt.datetime(2026, 7, 4, 14, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def waiting(
    key: str, teams: tuple[str, ...], ready: float, order: int = 0, game: str = "g"
) -> Waiting:
    return Waiting(key, game, teams, at(ready), order)


def queue(
    matches: list[Waiting],
    *,
    busy: Collection[str],
    last_finished: Mapping[str, dt.datetime],
    rest: dt.timedelta,
    limit: int | None = None,
) -> list[Queued]:
    """The rule, spelled out: every match in order of (waiting since, plan order, key), where
    it waits since it was ready or its teams last finished, whichever is later."""
    rows = []
    for m in matches:
        finishes = [last_finished[t] for t in m.teams if t in last_finished]
        since = max([m.ready_since, *finishes])
        eligible = max([m.ready_since, *(f + rest for f in finishes)])
        blocked = tuple(t for t in m.teams if t in busy)
        rows.append(((since, m.order, m.key), Queued(m, since, eligible, blocked)))
    rows.sort(key=lambda row: row[0])
    return [q for _, q in rows][:limit]


def kept(matches: list[Waiting]) -> dict[str, WaitingQueue]:
    """The matches kept per game, as the app keeps them."""
    queues: dict[str, WaitingQueue] = {}
    for i, m in enumerate(matches):
        queues.setdefault(m.game_id, WaitingQueue()).put(f"s{i}", m)
    return queues


def front(
    matches: list[Waiting],
    *,
    last_finished: Mapping[str, dt.datetime],
    rest: dt.timedelta,
    limit: int = 100,
) -> list[Queued]:
    """The front of the queue as the app reads it: kept per game, looked at from the front."""
    whole, _ = heads(
        kept(matches), busy=(), last_finished=last_finished, rest=rest, limit=limit, per_game={}
    )
    return whole


def called(
    matches: list[Waiting],
    free: Mapping[str, int],
    *,
    without: Collection[str] = (),
    last_finished: Mapping[str, dt.datetime] | None = None,
    rest: dt.timedelta = dt.timedelta(),
    now: dt.datetime,
) -> list[str]:
    """The matches free tables take now (``free``: how many a game has), as the conductor
    calls them."""
    taking, _ = fill(
        kept(matches), free, without=without, last_finished=last_finished or {}, rest=rest, now=now
    )
    return [q.match.key for q in taking]


def test_longest_waiting_goes_first_and_plan_order_breaks_ties() -> None:
    matches = [
        waiting("late", ("a", "b"), ready=5, order=0),
        waiting("early", ("c", "d"), ready=1, order=3),
        waiting("early2", ("e", "f"), ready=1, order=1),
    ]
    ordered = front(matches, last_finished={}, rest=dt.timedelta())
    assert [q.match.key for q in ordered] == ["early2", "early", "late"]


def test_a_team_that_just_played_waits_since_it_finished() -> None:
    matches = [waiting("x", ("a", "b"), ready=0), waiting("y", ("c", "d"), ready=2)]
    ordered = front(matches, last_finished={"a": at(3)}, rest=dt.timedelta())
    assert [q.match.key for q in ordered] == ["y", "x"]


def test_rest_time_delays_the_call() -> None:
    matches = [waiting("x", ("a", "b"), ready=0)]
    rest = dt.timedelta(minutes=2)
    ordered = front(matches, last_finished={"a": at(1)}, rest=rest)
    assert ordered[0].eligible_at == at(3)
    last = {"a": at(1)}
    # Not before it (and when it may go is noted), then called.
    assert fill(kept(matches), {"g": 1}, without=(), last_finished=last, rest=rest, now=at(2)) == (
        [],
        [at(3)],
    )
    assert called(matches, {"g": 1}, now=at(3), last_finished=last, rest=rest) == ["x"]


def test_busy_teams_and_full_games_are_skipped() -> None:
    matches = [
        waiting("x", ("a", "b"), ready=0),
        waiting("y", ("c", "d"), ready=1),
        waiting("z", ("e", "f"), ready=2, game="other"),
    ]
    assert called(matches, {"g": 2, "other": 0}, without={"a"}, now=at(5)) == ["y"]


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
    calls = called(matches, {"g": stations}, now=at(60))
    teams = [t for m in matches if m.key in calls for t in m.teams]
    assert len(teams) == len(set(teams))
    assert len(calls) <= stations


TEAMS = st.sampled_from("abcdef")
STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("put"),
            st.integers(0, 12),  # which match (its game is fixed by it)
            st.tuples(TEAMS, TEAMS),
            st.integers(0, 30),  # ready since
        ),
        st.tuples(st.just("discard"), st.integers(0, 12)),
        st.tuples(st.just("finish"), TEAMS, st.integers(0, 40)),  # may go back in time
        st.tuples(
            st.just("look"),
            st.integers(0, 8),
            st.dictionaries(st.sampled_from(["pong", "flip", "darts"]), st.integers(0, 5)),
        ),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_the_kept_queues_read_like_a_fresh_sort(steps: list[tuple[object, ...]]) -> None:
    """Matches come and go and teams finish (the clock may even go back); every look at the
    kept queues' heads matches sorting them all."""
    games = ["pong", "flip", "cornhole"]
    queues: dict[str, WaitingQueue] = {game: WaitingQueue() for game in games}
    last: dict[str, dt.datetime] = {}
    looks = 0
    for step in steps:
        if step[0] == "put":
            _, i, teams, ready = step
            game = games[i % 3]  # type: ignore[operator]
            match = waiting(f"m{i}", teams, ready=ready, order=i % 4, game=game)  # type: ignore[arg-type, operator]
            queues[game].put(f"m{i}", match)
        elif step[0] == "discard":
            queues[games[step[1] % 3]].discard(f"m{step[1]}")  # type: ignore[operator]
        elif step[0] == "finish":
            _, team, minutes = step
            last[team] = at(minutes)  # type: ignore[arg-type, index]
        else:
            _, limit, per_game = step
            options = {"busy": {"b"}, "last_finished": last, "rest": dt.timedelta(minutes=2)}
            whole, by_game = heads(queues, limit=limit, per_game=per_game, **options)  # type: ignore[arg-type]
            everything = [m for q in queues.values() for m in q]
            assert whole == queue(everything, limit=limit, **options)  # type: ignore[arg-type]
            assert by_game.keys() == per_game.keys()
            for game, count in per_game.items():
                mine = list(queues.get(game, ()))
                assert by_game[game] == queue(mine, limit=count, **options)  # type: ignore[arg-type]
            looks += 1
    assume(looks)


def kept_queue(rows: list[tuple[list[str], int, int]]) -> tuple[WaitingQueue, list[Waiting]]:
    """A kept queue of a match per row (its teams, ready since, plan order), and the matches."""
    kept = WaitingQueue()
    matches = []
    for i, (teams, ready, order) in enumerate(rows):
        match = waiting(f"m{i}", tuple(teams), ready=ready, order=order)
        kept.put(f"m{i}", match)
        matches.append(match)
    return kept, matches


def test_the_front_of_a_kept_queue_is_found_from_the_longest_rested_teams() -> None:
    kept = WaitingQueue()
    kept.put("x", waiting("x", ("a", "b"), ready=0))
    kept.put("y", waiting("y", ("c", "d"), ready=5))
    kept.put("z", waiting("z", ("a", "c"), ready=0, order=1))
    rest = dt.timedelta()
    assert [m.key for _, _, m in kept.head(3, {}, rest)] == ["x", "z", "y"]
    finished = {"a": at(10), "b": at(2), "c": at(3), "d": at(1)}
    assert [m.key for _, _, m in kept.head(3, finished, rest)] == ["y", "x", "z"]
    assert [m.key for _, _, m in kept.head(1, {"a": at(1)}, rest)] == ["x"]  # a clock went back
    kept.discard("y")
    assert [m.key for _, _, m in kept.head(3, finished, rest)] == ["x", "z"]


#: A waiting match: its teams (heats have more than two), ready since (few values: ties), plan
#: order.
MATCH = (st.lists(TEAMS, min_size=1, max_size=3), st.integers(0, 6), st.integers(0, 3))


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(*MATCH), max_size=25),
    st.dictionaries(TEAMS, st.integers(0, 6)),
    st.integers(0, 10),
)
def test_the_front_matches_a_fresh_sort_whoever_has_finished(
    rows: list[tuple[list[str], int, int]], finished: dict[str, int], count: int
) -> None:
    kept, matches = kept_queue(rows)
    last = {team: at(minutes) for team, minutes in finished.items()}
    rest = dt.timedelta(minutes=1)
    found = kept.head(count, last, rest)
    expected = queue(matches, busy=(), last_finished=last, rest=rest, limit=count)
    assert [m for _, _, m in found] == [q.match for q in expected]


GAMES = ("pong", "flip", "darts")


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(st.tuples(*MATCH, st.sampled_from(GAMES)), max_size=30),
    st.dictionaries(TEAMS, st.integers(0, 6)),
    st.booleans(),
    st.dictionaries(st.sampled_from(GAMES), st.integers(0, 4)),
    st.sets(TEAMS, max_size=3),
    st.none() | st.integers(0, 8),
)
def test_free_tables_take_the_whole_queue_in_order_nobody_twice(
    rows: list[tuple[list[str], int, int, str]],
    finished: dict[str, int],
    anyone_finished: bool,
    free: dict[str, int],
    without: set[str],
    minutes: int | None,
) -> None:
    """What free tables take (``fill``), against its rule spelled out: every match of every
    game sorted, each taken to its game's next free table unless its game has none left, a
    team of it is busy (``without``) or taken before, or it may not go before ``now`` (then
    noted as going later)."""
    matches = [
        waiting(f"m{i}", tuple(teams), ready=ready, order=order, game=game)
        for i, (teams, ready, order, game) in enumerate(rows)
    ]
    last = {team: at(m) for team, m in finished.items() if anyone_finished}
    rest = dt.timedelta(minutes=1)
    now = None if minutes is None else at(minutes)
    taken, tables = set(without), dict(free)
    expected: list[Queued] = []
    later: list[dt.datetime] = []
    for q in queue(matches, busy=(), last_finished=last, rest=rest):
        if tables.get(q.match.game_id, 0) <= 0 or taken.intersection(q.match.teams):
            continue
        if now is not None and q.eligible_at > now:
            later.append(q.eligible_at)
            continue
        expected.append(q)
        taken.update(q.match.teams)
        tables[q.match.game_id] -= 1
    queues = kept(matches)
    taking, passed = fill(queues, free, without=without, last_finished=last, rest=rest, now=now)
    assert taking == expected
    assert passed == later
    for game, queue_ in queues.items():  # reading left the queues as they were
        mine = [m for m in matches if m.game_id == game]
        assert [m for _, _, m in queue_.head(len(mine), last, rest)] == [
            q.match for q in queue(mine, busy=(), last_finished=last, rest=rest)
        ]
