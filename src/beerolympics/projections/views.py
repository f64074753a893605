"""Read models as the API and the pages show them, built from folded state.

These structs are the response schemas of the HTTP API (and so of its OpenAPI document).
Public views never carry secrets: join and invite codes appear only in :class:`AccessView`,
which is served privately to members of the tournament.
"""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

import msgspec

from beerolympics.domain.events import Role, TournamentStatus
from beerolympics.domain.identity import Actor, ActorRole
from beerolympics.domain.tournament import Credential, Team, TournamentState

T = TypeVar("T")


class View(msgspec.Struct, frozen=True, kw_only=True):
    """Base of read models."""


class MemberView(View, frozen=True):
    id: str
    name: str
    captain: bool
    joined_at: dt.datetime


class TeamView(View, frozen=True):
    id: str
    name: str
    colour: str
    flag: str
    motto: str
    captain_id: str | None
    members: list[MemberView]
    registered_at: dt.datetime
    status: str


class TournamentView(View, frozen=True):
    id: str
    name: str
    date: dt.date | None
    venue: str
    rules: str
    status: TournamentStatus
    registration_open: bool
    max_teams: int
    max_team_size: int
    team_count: int
    has_password: bool
    created_at: dt.datetime
    updated_at: dt.datetime | None
    version: int


class CredentialView(View, frozen=True):
    id: str
    role: Role
    team_id: str | None
    member_id: str | None
    label: str
    issued_at: dt.datetime
    revoked: bool


class AccessView(View, frozen=True):
    """What a member of the tournament may see and share: the codes to bring others in."""

    tournament_id: str
    role: ActorRole
    join_code: str | None
    team_id: str | None
    invite_code: str | None


class MeView(View, frozen=True):
    tournament_id: str | None
    role: ActorRole
    credential_id: str | None
    team_id: str | None
    member_id: str | None


class Page(View, Generic[T], frozen=True):
    """One page of a list; pass ``next_cursor`` as ``cursor`` to get the next one."""

    items: list[T]
    next_cursor: str | None
    total: int


def tournament_view(state: TournamentState) -> TournamentView:
    return TournamentView(
        id=state.id,
        name=state.name,
        date=state.date,
        venue=state.venue,
        rules=state.rules,
        status=state.status,
        registration_open=state.registration_open,
        max_teams=state.max_teams,
        max_team_size=state.max_team_size,
        team_count=len(state.teams),
        has_password=state.password_hash is not None,
        created_at=state.created_at,
        updated_at=state.updated_at,
        version=state.version,
    )


def team_view(team: Team) -> TeamView:
    return TeamView(
        id=team.id,
        name=team.name,
        colour=team.colour,
        flag=team.flag,
        motto=team.motto,
        captain_id=team.captain_id,
        members=[
            MemberView(id=m.id, name=m.name, captain=m.id == team.captain_id, joined_at=m.joined_at)
            for m in team.members.values()
        ],
        registered_at=team.registered_at,
        status=team.status,
    )


def credential_view(cred: Credential) -> CredentialView:
    return CredentialView(
        id=cred.id,
        role=cred.role,
        team_id=cred.team_id,
        member_id=cred.member_id,
        label=cred.label,
        issued_at=cred.issued_at,
        revoked=cred.revoked,
    )


def access_view(state: TournamentState, actor: Actor) -> AccessView:
    team = state.teams.get(actor.team_id or "")
    return AccessView(
        tournament_id=state.id,
        role=actor.role,
        join_code=state.join_code,
        team_id=team.id if team else None,
        invite_code=team.invite_code if team else None,
    )


def me_view(actor: Actor) -> MeView:
    return MeView(
        tournament_id=actor.tournament_id,
        role=actor.role,
        credential_id=actor.credential_id,
        team_id=actor.team_id,
        member_id=actor.member_id,
    )
