"""Round robin: circle-method schedule, sit-outs, home/away balance, table and placements."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.formats import (
    BYE,
    HeadToHeadOutcome,
    Outcome,
    Plan,
    TeamSlot,
    placements,
    resolve,
    standings,
    win,
)
from beerolympics.domain.formats import round_robin as rr
from tests.unit.formats.simulation import play_out, team_names


def _pairs(plan: Plan) -> list[tuple[str, str]]:
    return [
        (s.slots[0].team, s.slots[1].team)
        for s in plan.matches
        if isinstance(s.slots[0], TeamSlot) and isinstance(s.slots[1], TeamSlot)
    ]


def test_five_teams_have_exactly_one_sit_out_per_round() -> None:
    plan = rr.build(team_names(5))
    rounds = sorted({s.round for s in plan.matches})
    assert rounds == [1, 2, 3, 4, 5]
    for number in rounds:
        matches = [s for s in plan.matches if s.round == number]
        sit_outs = [s for s in matches if BYE in s.slots]
        assert len(sit_outs) == 1
        assert len(matches) == 3
    resolution = resolve(plan, {})
    assert len(resolution.in_state("bye")) == 5
    assert {m.winner for m in resolution.in_state("bye")} == set(team_names(5))


def test_match_ids_and_labels() -> None:
    plan = rr.build(team_names(4))
    assert [s.id for s in plan.matches[:3]] == ["R1-1", "R1-2", "R2-1"]
    assert plan.matches[0].label == "Round 1"
    assert plan.matches[0].section == "round_robin"


@settings(max_examples=40, deadline=None)
@given(count=st.integers(min_value=2, max_value=24), double=st.booleans())
def test_every_pair_meets_once_per_leg_and_nobody_plays_twice_a_round(
    count: int, double: bool
) -> None:
    teams = team_names(count)
    plan = rr.build(teams, {"double": double})
    pairs = _pairs(plan)
    unordered = Counter(frozenset(p) for p in pairs)
    assert len(unordered) == count * (count - 1) // 2
    assert set(unordered.values()) == {2 if double else 1}
    if double:
        assert Counter(pairs) == Counter((b, a) for a, b in pairs)  # once each side home
    for number in {s.round for s in plan.matches}:
        seen = [
            slot.team
            for s in plan.matches
            if s.round == number
            for slot in s.slots
            if isinstance(slot, TeamSlot)
        ]
        assert sorted(seen) == sorted(teams)  # everyone once: playing or sitting out
    home = Counter(a for a, _ in pairs)
    away = Counter(b for _, b in pairs)
    if not double:
        assert all(abs(home[t] - away[t]) <= 1 for t in teams)
    else:
        assert all(home[t] == away[t] for t in teams)


def test_standings_points_and_shared_ranks() -> None:
    plan = rr.build(["a", "b", "c"], {"allow_draws": True})
    outcomes: dict[str, Outcome] = {}
    for spec in plan.matches:
        slots = [s.team for s in spec.slots if isinstance(s, TeamSlot)]
        if len(slots) < 2:
            continue
        # Everybody draws 2-2: a perfectly level table.
        outcomes[spec.id] = HeadToHeadOutcome(winner=None, scores=(2.0, 2.0))
    (table,) = standings(plan, outcomes)
    assert table.complete
    assert [(r.team, r.rank, r.draws, r.match_points) for r in table.rows] == [
        ("a", 1, 2, 2.0),
        ("b", 1, 2, 2.0),
        ("c", 1, 2, 2.0),
    ]
    assert placements(plan, outcomes) == {"a": 1, "b": 1, "c": 1}


def test_head_to_head_breaks_a_two_way_tie() -> None:
    plan = rr.build(["a", "b", "c", "d"])
    results = {
        frozenset("ab"): "b",
        frozenset("ac"): "a",
        frozenset("ad"): "a",
        frozenset("bc"): "c",
        frozenset("bd"): "b",
        frozenset("cd"): "d",
    }
    outcomes: dict[str, Outcome] = {}
    for spec in plan.matches:
        x, y = (s.team for s in spec.slots if isinstance(s, TeamSlot))
        winner = results[frozenset((x, y))]
        outcomes[spec.id] = win(0 if winner == x else 1)
    (table,) = standings(plan, outcomes)
    # a and b have 2 wins each (6 pts); b beat a. c and d have one win each; d beat c.
    assert [(r.team, r.rank) for r in table.rows] == [("b", 1), ("a", 2), ("d", 3), ("c", 4)]
    assert placements(plan, outcomes) == {"b": 1, "a": 2, "d": 3, "c": 4}


def test_placements_only_when_complete() -> None:
    plan = rr.build(team_names(4))
    first = plan.matches[0].id
    assert placements(plan, {first: win(0)}) == {}


@settings(max_examples=15, deadline=None)
@given(count=st.integers(min_value=2, max_value=12), seed=st.integers(0, 1000))
def test_random_play_places_everyone(count: int, seed: int) -> None:
    plan = rr.build(team_names(count), {"allow_draws": True})
    plan, outcomes = play_out(plan, random.Random(seed), ties=True)
    places = placements(plan, outcomes)
    assert set(places) == set(team_names(count))
    assert min(places.values()) == 1
