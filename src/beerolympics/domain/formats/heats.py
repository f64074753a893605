"""Heats: several teams race at once (flip-cup relay, chug race), over one or more rounds.

Round 1 spreads the seeds over ceil(teams / heat_size) heats in snake order, so heats are
balanced in size and strength. Later rounds take the best ``advance_per_heat`` of every heat or
the best ``advance_total`` of the round, ranked by place, then by value (time or score, when the
caller recorded them), then by seed; that order is also the snake order of the next round. Their
slots are :class:`HeatQualifier` sources, so changing an earlier heat's result re-resolves them.

Final placements: the last round's places first (shared across parallel heats), then teams
knocked out earlier, later rounds ahead of earlier ones, by their place in the heat they went out
in (shared where equal).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Literal

from beerolympics.domain.formats.base import (
    BYE,
    FormatError,
    GroupRank,
    HeatOutcome,
    HeatQualifier,
    MatchId,
    MatchSpec,
    Outcome,
    Participant,
    Resolution,
    ResolvedMatch,
    Source,
    TeamId,
    TeamSlot,
)
from beerolympics.domain.formats.options import HeatsOptions, TiebreakName, invalid, parse_options
from beerolympics.domain.formats.placement import (
    Band,
    PlaceRange,
    Stage,
    places_from_stages,
    ranges_from_bands,
    shared_ranks,
)
from beerolympics.domain.formats.plan import Plan, checked_teams, plan_options
from beerolympics.domain.formats.resolution import Increment, SourceResolver, resolve_plan
from beerolympics.domain.formats.standings import StandingsTable

NAME = "heats"


def places_from_values(
    values: Sequence[float], direction: Literal["lower", "higher"] = "lower"
) -> tuple[int, ...]:
    """Places (1-based, equal values share: (1, 1, 3)) from times or scores."""
    sign = 1.0 if direction == "lower" else -1.0
    return tuple(shared_ranks([(sign * value,) for value in values]))


def snake(count: int, groups: int) -> list[int]:
    """For items 0..count-1 in rank order, the group (0-based) each goes to: 0,1,2,2,1,0,0,..."""
    return [
        index % groups if (index // groups) % 2 == 0 else groups - 1 - index % groups
        for index in range(count)
    ]


def field_sizes(opts: HeatsOptions, teams: int) -> list[int]:
    """How many teams start each round (refusing options that do not shrink the field)."""
    sizes = [teams]
    for number in range(1, opts.rounds):
        field = sizes[-1]
        heats = math.ceil(field / opts.heat_size)
        if opts.advance_per_heat is not None:
            base, extra = divmod(field, heats)
            size_of = [base + (1 if i < extra else 0) for i in range(heats)]
            going = sum(min(opts.advance_per_heat, size) for size in size_of)
        else:
            going = opts.advance_total or 0
        if not 2 <= going < field:
            raise invalid(
                "advance_per_heat" if opts.advance_per_heat is not None else "advance_total",
                f"round {number} has {field} teams and would send {going} on",
            )
        sizes.append(going)
    return sizes


def round_heats(number: int, entrants: Sequence[Source], opts: HeatsOptions) -> list[MatchSpec]:
    """The heats of round ``number`` for ``entrants`` in rank order (snake distribution)."""
    count = math.ceil(len(entrants) / opts.heat_size)
    lanes: list[list[Source]] = [[] for _ in range(count)]
    for entrant, heat in zip(entrants, snake(len(entrants), count), strict=True):
        lanes[heat].append(entrant)
    final = number == opts.rounds and count == 1
    return [
        MatchSpec(
            id=f"H{number}-{index}",
            round=number,
            label="Final" if final else f"Round {number} heat {index}",
            section="heats",
            slots=tuple(lane),
            kind="heat",
        )
        for index, lane in enumerate(lanes, start=1)
    ]


def build(
    teams: Sequence[TeamId],
    options: HeatsOptions | Mapping[str, object] | None = None,
    rng: random.Random | None = None,
) -> Plan:
    """The plan with round 1's heats; later rounds come from ``next_round``."""
    del rng
    opts = parse_options(HeatsOptions, options)
    seeded = checked_teams(teams)
    field_sizes(opts, len(seeded))
    heats = round_heats(1, [TeamSlot(team) for team in seeded], opts)
    return Plan(format=NAME, options=opts, teams=seeded, matches=tuple(heats))


def _ranking(
    heats: Sequence[ResolvedMatch], seed: Mapping[TeamId, int]
) -> list[tuple[TeamId, int, int]]:
    """(team, place, heat index) of a round's teams, best first: place, value, seed."""
    rows: list[tuple[tuple[float, float, int], TeamId, int, int]] = []
    for heat_index, heat in enumerate(heats):
        outcome = heat.outcome
        for slot, team in enumerate(heat.participants):
            if not isinstance(team, str):
                continue
            place, value = 1, math.inf
            if isinstance(outcome, HeatOutcome):
                place = outcome.places[slot]
                if outcome.values is not None:
                    sign = 1.0 if outcome.direction == "lower" else -1.0
                    value = sign * outcome.values[slot]
            rows.append(((place, value, seed[team]), team, place, heat_index))
    rows.sort()
    return [(team, place, heat_index) for _, team, place, heat_index in rows]


