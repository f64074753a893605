"""Commands: what a client asks for, validated at the edge into these types.

Field constraints live here, once, and drive both request validation and the OpenAPI schema.
The core trusts these types; rules that need state (a taken name, a full team) are checked by
the decision functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta

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
        pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
        description="Lower-case letters, digits and dashes.",
    ),
]
Password = Annotated[str, Meta(min_length=8, max_length=200)]
MaxTeams = Annotated[int, Meta(ge=2, le=1024)]
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
