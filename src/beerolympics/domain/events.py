"""Domain events: what happened, in the past tense, and how they are stored.

An event is a frozen ``msgspec.Struct``; its stored ``type`` is the class name and its schema
version travels in the metadata (``"v"``). Never change what a stored event means: bump
``schema_version`` and register an upcaster that turns the old data into the new shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import msgspec

from beerolympics.ports.eventstore import NewEvent, RecordedEvent

Role = Literal["organizer", "referee", "member"]
TournamentStatus = Literal["draft", "registration", "live", "finished"]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of all domain events."""

    schema_version: ClassVar[int] = 1


# -- tournament stream -----------------------------------------------------------------------


class TournamentCreated(Event, frozen=True):
    tournament_id: str
    name: str
    date: dt.date | None
    venue: str
    rules: str
    max_teams: int
    max_team_size: int
    join_code: str


class TournamentUpdated(Event, frozen=True):
    """Only the fields that changed are set."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    date: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    venue: str | msgspec.UnsetType = msgspec.UNSET
    rules: str | msgspec.UnsetType = msgspec.UNSET
    max_teams: int | msgspec.UnsetType = msgspec.UNSET
    max_team_size: int | msgspec.UnsetType = msgspec.UNSET


class RegistrationOpened(Event, frozen=True):
    pass


class RegistrationClosed(Event, frozen=True):
    pass


class TournamentStarted(Event, frozen=True):
    pass


class TournamentFinished(Event, frozen=True):
    pass


class JoinCodeChanged(Event, frozen=True):
    join_code: str
    previous: str


class OrganizerPasswordSet(Event, frozen=True):
    password_hash: str


class CredentialIssued(Event, frozen=True):
    credential_id: str
    role: Role
    team_id: str | None = None
    member_id: str | None = None
    label: str = ""


class CredentialRevoked(Event, frozen=True):
    credential_id: str
    reason: str = ""


class TeamRegistered(Event, frozen=True):
    team_id: str
    name: str
    colour: str
    flag: str
    motto: str
    invite_code: str


class TeamUpdated(Event, frozen=True):
    team_id: str
    name: str | msgspec.UnsetType = msgspec.UNSET
    colour: str | msgspec.UnsetType = msgspec.UNSET
    flag: str | msgspec.UnsetType = msgspec.UNSET
    motto: str | msgspec.UnsetType = msgspec.UNSET


class MemberJoined(Event, frozen=True):
    team_id: str
    member_id: str
    name: str


class MemberRemoved(Event, frozen=True):
    team_id: str
    member_id: str
    reason: str = ""


class CaptainAppointed(Event, frozen=True):
    team_id: str
    member_id: str
    previous: str | None = None


# -- reservations: streams whose only purpose is to make a value unique ----------------------


class JoinCodeReserved(Event, frozen=True):
    tournament_id: str


# -- codec -----------------------------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
#: ``(type, from_version) -> function`` turning stored data of that version into the next one.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def _all_subclasses(cls: type[Event]) -> list[type[Event]]:
    found: list[type[Event]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


class EventCodec:
    """Turns events into :class:`NewEvent` and stored events back into typed events."""

    def __init__(self, types: Mapping[str, type[Event]] | None = None) -> None:
        self.types: dict[str, type[Event]] = dict(
            types or {cls.__name__: cls for cls in _all_subclasses(Event)}
        )

    def encode(self, event: Event, metadata: Mapping[str, Any] | None = None) -> NewEvent:
        meta = {"v": event.schema_version, **(metadata or {})}
        return NewEvent(type(event).__name__, msgspec.to_builtins(event), meta)

    def decode(self, recorded: RecordedEvent) -> Event:
        cls = self.types.get(recorded.type)
        if cls is None:
            raise ValueError(f"unknown event type {recorded.type!r} at {recorded.position}")
        data = recorded.data
        version = int(recorded.metadata.get("v", 1))
        while version < cls.schema_version:
            data = UPCASTERS[(recorded.type, version)](data)
            version += 1
        return msgspec.convert(data, cls, strict=False)
