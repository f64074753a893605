"""Commands: what a client asks for, validated at the edge into these types.

Field constraints live here, once, and drive both request validation and the OpenAPI schema.
The core trusts these types; rules that need state (a taken name, a full team) are checked by
the decision functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from beerolympics.domain.codes import SLUG_PATTERN

# A single line of printable text that is not only blanks.
_LINE = r"^(?=.*\S)[^\x00-\x1f\x7f]*$"
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Name = Annotated[
    str,
    Meta(min_length=1, max_length=60, pattern=_LINE, description="1–60 printable characters."),
]
PersonName = Annotated[
    str,
    Meta(min_length=1, max_length=40, pattern=_LINE, description="1–40 printable characters."),
]
ShortText = Annotated[
    str, Meta(max_length=140, pattern=r"^[^\x00-\x1f\x7f]*$", description="Up to 140 characters.")
]
LongText = Annotated[str, Meta(max_length=10_000, pattern=_TEXT)]
Colour = Annotated[
    str,
    Meta(pattern=r"^#[0-9A-Fa-f]{6}$", description="A colour as #RRGGBB.", examples=["#E4572E"]),
]
Flag = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=16,
        pattern=r"^[^\x00-\x7f]+$",
        description="An emoji (a flag or any other), no letters.",
        examples=["🇮🇪"],
    ),
]
Code = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z2-9]{6}$",
        description="A 6-character join or invite code (case-insensitive).",
        examples=["K7QW2M"],
    ),
]
Slug = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=48,
        pattern=SLUG_PATTERN,
        description="Lower-case letters, digits and dashes.",
    ),
]
Password = Annotated[str, Meta(min_length=8, max_length=200)]
MaxTeams = Annotated[int, Meta(ge=2, le=1024)]
TiebreakName = Literal["first_places", "second_places", "head_to_head", "point_diff", "wins"]
MaxTeamSize = Annotated[int, Meta(ge=1, le=100)]


class Command(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of commands; unknown fields are refused so typos do not pass silently."""


class CreateTournament(Command, frozen=True):
    name: Name
    date: dt.date | None = None
    venue: ShortText = ""
    rules: LongText = ""
    max_teams: MaxTeams = 64
    max_team_size: MaxTeamSize = 8
    slug: Slug | None = None
    password: Password | None = None
    open_registration: bool = True


