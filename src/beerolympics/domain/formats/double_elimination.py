"""Double elimination: a team is out after its second loss.

The winners bracket is a single-elimination bracket (byes to the top seeds). Its losers drop
into the losers bracket, which alternates two kinds of rounds: a *minor* round where the losers
bracket survivors play each other, and a *major* round where they meet the teams just dropping
from the next winners round. The first winners round's losers meet in pairs; every later drop is
crossed (see :func:`drop_masks`) so that teams from the same part of the winners bracket do not
meet again straight away, as Challonge and start.gg do.

Grand final: ``none`` (the winners bracket champion wins, the losers bracket champion is second),
``single`` (one match), or ``reset`` (a second match ``GF2`` that exists only if the losers
bracket team wins ``GF1``: it carries a condition and resolves to *void* otherwise).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import msgspec

from beerolympics.domain.formats.base import (
    LoserOf,
    MatchId,
    MatchSpec,
    Outcome,
    Resolution,
    SlotWon,
    Source,
    TeamId,
    TeamSlot,
    WinnerOf,
)
from beerolympics.domain.formats.options import (
    DoubleEliminationOptions,
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
from beerolympics.domain.formats.resolution import Increment, per_plan, resolve_plan
from beerolympics.domain.formats.single_elimination import (
    bracket_matches,
    bracket_rounds,
    next_power_of_two,
    seeded,
)
from beerolympics.domain.formats.standings import StandingsTable

NAME = "double_elimination"


def drop_masks(rounds: int) -> list[int]:
    """For each winners round r (index r, 1-based), the XOR mask that crosses its losers.

    The loser of winners match j (0-based) of round r drops into major losers match
    ``j ^ masks[r]``. Reverse (all bits set) and swapped halves (top bit) are such masks, and so
    are the other orders Challonge and start.gg use. A dropping team meets a team it already beat
    when its drop lands next to that team's path; the mask for each round is chosen to minimise the
    expected number of such losers-bracket rematches (assuming even matches) given the masks
    already chosen, preferring reverse, then swapped halves, when that costs nothing. Winners
    round 1 losers pair up in order (mask 0): they cannot have met.
    """
    masks = [0, 0]
    for number in range(2, rounds + 1):
        bits = rounds - number
        full, top = (1 << bits) - 1, (1 << bits) >> 1
        preference = {full: 0, top: 1, full ^ top: 2}
        masks.append(
            min(
                range(1 << bits),
                key=lambda mask: (
                    _rematch_risk([*masks, mask], number, rounds),
                    preference.get(mask, 3 + mask),
                ),
            )
        )
    return masks


def _rematch_risk(masks: Sequence[int], number: int, rounds: int) -> float:
    """Expected rematches in the major losers round fed by winners round ``number`` and in the
    minor round after it. At that depth the losers matches fed by winners round s come from the
    aligned block ``index ^ (masks[s] >> (number - s))``; a team dropping from round ``number``
    meets a team it beat in round s exactly when the blocks coincide, and the chance is that of the
    beaten team having survived the losers bracket that far (every result a coin flip)."""
    matches = 1 << (rounds - number)
    risk = 0.0
    shifted = {s: masks[s] >> (number - s) for s in range(1, number + 1)}
    for s in range(1, number):
        if shifted[number] == shifted[s]:
            survived = 2 * (number - s) if s >= 2 else 2 * number - 3
            risk += matches * 2.0**-survived
    if number < rounds:
        # Neighbouring major matches meet in the minor round: blocks one apart (xor 1) clash.
        for s in range(2, number + 1):
            for t in range(1, s):
                if shifted[s] ^ shifted[t] == 1:
                    survived = 2 * (number - t) + 1 if t >= 2 else 2 * number - 2
                    risk += matches * 2.0 ** -(number - s + 1) * 2.0**-survived
    return risk


def double_elimination_matches(
    entrants: Sequence[Source], opts: DoubleEliminationOptions
) -> list[MatchSpec]:
    """Winners bracket, losers bracket and grand final for ``entrants`` in seed order."""
    final_best_of = opts.final_best_of or opts.best_of
    no_grand_final = opts.grand_final == "none"
    winners = bracket_matches(
        entrants,
        id_prefix="W",
        section="winners",
        best_of=opts.best_of,
        final_best_of=final_best_of if no_grand_final else opts.best_of,
    )
    size = next_power_of_two(len(entrants))
    rounds = size.bit_length() - 1
    specs = [_relabel(spec, rounds) for spec in winners]
    losers: list[MatchSpec] = []
    survivors: list[Source] = [LoserOf(f"W1-{index + 1}") for index in range(size // 2)]
    losers_rounds = 2 * (rounds - 1)
    masks = drop_masks(rounds)
    for number in range(1, losers_rounds + 1):
        if number % 2 == 1:
            pairs = [(survivors[2 * i], survivors[2 * i + 1]) for i in range(len(survivors) // 2)]
        else:
            winners_round = number // 2 + 1
            mask = masks[winners_round]
            pairs = [
                (survivors[i], LoserOf(f"W{winners_round}-{(i ^ mask) + 1}"))
                for i in range(len(survivors))
            ]
        last = number == losers_rounds
        label = "Losers final" if last else f"Losers round {number}"
        current: list[Source] = []
        for index, slots in enumerate(pairs, start=1):
            match_id = f"L{number}-{index}"
            current.append(WinnerOf(match_id))
            losers.append(
                MatchSpec(
                    id=match_id,
                    round=number,
                    label=label,
                    section="losers",
                    slots=slots,
                    best_of=final_best_of if last and no_grand_final else opts.best_of,
                )
            )
        survivors = current
    # Losers round 2k draws on winners round k+1, so interleave to keep dependency order.
    specs = _interleave(specs, losers)
    if no_grand_final:
        return specs
    # With two teams there is no losers bracket: the loser of the only match is its champion.
    finalists = (WinnerOf(f"W{rounds}-1"), survivors[0])
    specs.append(
        MatchSpec(
            id="GF1",
            round=1,
            label="Grand final",
            section="grand_final",
            slots=finalists,
            best_of=final_best_of,
        )
    )
    if opts.grand_final == "reset":
        specs.append(
            MatchSpec(
                id="GF2",
                round=2,
                label="Grand final reset",
                section="grand_final",
                slots=finalists,
                best_of=final_best_of,
                condition=SlotWon(match="GF1", slot=1),
            )
        )
    return specs


def _relabel(spec: MatchSpec, rounds: int) -> MatchSpec:
    label = "Winners final" if spec.round == rounds else f"Winners round {spec.round}"
    return msgspec.structs.replace(spec, label=label)


def _interleave(winners: list[MatchSpec], losers: list[MatchSpec]) -> list[MatchSpec]:
    """Each losers round right after the winners round it last depends on (W1 L1 W2 L2 L3 W3...)."""
    ordered: list[MatchSpec] = []
    for number in range(1, max((s.round for s in winners), default=0) + 1):
        ordered.extend(s for s in winners if s.round == number)
        ordered.extend(s for s in losers if _needs_winners_round(s.round) == number)
    return ordered


def _needs_winners_round(losers_round: int) -> int:
    # Major round 2(r-1) takes winners round r's losers; a minor round follows its major round.
    return 1 if losers_round == 1 else losers_round // 2 + 1


def build(
    teams: Sequence[TeamId],
    options: DoubleEliminationOptions | Mapping[str, object] | None = None,
    rng: random.Random | None = None,
) -> Plan:
    """A double-elimination bracket; ``rng`` is needed only for random seeding."""
    opts = parse_options(DoubleEliminationOptions, options)
    order = seeded(checked_teams(teams), opts.seeding, rng)
    matches = double_elimination_matches([TeamSlot(team) for team in order], opts)
    return Plan(format=NAME, options=opts, teams=order, matches=tuple(matches))


def resolve(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], since: Increment | None = None
) -> Resolution:
    """Every match's participants and state (``GF2`` is void unless the reset is needed)."""
    return resolve_plan(plan, outcomes, since=since)


