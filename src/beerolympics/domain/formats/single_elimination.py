"""Single elimination: a knockout bracket for any number of teams.

The bracket size is the next power of two; the missing entrants are explicit byes that fall to
the top seeds, because the standard bracket order pairs seed s with seed size+1-s. An optional
third-place match is fed by the semifinal losers. The bracket builder and the placement stages are
reused by double elimination and by the groups-then-playoffs format.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from beerolympics.domain.formats.base import (
    BYE,
    FormatError,
    LoserOf,
    MatchId,
    MatchSpec,
    Outcome,
    Resolution,
    Source,
    TeamId,
    TeamSlot,
    WinnerOf,
)
from beerolympics.domain.formats.options import (
    SeedingMethod,
    SingleEliminationOptions,
    TiebreakName,
    parse_options,
)
from beerolympics.domain.formats.placement import (
    MatchBands,
    PlaceRange,
    Stage,
    bands_from_matches,
    places_from_stages,
    ranges_from_bands,
)
from beerolympics.domain.formats.plan import Plan, checked_teams, plan_options
from beerolympics.domain.formats.resolution import Increment, per_plan, positions, resolve_plan
from beerolympics.domain.formats.standings import StandingsTable

NAME = "single_elimination"


def next_power_of_two(count: int) -> int:
    """The smallest power of two >= ``count`` (and >= 2)."""
    size = 2
    while size < count:
        size *= 2
    return size


def bracket_order(size: int) -> list[int]:
    """Seeds (1-based) in bracket line order: for 8, [1, 8, 4, 5, 2, 7, 3, 6].

    Consecutive pairs are the first-round matches. Each doubling pairs every seed s with its
    mirror 2*size+1-s, which keeps the top seeds apart until the latest possible round.
    """
    order = [1]
    while len(order) < size:
        mirror = 2 * len(order) + 1
        order = [seed for s in order for seed in (s, mirror - s)]
    return order


def seeded(
    teams: Sequence[TeamId], seeding: SeedingMethod, rng: random.Random | None
) -> tuple[TeamId, ...]:
    """The seed order to use: as given, or shuffled with ``rng`` for random seeding."""
    if seeding != "random":
        return tuple(teams)
    if rng is None:
        raise FormatError("rng_required", "random seeding needs a random.Random")
    return tuple(rng.sample(list(teams), len(teams)))


def round_label(matches_in_round: int) -> str:
    """Final, Semifinal, Quarterfinal, or Round of N."""
    return {1: "Final", 2: "Semifinal", 4: "Quarterfinal"}.get(
        matches_in_round, f"Round of {2 * matches_in_round}"
    )


def bracket_matches(
    entrants: Sequence[Source],
    *,
    id_prefix: str,
    section: str,
    best_of: int,
    final_best_of: int,
    third_place_id: str | None = None,
) -> list[MatchSpec]:
    """A knockout bracket for ``entrants`` in seed order (ids ``{id_prefix}{round}-{n}``).

    A third-place match (id ``third_place_id``) is added when requested and there are semifinals.
    """
    size = next_power_of_two(len(entrants))
    order = bracket_order(size)
    rounds = size.bit_length() - 1
    specs: list[MatchSpec] = []
    previous: list[MatchId] = []
    for number in range(1, rounds + 1):
        count = size >> number
        label = round_label(count)
        current: list[MatchId] = []
        if number == rounds and third_place_id is not None and rounds >= 2:
            specs.append(
                MatchSpec(
                    id=third_place_id,
                    round=number,
                    label="Third place",
                    section="third_place",
                    slots=(LoserOf(previous[0]), LoserOf(previous[1])),
                    best_of=best_of,
                )
            )
        for index in range(count):
            slots: tuple[Source, Source]
            if number == 1:
                top, bottom = order[2 * index], order[2 * index + 1]
                slots = (_entrant(entrants, top), _entrant(entrants, bottom))
            else:
                slots = (WinnerOf(previous[2 * index]), WinnerOf(previous[2 * index + 1]))
            match_id = f"{id_prefix}{number}-{index + 1}"
            current.append(match_id)
            specs.append(
                MatchSpec(
                    id=match_id,
                    round=number,
                    label=label,
                    section=section,
                    slots=slots,
                    best_of=final_best_of if number == rounds else best_of,
                )
            )
        previous = current
    return specs


def _entrant(entrants: Sequence[Source], seed: int) -> Source:
    return entrants[seed - 1] if seed <= len(entrants) else BYE


def elimination_stages(
    resolution: Resolution, rounds: Sequence[Sequence[MatchId]], third_place: MatchId | None
) -> list[Stage]:
    """Placement stages (worst first) of a knockout bracket whose last round is the final.

    Losers of a round share a stage. With a third-place match the semifinal losers play on, so
    only teams that double-forfeited a semifinal go out there (below the third-place match).
    """
    stages: list[Stage] = []
    last = len(rounds) - 1
    for index, match_ids in enumerate(rounds):
        matches = [resolution[m] for m in match_ids]
        complete = all(m.settled for m in matches)
        if index == last - 1 and third_place is not None:
            out = [t for m in matches if len(m.losers) == 2 for t in m.losers]
            stages.append(Stage(out, complete))
            bronze = resolution[third_place]
            stages.append(Stage(bronze.losers, bronze.settled))
            stages.append(Stage([bronze.winner] if bronze.winner else [], bronze.settled))
        else:
            stages.append(Stage([t for m in matches for t in m.losers], complete))
    final = resolution[rounds[last][0]]
    stages.append(Stage([final.winner] if final.winner else [], final.settled))
    return stages


def knockout_bands(plan: Plan, section: str, offset: int = 0) -> dict[MatchId, MatchBands]:
    """The bands (see :func:`elimination_stages`, in the same order, from ``offset``) that the
    matches of a knockout ``section`` and its third-place match send their teams to."""
    rounds = bracket_rounds(plan, section)
    # A plan has a third-place match only where there are semifinals.
    third = third_place_id(plan)
    last = len(rounds) - 1
    top = offset + len(rounds) + (2 if third is not None else 0)
    found: dict[MatchId, MatchBands] = {}
    band = offset
    for index, match_ids in enumerate(rounds):
        if third is not None and index == last - 1:
            # Semifinal losers play on for third place; only a double forfeit ends here.
            for match_id in match_ids:
                found[match_id] = MatchBands(band, top, None, None, band)
            found[third] = MatchBands(band + 1, band + 2, band + 1, band + 2, band + 1)
            band += 3
            continue
        winner = top if index == last else None
        for match_id in match_ids:
            found[match_id] = MatchBands(band, top, band, winner, band)
        band += 1
    order = positions(plan)
    return dict(sorted(found.items(), key=lambda item: order[item[0]]))


def bracket_rounds(plan: Plan, section: str) -> list[list[MatchId]]:
    """The match ids of ``section`` grouped by round, in order."""
    rounds: dict[int, list[MatchId]] = {}
    for spec in plan.matches:
        if spec.section == section:
            rounds.setdefault(spec.round, []).append(spec.id)
    return [rounds[number] for number in sorted(rounds)]


def third_place_id(plan: Plan) -> MatchId | None:
    """The id of the third-place match, if the plan has one."""
    return next((s.id for s in plan.matches if s.section == "third_place"), None)


def build(
    teams: Sequence[TeamId],
    options: SingleEliminationOptions | Mapping[str, object] | None = None,
    rng: random.Random | None = None,
) -> Plan:
    """A knockout bracket; ``rng`` is needed only for random seeding."""
    opts = parse_options(SingleEliminationOptions, options)
    order = seeded(checked_teams(teams), opts.seeding, rng)
    matches = bracket_matches(
        [TeamSlot(team) for team in order],
        id_prefix="R",
        section="winners",
        best_of=opts.best_of,
        final_best_of=opts.final_best_of or opts.best_of,
        third_place_id="3P" if opts.third_place else None,
    )
    return Plan(format=NAME, options=opts, teams=order, matches=tuple(matches))


def resolve(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], since: Increment | None = None
) -> Resolution:
    """Every match's participants and state."""
    return resolve_plan(plan, outcomes, since=since)


