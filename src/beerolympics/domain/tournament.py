"""The tournament: its settings, status, teams, rosters and credentials.

:class:`TournamentState` is a fold of the tournament stream. The same fold serves decisions (a
command is decided against a state at a known stream version) and reads (the catalog projection
keeps one state per tournament). Decision functions are pure: state and command in, events out,
or a :class:`~beerolympics.domain.errors.DomainError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain.codes import clean_line, name_key
from beerolympics.domain.commands import (
    CreateTournament,
    PostAnnouncement,
    UpdateTournament,
)
from beerolympics.domain.errors import Conflict, Invalid, NotFound
from beerolympics.domain.identity import Actor, ActorRole, require_organizer
from beerolympics.domain.scoring import DEFAULT_TIEBREAKS, PointsTable, check_tiebreaks

#: Seconds after which a reported result counts unless the other side confirmed or disputed it.
DEFAULT_CONFIRM_TIMEOUT = 300
#: Seconds a team rests between two matches before the queue calls it again.
DEFAULT_REST = 60


def stream_id(tournament_id: str) -> str:
    return f"tournament:{tournament_id}"


def join_code_stream(code: str) -> str:
    return f"join-code:{code}"


@dataclass(slots=True)
class Member:
    id: str
    name: str
    joined_at: dt.datetime


@dataclass(slots=True)
class Team:
    id: str
    name: str
    colour: str
    flag: str
    motto: str
    invite_code: str
    registered_at: dt.datetime
    captain_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    #: active, withdrawn or disqualified
    status: str = "active"
    status_reason: str = ""


@dataclass(slots=True)
class GameConfig:
    """How a game is played; its plan and matches live on the game's own streams."""

    id: str
    name: str
    rules: str
    format: str
    options: dict[str, Any]
    points: PointsTable
    stations: list[ev.StationSpec]
    heat_scoring: ev.HeatScoring
    lower_score_wins: bool
    auto_call: bool
    added_at: dt.datetime


@dataclass(slots=True)
class Bonus:
    id: str
    name: str
    description: str
    points: float
    per: str
    max_completions: int | None
    needs_approval: bool


@dataclass(slots=True)
class Claim:
    id: str
    bonus_id: str
    team_id: str
    member_id: str | None
    note: str
    at: dt.datetime
    status: str = "pending"  # pending, approved, rejected
    reason: str = ""


@dataclass(slots=True)
class Announcement:
    id: str
    message: str
    priority: str
    audience: str
    team_ids: list[str]
    at: dt.datetime
    position: int = 0


@dataclass(slots=True)
class Credential:
    id: str
    role: ev.Role
    team_id: str | None
    member_id: str | None
    label: str
    issued_at: dt.datetime
    revoked: bool = False


@dataclass(slots=True)
class TournamentState:
    """Everything the tournament stream says, folded. ``version`` is the stream version."""

    id: str
    name: str
    date: dt.date | None
    venue: str
    rules: str
    max_teams: int
    max_team_size: int
    join_code: str
    created_at: dt.datetime
    status: ev.TournamentStatus = "draft"
    registration_open: bool = False
    password_hash: str | None = None
    teams: dict[str, Team] = field(default_factory=dict)
    team_keys: dict[str, str] = field(default_factory=dict)
    invite_codes: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, Credential] = field(default_factory=dict)
    confirm_timeout_seconds: int = DEFAULT_CONFIRM_TIMEOUT
    rest_seconds: int = DEFAULT_REST
    tiebreaks: list[str] = field(default_factory=lambda: list(DEFAULT_TIEBREAKS))
    games: dict[str, GameConfig] = field(default_factory=dict)
    bonuses: dict[str, Bonus] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    announcements: list[Announcement] = field(default_factory=list)
    version: int = 0
    updated_at: dt.datetime | None = None

    # -- queries -----------------------------------------------------------------------------

    def game(self, game_id: str) -> GameConfig:
        game = self.games.get(game_id)
        if game is None:
            raise NotFound(f"no game {game_id!r} in this tournament", code="game_not_found")
        return game

    def team(self, team_id: str) -> Team:
        team = self.teams.get(team_id)
        if team is None:
            raise NotFound(f"no team {team_id!r} in this tournament", code="team_not_found")
        return team

    def actor_for(self, credential_id: str) -> Actor | None:
        """The actor a credential speaks for now, or ``None`` when unknown or revoked."""
        cred = self.credentials.get(credential_id)
        if cred is None or cred.revoked:
            return None
        role: ActorRole
        if cred.role == "member":
            team = self.teams.get(cred.team_id or "")
            if team is None or cred.member_id not in team.members:
                return None
            role = "captain" if team.captain_id == cred.member_id else "player"
        else:
            role = cred.role
        return Actor(role, self.id, cred.id, cred.team_id, cred.member_id)

    def active_organizer_credentials(self) -> int:
        return sum(1 for c in self.credentials.values() if c.role == "organizer" and not c.revoked)


