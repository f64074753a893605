"""The format registry: one :class:`Format` per name, and entry points that dispatch on a plan.

The service only needs this module: ``build`` a plan by format name, then ``resolve``,
``placements``, ``standings`` and ``next_round`` look the format up from ``plan.format``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import msgspec

from beerolympics.domain.formats import (
    double_elimination,
    groups_playoffs,
    heats,
    round_robin,
    single_elimination,
    swiss,
)
from beerolympics.domain.formats.base import (
    FormatError,
    MatchId,
    MatchSpec,
    Outcome,
    Resolution,
    TeamId,
)
from beerolympics.domain.formats.options import (
    DoubleEliminationOptions,
    FormatOptions,
    GroupsPlayoffsOptions,
    HeatsOptions,
    RoundRobinOptions,
    SingleEliminationOptions,
    SwissOptions,
    TiebreakName,
    parse_options,
)
from beerolympics.domain.formats.placement import PlaceRange
from beerolympics.domain.formats.plan import Plan
from beerolympics.domain.formats.resolution import Increment
from beerolympics.domain.formats.standings import StandingsTable

Outcomes = Mapping[MatchId, Outcome]
RawOptions = FormatOptions | Mapping[str, object] | None


class Format(Protocol):
    """A tournament format: pure functions from teams, options and outcomes to plans and results."""

    @property
    def name(self) -> str:
        """The registry key, also stored as ``Plan.format``."""
        ...

    def parse_options(self, raw: RawOptions) -> FormatOptions:
        """Validated options from JSON-like data (``FormatError`` names the bad key)."""
        ...

    def build(
        self, teams: Sequence[TeamId], options: RawOptions = None, rng: random.Random | None = None
    ) -> Plan:
        """The plan for ``teams`` in seed order; ``rng`` only for random seeding."""
        ...

    def resolve(self, plan: Plan, outcomes: Outcomes, since: Increment | None = None) -> Resolution:
        """Participants and state of every match (from ``since`` on, when given)."""
        ...

    def placements(
        self, plan: Plan, outcomes: Outcomes, resolution: Resolution | None = None
    ) -> dict[TeamId, int]:
        """Final places of the teams whose place is already certain.

        ``resolution``, when the caller has it, must be ``resolve(plan, outcomes)``; it saves
        resolving again.
        """
        ...

    def outlook(
        self, plan: Plan, outcomes: Outcomes, resolution: Resolution | None = None
    ) -> dict[TeamId, PlaceRange]:
        """For every team, the best place it can still get and the lowest position it can
        still end on; both narrow as results come in, and meet its place once it is certain.
        """
        ...

    def standings(
        self,
        plan: Plan,
        outcomes: Outcomes,
        tiebreaks: Sequence[TiebreakName] | None = None,
        resolution: Resolution | None = None,
    ) -> tuple[StandingsTable, ...]:
        """League tables (none for brackets and heats, one per group for groups)."""
        ...

    def next_round(self, plan: Plan, outcomes: Outcomes) -> list[MatchSpec]:
        """Matches to append once the current round is complete (empty when nothing is due)."""
        ...


@dataclass(frozen=True, slots=True)
class FormatDefinition:
    """A :class:`Format` made of one format module's functions."""

    name: str
    options_type: type[msgspec.Struct]
    build_plan: Callable[[Sequence[TeamId], Any, random.Random | None], Plan]
    resolve_plan: Callable[[Plan, Outcomes, Increment | None], Resolution]
    placements_of: Callable[[Plan, Outcomes, Resolution | None], dict[TeamId, int]]
    outlook_of: Callable[[Plan, Outcomes, Resolution | None], dict[TeamId, PlaceRange]]
    standings_of: Callable[
        [Plan, Outcomes, Sequence[TiebreakName] | None, Resolution | None],
        tuple[StandingsTable, ...],
    ]
    next_round_of: Callable[[Plan, Outcomes], list[MatchSpec]]

    def parse_options(self, raw: RawOptions) -> FormatOptions:
        """Validated options from JSON-like data (``FormatError`` names the bad key)."""
        options: FormatOptions = parse_options(self.options_type, raw)  # type: ignore[assignment]
        return options

    def build(
        self, teams: Sequence[TeamId], options: RawOptions = None, rng: random.Random | None = None
    ) -> Plan:
        """The plan for ``teams`` in seed order; ``rng`` only for random seeding."""
        return self.build_plan(teams, self.parse_options(options), rng)

    def resolve(self, plan: Plan, outcomes: Outcomes, since: Increment | None = None) -> Resolution:
        """Participants and state of every match (from ``since`` on, when given)."""
        return self.resolve_plan(plan, outcomes, since)

    def placements(
        self, plan: Plan, outcomes: Outcomes, resolution: Resolution | None = None
    ) -> dict[TeamId, int]:
        """Final places of the teams whose place is already certain."""
        return self.placements_of(plan, outcomes, resolution)

    def outlook(
        self, plan: Plan, outcomes: Outcomes, resolution: Resolution | None = None
    ) -> dict[TeamId, PlaceRange]:
        """The best place and the lowest position every team can still end on."""
        return self.outlook_of(plan, outcomes, resolution)

    def standings(
        self,
        plan: Plan,
        outcomes: Outcomes,
        tiebreaks: Sequence[TiebreakName] | None = None,
        resolution: Resolution | None = None,
    ) -> tuple[StandingsTable, ...]:
        """League tables (none for brackets and heats, one per group for groups)."""
        return self.standings_of(plan, outcomes, tiebreaks, resolution)

    def next_round(self, plan: Plan, outcomes: Outcomes) -> list[MatchSpec]:
        """Matches to append once the current round is complete (empty when nothing is due)."""
        return self.next_round_of(plan, outcomes)


