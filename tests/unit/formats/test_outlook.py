"""Where a team can still finish: the range every format gives holds the place the team ends
on, only narrows as results come in, and closes on the place once the game is over."""

from __future__ import annotations

import random
from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from beerolympics.domain.formats import (
    FORMATS,
    FormatError,
    HeadToHeadOutcome,
    HeatOutcome,
    MatchId,
    MatchSpec,
    Outcome,
    PlaceRange,
    ResolvedMatch,
    build,
    next_round,
    outlook,
    placements,
    resolve,
    win,
)
from beerolympics.domain.formats.placement import ranges_from_bands, ranges_from_points
from tests.unit.formats.simulation import random_outcome, team_names

OPTIONS: dict[str, list[dict[str, object]]] = {
    "round_robin": [{}, {"allow_draws": True}],
    "single_elimination": [{}, {"third_place": True}],
    "double_elimination": [
        {"grand_final": "reset"},
        {"grand_final": "single"},
        {"grand_final": "none"},
    ],
    "swiss": [{"rounds": 3}, {"allow_draws": True, "bye_points": 1.0}],
    "groups_playoffs": [
        {"groups": 2, "advance_per_group": 2},
        {"groups": 3, "advance_per_group": 1, "third_place": True},
    ],
    "heats": [
        {"heat_size": 3, "rounds": 2, "advance_per_heat": 2},
        {"heat_size": 4, "rounds": 3, "advance_total": 4},
    ],
}


def _outcome(spec: MatchSpec, match: ResolvedMatch, rng: random.Random) -> Outcome:
    """Any result a referee may enter, forfeits of one or both sides included."""
    if spec.kind == "head_to_head" and rng.random() < 0.1:
        if rng.random() < 0.5:
            return HeadToHeadOutcome(winner=None, double_forfeit=True, teams=match.teams)
        loser = rng.randrange(2)
        return HeadToHeadOutcome(winner=1 - loser, forfeited=loser, teams=match.teams)
    return random_outcome(spec, match, rng, ties=True)


def _spans(places: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Each placed team's place and the bottom of the place it shares."""
    sharing = Counter(places.values())
    return {team: (place, place + sharing[place] - 1) for team, place in places.items()}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(FORMATS)),
    variant=st.integers(min_value=0, max_value=1),
    count=st.integers(min_value=2, max_value=13),
    seed=st.integers(min_value=0, max_value=100_000),
)
def test_ranges_hold_the_final_place_narrow_and_close(
    name: str, variant: int, count: int, seed: int
) -> None:
    rng = random.Random(seed)
    options = OPTIONS[name][variant % len(OPTIONS[name])]
    try:
        plan = build(name, team_names(count), options, rng)
    except FormatError:
        reject()  # options that do not fit this many teams
    outcomes: dict[MatchId, Outcome] = {}
    history: list[dict[str, PlaceRange]] = []
    for _ in range(1000):
        resolution = resolve(plan, outcomes)
        history.append(outlook(plan, outcomes, resolution))
        ready = resolution.in_state("ready")
        if ready:
            match = rng.choice(ready)
            spec = next(s for s in plan.matches if s.id == match.id)
            outcomes[match.id] = _outcome(spec, match, rng)
            continue
        more = next_round(plan, outcomes)
        if not more:
            break
        plan = plan.extended(more)
    final = placements(plan, outcomes)
    assert set(final) == set(plan.teams)
    spans = _spans(final)
    for team, (place, bottom) in spans.items():
        assert history[-1][team] == PlaceRange(place, bottom)
        for before, after in pairwise(history):  # narrows
            assert before[team].best <= after[team].best, (team, before[team], after[team])
            assert before[team].worst >= after[team].worst, (team, before[team], after[team])
        assert all(r[team].best <= place and bottom <= r[team].worst for r in history)  # holds


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_before_anything_is_played_every_place_is_open(name: str) -> None:
    teams = team_names(8)
    options = OPTIONS[name][0] if name != "groups_playoffs" else {"groups": 2}
    plan = build(name, teams, options, random.Random(1))
    ranges = outlook(plan, {})
    assert set(ranges) == set(teams)
    assert all(r.worst == 8 for r in ranges.values())
    assert all(r.best == 1 for r in ranges.values())


def test_a_knockout_semifinalist_can_no_longer_end_below_fourth() -> None:
    plan = build("single_elimination", team_names(8), {})
    outcomes: dict[MatchId, Outcome] = {f"R1-{n}": win(0) for n in range(1, 5)}
    ranges = outlook(plan, outcomes)
    semifinalists = [t for t, r in ranges.items() if r.best == 1]
    assert len(semifinalists) == 4
    assert {ranges[t].worst for t in semifinalists} == {4}
    assert {r for t, r in ranges.items() if t not in semifinalists} == {PlaceRange(5, 8)}


def test_the_last_two_in_a_heats_game_cannot_finish_below_second() -> None:
    """The case seen at a party: ten teams out, two still racing for the win."""
    plan = build("heats", team_names(12), {"heat_size": 6, "rounds": 2, "advance_total": 2})
    outcomes: dict[MatchId, Outcome] = {
        heat.id: HeatOutcome(places=tuple(range(1, len(heat.teams) + 1)), teams=heat.teams)
        for heat in resolve(plan, {}).in_state("ready")
    }
    plan = plan.extended(next_round(plan, outcomes))
    ranges = outlook(plan, outcomes)
    racing = [t for t, r in ranges.items() if r.best == 1]
    assert len(racing) == 2
    assert all(ranges[t] == PlaceRange(1, 2) for t in racing)


def test_counting_bands_and_points() -> None:
    # a is sure to end above b and c; b and c may end either way round.
    bands = {"a": (2, 2), "b": (0, 1), "c": (0, 1)}
    assert ranges_from_bands(bands, 3) == {
        "a": PlaceRange(1, 1),
        "b": PlaceRange(2, 3),
        "c": PlaceRange(2, 3),
    }
    # x has 9 and can reach 12; y can reach 9 (a tie may go either way); z is out of reach.
    points = {"x": (9.0, 12.0), "y": (3.0, 9.0), "z": (0.0, 3.0)}
    assert ranges_from_points(points) == {
        "x": PlaceRange(1, 2),
        "y": PlaceRange(1, 3),
        "z": PlaceRange(2, 3),
    }