# -- the fold ----------------------------------------------------------------------------------


def start(event: ev.TournamentCreated, at: dt.datetime) -> TournamentState:
    """The state right after the stream's first event."""
    return TournamentState(
        id=event.tournament_id,
        name=event.name,
        date=event.date,
        venue=event.venue,
        rules=event.rules,
        max_teams=event.max_teams,
        max_team_size=event.max_team_size,
        join_code=event.join_code,
        created_at=at,
        version=1,
        updated_at=at,
    )


def _set_fields(target: Any, event: msgspec.Struct, skip: tuple[str, ...] = ()) -> None:
    for name in event.__struct_fields__:
        value = getattr(event, name)
        if name not in skip and value is not msgspec.UNSET:
            setattr(target, name, value)


def _updated(state: TournamentState, event: ev.TournamentUpdated, at: dt.datetime) -> None:
    _set_fields(state, event)
    if event.tiebreaks is not msgspec.UNSET:
        state.tiebreaks = list(event.tiebreaks)


def _registration_opened(s: TournamentState, e: ev.RegistrationOpened, at: dt.datetime) -> None:
    s.registration_open = True
    if s.status == "draft":
        s.status = "registration"


def _registration_closed(s: TournamentState, e: ev.RegistrationClosed, at: dt.datetime) -> None:
    s.registration_open = False


def _started(s: TournamentState, e: ev.TournamentStarted, at: dt.datetime) -> None:
    s.status = "live"


def _finished(s: TournamentState, e: ev.TournamentFinished, at: dt.datetime) -> None:
    s.status = "finished"
    s.registration_open = False


def _join_code_changed(s: TournamentState, e: ev.JoinCodeChanged, at: dt.datetime) -> None:
    s.join_code = e.join_code


def _password_set(s: TournamentState, e: ev.OrganizerPasswordSet, at: dt.datetime) -> None:
    s.password_hash = e.password_hash


def _credential_issued(s: TournamentState, e: ev.CredentialIssued, at: dt.datetime) -> None:
    s.credentials[e.credential_id] = Credential(
        e.credential_id, e.role, e.team_id, e.member_id, e.label, at
    )


def _credential_revoked(s: TournamentState, e: ev.CredentialRevoked, at: dt.datetime) -> None:
    cred = s.credentials.get(e.credential_id)
    if cred is not None:
        cred.revoked = True


def _team_registered(s: TournamentState, e: ev.TeamRegistered, at: dt.datetime) -> None:
    s.teams[e.team_id] = Team(e.team_id, e.name, e.colour, e.flag, e.motto, e.invite_code, at)
    s.team_keys[name_key(e.name)] = e.team_id
    s.invite_codes[e.invite_code] = e.team_id


def _team_updated(s: TournamentState, e: ev.TeamUpdated, at: dt.datetime) -> None:
    team = s.teams[e.team_id]
    if e.name is not msgspec.UNSET:
        del s.team_keys[name_key(team.name)]
        s.team_keys[name_key(e.name)] = team.id
    _set_fields(team, e, skip=("team_id",))


def _member_joined(s: TournamentState, e: ev.MemberJoined, at: dt.datetime) -> None:
    s.teams[e.team_id].members[e.member_id] = Member(e.member_id, e.name, at)


def _member_removed(s: TournamentState, e: ev.MemberRemoved, at: dt.datetime) -> None:
    team = s.teams[e.team_id]
    team.members.pop(e.member_id, None)
    if team.captain_id == e.member_id:
        team.captain_id = None


def _captain_appointed(s: TournamentState, e: ev.CaptainAppointed, at: dt.datetime) -> None:
    s.teams[e.team_id].captain_id = e.member_id


def _game_added(s: TournamentState, e: ev.GameAdded, at: dt.datetime) -> None:
    s.games[e.game_id] = GameConfig(
        e.game_id,
        e.name,
        e.rules,
        e.format,
        e.options,
        e.points,
        list(e.stations),
        e.heat_scoring,
        e.lower_score_wins,
        e.auto_call,
        at,
    )


