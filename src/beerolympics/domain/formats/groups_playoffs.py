"""Groups then playoffs: round-robin groups, the top ``advance_per_group`` of each into a knockout.

Groups are filled by snake seeding with balanced sizes (14 teams in 4 groups: 4-4-3-3; a group
that is full is skipped). Playoff slots are :class:`GroupRank` sources, resolved once a group has
finished. Group tables rank by match points, then the configured tie-breaks, then - last, so that
advancement is always decided - the initial seed; the group tables shown by ``standings`` use the
same order. Group winners take the top playoff seeds; each further tier is placed seat by seat
where it keeps its group-mates away for the longest (winners meet runners-up of other groups:
A1-B2, B1-A2 with two groups, A1-B2, D1-C2, B1-A2, C1-D2 with four).

Placements: the playoff decides the top places; the others follow by group rank (all third-placed
teams share a place, then all fourth-placed...).
"""

from __future__ import annotations

import operator
import random
from collections.abc import Mapping, Sequence
from string import ascii_uppercase
from typing import NamedTuple

from beerolympics.domain.formats.base import (
    BYE,
    FormatError,
    GroupRank,
    HeatQualifier,
    MatchId,
    MatchSpec,
    Outcome,
    Participant,
    Resolution,
    ResolvedMatch,
    TeamId,
)
from beerolympics.domain.formats.options import (
    GroupsPlayoffsOptions,
    TiebreakName,
    invalid,
    parse_options,
)
from beerolympics.domain.formats.placement import (
    Band,
    MatchBands,
    PlaceRange,
    Stage,
    bands_from_matches,
    places_from_stages,
    ranges_from_bands,
    ranges_from_points,
)
from beerolympics.domain.formats.plan import Plan, checked_teams, plan_options
from beerolympics.domain.formats.resolution import (
    Increment,
    SourceResolver,
    per_plan,
    resolve_plan,
    team_slots,
)
from beerolympics.domain.formats.round_robin import round_robin_matches
from beerolympics.domain.formats.single_elimination import (
    bracket_matches,
    bracket_order,
    bracket_rounds,
    elimination_stages,
    knockout_bands,
    next_power_of_two,
    third_place_id,
)
from beerolympics.domain.formats.standings import Scoring, StandingsTable, compute_table

NAME = "groups_playoffs"


def snake_groups(teams: Sequence[TeamId], groups: int) -> list[list[TeamId]]:
    """Split seeded ``teams`` into ``groups`` balanced groups by snake seeding.

    The first ``len(teams) % groups`` groups get the extra team; a full group is skipped, so
    14 teams in 4 groups are A: 1 8 9 14, B: 2 7 10 13, C: 3 6 11, D: 4 5 12.
    """
    base, extra = divmod(len(teams), groups)
    capacity = [base + (1 if index < extra else 0) for index in range(groups)]
    members: list[list[TeamId]] = [[] for _ in range(groups)]
    remaining = list(teams)
    forward = True
    while remaining:
        row = range(groups) if forward else range(groups - 1, -1, -1)
        for group in row:
            if remaining and len(members[group]) < capacity[group]:
                members[group].append(remaining.pop(0))
        forward = not forward
    return members


def playoff_entrants(names: Sequence[str], advance: int) -> list[GroupRank]:
    """Playoff seeds as group ranks: winners first, then each tier seated to keep mates apart.

    Seats are filled in seed order. A candidate group scores by the earliest round in which its
    team could meet a group-mate already seated (later is better); ties go to the group paired
    with the seat's first-round opponent's group (A with B, C with D...), then to group order.
    """
    size = next_power_of_two(len(names) * advance)
    leaf = {seed: index for index, seed in enumerate(bracket_order(size))}
    seated: list[list[int]] = [[] for _ in names]
    group_at: dict[int, int] = {}
    entrants: list[GroupRank] = []
    for rank in range(1, advance + 1):
        remaining = list(range(len(names)))
        while remaining:
            position = leaf[len(entrants) + 1]
            opponent = group_at.get(position ^ 1)
            _, chosen = min(
                (_seat_score(group, position, opponent, seated[group]), group)
                for group in remaining
            )
            remaining.remove(chosen)
            seated[chosen].append(position)
            group_at[position] = chosen
            entrants.append(GroupRank(group=names[chosen], rank=rank))
    return entrants


def _seat_score(
    group: int, position: int, opponent: int | None, mates: Sequence[int]
) -> tuple[int, int]:
    # Leaves a and b of a bracket can first meet in round (a ^ b).bit_length().
    meets = min(((position ^ mate).bit_length() for mate in mates), default=64)
    partner = 0 if opponent is None else abs(group - (opponent ^ 1))
    return -meets, partner


