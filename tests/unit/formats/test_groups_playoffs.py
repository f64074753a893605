"""Groups then playoffs: snake groups, group ranks into the bracket, cross-over, placements."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.formats import (
    FormatError,
    GroupRank,
    Outcome,
    Plan,
    TeamSlot,
    placements,
    resolve,
    standings,
    tie,
    win,
)
from beerolympics.domain.formats import groups_playoffs as gp
from tests.unit.formats.simulation import play_out, team_names


def _group_outcomes(plan: Plan) -> dict[str, Outcome]:
    """Every group match won by the better seed."""
    seed = {team: index for index, team in enumerate(plan.teams)}
    outcomes: dict[str, Outcome] = {}
    for spec in plan.matches:
        teams = [s.team for s in spec.slots if isinstance(s, TeamSlot)]
        if spec.section.startswith("group:") and len(teams) == 2:
            better = 0 if seed[teams[0]] < seed[teams[1]] else 1
            outcomes[spec.id] = win(better)
    return outcomes


def test_fourteen_teams_in_four_groups_are_4_4_3_3() -> None:
    plan = gp.build(team_names(14), {"groups": 4})
    members = {name: list(group.members) for name, group in gp.plan_groups(plan).items()}
    assert {name: len(teams) for name, teams in members.items()} == {
        "A": 4,
        "B": 4,
        "C": 3,
        "D": 3,
    }
    assert members["A"] == ["t1", "t8", "t9", "t14"]
    assert members["D"] == ["t4", "t5", "t12"]


def test_group_matches_ids_and_sections() -> None:
    plan = gp.build(team_names(8), {"groups": 2})
    first = plan.matches[0]
    assert first.id == "A-R1-1"
    assert first.section == "group:A"
    assert first.label == "Group A round 1"
    playoff = [s for s in plan.matches if s.section == "playoff"]
    assert [s.id for s in playoff] == ["P1-1", "P1-2", "P2-1"]


def test_playoff_crossover() -> None:
    def names(groups: int, advance: int) -> list[str]:
        return [f"{e.group}{e.rank}" for e in gp.playoff_entrants("ABCDEFGH"[:groups], advance)]

    # Seeds 1..4 then 5..8; the bracket pairs 1v4, 2v3 (four) and 1v8, 4v5, 2v7, 3v6 (eight).
    assert names(2, 2) == ["A1", "B1", "A2", "B2"]  # A1-B2, B1-A2
    assert names(4, 2) == ["A1", "B1", "C1", "D1", "C2", "D2", "A2", "B2"]
    plan = gp.build(team_names(16), {"groups": 4})
    first_round = [s.slots for s in plan.matches if s.id.startswith("P1-")]
    assert first_round[0] == (GroupRank("A", 1), GroupRank("B", 2))
    assert first_round[1] == (GroupRank("D", 1), GroupRank("C", 2))
    assert first_round[2] == (GroupRank("B", 1), GroupRank("A", 2))
    assert first_round[3] == (GroupRank("C", 1), GroupRank("D", 2))


@pytest.mark.parametrize(("groups", "advance"), [(2, 2), (2, 4), (3, 2), (4, 3), (6, 2), (8, 2)])
def test_group_mates_never_meet_in_the_first_playoff_round(groups: int, advance: int) -> None:
    options = {"groups": groups, "advance_per_group": advance}
    plan = gp.build(team_names(groups * max(advance, 3)), options)
    for spec in plan.matches:
        if spec.id.startswith("P1-"):
            ranks = [s for s in spec.slots if isinstance(s, GroupRank)]
            assert len({r.group for r in ranks}) == len(ranks)


def test_playoff_fills_in_when_a_group_is_complete() -> None:
    plan = gp.build(team_names(8), {"groups": 2})
    outcomes = _group_outcomes(plan)
    group_a = {k: v for k, v in outcomes.items() if k.startswith("A-")}
    resolution = resolve(plan, group_a)
    # Group A (t1 t4 t5 t8) is done, B is not: A1 is known, B2 is not.
    assert resolution["P1-1"].participants == ("t1", None)
    assert resolution["P1-1"].state == "pending"
    resolution = resolve(plan, outcomes)
    assert resolution["P1-1"].participants == ("t1", "t3")
    assert resolution["P1-2"].participants == ("t2", "t4")


def test_unresolvable_group_ties_fall_back_to_seed() -> None:
    plan = gp.build(team_names(6), {"groups": 2, "allow_draws": True, "advance_per_group": 1})
    outcomes: dict[str, Outcome] = {
        s.id: tie((1.0, 1.0)) for s in plan.matches if s.section.startswith("group")
    }
    tables = standings(plan, outcomes)
    assert [[r.rank for r in t.rows] for t in tables] == [[1, 2, 3], [1, 2, 3]]
    assert [r.team for r in tables[0].rows] == ["t1", "t4", "t5"]
    assert resolve(plan, outcomes)["P1-1"].participants == ("t1", "t2")


def test_placements_playoff_first_then_group_ranks() -> None:
    plan = gp.build(team_names(14), {"groups": 4})
    outcomes = _group_outcomes(plan)
    places = placements(plan, outcomes)
    # Non-advancing teams are placed as soon as every group is over.
    thirds = {"t9", "t10", "t11", "t12"}
    fourths = {"t13", "t14"}
    assert {t: places[t] for t in thirds} == dict.fromkeys(thirds, 9)
    assert {t: places[t] for t in fourths} == dict.fromkeys(fourths, 13)
    for spec in plan.matches:
        if spec.section == "playoff":
            outcomes[spec.id] = win(0)
    places = placements(plan, outcomes)
    assert len(places) == 14
    assert Counter(places.values()) == Counter({1: 1, 2: 1, 3: 2, 5: 4, 9: 4, 13: 2})


def test_invalid_configurations() -> None:
    with pytest.raises(FormatError) as error:
        gp.build(team_names(7), {"groups": 4})
    assert error.value.code == "not_enough_teams"
    with pytest.raises(FormatError) as error:
        gp.build(team_names(9), {"groups": 3, "advance_per_group": 4})
    assert error.value.code == "invalid_format_options"
    assert "advance_per_group" in str(error.value)


@settings(max_examples=50, deadline=None)
@given(
    groups=st.integers(1, 5),
    extra=st.integers(0, 9),
    advance=st.integers(1, 3),
    third_place=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_random_play_places_everyone(
    groups: int, extra: int, advance: int, third_place: bool, seed: int
) -> None:
    if groups == 1:
        advance = max(advance, 2)  # a playoff needs two teams
    count = groups * max(advance, 2) + extra
    teams = team_names(count)
    options = {"groups": groups, "advance_per_group": advance, "third_place": third_place}
    plan, outcomes = play_out(gp.build(teams, options), random.Random(seed))
    assert resolve(plan, outcomes).complete
    places = placements(plan, outcomes)
    assert set(places) == set(teams)
    assert Counter(places.values())[1] == 1
    assert all(t.complete for t in standings(plan, outcomes))
