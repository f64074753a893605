"""Teams and their rosters: registering, joining, names, captaincy, leaving. Pure decisions
on the tournament's state (teams live on the tournament stream: one roster for all games)."""

from __future__ import annotations

from typing import Any

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain.codes import clean_line, name_key, normalize_code
from beerolympics.domain.commands import JoinTeam, RegisterTeam, UpdateTeam
from beerolympics.domain.errors import Conflict, Forbidden, Invalid, NotFound
from beerolympics.domain.identity import Actor, require_team_lead
from beerolympics.domain.tournament import TournamentState, require_not_finished


def register_team(
    state: TournamentState,
    actor: Actor,
    cmd: RegisterTeam,
    *,
    team_id: str,
    member_id: str,
    credential_id: str,
    invite_code: str,
) -> list[ev.Event]:
    """A new team with its captain as first member; the captain gets a credential."""
    organizer = actor.in_tournament(state.id) and actor.role == "organizer"
    if not organizer:
        if cmd.join_code is None or normalize_code(cmd.join_code) != state.join_code:
            raise Forbidden("that join code is not this tournament's", code="invalid_join_code")
        if actor.in_tournament(state.id) and actor.team_id is not None:
            raise Conflict("this device already belongs to a team here", code="already_joined")
        _registration_open(state)
    require_not_finished(state)
    if len(state.teams) >= state.max_teams:
        raise Conflict(f"the tournament is full ({state.max_teams} teams)", code="tournament_full")
    name = clean_line(cmd.name)
    _name_free(state, name)
    return [
        ev.TeamRegistered(
            team_id=team_id,
            name=name,
            colour=cmd.colour.upper(),
            flag=cmd.flag.strip(),
            motto=clean_line(cmd.motto),
            invite_code=invite_code,
        ),
        ev.MemberJoined(team_id=team_id, member_id=member_id, name=clean_line(cmd.captain_name)),
        ev.CaptainAppointed(team_id=team_id, member_id=member_id),
        ev.CredentialIssued(
            credential_id=credential_id,
            role="member",
            team_id=team_id,
            member_id=member_id,
            label=clean_line(cmd.device_label),
        ),
    ]


def join_team(
    state: TournamentState, actor: Actor, cmd: JoinTeam, *, member_id: str, credential_id: str
) -> list[ev.Event]:
    """Join a team with its invite code; the new member gets a player credential."""
    team_id = state.invite_codes.get(normalize_code(cmd.invite_code))
    if team_id is None:
        raise Forbidden(
            "that invite code is not a team's in this tournament", code="invalid_invite_code"
        )
    if actor.in_tournament(state.id) and actor.team_id is not None:
        raise Conflict("this device already belongs to a team here", code="already_joined")
    require_not_finished(state)
    _registration_open(state)
    team = state.teams[team_id]
    if len(team.members) >= state.max_team_size:
        raise Conflict(f"the team is full ({state.max_team_size} members)", code="team_full")
    return [
        ev.MemberJoined(team_id=team_id, member_id=member_id, name=clean_line(cmd.name)),
        ev.CredentialIssued(
            credential_id=credential_id,
            role="member",
            team_id=team_id,
            member_id=member_id,
            label=clean_line(cmd.device_label),
        ),
    ]


def update_team(
    state: TournamentState, actor: Actor, team_id: str, cmd: UpdateTeam
) -> list[ev.Event]:
    team = state.team(team_id)
    require_team_lead(actor, state.id, team_id)
    changes: dict[str, Any] = {}
    if cmd.name is not msgspec.UNSET and clean_line(cmd.name) != team.name:
        name = clean_line(cmd.name)
        if name_key(name) != name_key(team.name):
            _name_free(state, name)
        changes["name"] = name
    if cmd.colour is not msgspec.UNSET and cmd.colour.upper() != team.colour:
        changes["colour"] = cmd.colour.upper()
    if cmd.flag is not msgspec.UNSET and cmd.flag.strip() != team.flag:
        changes["flag"] = cmd.flag.strip()
    if cmd.motto is not msgspec.UNSET and clean_line(cmd.motto) != team.motto:
        changes["motto"] = clean_line(cmd.motto)
    return [ev.TeamUpdated(team_id=team_id, **changes)] if changes else []


def appoint_captain(
    state: TournamentState, actor: Actor, team_id: str, member_id: str
) -> list[ev.Event]:
    """Hand the captaincy to another member of the same team."""
    team = state.team(team_id)
    require_team_lead(actor, state.id, team_id)
    if member_id not in team.members:
        raise NotFound("that person is not a member of this team", code="member_not_found")
    if team.captain_id == member_id:
        return []
    return [ev.CaptainAppointed(team_id=team_id, member_id=member_id, previous=team.captain_id)]


def remove_member(
    state: TournamentState, actor: Actor, team_id: str, member_id: str
) -> list[ev.Event]:
    """Remove a member (organizer or captain), or leave (the member). Their devices are revoked.

    A captain cannot be removed or leave while others remain: captaincy is handed over first.
    """
    team = state.team(team_id)
    leaving = actor.in_tournament(state.id) and actor.member_id == member_id
    if not leaving:
        require_team_lead(actor, state.id, team_id)
    if member_id not in team.members:
        raise NotFound("that person is not a member of this team", code="member_not_found")
    if team.captain_id == member_id and len(team.members) > 1:
        raise Conflict(
            "the captain must hand over the captaincy before leaving", code="captain_must_transfer"
        )
    events: list[ev.Event] = [
        ev.MemberRemoved(team_id=team_id, member_id=member_id, reason="left" if leaving else "")
    ]
    events.extend(
        ev.CredentialRevoked(credential_id=c.id, reason="member removed")
        for c in state.credentials.values()
        if c.member_id == member_id and not c.revoked
    )
    return events


def _registration_open(state: TournamentState) -> None:
    if not state.registration_open:
        raise Conflict("registration is closed", code="registration_closed")


def _name_free(state: TournamentState, name: str) -> None:
    if name_key(name) in state.team_keys:
        raise Conflict(f"a team called {name!r} already exists", code="team_name_taken")
    if not name:
        raise Invalid("a name cannot be blank", code="invalid_name")
