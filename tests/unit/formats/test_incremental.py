"""Resolving only what a changed result can affect gives exactly what resolving everything
gives — for results added, changed and taken back, in every format."""

from __future__ import annotations

import random

from hypothesis import given, reject, settings
from hypothesis import strategies as st

from beerolympics.domain.formats import (
    FORMATS,
    FormatError,
    Increment,
    MatchId,
    Outcome,
    affected,
    build,
    next_round,
    resolve,
)
from tests.unit.formats.simulation import random_outcome, team_names

OPTIONS: dict[str, dict[str, object]] = {
    "round_robin": {},
    "single_elimination": {"third_place": True},
    "double_elimination": {"grand_final": "reset"},
    "swiss": {"rounds": 3},
    "groups_playoffs": {"groups": 2, "advance_per_group": 2},
    "heats": {"heat_size": 3, "rounds": 2, "advance_per_heat": 2},
}


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(sorted(FORMATS)),
    count=st.integers(min_value=4, max_value=12),
    seed=st.integers(min_value=0, max_value=10_000),
    in_place=st.booleans(),
)
def test_incremental_resolution_equals_a_full_one(
    name: str, count: int, seed: int, in_place: bool
) -> None:
    """Also when each step updates the last resolution in place (the projection's way)."""
    rng = random.Random(seed)
    try:
        plan = build(name, team_names(count), OPTIONS[name], rng)
    except FormatError:
        reject()  # options that do not fit this many teams

    outcomes: dict[MatchId, Outcome] = {}
    current = resolve(plan, outcomes)
    for _ in range(200):
        specs = {spec.id: spec for spec in plan.matches}
        ready = current.in_state("ready")
        played = [m for m in current.matches.values() if m.state == "played"]
        if played and rng.random() < 0.25:
            match = rng.choice(played)
            if rng.random() < 0.5:
                del outcomes[match.id]  # reopened
            else:
                outcomes[match.id] = random_outcome(specs[match.id], match, rng)  # overridden
        elif ready:
            match = rng.choice(ready)
            outcomes[match.id] = random_outcome(specs[match.id], match, rng)
        else:
            more = next_round(plan, outcomes)
            if not more:
                break
            plan = plan.extended(more)
            current = resolve(plan, outcomes)
            continue
        incremental = resolve(plan, outcomes, Increment(current, (match.id,), in_place=in_place))
        full = resolve(plan, outcomes)
        assert incremental == full
        assert match.id in affected(plan, (match.id,))
        current = incremental