class UpdateTournament(Command, frozen=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    date: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    venue: ShortText | msgspec.UnsetType = msgspec.UNSET
    rules: LongText | msgspec.UnsetType = msgspec.UNSET
    max_teams: MaxTeams | msgspec.UnsetType = msgspec.UNSET
    max_team_size: MaxTeamSize | msgspec.UnsetType = msgspec.UNSET
    confirm_timeout_seconds: Annotated[int, Meta(ge=0, le=86_400)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    rest_seconds: Annotated[int, Meta(ge=0, le=3_600)] | msgspec.UnsetType = msgspec.UNSET
    tiebreaks: Annotated[list[TiebreakName], Meta(max_length=5)] | msgspec.UnsetType = msgspec.UNSET


class SetRegistration(Command, frozen=True):
    open: bool


class SetPassword(Command, frozen=True):
    password: Password


class LogIn(Command, frozen=True):
    password: Annotated[str, Meta(min_length=1, max_length=200)]
    label: ShortText = ""


class RegisterTeam(Command, frozen=True):
    name: Name
    colour: Colour
    captain_name: PersonName
    join_code: Code | None = None
    flag: Flag = "🍺"
    motto: ShortText = ""
    device_label: ShortText = ""


class UpdateTeam(Command, frozen=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    colour: Colour | msgspec.UnsetType = msgspec.UNSET
    flag: Flag | msgspec.UnsetType = msgspec.UNSET
    motto: ShortText | msgspec.UnsetType = msgspec.UNSET


class JoinTeam(Command, frozen=True):
    invite_code: Code
    name: PersonName
    device_label: ShortText = ""


class AppointCaptain(Command, frozen=True):
    member_id: Annotated[str, Meta(min_length=1, max_length=40)]


# -- games, matches, bonuses -------------------------------------------------------------------

EntityId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Reason = Annotated[str, Meta(min_length=1, max_length=280, pattern=_LINE)]
Score = Annotated[float, Meta(ge=0, le=1_000_000)]
StationNames = Annotated[
    list[Annotated[str, Meta(min_length=1, max_length=40, pattern=_LINE)]],
    Meta(max_length=50, description="Names of the tables or lanes this game is played on."),
]
PlacementPoints = Annotated[
    list[Annotated[float, Meta(ge=0, le=100_000)]],
    Meta(max_length=64, description="Points for 1st, 2nd, 3rd… place."),
]
FormatName = Literal[
    "round_robin", "single_elimination", "double_elimination", "swiss", "groups_playoffs", "heats"
]


GameName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=60,
        pattern=_LINE,
        description="1–60 printable characters, unique among the tournament's games (ignoring"
        " case): another game of the same name is refused with 409 `game_name_taken`.",
    ),
]


class AddGame(Command, frozen=True):
    name: GameName
    format: FormatName
    options: dict[str, Any] = msgspec.field(default_factory=dict)
    rules: LongText = ""
    placement_points: PlacementPoints = msgspec.field(default_factory=lambda: [100, 75, 50, 25])
    points_beyond: Annotated[float, Meta(ge=0, le=100_000)] = 10
    participation_points: Annotated[float, Meta(ge=0, le=100_000)] = 0
    stations: StationNames = msgspec.field(default_factory=lambda: ["Table 1"])
    heat_scoring: Literal["places", "lower", "higher"] = "places"
    lower_score_wins: bool = False
    auto_call: bool = True


class UpdateGame(Command, frozen=True):
    name: GameName | msgspec.UnsetType = msgspec.UNSET
    rules: LongText | msgspec.UnsetType = msgspec.UNSET
    options: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    placement_points: PlacementPoints | msgspec.UnsetType = msgspec.UNSET
    points_beyond: Annotated[float, Meta(ge=0, le=100_000)] | msgspec.UnsetType = msgspec.UNSET
    participation_points: Annotated[float, Meta(ge=0, le=100_000)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    stations: StationNames | msgspec.UnsetType = msgspec.UNSET
    heat_scoring: Literal["places", "lower", "higher"] | msgspec.UnsetType = msgspec.UNSET
    lower_score_wins: bool | msgspec.UnsetType = msgspec.UNSET
    auto_call: bool | msgspec.UnsetType = msgspec.UNSET


class StartGame(Command, frozen=True):
    #: ``rating``: best-rated team first (teams' ratings over the games played so far).
    seeding: Literal["natural", "random", "manual", "rating"] = "natural"
    #: Seed order for manual seeding, or the teams taking part (default: every active team,
    #: in registration order).
    teams: Annotated[list[EntityId], Meta(max_length=1024)] | None = None


class CallMatch(Command, frozen=True):
    station_id: EntityId


class ReportResult(Command, frozen=True):
    """Head-to-head: ``winner`` (team id) and/or ``score`` per team, or ``draw``.
    Heats: ``places`` per team (1, 2, 2, 4…) or ``values`` per team (times or scores)."""

    winner: EntityId | None = None
    draw: bool = False
    score: Annotated[dict[EntityId, Score], Meta(max_length=2)] | None = None
    places: (
        Annotated[dict[EntityId, Annotated[int, Meta(ge=1, le=1024)]], Meta(max_length=64)] | None
    ) = None
    values: (
        Annotated[dict[EntityId, Annotated[float, Meta(ge=0, le=1e9)]], Meta(max_length=64)] | None
    ) = None


class DisputeResult(Command, frozen=True):
    reason: Reason


class ResolveDispute(Command, frozen=True):
    action: Literal["accept", "override", "replay"]
    reason: Reason
    result: ReportResult | None = None


class OverrideResult(Command, frozen=True):
    result: ReportResult
    reason: Reason


class Reopen(Command, frozen=True):
    reason: Reason


class Forfeit(Command, frozen=True):
    """The named teams forfeit; both teams of a match: a double forfeit."""

    teams: Annotated[list[EntityId], Meta(min_length=1, max_length=2)]
    reason: Reason


class WithdrawTeam(Command, frozen=True):
    reason: Annotated[str, Meta(max_length=280, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    disqualify: bool = False


class AddBonus(Command, frozen=True):
    name: Name
    points: Annotated[float, Meta(ge=-100_000, le=100_000)]
    description: ShortText = ""
    per: Literal["team", "individual"] = "team"
    max_completions: Annotated[int, Meta(ge=1, le=10_000)] | None = 1
    needs_approval: bool = True


class ClaimBonus(Command, frozen=True):
    team_id: EntityId | None = None
    member_id: EntityId | None = None
    note: ShortText = ""


class RejectClaim(Command, frozen=True):
    reason: ShortText = ""


class AddReferee(Command, frozen=True):
    label: ShortText = ""


class PostAnnouncement(Command, frozen=True):
    message: Annotated[str, Meta(min_length=1, max_length=500, pattern=_TEXT)]
    priority: Literal["info", "important", "urgent"] = "info"
    audience: Literal["all", "teams", "captains"] = "all"
    #: With audience "teams": only these teams (default: every team).
    team_ids: Annotated[list[EntityId], Meta(max_length=1024)] = msgspec.field(default_factory=list)