def placements(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, int]:
    """Final places as they become certain.

    Losers of the same losers-bracket round share a place (3rd for the losers final, 4th for
    the round before, then 5-6, 7-8, 9-12...). A team that double-forfeits in the winners
    bracket goes out with the losers round it would have dropped into.
    """
    opts = plan_options(plan, DoubleEliminationOptions)
    resolution = resolution or resolve(plan, outcomes)
    winners = bracket_rounds(plan, "winners")
    losers = bracket_rounds(plan, "losers")
    dropped: dict[int, list[MatchId]] = {}
    for number, match_ids in enumerate(winners, start=1):
        # Winners round r feeds losers round 2(r-1) (round 1 feeds losers round 1).
        target = 1 if number == 1 else 2 * (number - 1)
        dropped.setdefault(min(target, len(losers)), []).extend(match_ids)
    stages: list[Stage] = []
    for number in range(0, len(losers) + 1):
        feeders = [resolution[m] for m in dropped.get(number, [])]
        matches = [resolution[m] for m in losers[number - 1]] if number else []
        out = [t for m in feeders if len(m.losers) == 2 for t in m.losers]
        out += [t for m in matches for t in m.losers]
        complete = all(m.settled for m in feeders) and all(m.settled for m in matches)
        if number or out or not complete:
            stages.append(Stage(out, complete))
    stages.extend(_final_stages(resolution, opts, winners, losers))
    return places_from_stages(stages, len(plan.teams))


