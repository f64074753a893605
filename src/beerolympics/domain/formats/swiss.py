"""Swiss: a fixed number of rounds, each pairing teams with similar scores who have not met.

Pairing is Dutch-style. Teams are ordered by match points, then seed; within a score group the
top half meets the bottom half (round 1: seed 1 meets seed n/2+1), and an odd team out floats
down to the next group. A depth-first search with backtracking (failed sub-problems memoised)
tries those preferred opponents first and falls back to other teams of the group, then to lower
groups, so nobody is ever left unpaired while a rematch-free pairing exists. Only if none exists
(or, for near-complete round robins played as Swiss, the search exceeds ``SEARCH_LIMIT``) are
rematches allowed, each team still preferring opponents it has not met.

A pairing is fixed once made: when an earlier result changes, the service withdraws the later
rounds (if none of their matches started) and this module pairs them again on the new scores.

With an odd count the bye goes to the lowest-ranked team that has not had one and whose removal
leaves a valid pairing; it is worth ``bye_points`` (a win by default).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from beerolympics.domain.formats.base import (
    BYE,
    FormatError,
    MatchId,
    MatchSpec,
    Outcome,
    Resolution,
    TeamId,
    TeamSlot,
)
from beerolympics.domain.formats.options import SwissOptions, TiebreakName, invalid, parse_options
from beerolympics.domain.formats.placement import (
    PlaceRange,
    ranges_from_places,
    ranges_from_points,
)
from beerolympics.domain.formats.plan import Plan, checked_teams, plan_options
from beerolympics.domain.formats.resolution import Increment, resolve_plan, team_slots
from beerolympics.domain.formats.standings import (
    Scoring,
    StandingsTable,
    compute_table,
    point_bounds,
)

NAME = "swiss"

Pairing = tuple[list[tuple[TeamId, TeamId]], TeamId | None]


def total_rounds(opts: SwissOptions, count: int) -> int:
    """The configured number of rounds, or ceil(log2 count)."""
    return opts.rounds if opts.rounds is not None else max(1, math.ceil(math.log2(count)))


SEARCH_LIMIT = 20_000
"""Sub-problems the rematch-free search may visit in one round before giving up. Realistic
tournaments need a few dozen; only near-complete round robins played as Swiss get close."""


def pair_round(
    ranked: Sequence[TeamId],
    score: Mapping[TeamId, float],
    met: set[frozenset[TeamId]],
    had_bye: set[TeamId],
) -> Pairing:
    """Pair ``ranked`` (best first) avoiding the pairs in ``met``; returns (pairs, bye team).

    When no rematch-free pairing exists (or the search limit is hit) rematches are allowed,
    each team still preferring opponents it has not met.
    """
    fresh = [team for team in ranked if team not in had_bye] or list(ranked)
    byes: list[TeamId | None] = list(reversed(fresh)) if len(ranked) % 2 else [None]
    search = _Search(score, met)
    for allow_rematch in (False, True):
        for bye in byes:
            try:
                pairs = search.pair([t for t in ranked if t != bye], allow_rematch)
            except _SearchLimit:
                break
            if pairs is not None:
                return pairs, bye
    # With rematches allowed the first choice always works, so this is never reached.
    raise FormatError("swiss_pairing_failed", "no pairing exists")


class _SearchLimit(Exception):
    pass


class _Search:
    """Depth-first pairing of the best unpaired team, memoising sub-problems that failed."""

    def __init__(self, score: Mapping[TeamId, float], met: set[frozenset[TeamId]]) -> None:
        self.score = score
        self.met = met
        self.visits = 0
        self.bit: dict[TeamId, int] = {}
        self.failed: set[int] = set()
        self.allow_rematch = False

    def pair(self, ranked: list[TeamId], allow_rematch: bool) -> list[tuple[TeamId, TeamId]] | None:
        self.bit = {team: 1 << index for index, team in enumerate(ranked)}
        self.failed = set()
        self.allow_rematch = allow_rematch
        return self._solve(ranked, (1 << len(ranked)) - 1)

    def _solve(self, remaining: list[TeamId], key: int) -> list[tuple[TeamId, TeamId]] | None:
        if not remaining:
            return []
        self.visits += 1
        if self.visits > SEARCH_LIMIT and not self.allow_rematch:
            raise _SearchLimit
        top, others = remaining[0], remaining[1:]
        preferred = _preferences(top, others, self.score)
        fresh = [o for o in preferred if frozenset((top, o)) not in self.met]
        if self.allow_rematch:
            fresh += [o for o in preferred if frozenset((top, o)) in self.met]
        for opponent in fresh:
            rest_key = key & ~self.bit[top] & ~self.bit[opponent]
            if rest_key in self.failed:
                continue
            rest = self._solve([t for t in others if t != opponent], rest_key)
            if rest is not None:
                return [(top, opponent), *rest]
            self.failed.add(rest_key)
        return None


def _preferences(
    top: TeamId, others: Sequence[TeamId], score: Mapping[TeamId, float]
) -> list[TeamId]:
    """Opponents for ``top`` (the best unpaired team), most preferred first.

    In its score group G (top included) the Dutch pairing is G[i] v G[i + len(G)//2]; from
    top's seat that is the first of the bottom half, then the rest of the bottom half, then
    the top half nearest first. Lower groups come after, in rank order (``top`` floats down).
    """
    group = [team for team in others if score[team] == score[top]]
    lower = [team for team in others if score[team] != score[top]]
    half = (len(group) + 1) // 2
    return group[half - 1 :] + group[: half - 1][::-1] + lower


def _round_matches(number: int, pairing: Pairing, opts: SwissOptions) -> list[MatchSpec]:
    pairs, bye = pairing
    specs = [
        MatchSpec(
            id=f"S{number}-{index}",
            round=number,
            label=f"Round {number}",
            section="swiss",
            slots=(TeamSlot(a), TeamSlot(b)),
            best_of=opts.best_of,
            allow_ties=opts.allow_draws,
        )
        for index, (a, b) in enumerate(pairs, start=1)
    ]
    if bye is not None:
        specs.append(
            MatchSpec(
                id=f"S{number}-{len(pairs) + 1}",
                round=number,
                label=f"Round {number}",
                section="swiss",
                slots=(TeamSlot(bye), BYE),
                best_of=opts.best_of,
            )
        )
    return specs


def build(
    teams: Sequence[TeamId],
    options: SwissOptions | Mapping[str, object] | None = None,
    rng: random.Random | None = None,
) -> Plan:
    """The plan with round 1 (top half of the seeds against the bottom half)."""
    del rng
    opts = parse_options(SwissOptions, options)
    seeded = checked_teams(teams)
    most = len(seeded) - 1 + len(seeded) % 2
    if total_rounds(opts, len(seeded)) > most:
        raise invalid("rounds", f"{len(seeded)} teams can play at most {most} rounds")
    score = dict.fromkeys(seeded, 0.0)
    first = _round_matches(1, pair_round(seeded, score, set(), set()), opts)
    return Plan(format=NAME, options=opts, teams=seeded, matches=tuple(first))


def resolve(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], since: Increment | None = None
) -> Resolution:
    """Every match's participants and state."""
    return resolve_plan(plan, outcomes, since=since)


def _scoring(opts: SwissOptions) -> Scoring:
    bye = opts.points_win if opts.bye_points is None else opts.bye_points
    return Scoring(opts.points_win, opts.points_draw, opts.points_loss, bye=bye)


def standings(
    plan: Plan,
    outcomes: Mapping[MatchId, Outcome],
    tiebreaks: Sequence[TiebreakName] | None = None,
    resolution: Resolution | None = None,
) -> tuple[StandingsTable, ...]:
    """The table; ``tiebreaks`` overrides the plan's order (Buchholz, median, Sonneborn-Berger)."""
    opts = plan_options(plan, SwissOptions)
    resolution = resolution or resolve(plan, outcomes)
    order = opts.tiebreaks if tiebreaks is None else tuple(tiebreaks)
    table = compute_table("", plan.teams, resolution.matches.values(), _scoring(opts), order)
    return (table,)


def next_round(plan: Plan, outcomes: Mapping[MatchId, Outcome]) -> list[MatchSpec]:
    """The next round's matches once the current round is settled and rounds remain."""
    opts = plan_options(plan, SwissOptions)
    current = max(spec.round for spec in plan.matches)
    if current >= total_rounds(opts, len(plan.teams)):
        return []
    resolution = resolve(plan, outcomes)
    if not all(resolution[s.id].settled for s in plan.matches if s.round == current):
        return []
    met: set[frozenset[TeamId]] = set()
    had_bye: set[TeamId] = set()
    for spec in plan.matches:
        teams = team_slots(spec)
        if len(teams) == 2:
            met.add(frozenset(teams))
        elif teams:
            had_bye.add(teams[0])
    table = compute_table("", plan.teams, resolution.matches.values(), _scoring(opts), ())
    score = {row.team: row.match_points for row in table.rows}
    seed = {team: index for index, team in enumerate(plan.teams)}
    ranked = sorted(plan.teams, key=lambda team: (-score[team], seed[team]))
    return _round_matches(current + 1, pair_round(ranked, score, met, had_bye), opts)


def placements(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, int]:
    """Final table ranks (shared where all tie-breaks fail), once the last round is played."""
    opts = plan_options(plan, SwissOptions)
    if max(spec.round for spec in plan.matches) < total_rounds(opts, len(plan.teams)):
        return {}
    resolution = resolution or resolve(plan, outcomes)
    if not resolution.complete:
        return {}
    (table,) = standings(plan, outcomes, resolution=resolution)
    return {row.team: row.rank for row in table.rows}


def outlook(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, PlaceRange]:
    """Where every team can still finish in the table: the points it has, and every round it
    has still to play won or lost (or a bye, with an odd number of teams)."""
    opts = plan_options(plan, SwissOptions)
    resolution = resolution or resolve(plan, outcomes)
    places = placements(plan, outcomes, resolution)
    if places:
        return ranges_from_places(places)
    scoring = _scoring(opts)
    results = [scoring.win, scoring.loss]
    if len(plan.teams) % 2:
        results.append(scoring.bye)
    rounds = total_rounds(opts, len(plan.teams))
    bounds = point_bounds(
        plan.teams,
        resolution,
        scoring,
        (min(results), max(results)),
        rounds=rounds,
    )
    return ranges_from_points(bounds)
