"""The overall leaderboard: placement points, shared places, tie-breaks and incremental updates."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.errors import Invalid
from beerolympics.domain.formats import PlaceRange
from beerolympics.domain.scoring import (
    DEFAULT_TIEBREAKS,
    GameScore,
    Leaderboard,
    LeaderboardRow,
    PointsTable,
    TiebreakName,
    check_points_table,
    check_tiebreaks,
)
from beerolympics.domain.tiebreaks import Criterion, Key, MiniTable, rank

TABLE = PointsTable()


def _board(*teams: str, tiebreaks: Sequence[TiebreakName] = DEFAULT_TIEBREAKS) -> Leaderboard:
    board = Leaderboard(tiebreaks)
    for team in teams:
        board.add_team(team)
    return board


def _ranks(board: Leaderboard) -> list[tuple[str, int]]:
    return [(row.team, row.rank) for row in board.rows()]


def _by_team(board: Leaderboard) -> dict[str, LeaderboardRow]:
    return {row.team: row for row in board.rows()}


# -- points tables -----------------------------------------------------------------------------


def test_points_for_defaults_and_beyond() -> None:
    assert [TABLE.points_for(place) for place in range(1, 7)] == [100, 75, 50, 25, 10, 10]
    assert PointsTable(placement=(), beyond=3.0).points_for(1) == 3.0


def test_points_for_splits_the_spanned_places_evenly() -> None:
    assert TABLE.points_for(3, sharing=2) == 37.5
    assert TABLE.points_for(1, sharing=2) == 87.5
    assert TABLE.points_for(4, sharing=2) == 17.5  # 4th from the table, 5th is beyond
    assert TABLE.points_for(5, sharing=4) == 10.0
    assert TABLE.points_for(1, sharing=5) == 52.0


def test_points_for_rejects_places_below_one() -> None:
    with pytest.raises(Invalid) as error:
        TABLE.points_for(0)
    assert error.value.code == "invalid_placement"


@pytest.mark.parametrize(
    ("table", "field"),
    [
        (PointsTable(placement=(100.0, -1.0)), "placement[1]"),
        (PointsTable(participation=-1.0), "participation"),
        (PointsTable(beyond=math.nan), "beyond"),
        (PointsTable(placement=(50.0, 75.0)), "placement[1]"),
        (PointsTable(placement=(100.0, 5.0), beyond=10.0), "beyond"),
    ],
)
def test_check_points_table_rejects_bad_tables(table: PointsTable, field: str) -> None:
    with pytest.raises(Invalid) as error:
        check_points_table(table)
    assert error.value.code == "invalid_points_table"
    assert error.value.details == {"field": field}


def test_check_points_table_accepts_sound_tables() -> None:
    assert check_points_table(TABLE) is TABLE
    check_points_table(PointsTable(placement=(5.0, 5.0), beyond=5.0, participation=2.0))
    check_points_table(PointsTable(placement=(), beyond=0.0))


def test_check_tiebreaks() -> None:
    assert check_tiebreaks(["wins", "head_to_head"]) == ("wins", "head_to_head")
    for bad in (["buchholz"], ["wins", "wins"]):
        with pytest.raises(Invalid) as error:
            check_tiebreaks(bad)
        assert error.value.code == "invalid_tiebreaks"


# -- totals ------------------------------------------------------------------------------------


def test_totals_per_game_and_participation() -> None:
    board = _board("a", "b", "c")
    table = PointsTable(participation=5.0)
    abc = ["a", "b", "c"]
    board.set_game("pong", table, abc, {})
    # Before any result each of three teams is sure of 3rd at least, and may still win.
    assert [(row.points, row.max_points) for row in board.rows()] == [(55.0, 105.0)] * 3
    assert all(row.provisional and row.rank is None for row in board.rows())  # nobody played
    board.set_game("pong", table, abc, {"a": 1, "b": 2}, {"c": PlaceRange(3, 3)}, {"a", "b"})
    board.set_game("cup", TABLE, ["a", "c"], {"c": 1, "a": 2}, played={"a", "c"})
    board.set_bonus("b", 7.0)
    board.add_bonus("b", 0.5)
    rows = _by_team(board)
    assert rows["a"].points == rows["a"].max_points == 180.0
    assert (rows["a"].placement_points, rows["a"].participation_points) == (175.0, 5.0)
    assert rows["a"].per_game == {
        "pong": GameScore(place=1, points=105.0, max_points=105.0),
        "cup": GameScore(place=2, points=75.0, max_points=75.0),
    }
    assert (rows["a"].first_places, rows["a"].second_places, rows["a"].games_placed) == (1, 1, 2)
    assert (rows["b"].points, rows["b"].bonus_points, rows["b"].second_places) == (87.5, 7.5, 1)
    assert rows["c"].per_game["pong"] == GameScore(place=None, points=55.0, max_points=55.0)
    assert (rows["c"].points, rows["c"].provisional, rows["a"].provisional) == (155.0, True, False)
    assert [(row.team, row.rank) for row in board.rows()] == [("a", 1), ("c", 2), ("b", 3)]


def test_secured_points_rank_and_reach() -> None:
    """Ten teams out of a heats game, two still racing: the two lead on what they secured."""
    board = _board(*"abcdefghijkl")
    out = {team: place for place, team in enumerate("abcdefghij", start=3)}
    racing = {"k": PlaceRange(1, 2), "l": PlaceRange(1, 2)}
    board.set_game("relay", TABLE, "abcdefghijkl", out, racing, played="abcdefghijkl")
    rows = board.rows()
    assert [(r.team, r.rank, r.points, r.max_points) for r in rows[:3]] == [
        ("k", 1, 75.0, 100.0),
        ("l", 1, 75.0, 100.0),
        ("a", 3, 50.0, 50.0),
    ]
    assert [r.provisional for r in rows[:3]] == [True, True, False]


def test_a_team_that_has_not_played_is_not_ranked() -> None:
    board = _board("a", "b", "late")
    board.set_game("pong", TABLE, ["a", "b"], {"a": 1, "b": 2}, played={"a", "b"})
    assert [(r.team, r.rank, r.decided_by) for r in board.rows()] == [
        ("a", 1, "points"),
        ("b", 2, "points"),
        ("late", None, None),
    ]
    board.set_bonus("late", 5.0)  # a bonus challenge is playing too
    assert [(r.team, r.rank) for r in board.rows()][-1] == ("late", 3)


def test_reopened_result_lowers_totals_back() -> None:
    board = _board("a", "b", "c", "d")
    teams = ["a", "b", "c", "d"]
    board.set_game("pong", TABLE, teams, {"a": 1, "b": 2, "c": 3, "d": 3})
    assert _by_team(board)["c"].points == 37.5
    # The organizer reopens the final: only the shared third places stay certain.
    board.set_game("pong", TABLE, teams, {"c": 3, "d": 3}, {t: PlaceRange(1, 2) for t in "ab"})
    rows = _by_team(board)
    assert (rows["a"].points, rows["a"].first_places, rows["a"].games_placed) == (75.0, 0, 0)
    assert rows["a"].per_game == {"pong": GameScore(place=None, points=75.0, max_points=100.0)}
    # One semifinal is reopened too: c now holds 3rd alone for the moment.
    board.set_game("pong", TABLE, teams, {"c": 3})
    assert _by_team(board)["c"].points == 50.0
    board.remove_game("pong")
    assert all(row.points == row.max_points == 0.0 for row in board.rows())
    assert all(row.per_game == {} and not row.provisional for row in board.rows())


def test_matches_give_wins_draws_and_point_diff_and_can_be_replaced() -> None:
    board = _board("a", "b")
    board.record_match("m1", "a", "b", "a", 10.0, 4.0)
    board.record_match("m2", "a", "b", None, 2.0, 2.0)
    board.record_match("m3", "b", "a", "b")  # no scores: no point difference
    rows = _by_team(board)
    assert (rows["a"].wins, rows["a"].draws, rows["a"].losses, rows["a"].point_diff) == (1, 1, 1, 6)
    assert (rows["b"].wins, rows["b"].draws, rows["b"].losses, rows["b"].point_diff) == (
        1,
        1,
        1,
        -6,
    )
    board.record_match("m1", "a", "b", "b", 1.0, 3.0)  # the result was overridden
    board.forget_match("m2")
    rows = _by_team(board)
    assert (rows["a"].wins, rows["a"].draws, rows["a"].losses, rows["a"].point_diff) == (
        0,
        0,
        2,
        -2,
    )


@pytest.mark.parametrize(
    ("teams", "winner", "score"),
    [(("a", "a"), None, 1.0), (("a", "b"), "c", 1.0), (("a", "b"), "a", math.inf)],
)
def test_record_match_rejects_nonsense(
    teams: tuple[str, str], winner: str | None, score: float
) -> None:
    with pytest.raises(Invalid) as error:
        _board().record_match("m", *teams, winner, score, 0.0)
    assert error.value.code == "invalid_match"


def test_version_and_cache() -> None:
    board = _board("a", "b")
    first = board.rows()
    version = board.version
    assert board.rows() == first
    assert all(x is y for x, y in zip(board.rows(), first, strict=True))
    board.set_bonus("a", 0.0)
    board.add_team("a")
    board.forget_match("nothing")
    assert board.version == version
    board.set_game("pong", TABLE, ["a"], {"a": 1})
    assert board.version == version + 1
    assert board.rows()[0].points == 100.0
    board.set_game("pong", PointsTable(placement=(100.0,)), ["a"], {"a": 1})  # same points
    assert board.version == version + 1


# -- ranking and tie-breaks ------------------------------------------------------------------


def test_shared_ranks_keep_add_order() -> None:
    board = _board("a", "b", "c", "d")
    for team, points in {"a": 9.0, "b": 5.0, "c": 5.0, "d": 1.0}.items():
        board.set_bonus(team, points)
    assert _ranks(board) == [("a", 1), ("b", 2), ("c", 2), ("d", 4)]
    assert [row.decided_by for row in board.rows()] == ["points", None, None, "points"]


def test_first_places_break_equal_points() -> None:
    board = _board("b", "a")
    board.set_game("pong", TABLE, ["a", "b"], {"b": 2, "a": 4}, played="ab")  # b 75, a 25
    board.set_game("cup", TABLE, ["a", "b"], {"a": 1, "b": 3}, played="ab")  # a 100, b 50
    assert [row.points for row in board.rows()] == [125.0, 125.0]
    assert _ranks(board) == [("a", 1), ("b", 2)]
    assert board.rows()[0].decided_by == "first_places"


def test_two_way_head_to_head() -> None:
    board = _board("a", "b", "c")
    for team in "abc":
        board.set_bonus(team, 10.0)
    board.record_match("m1", "a", "b", "b", 1.0, 2.0)
    board.record_match("m2", "a", "c", "a", 9.0, 0.0)
    board.set_bonus("c", 5.0)
    assert _ranks(board) == [("b", 1), ("a", 2), ("c", 3)]
    assert [row.decided_by for row in board.rows()] == ["head_to_head"] * 2 + ["points"]


def test_three_way_head_to_head_splits_then_settles_the_pair_by_their_own_match() -> None:
    board = _board("d", "c", "b", "a")
    for team in "abc":
        board.set_bonus(team, 10.0)
    # Among a, b, c: a beat b and c (and lost a rematch to c), b beat c. a has 2, b and c
    # have 1 each; between b and c alone, b won. c's better point difference does not matter.
    board.record_match(("pong", 1), "a", "b", "a", 1.0, 0.0)
    board.record_match(("pong", 2), "a", "c", "a", 1.0, 0.0)
    board.record_match(("cup", 1), "c", "a", "c", 9.0, 0.0)
    board.record_match(("cup", 2), "b", "c", "b", 1.0, 0.0)
    # d is behind on points; its win over b does not count in the mini-table.
    board.record_match(("cup", 3), "d", "b", "d")
    assert _ranks(board) == [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
    assert [row.decided_by for row in board.rows()] == ["head_to_head"] * 3 + ["points"]


def test_circular_three_way_tie_falls_to_point_diff_then_shares() -> None:
    board = _board("a", "b", "c")
    board.record_match(1, "a", "b", "a", 1.0, 0.0)
    board.record_match(2, "b", "c", "b", 5.0, 0.0)
    board.record_match(3, "c", "a", "c", 3.0, 0.0)
    # diffs: a -2, b +4, c -2; a and c stay tied: shared rank, add order.
    assert _ranks(board) == [("b", 1), ("a", 2), ("c", 2)]
    assert [row.decided_by for row in board.rows()] == ["point_diff", None, None]


def test_tiebreak_order_is_configurable() -> None:
    board = _board("a", "b", "c")
    for team in "ab":
        board.set_bonus(team, 10.0)
    board.record_match("m1", "a", "b", "b", 1.0, 2.0)  # b wins head to head...
    board.record_match("m2", "a", "c", "a", 9.0, 0.0)  # ...a has the better difference
    assert _ranks(board)[:2] == [("b", 1), ("a", 2)]
    board.set_tiebreaks(["point_diff", "head_to_head"])
    assert _ranks(board)[:2] == [("a", 1), ("b", 2)]
    assert board.rows()[0].decided_by == "point_diff"
    board.set_tiebreaks([])
    assert _ranks(board)[:2] == [("a", 1), ("b", 1)]


def test_removed_team_leaves_the_ranking() -> None:
    board = _board("a", "b", "c")
    board.set_game("pong", TABLE, ["a", "b", "c"], {"a": 1, "b": 2, "c": 3}, played="abc")
    board.remove_team("a")
    assert _ranks(board) == [("b", 1), ("c", 2)]
    board.add_team("a")  # reinstated: its results come back
    assert _ranks(board) == [("a", 1), ("b", 2), ("c", 3)]


# -- incremental equals from scratch ---------------------------------------------------------

TEAMS = "abcdef"
GAMES = ("g1", "g2", "g3")
TABLES = (
    TABLE,
    PointsTable(placement=(10.0, 7.0, 3.3), beyond=0.1, participation=1.1),
    PointsTable(placement=(), beyond=1 / 3, participation=0.7),
)
Match = tuple[str, str, str | None, float | None, float | None]


Game = tuple[PointsTable, frozenset[str], dict[str, int], frozenset[str], dict[str, PlaceRange]]
"""A game as the leaderboard was told: table, participants, placements, played, outlook."""


@dataclass
class World:
    """The plain facts the leaderboard was told, for a from-scratch recompute."""

    teams: list[str] = field(default_factory=list)
    games: dict[str, Game] = field(default_factory=dict)
    bonus: dict[str, float] = field(default_factory=dict)
    matches: dict[int, Match] = field(default_factory=dict)
    tiebreaks: tuple[TiebreakName, ...] = DEFAULT_TIEBREAKS


def reference_rows(world: World) -> list[LeaderboardRow]:
    """Recompute the leaderboard from the facts, the simple way."""
    shares: dict[str, dict[str, tuple[int | None, float, float, float]]] = defaultdict(dict)
    played: set[str] = set()
    for game, (table, participants, placements, players, outlook) in world.games.items():
        counts = Counter(placements.values())
        for team in participants | placements.keys():
            place = placements.get(team)
            if place is None:  # without an outlook: any place among the participants
                where = outlook.get(team, PlaceRange(1, max(len(participants), 1)))
                secured = table.points_for(where.worst)
                reach = table.points_for(where.best)
            else:
                secured = reach = table.points_for(place, counts[place])
            shares[team][game] = (place, secured, table.participation, reach)
            if team in players:
                played.add(team)
    record: dict[str, Counter[str]] = defaultdict(Counter)
    scored: dict[str, list[float]] = defaultdict(list)
    for a, b, winner, score_a, score_b in world.matches.values():
        for me, mine, theirs in ((a, score_a, score_b), (b, score_b, score_a)):
            record[me]["draws" if winner is None else "wins" if winner == me else "losses"] += 1
            if mine is not None and theirs is not None:
                scored[me] += [mine, -theirs]

    def total(team: str, part: int = 1) -> float:
        s = shares[team].values()
        return math.fsum([*(x[part] for x in s), *(x[2] for x in s), world.bonus.get(team, 0.0)])

    def places(team: str, place: int) -> int:
        return sum(s[0] == place for s in shares[team].values())

    def head_to_head(tied: Sequence[str]) -> dict[str, float]:
        values = dict.fromkeys(tied, 0.0)
        for a, b, winner, _, _ in world.matches.values():
            if a in values and b in values:
                for team in (a, b):
                    values[team] += 0.5 if winner is None else float(winner == team)
        return values

    keys = {
        "first_places": lambda team: places(team, 1),
        "second_places": lambda team: places(team, 2),
        "wins": lambda team: record[team]["wins"],
        "point_diff": lambda team: math.fsum(scored[team]),
    }
    criteria: list[Criterion[str]] = [Key("points", total)]
    for name in world.tiebreaks:
        if name == "head_to_head":
            criteria.append(MiniTable(name, head_to_head))
        else:
            criteria.append(Key(name, keys[name]))
    ranked = [
        t for t in world.teams if t in played or world.bonus.get(t, 0.0) or sum(record[t].values())
    ]
    waiting = sorted((t for t in world.teams if t not in ranked), key=total, reverse=True)
    order: list[tuple[str, int | None, str | None]] = [
        (r.item, r.rank, r.decided_by) for r in rank(ranked, criteria)
    ]
    order += [(t, None, None) for t in waiting]
    return [
        LeaderboardRow(
            team=team,
            rank=position,
            points=total(team),
            max_points=total(team, 3),
            provisional=any(s[0] is None for s in shares[team].values()),
            placement_points=math.fsum(s[1] for s in shares[team].values()),
            participation_points=math.fsum(s[2] for s in shares[team].values()),
            bonus_points=world.bonus.get(team, 0.0),
            first_places=places(team, 1),
            second_places=places(team, 2),
            third_places=places(team, 3),
            games_placed=sum(s[0] is not None for s in shares[team].values()),
            wins=record[team]["wins"],
            losses=record[team]["losses"],
            draws=record[team]["draws"],
            point_diff=math.fsum(scored[team]),
            decided_by=decided_by,
            per_game={
                g: GameScore(place=s[0], points=s[1] + s[2], max_points=s[3] + s[2])
                for g, s in shares[team].items()
            },
        )
        for team, position, decided_by in order
    ]


team = st.sampled_from(TEAMS)
outlooks = st.dictionaries(
    team, st.tuples(st.integers(1, 6), st.integers(0, 3)).map(lambda r: PlaceRange(r[0], sum(r)))
)
score = st.none() | st.sampled_from([0.0, 0.1, 1.0, 2.5, 3.0, 7.0])
operation = st.one_of(
    st.tuples(st.just("add_team"), team),
    st.tuples(st.just("remove_team"), team),
    st.tuples(
        st.just("set_game"),
        st.sampled_from(GAMES),
        st.sampled_from(TABLES),
        st.frozensets(team),
        st.dictionaries(team, st.integers(1, 6)),
        st.frozensets(team),
        outlooks,
    ),
    # The same game again with only its outlook and who played changed (most results).
    st.tuples(st.just("regame"), st.sampled_from(GAMES), outlooks, st.frozensets(team)),
    st.tuples(st.just("remove_game"), st.sampled_from(GAMES)),
    st.tuples(
        st.sampled_from(["set_bonus", "add_bonus"]),
        team,
        st.sampled_from([0.0, 0.1, 0.2, 0.7, 5.0, -0.3]),
    ),
    st.tuples(
        st.just("record_match"),
        st.integers(0, 6),
        st.lists(team, min_size=2, max_size=2, unique=True),
        st.sampled_from([0, 1, None]),
        score,
        score,
    ),
    st.tuples(st.just("forget_match"), st.integers(0, 6)),
    st.tuples(
        st.just("set_tiebreaks"),
        st.lists(st.sampled_from(get_args(TiebreakName)), unique=True, max_size=5),
    ),
)


def _apply(board: Leaderboard, world: World, op: tuple[object, ...]) -> None:
    match op:
        case ("add_team", str(t)):
            board.add_team(t)
            if t not in world.teams:
                world.teams.append(t)
        case ("remove_team", str(t)):
            board.remove_team(t)
            if t in world.teams:
                world.teams.remove(t)
        case (
            "set_game",
            str(g),
            PointsTable() as table,
            frozenset() as who,
            dict() as places,
            frozenset() as players,
            dict() as outlook,
        ):
            board.set_game(g, table, who, places, outlook, players)
            world.games[g] = (table, who, places, players, outlook)
        case ("regame", str(g), dict() as outlook, frozenset() as players):
            if g in world.games:
                table, who, places, _, _ = world.games[g]
                board.set_game(g, table, who, dict(places), outlook, players)
                world.games[g] = (table, who, places, players, outlook)
        case ("remove_game", str(g)):
            board.remove_game(g)
            world.games.pop(g, None)
        case ("set_bonus", str(t), float(v)):
            board.set_bonus(t, v)
            world.bonus[t] = v
        case ("add_bonus", str(t), float(v)):
            board.add_bonus(t, v)
            world.bonus[t] = world.bonus.get(t, 0.0) + v
        case ("record_match", int(key), [str(a), str(b)], side, score_a, score_b):
            won = (a, b)[side] if isinstance(side, int) else None
            scores = (_score(score_a), _score(score_b))
            board.record_match(key, a, b, won, *scores)
            world.matches[key] = (a, b, won, *scores)
        case ("forget_match", int(key)):
            board.forget_match(key)
            world.matches.pop(key, None)
        case ("set_tiebreaks", list(order)):
            tiebreaks = check_tiebreaks(order)
            board.set_tiebreaks(tiebreaks)
            world.tiebreaks = tiebreaks
        case _:
            raise AssertionError(f"unknown operation {op}")


def _score(value: object) -> float | None:
    return value if isinstance(value, float) else None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(operation, st.booleans()), max_size=40))
def test_incremental_rows_equal_a_from_scratch_recompute(
    ops: list[tuple[tuple[object, ...], bool]],
) -> None:
    world = World(teams=list("abcde"))
    board = _board(*world.teams)
    before, version = board.rows(), board.version
    race = board.totals_if_moved()  # the points race samples like this
    for op, look in [*ops, (("forget_match", -1), True)]:
        _apply(board, world, op)
        if look:  # several changes between two looks must add up as well
            rows = board.rows()
            assert rows == reference_rows(world), op
            assert board.rows() == rows
            if rows != before:
                assert board.version > version
            before, version = rows, board.version
            moved = board.totals_if_moved()  # None: nothing moved ({}: every team is gone)
            race = race if moved is None else moved
            assert race == {row.team: row.points for row in rows}


def test_a_game_set_again_with_the_same_places_equals_setting_it_afresh() -> None:
    """Most results change only some teams' outlook or who has played: the leaderboard then
    looks again at those teams alone, and must end where a fresh one told the same ends."""
    teams = frozenset("abcdef")
    steps: list[tuple[dict[str, int], dict[str, PlaceRange], frozenset[str]]] = [
        ({}, {t: PlaceRange(1, 6) for t in teams}, frozenset()),
        ({}, {**{t: PlaceRange(1, 6) for t in teams}, "a": PlaceRange(1, 3)}, frozenset("ab")),
        # b's outlook narrows, a's is no longer given (any place among the participants)
        ({}, {**{t: PlaceRange(1, 6) for t in "bcdef"}, "b": PlaceRange(4, 6)}, frozenset("ab")),
        ({}, {**{t: PlaceRange(1, 6) for t in "bcdef"}, "b": PlaceRange(4, 6)}, frozenset("bc")),
        ({"a": 1}, {t: PlaceRange(2, 6) for t in "bcdef"}, frozenset("abc")),  # a place: afresh
        ({"a": 1}, {**{t: PlaceRange(2, 6) for t in "bcdef"}, "c": PlaceRange(2, 2)}, teams),
    ]
    live = _board(*sorted(teams))
    for places, outlook, played in steps:
        live.set_game("pong", TABLE, teams, dict(places), outlook, played)
        fresh = _board(*sorted(teams))
        fresh.set_game("pong", TABLE, teams, dict(places), outlook, played)
        assert live.rows() == fresh.rows()
        assert live.points_and_reach() == fresh.points_and_reach()
    # A game removed and added back with the very same facts starts from nothing again.
    live.remove_game("pong")
    live.set_game("pong", TABLE, teams, dict(places), outlook, played)
    assert live.rows() == fresh.rows()


def test_points_and_reach_notices_a_team_that_no_longer_has_played() -> None:
    board = _board("a", "b")
    board.set_game("pong", TABLE, ["a", "b"], {}, played={"a"})
    assert [t.played for t in board.points_and_reach()] == [True, False]
    board.set_game("pong", TABLE, ["a", "b"], {}, played=())  # a's result was reopened
    assert [t.played for t in board.points_and_reach()] == [False, False]
