"""A game's plan: its format, options, seeded teams and every match known so far."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import msgspec

from beerolympics.domain.formats.base import FormatError, MatchSpec, TeamId
from beerolympics.domain.formats.options import FormatOptions


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """What ``build`` produced, plus what ``next_round`` added since.

    ``teams`` is the seed order actually used (after random seeding). Matches are in dependency
    order: a match only refers to matches listed before it, which lets ``resolve`` work in one pass.
    """

    format: str
    options: FormatOptions
    teams: tuple[TeamId, ...]
    matches: tuple[MatchSpec, ...]

    def extended(self, matches: Sequence[MatchSpec]) -> Plan:
        """This plan with ``matches`` (from ``next_round``) appended."""
        return msgspec.structs.replace(self, matches=self.matches + tuple(matches))


OptionsT = TypeVar("OptionsT", bound=msgspec.Struct)


def checked_teams(teams: Sequence[TeamId], minimum: int = 2) -> tuple[TeamId, ...]:
    """``teams`` as a tuple after refusing too few, empty or duplicate ids."""
    result = tuple(teams)
    if len(result) < minimum:
        raise FormatError(
            "not_enough_teams", f"this format needs at least {minimum} teams, got {len(result)}"
        )
    if any(not isinstance(team, str) or not team for team in result):
        raise FormatError("invalid_team_id", "team ids must be non-empty strings")
    if len(set(result)) != len(result):
        raise FormatError("duplicate_team", "a team may only be entered once")
    return result


def plan_options(plan: Plan, options_type: type[OptionsT]) -> OptionsT:
    """The plan's options, refusing a plan built by another format."""
    if not isinstance(plan.options, options_type):
        raise FormatError(
            "invalid_plan", f"plan options are not {options_type.__name__} ({plan.format})"
        )
    return plan.options
