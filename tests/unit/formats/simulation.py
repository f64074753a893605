"""Play a plan to the end with random (seeded) results, the way the service would drive it."""

from __future__ import annotations

import random
from collections import Counter

from beerolympics.domain.formats import (
    HeadToHeadOutcome,
    HeatOutcome,
    MatchId,
    MatchSpec,
    Outcome,
    Plan,
    ResolvedMatch,
    next_round,
    resolve,
)


def random_outcome(
    spec: MatchSpec, match: ResolvedMatch, rng: random.Random, *, ties: bool = False
) -> Outcome:
    """A plausible result for a ready match: random places for heats, a score line otherwise."""
    teams = match.teams
    if spec.kind == "heat":
        values = [rng.randrange(len(teams)) for _ in teams]
        places = tuple(1 + sum(v < mine for v in values) for mine in values)
        return HeatOutcome(places=places, teams=teams)
    if ties and spec.allow_ties and rng.random() < 0.2:
        return HeadToHeadOutcome(winner=None, scores=(5.0, 5.0), teams=teams)
    winner = rng.randrange(2)
    scores = (10.0, float(rng.randrange(10)))
    return HeadToHeadOutcome(
        winner=winner, scores=scores if winner == 0 else scores[::-1], teams=teams
    )


def play_out(
    plan: Plan,
    rng: random.Random,
    outcomes: dict[MatchId, Outcome] | None = None,
    *,
    ties: bool = False,
) -> tuple[Plan, dict[MatchId, Outcome]]:
    """Play every ready match and append next rounds until nothing is left to play."""
    outcomes = dict(outcomes or {})
    for _ in range(10_000):
        specs = {spec.id: spec for spec in plan.matches}
        ready = resolve(plan, outcomes).in_state("ready")
        for match in ready:
            outcomes[match.id] = random_outcome(specs[match.id], match, rng, ties=ties)
        if ready:
            continue
        more = next_round(plan, outcomes)
        if not more:
            return plan, outcomes
        plan = plan.extended(more)
    raise AssertionError("the plan never finished")


def losses(plan: Plan, outcomes: dict[MatchId, Outcome]) -> Counter[str]:
    """How many head-to-head matches each team lost."""
    counter: Counter[str] = Counter()
    for match in resolve(plan, outcomes).matches.values():
        if match.state == "played":
            counter.update(match.losers)
    return counter


def team_names(count: int) -> list[str]:
    """Team ids t1..tN (seed order)."""
    return [f"t{index}" for index in range(1, count + 1)]