def build(
    teams: Sequence[TeamId],
    options: GroupsPlayoffsOptions | Mapping[str, object] | None = None,
    rng: random.Random | None = None,
) -> Plan:
    """Group matches for every group (round by round), then the playoff bracket."""
    del rng
    opts = parse_options(GroupsPlayoffsOptions, options)
    seeded = checked_teams(teams, minimum=2 * opts.groups)
    groups = snake_groups(seeded, opts.groups)
    smallest = min(len(g) for g in groups)
    if opts.advance_per_group > smallest:
        raise invalid(
            "advance_per_group", f"at most {smallest}: the smallest group has {smallest} teams"
        )
    names = ascii_uppercase[: opts.groups]
    per_group = [
        round_robin_matches(
            members,
            double=opts.double_round_robin,
            id_prefix=f"{name}-",
            section=f"group:{name}",
            label_prefix=f"Group {name} round ",
            allow_ties=opts.allow_draws,
            best_of=opts.best_of,
        )
        for name, members in zip(names, groups, strict=True)
    ]
    # Round by round across groups, so the plan order is also a sensible playing order.
    group_matches = sorted((m for ms in per_group for m in ms), key=lambda m: m.round)
    playoff = bracket_matches(
        playoff_entrants(names, opts.advance_per_group),
        id_prefix="P",
        section="playoff",
        best_of=opts.best_of,
        final_best_of=opts.final_best_of or opts.best_of,
        third_place_id="P-3P" if opts.third_place else None,
    )
    return Plan(format=NAME, options=opts, teams=seeded, matches=tuple(group_matches + playoff))


class Group(NamedTuple):
    members: tuple[TeamId, ...]  # in seed order
    matches: tuple[MatchId, ...]


@per_plan
def plan_groups(plan: Plan) -> dict[str, Group]:
    """Each group's teams and matches, read back from the group matches (once per plan)."""
    seed = {team: index for index, team in enumerate(plan.teams)}
    members: dict[str, set[TeamId]] = {}
    matches: dict[str, list[MatchId]] = {}
    for spec in plan.matches:
        if spec.section.startswith("group:"):
            name = spec.section[6:]
            members.setdefault(name, set()).update(team_slots(spec))
            matches.setdefault(name, []).append(spec.id)
    return {
        name: Group(tuple(sorted(teams, key=seed.__getitem__)), tuple(matches[name]))
        for name, teams in sorted(members.items())
    }


@per_plan
def _scheduled(plan: Plan) -> dict[TeamId, int]:
    """How many group matches (byes included) each team has."""
    count: dict[TeamId, int] = {}
    for spec in plan.matches:
        if spec.section.startswith("group:"):
            for team in team_slots(spec):
                count[team] = count.get(team, 0) + 1
    return count


def _tables(
    plan: Plan,
    opts: GroupsPlayoffsOptions,
    done: Mapping[MatchId, ResolvedMatch],
    order: Sequence[TiebreakName],
) -> dict[str, StandingsTable]:
    scoring = Scoring(opts.points_win, opts.points_draw, opts.points_loss, bye=0.0)
    return {
        name: _table(
            name, group.members, tuple([done[m] for m in group.matches]), scoring, tuple(order)
        )
        for name, group in plan_groups(plan).items()
    }


#: The last table of each group, with the resolved matches it was ranked from. A resolution
#: makes a new object for every match it resolves again and keeps the others, so a group whose
#: results did not change has the very same objects: comparing them by identity is cheaper than
#: hashing them, and the group is not ranked again when another group's result comes in.
_last_tables: dict[tuple[object, ...], tuple[tuple[ResolvedMatch, ...], StandingsTable]] = {}


def _table(
    name: str,
    members: tuple[TeamId, ...],
    matches: tuple[ResolvedMatch, ...],
    scoring: Scoring,
    order: tuple[TiebreakName, ...],
) -> StandingsTable:
    key = (name, members, scoring, order)
    last = _last_tables.get(key)
    if last is not None and all(map(operator.is_, last[0], matches)):
        return last[1]
    table = compute_table(name, members, matches, scoring, order, seed_fallback=True)
    if len(_last_tables) >= 4096:
        _last_tables.clear()
    _last_tables[key] = (matches, table)
    return table


def _rank_resolver(plan: Plan, opts: GroupsPlayoffsOptions) -> SourceResolver:
    # Only the groups a playoff slot reads are ranked, each once per resolution: a result in
    # one group re-resolves the slots of that group alone.
    tables: dict[str, StandingsTable] = {}
    scoring = Scoring(opts.points_win, opts.points_draw, opts.points_loss, bye=0.0)
    order = tuple(opts.tiebreaks)

    def group_rank(
        src: GroupRank | HeatQualifier, done: Mapping[MatchId, ResolvedMatch]
    ) -> Participant:
        if not isinstance(src, GroupRank):
            raise FormatError("invalid_plan", f"{src!r} has no meaning in this format")
        table = tables.get(src.group)
        if table is None:
            group = plan_groups(plan).get(src.group)
            if group is None:
                raise FormatError("invalid_plan", f"there is no group {src.group}")
            matches = tuple([done[m] for m in group.matches])
            table = tables[src.group] = _table(src.group, group.members, matches, scoring, order)
        if not table.complete:
            return None
        return table.rows[src.rank - 1].team if src.rank <= len(table.rows) else BYE

    return group_rank