def placements(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, int]:
    """Final places as they become certain: losers of a round share a place."""
    plan_options(plan, SingleEliminationOptions)
    resolution = resolution or resolve(plan, outcomes)
    stages = elimination_stages(resolution, bracket_rounds(plan, "winners"), third_place_id(plan))
    return places_from_stages(stages, len(plan.teams))


@per_plan
def _bands(plan: Plan) -> dict[MatchId, MatchBands]:
    return knockout_bands(plan, "winners")


def outlook(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, PlaceRange]:
    """Where every team can still finish: a team still in lost nothing yet, so at worst it
    goes out in the round it is in."""
    plan_options(plan, SingleEliminationOptions)
    resolution = resolution or resolve(plan, outcomes)
    return ranges_from_bands(bands_from_matches(resolution, _bands(plan)), len(plan.teams))


def standings(
    plan: Plan,
    outcomes: Mapping[MatchId, Outcome],
    tiebreaks: Sequence[TiebreakName] | None = None,
    resolution: Resolution | None = None,
) -> tuple[StandingsTable, ...]:
    """A knockout has no table."""
    del plan, outcomes, tiebreaks, resolution
    return ()


def next_round(plan: Plan, outcomes: Mapping[MatchId, Outcome]) -> list[MatchSpec]:
    """Always empty: the whole bracket is known up front."""
    del plan, outcomes
    return []