def _qualifiers(ranking: Sequence[tuple[TeamId, int, int]], opts: HeatsOptions) -> list[TeamId]:
    if opts.advance_per_heat is None:
        return [team for team, _, _ in ranking[: opts.advance_total]]
    taken: dict[int, int] = {}
    chosen: list[TeamId] = []
    for team, _, heat_index in ranking:
        if taken.get(heat_index, 0) < opts.advance_per_heat:
            taken[heat_index] = taken.get(heat_index, 0) + 1
            chosen.append(team)
    return chosen


def _rounds(plan: Plan) -> dict[int, list[MatchId]]:
    rounds: dict[int, list[MatchId]] = {}
    for spec in plan.matches:
        rounds.setdefault(spec.round, []).append(spec.id)
    return rounds


def _qualifier_resolver(plan: Plan, opts: HeatsOptions) -> SourceResolver:
    rounds = _rounds(plan)
    seed = {team: index for index, team in enumerate(plan.teams)}
    cache: dict[int, list[TeamId] | None] = {}

    def qualifier(
        src: GroupRank | HeatQualifier, done: Mapping[MatchId, ResolvedMatch]
    ) -> Participant:
        if not isinstance(src, HeatQualifier):
            raise FormatError("invalid_plan", f"{src!r} has no meaning in this format")
        if src.round not in cache:
            heats = [done[m] for m in rounds.get(src.round, [])]
            settled = bool(heats) and all(h.settled for h in heats)
            cache[src.round] = _qualifiers(_ranking(heats, seed), opts) if settled else None
        chosen = cache[src.round]
        if chosen is None:
            return None
        return chosen[src.rank - 1] if src.rank <= len(chosen) else BYE

    return qualifier


def resolve(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], since: Increment | None = None
) -> Resolution:
    """Every heat's participants and state; later rounds fill in as earlier rounds finish."""
    opts = plan_options(plan, HeatsOptions)
    return resolve_plan(plan, outcomes, _qualifier_resolver(plan, opts), since=since)


def next_round(plan: Plan, outcomes: Mapping[MatchId, Outcome]) -> list[MatchSpec]:
    """The next round's heats once the current round is settled and rounds remain."""
    opts = plan_options(plan, HeatsOptions)
    rounds = _rounds(plan)
    current = max(rounds)
    if current >= opts.rounds:
        return []
    resolution = resolve(plan, outcomes)
    if not all(resolution[m].settled for m in rounds[current]):
        return []
    going = field_sizes(opts, len(plan.teams))[current]
    entrants = [HeatQualifier(round=current, rank=rank) for rank in range(1, going + 1)]
    return round_heats(current + 1, entrants, opts)


def placements(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, int]:
    """Final places as they become certain (see the module docstring for the order)."""
    opts = plan_options(plan, HeatsOptions)
    resolution = resolution or resolve(plan, outcomes)
    seed = {team: index for index, team in enumerate(plan.teams)}
    rounds = _rounds(plan)
    stages: list[Stage] = []
    for number in range(1, opts.rounds + 1):
        heats = [resolution[m] for m in rounds.get(number, [])]
        complete = bool(heats) and all(h.settled for h in heats)
        if not complete:
            stages.append(Stage([], False))
            continue
        ranking = _ranking(heats, seed)
        going = set(_qualifiers(ranking, opts)) if number < opts.rounds else set()
        by_place: dict[int, list[TeamId]] = {}
        for team, place, _ in ranking:
            if team not in going:
                by_place.setdefault(place, []).append(team)
        stages.extend(Stage(by_place[place], True) for place in sorted(by_place, reverse=True))
    # Earlier rounds were appended first, so the list is already worst first.
    return places_from_stages(stages, len(plan.teams))


def standings(
    plan: Plan,
    outcomes: Mapping[MatchId, Outcome],
    tiebreaks: Sequence[TiebreakName] | None = None,
    resolution: Resolution | None = None,
) -> tuple[StandingsTable, ...]:
    """Heats have no table."""
    del plan, outcomes, tiebreaks, resolution
    return ()


def outlook(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, PlaceRange]:
    """Where every team can still finish. Bands are (round, place in a heat), later rounds
    above earlier ones, as in :func:`placements`: a team still racing in a round goes out
    there at worst, on its place if its heat is run, else last of its heat."""
    opts = plan_options(plan, HeatsOptions)
    resolution = resolution or resolve(plan, outcomes)
    fields = field_sizes(opts, len(plan.teams))
    # The largest heat of each round (heats of a round differ by one team at most).
    widest = [math.ceil(field / math.ceil(field / opts.heat_size)) for field in fields]
    offsets = [sum(widest[:index]) for index in range(len(widest))]

    def band(number: int, place: int) -> int:
        width = widest[number - 1]
        return offsets[number - 1] + width - min(place, width)

    top = band(opts.rounds, 1)
    seed = {team: index for index, team in enumerate(plan.teams)}
    bands: dict[TeamId, Band] = {}
    for number, match_ids in sorted(_rounds(plan).items()):
        heats = [resolution[m] for m in match_ids]
        last = number == opts.rounds
        if all(h.settled for h in heats):
            ranking = _ranking(heats, seed)
            going = set() if last else set(_qualifiers(ranking, opts))
            for team, place, _ in ranking:
                if team in going:
                    bands[team] = (band(number + 1, widest[number]), top)
                else:
                    bands[team] = (band(number, place), band(number, place))
            continue
        for heat in heats:
            if heat.settled:
                for team, place, _ in _ranking([heat], seed):
                    bands[team] = (band(number, place), band(number, place) if last else top)
            else:
                for team in heat.teams:
                    bands[team] = (band(number, len(heat.participants)), top)
    return ranges_from_bands(bands, len(plan.teams))