def _define(module: Any, options_type: type[msgspec.Struct]) -> FormatDefinition:
    return FormatDefinition(
        name=module.NAME,
        options_type=options_type,
        build_plan=module.build,
        resolve_plan=module.resolve,
        placements_of=module.placements,
        outlook_of=module.outlook,
        standings_of=module.standings,
        next_round_of=module.next_round,
    )


FORMATS: Mapping[str, Format] = MappingProxyType(
    {
        definition.name: definition
        for definition in (
            _define(round_robin, RoundRobinOptions),
            _define(single_elimination, SingleEliminationOptions),
            _define(double_elimination, DoubleEliminationOptions),
            _define(swiss, SwissOptions),
            _define(groups_playoffs, GroupsPlayoffsOptions),
            _define(heats, HeatsOptions),
        )
    }
)


def get_format(name: str) -> Format:
    """The format called ``name`` (``FormatError`` ``unknown_format`` otherwise)."""
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise FormatError("unknown_format", f"unknown format {name!r} (known: {known})") from None


def build(
    format_name: str,
    teams: Sequence[TeamId],
    options: RawOptions = None,
    rng: random.Random | None = None,
) -> Plan:
    """Build a plan with the format called ``format_name``."""
    return get_format(format_name).build(teams, options, rng)


def resolve(plan: Plan, outcomes: Outcomes, since: Increment | None = None) -> Resolution:
    """Resolve ``plan`` with its own format; ``since`` resolves only what can have changed."""
    return get_format(plan.format).resolve(plan, outcomes, since)


def placements(
    plan: Plan, outcomes: Outcomes, resolution: Resolution | None = None
) -> dict[TeamId, int]:
    """Certain final placements of ``plan``'s teams (pass ``resolution`` if you have it)."""
    return get_format(plan.format).placements(plan, outcomes, resolution)


def outlook(
    plan: Plan, outcomes: Outcomes, resolution: Resolution | None = None
) -> dict[TeamId, PlaceRange]:
    """Where each of ``plan``'s teams can still finish (pass ``resolution`` if you have it)."""
    return get_format(plan.format).outlook(plan, outcomes, resolution)


def standings(
    plan: Plan,
    outcomes: Outcomes,
    tiebreaks: Sequence[TiebreakName] | None = None,
    resolution: Resolution | None = None,
) -> tuple[StandingsTable, ...]:
    """``plan``'s league tables (pass ``resolution`` if you have it)."""
    return get_format(plan.format).standings(plan, outcomes, tiebreaks, resolution)


def next_round(plan: Plan, outcomes: Outcomes) -> list[MatchSpec]:
    """The matches to append to ``plan`` now (often none)."""
    return get_format(plan.format).next_round(plan, outcomes)
