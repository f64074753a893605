"""Use cases of tournaments, teams and credentials.

Each public method is one command: it takes a typed command (validated at the edge), the actor
and an optional idempotency key, and returns an outcome. Rules live in
:mod:`beerolympics.domain.tournament`; this module gathers state, ids and codes and hands the
decision to the :class:`~beerolympics.services.runner.CommandRunner`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from beerolympics.domain import teams
from beerolympics.domain import tournament as rules
from beerolympics.domain.codes import new_code, new_id, slugify
from beerolympics.domain.commands import (
    AppointCaptain,
    CreateTournament,
    JoinTeam,
    LogIn,
    PostAnnouncement,
    RegisterTeam,
    SetPassword,
    UpdateTeam,
    UpdateTournament,
)
from beerolympics.domain.errors import Conflict, Unauthenticated
from beerolympics.domain.events import Event, JoinCodeReserved
from beerolympics.domain.identity import Actor, require_organizer
from beerolympics.domain.tournament import TournamentState
from beerolympics.ports.eventstore import NO_STREAM
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.views import tournament_view
from beerolympics.services.credentials import PasswordHashing
from beerolympics.services.runner import CommandRunner, Decision, IdempotencyKey, R, check_version

#: Idempotency keys of tournament creation share one scope: the tournament does not exist yet.
CREATION_SCOPE = "tournament-creation"


class TournamentCreatedOutcome(msgspec.Struct, frozen=True):
    tournament_id: str
    credential_id: str


class CreatedOutcome(msgspec.Struct, frozen=True):
    """A command that created something with a new id (a game, a bonus, an announcement)."""

    tournament_id: str
    id: str


class CredentialOutcome(msgspec.Struct, frozen=True):
    """A command that issued a credential (a team registered, a member joined, a log-in)."""

    tournament_id: str
    credential_id: str
    team_id: str | None = None
    member_id: str | None = None


class ChangeOutcome(msgspec.Struct, frozen=True):
    """A command that changed a tournament (or found nothing to change)."""

    tournament_id: str


def metadata_for(actor: Actor) -> dict[str, Any]:
    """Who issued a command, stored with its events: the audit trail."""
    if actor.credential_id == "system":
        return {"role": "system", "credential": "system"}
    meta: dict[str, Any] = {"role": actor.role}
    if actor.credential_id:
        meta["credential"] = actor.credential_id
    return meta


class TournamentService:
    """Creating and running tournaments, teams, rosters and devices."""

    def __init__(self, runner: CommandRunner, catalog: Catalog, passwords: PasswordHashing) -> None:
        self.runner = runner
        self.catalog = catalog
        self.passwords = passwords

    # -- tournaments ---------------------------------------------------------------------

    async def create_tournament(
        self, cmd: CreateTournament, *, idempotency: IdempotencyKey | None = None
    ) -> TournamentCreatedOutcome:
        password_hash = await self.passwords.hash(cmd.password) if cmd.password else None
        credential_id = new_id("cr", 16)

        def decide() -> Decision[TournamentCreatedOutcome]:
            slug = self._free_slug(cmd)
            code = new_code()
            while code in self.catalog.join_codes:
                code = new_code()
            events = rules.create(
                cmd,
                tournament_id=slug,
                join_code=code,
                credential_id=credential_id,
                password_hash=password_hash,
            )
            return Decision(
                TournamentCreatedOutcome(slug, credential_id),
                [
                    (rules.stream_id(slug), events, NO_STREAM),
                    (
                        rules.join_code_stream(code),
                        [JoinCodeReserved(tournament_id=slug)],
                        NO_STREAM,
                    ),
                ],
                scope=slug,
            )

        return await self.runner.run(
            decide=decide,
            outcome_type=TournamentCreatedOutcome,
            lock=CREATION_SCOPE,
            idempotency=idempotency,
            idempotency_scope=CREATION_SCOPE,
            metadata={"role": "organizer", "credential": credential_id},
        )

    def _free_slug(self, cmd: CreateTournament) -> str:
        """The requested slug if free, else one derived from the name and made unique."""
        if cmd.slug is not None:
            if cmd.slug in self.catalog.tournaments:
                raise Conflict(f"the address {cmd.slug!r} is taken", code="slug_taken")
            return cmd.slug
        base = slugify(cmd.name)
        slug = base
        while slug in self.catalog.tournaments:
            slug = f"{base[:40]}-{new_code().lower()[:4]}"
        return slug

    async def update_tournament(
        self,
        tournament_id: str,
        actor: Actor,
        cmd: UpdateTournament,
        *,
        if_match: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        return await self.change(
            tournament_id,
            actor,
            lambda state: rules.update(state, actor, cmd),
            if_match=if_match,
            idempotency=idempotency,
        )

    async def set_registration(
        self,
        tournament_id: str,
        actor: Actor,
        *,
        open_: bool,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        return await self.change(
            tournament_id,
            actor,
            lambda state: rules.set_registration(state, actor, open_=open_),
            idempotency=idempotency,
        )

    async def start_tournament(
        self, tournament_id: str, actor: Actor, *, idempotency: IdempotencyKey | None = None
    ) -> ChangeOutcome:
        return await self.change(
            tournament_id,
            actor,
            lambda state: rules.start_tournament(state, actor),
            idempotency=idempotency,
        )

    async def finish_tournament(
        self, tournament_id: str, actor: Actor, *, idempotency: IdempotencyKey | None = None
    ) -> ChangeOutcome:
        return await self.change(
            tournament_id,
            actor,
            lambda state: rules.finish_tournament(state, actor),
            idempotency=idempotency,
        )

    async def set_password(
        self,
        tournament_id: str,
        actor: Actor,
        cmd: SetPassword,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        require_organizer(actor, self.catalog.get(tournament_id).id)  # before the costly hash
        password_hash = await self.passwords.hash(cmd.password)
        return await self.change(
            tournament_id,
            actor,
            lambda state: rules.set_password(state, actor, password_hash),
            idempotency=idempotency,
        )

    async def log_in(
        self, tournament_id: str, cmd: LogIn, *, idempotency: IdempotencyKey | None = None
    ) -> CredentialOutcome:
        """Exchange the organizer password for a new organizer credential."""
        state = self.catalog.get(tournament_id)
        if state.password_hash is None or not await self.passwords.verify(
            state.password_hash, cmd.password
        ):
            raise Unauthenticated("wrong password", code="invalid_password")
        credential_id = new_id("cr", 16)
        return await self.on_tournament(
            tournament_id,
            Actor("organizer", tournament_id, credential_id),
            lambda state: rules.issue_organizer_credential(
                state, credential_id=credential_id, label=cmd.label
            ),
            CredentialOutcome(tournament_id, credential_id),
            idempotency=idempotency,
        )

    async def revoke_credential(
        self,
        tournament_id: str,
        actor: Actor,
        credential_id: str,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        return await self.change(
            tournament_id,
            actor,
            lambda state: rules.revoke_credential(state, actor, credential_id),
            idempotency=idempotency,
        )

    async def post_announcement(
        self,
        tournament_id: str,
        actor: Actor,
        cmd: PostAnnouncement,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> CreatedOutcome:
        announcement_id = new_id("an", 8)
        return await self.on_tournament(
            tournament_id,
            actor,
            lambda state: rules.post_announcement(
                state, actor, cmd, announcement_id=announcement_id
            ),
            CreatedOutcome(tournament_id, announcement_id),
            idempotency=idempotency,
        )

    # -- teams -----------------------------------------------------------------------------

    async def register_team(
        self,
        tournament_id: str,
        actor: Actor,
        cmd: RegisterTeam,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> CredentialOutcome:
        team_id, member_id, credential_id = new_id("tm"), new_id("mb"), new_id("cr", 16)
        state = self.catalog.get(tournament_id)
        invite_code = new_code()
        while invite_code in state.invite_codes:
            invite_code = new_code()
        return await self.on_tournament(
            tournament_id,
            actor,
            lambda state: teams.register_team(
                state,
                actor,
                cmd,
                team_id=team_id,
                member_id=member_id,
                credential_id=credential_id,
                invite_code=invite_code,
            ),
            CredentialOutcome(tournament_id, credential_id, team_id, member_id),
            idempotency=idempotency,
        )

    async def join_team(
        self,
        tournament_id: str,
        actor: Actor,
        cmd: JoinTeam,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> CredentialOutcome:
        member_id, credential_id = new_id("mb"), new_id("cr", 16)
        team_id = self.catalog.get(tournament_id).invite_codes.get(cmd.invite_code.upper())
        return await self.on_tournament(
            tournament_id,
            actor,
            lambda state: teams.join_team(
                state, actor, cmd, member_id=member_id, credential_id=credential_id
            ),
            CredentialOutcome(tournament_id, credential_id, team_id, member_id),
            idempotency=idempotency,
        )

    async def update_team(
        self,
        tournament_id: str,
        actor: Actor,
        team_id: str,
        cmd: UpdateTeam,
        *,
        if_match: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        return await self.change(
            tournament_id,
            actor,
            lambda state: teams.update_team(state, actor, team_id, cmd),
            if_match=if_match,
            idempotency=idempotency,
        )

    async def appoint_captain(
        self,
        tournament_id: str,
        actor: Actor,
        team_id: str,
        cmd: AppointCaptain,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        return await self.change(
            tournament_id,
            actor,
            lambda state: teams.appoint_captain(state, actor, team_id, cmd.member_id),
            idempotency=idempotency,
        )

    async def remove_member(
        self,
        tournament_id: str,
        actor: Actor,
        team_id: str,
        member_id: str,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        return await self.change(
            tournament_id,
            actor,
            lambda state: teams.remove_member(state, actor, team_id, member_id),
            idempotency=idempotency,
        )

    # -- plumbing --------------------------------------------------------------------------

    def _state(self, tournament_id: str, if_match: int | None, *, fresh: bool) -> TournamentState:
        """The state to decide on; with ``if_match``, only if it is that version."""
        state = self.catalog.get(tournament_id)
        check_version(
            state.version,
            if_match,
            fresh=fresh,
            describe=lambda: tournament_view(state),
            what="tournament",
        )
        return state

    async def on_tournament(
        self,
        tournament_id: str,
        actor: Actor,
        decide: Callable[[TournamentState], Sequence[Event]],
        outcome: R,
        *,
        if_match: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> R:
        """Run a command decided on the tournament stream; every such command comes here.

        ``decide`` gets the current state and returns events (none: nothing to change).
        """
        self.catalog.get(tournament_id)  # an unknown tournament is a 404 before anything else
        attempts = 0

        def decision() -> Decision[R]:
            nonlocal attempts
            attempts += 1
            state = self._state(tournament_id, if_match, fresh=attempts > 1)
            events = decide(state)
            return Decision(
                outcome,
                [(rules.stream_id(tournament_id), events, state.version)] if events else [],
                scope=state.id,
            )

        return await self.runner.run(
            decide=decision,
            outcome_type=type(outcome),
            lock=rules.stream_id(tournament_id),
            idempotency=idempotency,
            idempotency_scope=tournament_id,
            metadata=metadata_for(actor),
        )

    async def change(
        self,
        tournament_id: str,
        actor: Actor,
        decide: Callable[[TournamentState], Sequence[Event]],
        *,
        if_match: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        """:meth:`on_tournament` for commands that only change things (no new id to return)."""
        return await self.on_tournament(
            tournament_id,
            actor,
            decide,
            ChangeOutcome(tournament_id),
            if_match=if_match,
            idempotency=idempotency,
        )
