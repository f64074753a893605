"""Round robin: everyone plays everyone (twice with ``double``, home and away swapped).

Rounds come from the circle method, so nobody plays twice in a round; with an odd count one team
sits out each round, as an explicit bye match. Home/away is an orientation of the complete graph
chosen so each team's home and away counts differ by at most one.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from beerolympics.domain.formats.base import (
    BYE,
    MatchId,
    MatchSpec,
    Outcome,
    Resolution,
    TeamId,
    TeamSlot,
)
from beerolympics.domain.formats.options import RoundRobinOptions, TiebreakName, parse_options
from beerolympics.domain.formats.placement import (
    PlaceRange,
    ranges_from_places,
    ranges_from_points,
)
from beerolympics.domain.formats.plan import Plan, checked_teams, plan_options
from beerolympics.domain.formats.resolution import Increment, resolve_plan
from beerolympics.domain.formats.standings import (
    Scoring,
    StandingsTable,
    compute_table,
    point_bounds,
)

NAME = "round_robin"

Pairing = tuple[int, int | None]
"""(home, away) team indices; ``None`` away means the home team sits out."""


def schedule(count: int, *, double: bool = False) -> list[list[Pairing]]:
    """Rounds of (home, away) index pairs for ``count`` teams; sit-outs come last in a round."""
    seats: list[int | None] = list(range(count))
    if count % 2:
        seats.append(None)
    size = len(seats)
    rounds: list[list[Pairing]] = []
    for _ in range(size - 1):
        games: list[Pairing] = []
        sit_out: list[Pairing] = []
        for index in range(size // 2):
            a, b = seats[index], seats[size - 1 - index]
            if a is not None and b is not None:
                games.append(_oriented(a, b, count))
            elif a is not None:
                sit_out.append((a, None))
            elif b is not None:
                sit_out.append((b, None))
        rounds.append(games + sit_out)
        # The circle method: seat 0 stays, everyone else moves one seat clockwise.
        seats = [seats[0], seats[-1], *seats[1:-1]]
    if double:
        rounds += [[(b, a) if b is not None else (a, b) for a, b in games] for games in rounds]
    return rounds


def _oriented(a: int, b: int, count: int) -> tuple[int, int]:
    """Home first. Among an odd number of teams, each team hosts the next (count-1)/2 teams
    cyclically, which balances everyone exactly; with an even count the last team is added on
    top, hosting the odd-indexed teams, which leaves every team off by exactly one."""
    odd = count if count % 2 else count - 1
    if count % 2 == 0 and count - 1 in (a, b):
        other = a if b == count - 1 else b
        return (count - 1, other) if other % 2 else (other, count - 1)
    return (a, b) if 1 <= (b - a) % odd <= odd // 2 else (b, a)


def round_robin_matches(
    teams: Sequence[TeamId],
    *,
    double: bool,
    id_prefix: str,
    section: str,
    label_prefix: str,
    allow_ties: bool,
    best_of: int,
) -> list[MatchSpec]:
    """The match specs of a round robin among ``teams`` (ids ``{id_prefix}R{round}-{n}``)."""
    specs: list[MatchSpec] = []
    for number, games in enumerate(schedule(len(teams), double=double), start=1):
        for index, (home, away) in enumerate(games, start=1):
            specs.append(
                MatchSpec(
                    id=f"{id_prefix}R{number}-{index}",
                    round=number,
                    label=f"{label_prefix}{number}",
                    section=section,
                    slots=(
                        TeamSlot(teams[home]),
                        BYE if away is None else TeamSlot(teams[away]),
                    ),
                    best_of=best_of,
                    allow_ties=allow_ties,
                )
            )
    return specs


def build(
    teams: Sequence[TeamId],
    options: RoundRobinOptions | Mapping[str, object] | None = None,
    rng: random.Random | None = None,
) -> Plan:
    """A round robin among ``teams`` in seed order (``rng`` is not needed)."""
    del rng
    opts = parse_options(RoundRobinOptions, options)
    seeded = checked_teams(teams)
    matches = round_robin_matches(
        seeded,
        double=opts.double,
        id_prefix="",
        section="round_robin",
        label_prefix="Round ",
        allow_ties=opts.allow_draws,
        best_of=opts.best_of,
    )
    return Plan(format=NAME, options=opts, teams=seeded, matches=tuple(matches))


def resolve(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], since: Increment | None = None
) -> Resolution:
    """Every match's participants and state (all participants are known from the start)."""
    return resolve_plan(plan, outcomes, since=since)


def standings(
    plan: Plan,
    outcomes: Mapping[MatchId, Outcome],
    tiebreaks: Sequence[TiebreakName] | None = None,
    resolution: Resolution | None = None,
) -> tuple[StandingsTable, ...]:
    """The one league table; ``tiebreaks`` overrides the plan's tie-break order."""
    opts = plan_options(plan, RoundRobinOptions)
    resolution = resolution or resolve(plan, outcomes)
    scoring = Scoring(opts.points_win, opts.points_draw, opts.points_loss, bye=0.0)
    order = opts.tiebreaks if tiebreaks is None else tuple(tiebreaks)
    table = compute_table("", plan.teams, resolution.matches.values(), scoring, order)
    return (table,)


def placements(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, int]:
    """Final table ranks (shared where all tie-breaks fail), once every match is played."""
    resolution = resolution or resolve(plan, outcomes)
    if not resolution.complete:
        return {}
    (table,) = standings(plan, outcomes, resolution=resolution)
    return {row.team: row.rank for row in table.rows}


def outlook(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, PlaceRange]:
    """Where every team can still finish in the table, from the points it has and the
    matches it has left (won or lost)."""
    opts = plan_options(plan, RoundRobinOptions)
    resolution = resolution or resolve(plan, outcomes)
    if resolution.complete:
        return ranges_from_places(placements(plan, outcomes, resolution))
    scoring = Scoring(opts.points_win, opts.points_draw, opts.points_loss, bye=0.0)
    gains = (opts.points_loss, opts.points_win)
    bounds = point_bounds(plan.teams, resolution, scoring, gains)
    return ranges_from_points(bounds)


def next_round(plan: Plan, outcomes: Mapping[MatchId, Outcome]) -> list[MatchSpec]:
    """Always empty: the whole schedule is known up front."""
    del plan, outcomes
    return []
