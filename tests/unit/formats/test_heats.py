"""Heats: snake distribution, values to places, advancement, next rounds, placements."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.formats import (
    FormatError,
    HeatOutcome,
    HeatQualifier,
    Outcome,
    Plan,
    TeamSlot,
    heats,
    next_round,
    placements,
    places_from_values,
    resolve,
    validate_outcome,
)
from tests.unit.formats.simulation import play_out, team_names


def _teams_by_heat(plan: Plan) -> list[list[str]]:
    return [[s.team for s in spec.slots if isinstance(s, TeamSlot)] for spec in plan.matches]


def test_places_from_values() -> None:
    assert places_from_values([10.5, 9.0, 10.5]) == (2, 1, 2)
    assert places_from_values([10.5, 9.0, 10.5], "higher") == (1, 3, 1)
    assert places_from_values([3.0, 2.0, 1.0, 2.0]) == (4, 2, 1, 2)
    assert places_from_values([]) == ()


def test_round_one_snake_distribution() -> None:
    plan = heats.build(team_names(10), {"heat_size": 4})
    assert _teams_by_heat(plan) == [
        ["t1", "t6", "t7"],
        ["t2", "t5", "t8"],
        ["t3", "t4", "t9", "t10"],
    ]
    assert [s.id for s in plan.matches] == ["H1-1", "H1-2", "H1-3"]
    assert {s.kind for s in plan.matches} == {"heat"}
    assert plan.matches[0].label == "Round 1 heat 1"


def test_single_heat_is_the_final() -> None:
    plan = heats.build(team_names(4), {"heat_size": 6})
    assert plan.matches[0].label == "Final"
    outcomes: dict[str, Outcome] = {"H1-1": HeatOutcome(places=(2, 1, 3, 3))}
    assert placements(plan, outcomes) == {"t1": 2, "t2": 1, "t3": 3, "t4": 3}


def _two_round_plan() -> tuple[Plan, dict[str, Outcome]]:
    plan = heats.build(
        team_names(8), {"heat_size": 4, "rounds": 2, "advance_per_heat": 2}
    )  # heats: t1 t4 t5 t8 | t2 t3 t6 t7
    outcomes: dict[str, Outcome] = {
        "H1-1": HeatOutcome(places=(1, 2, 3, 4)),
        "H1-2": HeatOutcome(places=(4, 1, 2, 3)),
    }
    return plan, outcomes


def test_next_round_from_results() -> None:
    plan, outcomes = _two_round_plan()
    assert next_round(plan, {"H1-1": outcomes["H1-1"]}) == []  # round not complete
    final = next_round(plan, outcomes)
    assert len(final) == 1
    assert final[0].label == "Final"
    assert final[0].slots == tuple(HeatQualifier(round=1, rank=r) for r in (1, 2, 3, 4))
    plan = plan.extended(final)
    # Qualifiers by place, then seed: t1 (1st), t3 (1st), t4 (2nd), t6 (2nd).
    assert resolve(plan, outcomes)["H2-1"].participants == ("t1", "t3", "t4", "t6")
    assert next_round(plan, outcomes) == []


def test_placements_final_first_then_by_round_and_place() -> None:
    plan, outcomes = _two_round_plan()
    plan = plan.extended(next_round(plan, outcomes))
    places = placements(plan, outcomes)
    # Round 1 eliminated: 3rd places t5, t7 share 5th; 4th places t8, t2 share 7th.
    assert places == {"t5": 5, "t7": 5, "t8": 7, "t2": 7}
    outcomes["H2-1"] = HeatOutcome(places=(3, 1, 2, 4))
    assert placements(plan, outcomes) == {
        "t3": 1,
        "t4": 2,
        "t1": 3,
        "t6": 4,
        "t5": 5,
        "t7": 5,
        "t8": 7,
        "t2": 7,
    }


def test_changing_a_first_round_result_changes_the_final_field() -> None:
    plan, outcomes = _two_round_plan()
    plan = plan.extended(next_round(plan, outcomes))
    outcomes["H1-1"] = HeatOutcome(places=(4, 3, 2, 1))
    # Now t8 and t3 won their heats (t3 is the better seed), t5 and t6 came second.
    assert resolve(plan, outcomes)["H2-1"].participants == ("t3", "t8", "t5", "t6")


def test_ties_at_the_cut_are_broken_by_value_then_seed() -> None:
    plan = heats.build(team_names(6), {"heat_size": 3, "rounds": 2, "advance_per_heat": 1})
    outcomes: dict[str, Outcome] = {
        # t1 t4 t5 tie for first on places; t5 has the best time.
        "H1-1": HeatOutcome(places=(1, 1, 1), values=(12.0, 11.0, 10.0), direction="lower"),
        # t2 t3 t6 tie with no values: the better seed goes through.
        "H1-2": HeatOutcome(places=(1, 1, 3)),
    }
    plan = plan.extended(next_round(plan, outcomes))
    # Both won their heat; a recorded value ranks ahead of none, so t5 is the top qualifier.
    assert resolve(plan, outcomes)["H2-1"].participants == ("t5", "t2")


def test_advance_total() -> None:
    plan = heats.build(team_names(9), {"heat_size": 3, "rounds": 2, "advance_total": 3})
    outcomes: dict[str, Outcome] = {
        "H1-1": HeatOutcome(places=(1, 2, 3), values=(30.0, 31.0, 40.0)),
        "H1-2": HeatOutcome(places=(1, 2, 3), values=(20.0, 21.0, 22.0)),
        "H1-3": HeatOutcome(places=(1, 2, 3), values=(25.0, 26.0, 27.0)),
    }
    plan = plan.extended(next_round(plan, outcomes))
    # All heat winners have place 1; values then order them: H1-2, H1-3, H1-1.
    assert resolve(plan, outcomes)["H2-1"].participants == ("t2", "t3", "t1")


def test_invalid_options() -> None:
    for options in (
        {"heat_size": 1},
        {"rounds": 2},
        {"rounds": 2, "advance_per_heat": 1, "advance_total": 2},
    ):
        with pytest.raises(FormatError) as error:
            heats.build(team_names(8), options)
        assert error.value.code == "invalid_format_options"
    with pytest.raises(FormatError, match="advance_total"):
        heats.build(team_names(8), {"rounds": 2, "advance_total": 8})


def test_heat_outcome_validation() -> None:
    spec = heats.build(team_names(3), {"heat_size": 3}).matches[0]
    validate_outcome(spec, HeatOutcome(places=(1, 1, 3)))
    for bad in ((1, 2), (1, 1, 2), (0, 1, 2), (2, 2, 3)):
        with pytest.raises(FormatError) as error:
            validate_outcome(spec, HeatOutcome(places=bad))
        assert error.value.code == "invalid_outcome"


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(2, 30),
    heat_size=st.integers(2, 6),
    per_heat=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_random_play_places_everyone(count: int, heat_size: int, per_heat: bool, seed: int) -> None:
    teams = team_names(count)
    options: dict[str, object] = {"heat_size": heat_size}
    if count > heat_size:
        options |= {"rounds": 2}
        options |= (
            {"advance_per_heat": 1} if per_heat else {"advance_total": min(heat_size, count - 1)}
        )
    plan, outcomes = play_out(heats.build(teams, options), random.Random(seed))
    places = placements(plan, outcomes)
    assert set(places) == set(teams)
    assert 1 in places.values()
    final = Counter(places.values())
    assert sum(final.values()) == count
