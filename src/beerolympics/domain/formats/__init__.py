"""The pure tournament-format engine: plans, resolution, placements, standings, next rounds.

Plain synchronous Python with no I/O, clocks or global randomness. Every type that ends up in an
event (plans, match specs, outcomes, options) is a frozen ``msgspec.Struct``.

Typical use::

    plan = build("double_elimination", teams, {"grand_final": "reset"}, random.Random(seed))
    resolution = resolve(plan, outcomes)          # who plays where, what is ready
    places = placements(plan, outcomes)           # final places known so far
    plan = plan.extended(next_round(plan, outcomes))  # Swiss and heats grow round by round
"""

from beerolympics.domain.formats.base import (
    BYE,
    ByeSlot,
    Condition,
    FormatError,
    GroupRank,
    HeadToHeadOutcome,
    HeatOutcome,
    HeatQualifier,
    LoserOf,
    MatchChange,
    MatchId,
    MatchKind,
    MatchSpec,
    MatchState,
    Outcome,
    Participant,
    Resolution,
    ResolvedMatch,
    SlotWon,
    Source,
    TeamId,
    TeamSlot,
    WinnerOf,
    double_forfeit,
    forfeit,
    tie,
    win,
)
from beerolympics.domain.formats.heats import places_from_values
from beerolympics.domain.formats.options import (
    DoubleEliminationOptions,
    FormatOptions,
    GroupsPlayoffsOptions,
    HeatsOptions,
    RoundRobinOptions,
    SingleEliminationOptions,
    SwissOptions,
    TiebreakName,
)
from beerolympics.domain.formats.placement import PlaceRange
from beerolympics.domain.formats.plan import Plan
from beerolympics.domain.formats.registry import (
    FORMATS,
    Format,
    build,
    get_format,
    next_round,
    outlook,
    placements,
    resolve,
    standings,
)
from beerolympics.domain.formats.resolution import (
    Increment,
    affected,
    diff_resolutions,
    validate_outcome,
)
from beerolympics.domain.formats.standings import StandingRow, StandingsTable

__all__ = [
    "BYE",
    "FORMATS",
    "ByeSlot",
    "Condition",
    "DoubleEliminationOptions",
    "Format",
    "FormatError",
    "FormatOptions",
    "GroupRank",
    "GroupsPlayoffsOptions",
    "HeadToHeadOutcome",
    "HeatOutcome",
    "HeatQualifier",
    "HeatsOptions",
    "Increment",
    "LoserOf",
    "MatchChange",
    "MatchId",
    "MatchKind",
    "MatchSpec",
    "MatchState",
    "Outcome",
    "Participant",
    "PlaceRange",
    "Plan",
    "Resolution",
    "ResolvedMatch",
    "RoundRobinOptions",
    "SingleEliminationOptions",
    "SlotWon",
    "Source",
    "StandingRow",
    "StandingsTable",
    "SwissOptions",
    "TeamId",
    "TeamSlot",
    "TiebreakName",
    "WinnerOf",
    "affected",
    "build",
    "diff_resolutions",
    "double_forfeit",
    "forfeit",
    "get_format",
    "next_round",
    "outlook",
    "placements",
    "places_from_values",
    "resolve",
    "standings",
    "tie",
    "validate_outcome",
    "win",
]
