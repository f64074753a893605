"""Single elimination: bracket order, byes, seeding, third place, placements."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from beerolympics.domain.formats import (
    BYE,
    ByeSlot,
    FormatError,
    Outcome,
    Source,
    TeamSlot,
    WinnerOf,
    double_forfeit,
    forfeit,
    placements,
    resolve,
    win,
)
from beerolympics.domain.formats import single_elimination as se
from tests.unit.formats.simulation import losses, play_out, team_names


def _first_round(teams: list[str]) -> list[tuple[str, ...]]:
    plan = se.build(teams)
    return [tuple(_name(s) for s in spec.slots) for spec in plan.matches if spec.round == 1]


def _name(source: Source) -> str:
    if isinstance(source, TeamSlot):
        return source.team
    assert isinstance(source, ByeSlot)
    return "bye"


def test_bracket_order() -> None:
    assert se.bracket_order(2) == [1, 2]
    assert se.bracket_order(4) == [1, 4, 2, 3]
    assert se.bracket_order(8) == [1, 8, 4, 5, 2, 7, 3, 6]
    assert se.bracket_order(16)[:4] == [1, 16, 8, 9]


def test_eight_teams_natural_seeding() -> None:
    teams = [f"s{i}" for i in range(1, 9)]
    assert _first_round(teams) == [("s1", "s8"), ("s4", "s5"), ("s2", "s7"), ("s3", "s6")]
    plan = se.build(teams)
    assert [s.id for s in plan.matches] == [
        "R1-1",
        "R1-2",
        "R1-3",
        "R1-4",
        "R2-1",
        "R2-2",
        "R3-1",
    ]
    assert [s.label for s in plan.matches if s.round == 1] == ["Quarterfinal"] * 4
    assert plan.matches[-1].label == "Final"
    assert plan.matches[4].slots == (WinnerOf("R1-1"), WinnerOf("R1-2"))


def test_six_teams_byes_go_to_seeds_one_and_two() -> None:
    teams = [f"s{i}" for i in range(1, 7)]
    assert _first_round(teams) == [("s1", "bye"), ("s4", "s5"), ("s2", "bye"), ("s3", "s6")]
    resolution = resolve(se.build(teams), {})
    assert resolution["R1-1"].state == "bye"
    assert resolution.winner("R1-1") == "s1"
    assert resolution["R1-2"].state == "ready"
    assert resolution["R2-1"].participants == ("s1", None)
    assert resolution["R2-1"].state == "pending"


def test_manual_and_random_seeding() -> None:
    teams = ["x", "y", "z", "w"]
    assert se.build(teams, {"seeding": "manual"}).teams == ("x", "y", "z", "w")
    shuffled = se.build(teams, {"seeding": "random"}, random.Random(7)).teams
    assert sorted(shuffled) == sorted(teams)
    assert shuffled == se.build(teams, {"seeding": "random"}, random.Random(7)).teams
    with pytest.raises(FormatError) as error:
        se.build(teams, {"seeding": "random"})
    assert error.value.code == "rng_required"


def test_team_validation() -> None:
    with pytest.raises(FormatError) as error:
        se.build(["solo"])
    assert error.value.code == "not_enough_teams"
    with pytest.raises(FormatError) as error:
        se.build(["a", "a"])
    assert error.value.code == "duplicate_team"
    with pytest.raises(FormatError) as error:
        se.build(["a", "b"], {"best_of": 2})
    assert error.value.code == "invalid_format_options"
    assert "best_of" in str(error.value)


def test_best_of_and_final_best_of() -> None:
    plan = se.build(team_names(4), {"best_of": 3, "final_best_of": 5, "third_place": True})
    by_id = {s.id: s for s in plan.matches}
    assert by_id["R1-1"].best_of == 3
    assert by_id["3P"].best_of == 3
    assert by_id["R2-1"].best_of == 5


def test_placements_without_third_place_share_third_and_fifth() -> None:
    plan = se.build(team_names(8))
    outcomes: dict[str, Outcome] = {s.id: win(0) for s in plan.matches}
    assert placements(plan, outcomes) == {
        "t1": 1,
        "t2": 2,
        "t3": 3,
        "t4": 3,
        "t5": 5,
        "t6": 5,
        "t7": 5,
        "t8": 5,
    }


def test_placements_with_third_place_match() -> None:
    plan = se.build(team_names(8), {"third_place": True})
    outcomes: dict[str, Outcome] = {s.id: win(0) for s in plan.matches if s.id != "3P"}
    places = placements(plan, outcomes)
    assert places["t1"] == 1
    assert places["t2"] == 2
    assert places["t5"] == 5
    assert "t3" not in places
    assert "t4" not in places
    outcomes["3P"] = win(1)  # the loser of semifinal 2 (t3) beats t4
    places = placements(plan, outcomes)
    assert (places["t3"], places["t4"]) == (3, 4)


def test_top_places_are_known_before_the_third_place_match() -> None:
    plan = se.build(team_names(4), {"third_place": True})
    outcomes: dict[str, Outcome] = {"R1-1": win(0), "R1-2": win(0), "R2-1": win(1)}
    assert placements(plan, outcomes) == {"t2": 1, "t1": 2}


def test_six_team_placements_with_byes() -> None:
    plan = se.build(team_names(6))
    outcomes: dict[str, Outcome] = {s.id: win(0) for s in plan.matches}
    places = placements(plan, outcomes)
    assert places == {"t1": 1, "t2": 2, "t3": 3, "t4": 3, "t5": 5, "t6": 5}


def test_forfeit_and_double_forfeit() -> None:
    plan = se.build(team_names(4))
    outcomes: dict[str, Outcome] = {"R1-1": forfeit(0), "R1-2": double_forfeit()}
    resolution = resolve(plan, outcomes)
    assert resolution.winner("R1-1") == "t4"
    assert resolution["R2-1"].participants == ("t4", BYE)
    assert resolution["R2-1"].state == "bye"
    assert resolution.winner("R2-1") == "t4"
    places = placements(plan, outcomes)
    assert places == {"t4": 1, "t1": 2, "t2": 2, "t3": 2}


@settings(max_examples=100, deadline=None)
@example(count=70, seed=1, third_place=True)
@given(
    count=st.integers(min_value=2, max_value=70),
    seed=st.integers(0, 10_000),
    third_place=st.booleans(),
)
def test_random_play_has_one_champion_who_never_lost(
    count: int, seed: int, third_place: bool
) -> None:
    teams = team_names(count)
    plan = se.build(teams, {"third_place": third_place})
    plan, outcomes = play_out(plan, random.Random(seed))
    resolution = resolve(plan, outcomes)
    assert resolution.complete
    places = placements(plan, outcomes)
    assert set(places) == set(teams)
    assert Counter(places.values())[1] == 1
    champion = next(team for team, place in places.items() if place == 1)
    assert losses(plan, outcomes)[champion] == 0
    final = plan.matches[-1].id
    assert resolution.winner(final) == champion
    if third_place and count >= 4:
        assert sorted(places.values())[:4] == [1, 2, 3, 4]