def _final_stages(
    resolution: Resolution,
    opts: DoubleEliminationOptions,
    winners: Sequence[Sequence[MatchId]],
    losers: Sequence[Sequence[MatchId]],
) -> list[Stage]:
    if opts.grand_final == "none":
        top = resolution[winners[-1][0]]
        if losers:
            second = resolution[losers[-1][0]]
            runner_up = [second.winner] if second.winner else []
            runner_up_settled = second.settled
        else:
            runner_up, runner_up_settled = list(top.losers), top.settled
        return [
            Stage(runner_up, runner_up_settled),
            Stage([top.winner] if top.winner else [], top.settled),
        ]
    decider = resolution["GF1"]
    if opts.grand_final == "reset" and resolution["GF2"].state != "void":
        decider = resolution["GF2"]
    return [
        Stage(decider.losers, decider.settled),
        Stage([decider.winner] if decider.winner else [], decider.settled),
    ]


@per_plan
def _bands(plan: Plan) -> dict[MatchId, MatchBands]:
    """Bands in the order of :func:`placements`' stages: out in losers round k (band k; band 0
    only for a double forfeit where there is no losers bracket), runner-up, champion."""
    opts = plan_options(plan, DoubleEliminationOptions)
    winners = bracket_rounds(plan, "winners")
    losers = len(bracket_rounds(plan, "losers"))
    runner_up, top = losers + 1, losers + 2
    final = opts.grand_final != "none"
    found: dict[MatchId, MatchBands] = {}
    for spec in plan.matches:
        if spec.section == "winners":
            # A loser drops into the losers bracket and, at worst, goes out in that round.
            drop = min(1 if spec.round == 1 else 2 * (spec.round - 1), losers)
            last = spec.round == len(winners)
            loser = runner_up if not final and last and not losers else None
            winner = top if not final and last else None
            found[spec.id] = MatchBands(drop, top, loser, winner, drop)
        elif spec.section == "losers":
            winner = runner_up if not final and spec.round == losers else None
            ceiling = top if final else runner_up
            found[spec.id] = MatchBands(spec.round, ceiling, spec.round, winner, spec.round)
        else:
            found[spec.id] = MatchBands(runner_up, top, runner_up, top, runner_up)
    return found


def outlook(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, PlaceRange]:
    """Where every team can still finish: at worst out in the losers round it is in or would
    drop into; from the losers bracket, champion only where there is a grand final."""
    resolution = resolution or resolve(plan, outcomes)
    return ranges_from_bands(bands_from_matches(resolution, _bands(plan)), len(plan.teams))


def standings(
    plan: Plan,
    outcomes: Mapping[MatchId, Outcome],
    tiebreaks: Sequence[TiebreakName] | None = None,
    resolution: Resolution | None = None,
) -> tuple[StandingsTable, ...]:
    """A bracket has no table."""
    del plan, outcomes, tiebreaks, resolution
    return ()


def next_round(plan: Plan, outcomes: Mapping[MatchId, Outcome]) -> list[MatchSpec]:
    """Always empty: the whole bracket is known up front."""
    del plan, outcomes
    return []
