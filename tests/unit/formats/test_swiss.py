"""Swiss: Dutch-style pairing, byes, no rematches, Buchholz and Sonneborn-Berger."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from beerolympics.domain.formats import (
    BYE,
    FormatError,
    Outcome,
    Plan,
    SwissOptions,
    TeamSlot,
    next_round,
    placements,
    standings,
    swiss,
    win,
)
from tests.unit.formats.simulation import play_out, team_names


def _pairs(plan: Plan, number: int | None = None) -> list[tuple[str, ...]]:
    return [
        tuple(s.team for s in spec.slots if isinstance(s, TeamSlot))
        for spec in plan.matches
        if number is None or spec.round == number
    ]


def _favourites_win(plan: Plan) -> dict[str, Outcome]:
    seed = {team: index for index, team in enumerate(plan.teams)}
    outcomes: dict[str, Outcome] = {}
    for spec in plan.matches:
        teams = [s.team for s in spec.slots if isinstance(s, TeamSlot)]
        if len(teams) == 2:
            outcomes[spec.id] = win(0 if seed[teams[0]] < seed[teams[1]] else 1)
    return outcomes


def test_round_one_pairs_top_half_against_bottom_half() -> None:
    plan = swiss.build(team_names(8))
    assert _pairs(plan) == [("t1", "t5"), ("t2", "t6"), ("t3", "t7"), ("t4", "t8")]
    assert [s.id for s in plan.matches] == ["S1-1", "S1-2", "S1-3", "S1-4"]
    assert plan.matches[0].section == "swiss"


def test_eight_teams_three_rounds_without_rematch() -> None:
    plan = swiss.build(team_names(8))
    assert swiss.total_rounds(SwissOptions(), 8) == 3
    plan, outcomes = play_out(plan, random.Random(3))
    assert max(s.round for s in plan.matches) == 3
    pairs = [frozenset(p) for p in _pairs(plan)]
    assert len(pairs) == 12
    assert len(set(pairs)) == 12
    assert next_round(plan, outcomes) == []
    assert set(placements(plan, outcomes)) == set(team_names(8))


def test_favourites_winning_gives_dutch_second_round() -> None:
    plan = swiss.build(team_names(8))
    plan = plan.extended(next_round(plan, _favourites_win(plan)))
    # Winners t1..t4 form the top score group: t1 v t3, t2 v t4; losers t5..t8: t5 v t7, t6 v t8.
    assert _pairs(plan, 2) == [("t1", "t3"), ("t2", "t4"), ("t5", "t7"), ("t6", "t8")]


def test_next_round_waits_for_the_current_round() -> None:
    plan = swiss.build(team_names(4))
    assert next_round(plan, {"S1-1": win(0)}) == []
    assert len(next_round(plan, {"S1-1": win(0), "S1-2": win(0)})) == 2


def test_odd_count_bye_goes_to_lowest_ranked_without_one() -> None:
    plan = swiss.build(team_names(5), {"rounds": 3})
    byes = [spec for spec in plan.matches if BYE in spec.slots]
    assert len(byes) == 1
    assert byes[0].slots[0] == TeamSlot("t5")
    assert byes[0].id == "S1-3"
    plan = plan.extended(next_round(plan, _favourites_win(plan)))
    # t5 (3 points from its bye) is no longer eligible; the lowest of the rest gets it.
    second = [spec for spec in plan.matches if spec.round == 2 and BYE in spec.slots]
    assert second[0].slots[0] != TeamSlot("t5")
    (table,) = standings(plan, _favourites_win(plan))
    assert next(r for r in table.rows if r.team == "t5").byes == 1


def test_too_many_rounds_is_refused() -> None:
    with pytest.raises(FormatError) as error:
        swiss.build(team_names(4), {"rounds": 4})
    assert error.value.code == "invalid_format_options"
    swiss.build(team_names(5), {"rounds": 5})  # with a bye, five teams can play five rounds


def test_buchholz_median_and_sonneborn_berger() -> None:
    plan = swiss.build(team_names(4), {"rounds": 3})
    outcomes = _favourites_win(plan)
    for _ in range(2):
        plan = plan.extended(next_round(plan, outcomes))
        outcomes = _favourites_win(plan)
    (table,) = standings(plan, outcomes)
    rows = {r.team: r for r in table.rows}
    # Everyone met everyone; favourites won every time: 9, 6, 3, 0 points.
    assert [r.team for r in table.rows] == ["t1", "t2", "t3", "t4"]
    assert rows["t1"].match_points == 9
    assert rows["t1"].buchholz == 6 + 3 + 0
    assert rows["t1"].median_buchholz == 3  # drop the best (6) and the worst (0)
    assert rows["t1"].sonneborn_berger == 9
    assert rows["t2"].sonneborn_berger == 3 + 0
    assert rows["t4"].buchholz == 18
    assert placements(plan, outcomes) == {"t1": 1, "t2": 2, "t3": 3, "t4": 4}


def test_pairing_backtracks_instead_of_leaving_a_team_unpaired() -> None:
    # Dutch order wants t1 v t3, which would leave t2 v t4, who already met: a greedy pairing
    # gets stuck, the search goes back and pairs t1 v t4, t2 v t3.
    ranked = ["t1", "t2", "t3", "t4"]
    score = dict.fromkeys(ranked, 1.0)
    met = {frozenset(("t2", "t4"))}
    pairs, bye = swiss.pair_round(ranked, score, met, set())
    assert bye is None
    assert {frozenset(p) for p in pairs} == {frozenset(("t1", "t4")), frozenset(("t2", "t3"))}


def test_pairing_falls_back_across_score_groups() -> None:
    # a and b lead but have met: each floats down to a team of the lower group.
    ranked = ["a", "b", "c", "d"]
    score = {"a": 3.0, "b": 3.0, "c": 0.0, "d": 0.0}
    pairs, _ = swiss.pair_round(ranked, score, {frozenset("ab")}, set())
    assert pairs == [("a", "c"), ("b", "d")]


def test_rematches_only_when_nothing_else_is_possible() -> None:
    ranked = ["a", "b", "c", "d"]
    score = dict.fromkeys(ranked, 0.0)
    met = {frozenset("ab"), frozenset("ac"), frozenset("ad")}
    pairs, _ = swiss.pair_round(ranked, score, met, set())
    # a has met everyone: a rematch is unavoidable, but b v c / b v d / c v d stay fresh.
    assert len([p for p in pairs if frozenset(p) in met]) == 1


@settings(max_examples=60, deadline=None)
@example(count=40, seed=1)
@example(count=39, seed=2)
@given(count=st.integers(min_value=4, max_value=40), seed=st.integers(0, 10_000))
def test_random_play_never_rematches(count: int, seed: int) -> None:
    teams = team_names(count)
    plan, outcomes = play_out(swiss.build(teams), random.Random(seed))
    rounds = math.ceil(math.log2(count))
    assert max(s.round for s in plan.matches) == rounds
    pairs = [frozenset(p) for p in _pairs(plan) if len(p) == 2]
    assert len(pairs) == len(set(pairs))
    byes = Counter(p[0] for p in _pairs(plan) if len(p) == 1)
    assert all(n == 1 for n in byes.values())
    assert sum(byes.values()) == (rounds if count % 2 else 0)
    for number in range(1, rounds + 1):
        seen = [t for p in _pairs(plan, number) for t in p]
        assert sorted(seen) == sorted(teams)
    assert set(placements(plan, outcomes)) == set(teams)
