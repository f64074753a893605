"""Turn "who went out where" into final placements, as soon as each one is certain.

Formats describe their finish as stages ordered worst first (e.g. first-round losers, ...,
final loser, champion). Everyone in a stage shares one place: one plus the number of teams that
finish ahead. That number is certain when every stage above is complete (count them) or when the
stage and every stage below it are complete (count what is left), so top places are published as
soon as the final is over and bottom places as soon as the early rounds are.

Until its place is certain, a team still has a range of places it can finish on
(:class:`PlaceRange`): formats give each team the lowest and highest stage it can still end in
(its *band*), or for tables the least and most points it can still have, and the range follows
by counting who is sure to end above or below it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from beerolympics.domain.formats.base import SETTLED_STATES, MatchId, Resolution, TeamId


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


class PlaceRange(NamedTuple):
    """Where a team can still finish: ``best`` is the best place it can still get; ``worst``
    the lowest position it can still end on (the bottom of a place it would share), so the
    points of ``worst`` alone are points it has already secured."""

    best: int
    worst: int


#: A :class:`PlaceRange` from its two numbers, without the keyword handling of its constructor.
_range = PlaceRange._make

Band = tuple[int, int]
"""The lowest and highest band (a stage, worst first) a team can still end in."""


def ranges_from_bands(bands: Mapping[TeamId, Band], total: int) -> dict[TeamId, PlaceRange]:
    """Place ranges from bands: ``bands`` holds every team, ``total`` is the number of teams.

    A team ends in one band of its interval, and its place is one plus the teams ending in
    higher bands: at best, only the teams whose lowest band is above its highest are ahead;
    at worst, only the teams whose highest band is below its lowest are behind.
    """
    return _ranges(bands, total)


def ranges_from_points(bounds: Mapping[TeamId, tuple[float, float]]) -> dict[TeamId, PlaceRange]:
    """Place ranges in a table ranked by points, from each team's (least, most) final points.

    At best, only the teams sure to end above its most are ahead; at worst every team that can
    still reach its least is ahead or level with it (tie-breaks may go either way).
    """
    return _ranges(bounds, len(bounds))


def _ranges(
    intervals: Mapping[TeamId, tuple[float, float]], total: int
) -> dict[TeamId, PlaceRange]:
    """Each team's place range from every team's (low, high) interval, higher being better:
    ahead of it at best the teams whose low is above its high, behind it at worst the teams
    whose high is below its low. Worked out once per distinct interval (many teams share one:
    level on points, or out in the same round)."""
    lows = sorted([low for low, _ in intervals.values()])
    highs = sorted([high for _, high in intervals.values()])
    count = len(lows)
    ranges: dict[tuple[float, float], PlaceRange] = {}
    found: dict[TeamId, PlaceRange] = {}
    for team, interval in intervals.items():
        place = ranges.get(interval)
        if place is None:
            low, high = interval
            place = ranges[interval] = _range(
                (1 + count - bisect_right(lows, high), total - bisect_left(highs, low))
            )
        found[team] = place
    return found


class MatchBands(NamedTuple):
    """Where a knockout match sends its teams, as band indices (worst first).

    ``floor`` and ``ceiling`` bound the teams still in the match (losing it, or forfeiting it
    together, is the worst that can happen to them); ``loser`` and ``winner`` are the bands its
    loser and winner end in, or ``None`` when they play on; ``forfeit`` is where both teams of
    a double forfeit end.
    """

    floor: int
    ceiling: int
    loser: int | None
    winner: int | None
    forfeit: int


def bands_from_matches(
    resolution: Resolution, bands: Mapping[MatchId, MatchBands]
) -> dict[TeamId, Band]:
    """Each team's band interval from the knockout matches in ``bands`` (in plan order): the
    latest match a team is in says where it stands."""
    found: dict[TeamId, Band] = {}
    for match_id, where in bands.items():
        match = resolution[match_id]
        if match.state == "void":
            continue
        if match.state not in SETTLED_STATES:
            for team in match.teams:
                found[team] = (where.floor, where.ceiling)
            continue
        if len(match.losers) == 2:
            for team in match.losers:
                found[team] = (where.forfeit, where.forfeit)
        elif match.losers and where.loser is not None:
            found[match.losers[0]] = (where.loser, where.loser)
        if match.winner is not None and where.winner is not None:
            found[match.winner] = (where.winner, where.winner)
    return found


def ranges_from_places(places: Mapping[TeamId, int]) -> dict[TeamId, PlaceRange]:
    """The ranges of teams whose place is certain: the place, down to the last place it shares
    (two teams sharing 3rd span 3rd and 4th)."""
    sharing = Counter(places.values())
    return {team: PlaceRange(place, place + sharing[place] - 1) for team, place in places.items()}