def resolve(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], since: Increment | None = None
) -> Resolution:
    """Every match's participants and state; playoff slots fill in as groups finish."""
    opts = plan_options(plan, GroupsPlayoffsOptions)
    return resolve_plan(plan, outcomes, _rank_resolver(plan, opts), since=since)


def standings(
    plan: Plan,
    outcomes: Mapping[MatchId, Outcome],
    tiebreaks: Sequence[TiebreakName] | None = None,
    resolution: Resolution | None = None,
) -> tuple[StandingsTable, ...]:
    """One table per group (ranks end with the seed, so they are never shared)."""
    opts = plan_options(plan, GroupsPlayoffsOptions)
    resolution = resolution or resolve(plan, outcomes)
    order = opts.tiebreaks if tiebreaks is None else tuple(tiebreaks)
    return tuple(_tables(plan, opts, resolution.matches, order).values())


def placements(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, int]:
    """Playoff places first, then the rest by group rank (equal group ranks share a place)."""
    opts = plan_options(plan, GroupsPlayoffsOptions)
    resolution = resolution or resolve(plan, outcomes)
    tables = _tables(plan, opts, resolution.matches, opts.tiebreaks).values()
    complete = all(t.complete for t in tables)
    stages = []
    for rank in range(max(len(t.rows) for t in tables), opts.advance_per_group, -1):
        members = [t.rows[rank - 1].team for t in tables if len(t.rows) >= rank]
        stages.append(Stage(members if complete else [], complete))
    stages += elimination_stages(resolution, bracket_rounds(plan, "playoff"), third_place_id(plan))
    return places_from_stages(stages, len(plan.teams))


def outlook(
    plan: Plan, outcomes: Mapping[MatchId, Outcome], resolution: Resolution | None = None
) -> dict[TeamId, PlaceRange]:
    """Where every team can still finish. In a group a team can still end on any group rank
    its points allow (see :func:`~placement.ranges_from_points`); a rank that goes through
    reaches the playoff, whose rounds rank above every group rank that does not."""
    opts = plan_options(plan, GroupsPlayoffsOptions)
    resolution = resolution or resolve(plan, outcomes)
    deepest, knockout = _playoff_bands(plan)
    playoff = deepest - opts.advance_per_group  # the playoff's lowest band; below, group ranks
    top = max(where.ceiling for where in knockout.values())

    def band(rank: int, qualified: int) -> int:
        return deepest - rank if rank > opts.advance_per_group else qualified

    bands: dict[TeamId, Band] = {}
    for table in _tables(plan, opts, resolution.matches, opts.tiebreaks).values():
        for team, ranked in _group_ranks(table, _scheduled(plan), opts).items():
            bands[team] = (band(ranked.worst, playoff), band(ranked.best, top))
    bands.update(bands_from_matches(resolution, knockout))
    return ranges_from_bands(bands, len(plan.teams))


@per_plan
def _playoff_bands(plan: Plan) -> tuple[int, dict[MatchId, MatchBands]]:
    """The size of the largest group, and the playoff's bands above its group ranks."""
    opts = plan_options(plan, GroupsPlayoffsOptions)
    deepest = max(len(group.members) for group in plan_groups(plan).values())
    return deepest, knockout_bands(plan, "playoff", offset=deepest - opts.advance_per_group)


#: The group ranks each team can still end on, per group table (kept with it, compared by
#: identity: a group whose results did not change has the very same table, see ``_table``).
_last_ranks: dict[int, tuple[StandingsTable, dict[TeamId, PlaceRange]]] = {}


def _group_ranks(
    table: StandingsTable, scheduled: Mapping[TeamId, int], opts: GroupsPlayoffsOptions
) -> dict[TeamId, PlaceRange]:
    last = _last_ranks.get(id(table))
    if last is not None and last[0] is table:
        return last[1]
    if table.complete:
        ranks = {row.team: PlaceRange(row.rank, row.rank) for row in table.rows}
    else:
        bounds = {}
        for row in table.rows:
            left = scheduled[row.team] - row.played - row.byes
            most = row.match_points + left * opts.points_win
            bounds[row.team] = (row.match_points + left * opts.points_loss, most)
        ranks = ranges_from_points(bounds)
    if len(_last_ranks) >= 4096:
        _last_ranks.clear()
    _last_ranks[id(table)] = (table, ranks)
    return ranks


def next_round(plan: Plan, outcomes: Mapping[MatchId, Outcome]) -> list[MatchSpec]:
    """Always empty: groups and playoff are known up front."""
    del plan, outcomes
    return []