def _game_updated(s: TournamentState, e: ev.GameUpdated, at: dt.datetime) -> None:
    _set_fields(s.games[e.game_id], e, skip=("game_id",))


def _game_removed(s: TournamentState, e: ev.GameRemoved, at: dt.datetime) -> None:
    s.games.pop(e.game_id, None)


def _team_withdrawn(s: TournamentState, e: ev.TeamWithdrawn, at: dt.datetime) -> None:
    team = s.teams[e.team_id]
    team.status, team.status_reason = "withdrawn", e.reason


def _team_disqualified(s: TournamentState, e: ev.TeamDisqualified, at: dt.datetime) -> None:
    team = s.teams[e.team_id]
    team.status, team.status_reason = "disqualified", e.reason


def _bonus_added(s: TournamentState, e: ev.BonusChallengeAdded, at: dt.datetime) -> None:
    s.bonuses[e.bonus_id] = Bonus(
        e.bonus_id, e.name, e.description, e.points, e.per, e.max_completions, e.needs_approval
    )


def _bonus_claimed(s: TournamentState, e: ev.BonusClaimed, at: dt.datetime) -> None:
    s.claims[e.claim_id] = Claim(
        e.claim_id,
        e.bonus_id,
        e.team_id,
        e.member_id,
        e.note,
        at,
        "approved" if e.approved else "pending",
    )


def _claim_approved(s: TournamentState, e: ev.BonusClaimApproved, at: dt.datetime) -> None:
    s.claims[e.claim_id].status = "approved"


def _claim_rejected(s: TournamentState, e: ev.BonusClaimRejected, at: dt.datetime) -> None:
    claim = s.claims[e.claim_id]
    claim.status, claim.reason = "rejected", e.reason


def _announced(s: TournamentState, e: ev.AnnouncementPosted, at: dt.datetime) -> None:
    s.announcements.append(
        Announcement(e.announcement_id, e.message, e.priority, e.audience, list(e.team_ids), at)
    )


_FOLD: dict[type[ev.Event], Callable[[TournamentState, Any, dt.datetime], None]] = {
    ev.AnnouncementPosted: _announced,
    ev.GameAdded: _game_added,
    ev.GameUpdated: _game_updated,
    ev.GameRemoved: _game_removed,
    ev.TeamWithdrawn: _team_withdrawn,
    ev.TeamDisqualified: _team_disqualified,
    ev.BonusChallengeAdded: _bonus_added,
    ev.BonusClaimed: _bonus_claimed,
    ev.BonusClaimApproved: _claim_approved,
    ev.BonusClaimRejected: _claim_rejected,
    ev.TournamentUpdated: _updated,
    ev.RegistrationOpened: _registration_opened,
    ev.RegistrationClosed: _registration_closed,
    ev.TournamentStarted: _started,
    ev.TournamentFinished: _finished,
    ev.JoinCodeChanged: _join_code_changed,
    ev.OrganizerPasswordSet: _password_set,
    ev.CredentialIssued: _credential_issued,
    ev.CredentialRevoked: _credential_revoked,
    ev.TeamRegistered: _team_registered,
    ev.TeamUpdated: _team_updated,
    ev.MemberJoined: _member_joined,
    ev.MemberRemoved: _member_removed,
    ev.CaptainAppointed: _captain_appointed,
}


def evolve(state: TournamentState, event: ev.Event, at: dt.datetime) -> None:
    """Apply one event of the tournament stream in place and count the stream version."""
    handler = _FOLD.get(type(event))
    if handler is not None:
        handler(state, event, at)
    state.version += 1
    state.updated_at = at


# -- decisions ---------------------------------------------------------------------------------


def create(
    cmd: CreateTournament,
    *,
    tournament_id: str,
    join_code: str,
    credential_id: str,
    password_hash: str | None,
) -> list[ev.Event]:
    """Create a tournament and its first organizer credential."""
    events: list[ev.Event] = [
        ev.TournamentCreated(
            tournament_id=tournament_id,
            name=clean_line(cmd.name),
            date=cmd.date,
            venue=clean_line(cmd.venue),
            rules=cmd.rules.strip(),
            max_teams=cmd.max_teams,
            max_team_size=cmd.max_team_size,
            join_code=join_code,
        ),
        ev.CredentialIssued(credential_id=credential_id, role="organizer", label="creator"),
    ]
    if password_hash is not None:
        events.append(ev.OrganizerPasswordSet(password_hash=password_hash))
    if cmd.open_registration:
        events.append(ev.RegistrationOpened())
    return events


