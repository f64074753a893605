"""Turn "who went out where" into final placements, as soon as each one is certain.

Formats describe their finish as stages ordered worst first (e.g. first-round losers, ...,
final loser, champion). Everyone in a stage shares one place: one plus the number of teams that
finish ahead. That number is certain when every stage above is complete (count them) or when the
stage and every stage below it are complete (count what is left), so top places are published as
soon as the final is over and bottom places as soon as the early rounds are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from beerolympics.domain.formats.base import TeamId


class Stage(NamedTuple):
    """Teams that finish level, and whether that list is final."""

    members: Sequence[TeamId]
    complete: bool


def places_from_stages(stages: Sequence[Stage], total: int) -> dict[TeamId, int]:
    """Placements for the teams whose place is certain; ``stages`` are ordered worst first."""
    count = len(stages)
    above = [0] * count
    above_complete = [True] * count
    running, complete = 0, True
    for index in range(count - 1, -1, -1):
        above[index], above_complete[index] = running, complete
        running += len(stages[index].members)
        complete = complete and stages[index].complete
    places: dict[TeamId, int] = {}
    below, below_complete = 0, True
    for index, stage in enumerate(stages):
        below += len(stage.members)
        below_complete = below_complete and stage.complete
        if above_complete[index]:
            place = 1 + above[index]
        elif below_complete:
            place = 1 + total - below
        else:
            continue
        for team in stage.members:
            places[team] = place
    return places


def shared_ranks(keys: Sequence[tuple[float, ...]]) -> list[int]:
    """Competition ranks (1, 1, 3) for ``keys``, lower key is better."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    ranks = [0] * len(keys)
    for position, index in enumerate(order):
        if position and keys[order[position - 1]] == keys[index]:
            ranks[index] = ranks[order[position - 1]]
        else:
            ranks[index] = position + 1
    return ranks