def update(state: TournamentState, actor: Actor, cmd: UpdateTournament) -> list[ev.Event]:
    """Change settings; only what differs is recorded. Limits may not drop below reality."""
    require_organizer(actor, state.id)
    require_not_finished(state)
    changes: dict[str, Any] = {}
    for name in cmd.__struct_fields__:
        value = getattr(cmd, name)
        if value is msgspec.UNSET:
            continue
        if isinstance(value, str) and name != "rules":
            value = clean_line(value)
        if value != getattr(state, name):
            changes[name] = value
    if "tiebreaks" in changes:
        changes["tiebreaks"] = list(check_tiebreaks(changes["tiebreaks"]))
    if "max_teams" in changes and changes["max_teams"] < len(state.teams):
        raise Conflict(
            f"{len(state.teams)} teams are registered; max_teams cannot be lower",
            code="limit_below_current",
        )
    largest = max((len(t.members) for t in state.teams.values()), default=0)
    if "max_team_size" in changes and changes["max_team_size"] < largest:
        raise Conflict(
            f"a team has {largest} members; max_team_size cannot be lower",
            code="limit_below_current",
        )
    return [ev.TournamentUpdated(**changes)] if changes else []


def set_registration(state: TournamentState, actor: Actor, *, open_: bool) -> list[ev.Event]:
    """Open or close registration (opening moves a draft into registration). Idempotent."""
    require_organizer(actor, state.id)
    require_not_finished(state)
    if open_ == state.registration_open:
        return []
    return [ev.RegistrationOpened() if open_ else ev.RegistrationClosed()]


def start_tournament(state: TournamentState, actor: Actor) -> list[ev.Event]:
    """Go live: registration closes. At least two teams are needed."""
    require_organizer(actor, state.id)
    if state.status == "live":
        return []
    require_not_finished(state)
    if len(state.teams) < 2:
        raise Conflict("at least two teams are needed to start", code="not_enough_teams")
    events: list[ev.Event] = []
    if state.registration_open:
        events.append(ev.RegistrationClosed())
    events.append(ev.TournamentStarted())
    return events


def finish_tournament(state: TournamentState, actor: Actor) -> list[ev.Event]:
    require_organizer(actor, state.id)
    if state.status == "finished":
        return []
    if state.status != "live":
        raise Conflict("only a live tournament can finish", code="tournament_not_live")
    return [ev.TournamentFinished()]


def set_password(state: TournamentState, actor: Actor, password_hash: str) -> list[ev.Event]:
    require_organizer(actor, state.id)
    return [ev.OrganizerPasswordSet(password_hash=password_hash)]


def issue_organizer_credential(
    state: TournamentState, *, credential_id: str, label: str
) -> list[ev.Event]:
    """After a verified password: a new organizer device."""
    return [ev.CredentialIssued(credential_id=credential_id, role="organizer", label=label)]


def revoke_credential(state: TournamentState, actor: Actor, credential_id: str) -> list[ev.Event]:
    """Kick a device. The last organizer credential stays unless a password can replace it."""
    require_organizer(actor, state.id)
    cred = state.credentials.get(credential_id)
    if cred is None:
        raise NotFound("no such credential in this tournament", code="credential_not_found")
    if cred.revoked:
        return []
    if (
        cred.role == "organizer"
        and state.active_organizer_credentials() == 1
        and state.password_hash is None
    ):
        raise Conflict(
            "this is the last organizer device and no password is set: set one first",
            code="last_organizer_credential",
        )
    return [ev.CredentialRevoked(credential_id=credential_id, reason="revoked by an organizer")]


def require_not_finished(state: TournamentState) -> None:
    """Refuse changes to a finished tournament."""
    if state.status == "finished":
        raise Conflict("the tournament is finished", code="tournament_finished")


def post_announcement(
    state: TournamentState, actor: Actor, cmd: PostAnnouncement, *, announcement_id: str
) -> list[ev.Event]:
    """An organizer tells everyone, the teams (or some of them), or the captains."""
    require_organizer(actor, state.id)
    unknown = [t for t in cmd.team_ids if t not in state.teams]
    if unknown:
        raise NotFound(f"no team {unknown[0]!r} in this tournament", code="team_not_found")
    if cmd.team_ids and cmd.audience != "teams":
        raise Invalid("team_ids go with the audience 'teams'", code="invalid_audience")
    return [
        ev.AnnouncementPosted(
            announcement_id=announcement_id,
            message=cmd.message.strip(),
            priority=cmd.priority,
            audience=cmd.audience,
            team_ids=list(cmd.team_ids),
        )
    ]
