"""Use cases of games, matches, withdrawals and bonus challenges.

Game configuration lives on the tournament stream; a game's plan on its own stream; each match
on its own stream, so results of concurrent matches never contend. A command that changes a
result also resets or flags the matches that depended on it, in the same atomic append.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain import formats
from beerolympics.domain import games as game_rules
from beerolympics.domain import matches as lifecycle
from beerolympics.domain.codes import new_id
from beerolympics.domain.commands import (
    AddBonus,
    AddGame,
    AddReferee,
    CallMatch,
    ClaimBonus,
    DisputeResult,
    Forfeit,
    OverrideResult,
    Reopen,
    ReportResult,
    ResolveDispute,
    StartGame,
    UpdateGame,
    WithdrawTeam,
)
from beerolympics.domain.errors import NotFound
from beerolympics.domain.formats.base import MatchSpec, Outcome, ResolvedMatch
from beerolympics.domain.identity import Actor
from beerolympics.domain.matches import MatchRecord
from beerolympics.domain.tournament import TournamentState
from beerolympics.ports.eventstore import NO_STREAM
from beerolympics.projections.play import GameRun, Play, TournamentPlay, game_stream
from beerolympics.projections.play_views import Views
from beerolympics.services.runner import CommandRunner, Decision, IdempotencyKey, check_version
from beerolympics.services.tournaments import (
    ChangeOutcome,
    CreatedOutcome,
    CredentialOutcome,
    TournamentService,
    metadata_for,
)

Clock = Callable[[], dt.datetime]


class MatchOutcome(msgspec.Struct, frozen=True):
    tournament_id: str
    match: str
    changed: bool


@dataclass(frozen=True, slots=True)
class MatchContext:
    """Everything a match decision looks at."""

    state: TournamentState
    play: TournamentPlay
    run: GameRun
    spec: MatchSpec
    record: MatchRecord
    resolved: ResolvedMatch


def split_key(match: str) -> tuple[str, str]:
    game_id, dot, spec_id = match.partition(".")
    if not dot or not game_id or not spec_id:
        raise NotFound(f"no match {match!r}", code="match_not_found")
    return game_id, spec_id


def system_actor(tournament_id: str) -> Actor:
    """The tournament's own automation (the queue, the deadline clock): an official."""
    return Actor("organizer", tournament_id, "system")


class GameService:
    """Games, matches, withdrawals, bonus challenges and referees."""

    def __init__(
        self,
        runner: CommandRunner,
        tournaments: TournamentService,
        play: Play,
        clock: Clock | None = None,
    ) -> None:
        self.runner = runner
        self.tournaments = tournaments
        self.catalog = tournaments.catalog
        self.play = play
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # -- configuration (tournament stream) ------------------------------------------------

    async def add_game(
        self,
        tournament_id: str,
        actor: Actor,
        cmd: AddGame,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> CreatedOutcome:
        game_id = new_id("gm", 8)
        station_ids = [new_id("st", 6) for _ in cmd.stations]
        return await self.tournaments.on_tournament(
            tournament_id,
            actor,
            lambda state: game_rules.add_game(
                state, actor, cmd, game_id=game_id, station_ids=station_ids
            ),
            CreatedOutcome(tournament_id, game_id),
            idempotency=idempotency,
        )

    async def update_game(
        self,
        tournament_id: str,
        actor: Actor,
        game_id: str,
        cmd: UpdateGame,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        started = self._started(tournament_id, game_id)
        return await self.tournaments.change(
            tournament_id,
            actor,
            lambda state: game_rules.update_game(
                state, actor, game_id, cmd, started=started, new_station_id=lambda: new_id("st", 6)
            ),
            idempotency=idempotency,
        )

    async def remove_game(
        self,
        tournament_id: str,
        actor: Actor,
        game_id: str,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        started = self._started(tournament_id, game_id)
        return await self.tournaments.change(
            tournament_id,
            actor,
            lambda state: game_rules.remove_game(state, actor, game_id, started=started),
            idempotency=idempotency,
        )

    async def withdraw_team(
        self,
        tournament_id: str,
        actor: Actor,
        team_id: str,
        cmd: WithdrawTeam,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        return await self.tournaments.change(
            tournament_id,
            actor,
            lambda state: game_rules.withdraw_team(state, actor, team_id, cmd),
            idempotency=idempotency,
        )

    async def add_bonus(
        self,
        tournament_id: str,
        actor: Actor,
        cmd: AddBonus,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> CreatedOutcome:
        bonus_id = new_id("bn", 8)
        return await self.tournaments.on_tournament(
            tournament_id,
            actor,
            lambda state: game_rules.add_bonus(state, actor, cmd, bonus_id=bonus_id),
            CreatedOutcome(tournament_id, bonus_id),
            idempotency=idempotency,
        )

    async def claim_bonus(
        self,
        tournament_id: str,
        actor: Actor,
        bonus_id: str,
        cmd: ClaimBonus,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> CreatedOutcome:
        claim_id = new_id("cl", 8)
        return await self.tournaments.on_tournament(
            tournament_id,
            actor,
            lambda state: game_rules.claim_bonus(state, actor, bonus_id, cmd, claim_id=claim_id),
            CreatedOutcome(tournament_id, claim_id),
            idempotency=idempotency,
        )

    async def review_claim(
        self,
        tournament_id: str,
        actor: Actor,
        claim_id: str,
        *,
        approve: bool,
        reason: str = "",
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        return await self.tournaments.change(
            tournament_id,
            actor,
            lambda state: game_rules.review_claim(
                state, actor, claim_id, approve=approve, reason=reason
            ),
            idempotency=idempotency,
        )

    async def add_referee(
        self,
        tournament_id: str,
        actor: Actor,
        cmd: AddReferee,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> CredentialOutcome:
        credential_id = new_id("cr", 16)
        outcome = await self.tournaments.on_tournament(
            tournament_id,
            actor,
            lambda state: game_rules.add_referee(
                state, actor, credential_id=credential_id, label=cmd.label
            ),
            CreatedOutcome(tournament_id, credential_id),
            idempotency=idempotency,
        )
        return CredentialOutcome(tournament_id, outcome.id)

    # -- starting a game (game stream) -------------------------------------------------------

    async def start_game(
        self,
        tournament_id: str,
        actor: Actor,
        game_id: str,
        cmd: StartGame,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> ChangeOutcome:
        rng = random.Random(secrets.randbits(64))

        def decide() -> Decision[ChangeOutcome]:
            state = self.catalog.get(tournament_id)
            run = self.play.get(tournament_id).games.get(game_id)
            events = game_rules.start_game(
                state, actor, game_id, cmd, started=run is not None and run.started, rng=rng
            )
            return Decision(
                ChangeOutcome(tournament_id),
                [(game_stream(tournament_id, game_id), events, NO_STREAM)] if events else [],
                scope=tournament_id,
            )

        return await self.runner.run(
            decide=decide,
            outcome_type=ChangeOutcome,
            lock=game_stream(tournament_id, game_id),
            idempotency=idempotency,
            idempotency_scope=tournament_id,
            metadata=metadata_for(actor),
        )

    async def add_round(self, tournament_id: str, game_id: str) -> ChangeOutcome:
        """Pair the next round (Swiss, heats) when the current one is complete."""

        def decide() -> Decision[ChangeOutcome]:
            run = self._run(tournament_id, game_id)
            assert run.plan is not None
            matches = formats.next_round(run.plan, run.outcomes)
            events = [ev.RoundAdded(game_id=game_id, matches=matches)] if matches else []
            return Decision(
                ChangeOutcome(tournament_id),
                [(game_stream(tournament_id, game_id), events, run.version)] if events else [],
                scope=tournament_id,
            )

        return await self.runner.run(
            decide=decide,
            outcome_type=ChangeOutcome,
            lock=game_stream(tournament_id, game_id),
            metadata={"role": "system", "credential": "system"},
        )

    # -- matches (match streams) -------------------------------------------------------------

    async def call_match(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        cmd: CallMatch,
        *,
        auto: bool = False,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        def decide(ctx: MatchContext) -> list[ev.Event]:
            game_rules.require_free_station(
                ctx.state, ctx.play, ctx.run.game_id, cmd.station_id, match
            )
            game_rules.require_teams_free(ctx.play, ctx.resolved.teams, match)
            return lifecycle.call(
                tournament_id, ctx.record, ctx.resolved, actor, cmd.station_id, auto=auto
            )

        return await self._match_command(tournament_id, actor, match, decide, idempotency, if_match)

    async def start_match(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        *,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        def decide(ctx: MatchContext) -> list[ev.Event]:
            if ctx.record.phase == "open":
                game_rules.require_teams_free(ctx.play, ctx.resolved.teams, match)
            return lifecycle.start(tournament_id, ctx.record, ctx.resolved, actor)

        return await self._match_command(tournament_id, actor, match, decide, idempotency, if_match)

    async def report(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        cmd: ReportResult,
        *,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        def decide(ctx: MatchContext) -> list[ev.Event]:
            return lifecycle.submit(
                tournament_id,
                ctx.record,
                ctx.resolved,
                ctx.spec,
                ctx.state.game(ctx.run.game_id),
                actor,
                cmd,
                now=self.clock(),
                timeout_seconds=ctx.state.confirm_timeout_seconds,
            )

        return await self._match_command(tournament_id, actor, match, decide, idempotency, if_match)

    async def confirm(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        *,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        return await self._match_command(
            tournament_id,
            actor,
            match,
            lambda ctx: lifecycle.confirm(tournament_id, ctx.record, ctx.resolved, actor),
            idempotency,
            if_match,
        )

    async def confirm_after_deadline(self, tournament_id: str, match: str) -> MatchOutcome:
        return await self._match_command(
            tournament_id,
            system_actor(tournament_id),
            match,
            lambda ctx: lifecycle.confirm_after_deadline(ctx.record, self.clock()),
            None,
        )

    async def dispute(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        cmd: DisputeResult,
        *,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        return await self._match_command(
            tournament_id,
            actor,
            match,
            lambda ctx: lifecycle.dispute(
                tournament_id, ctx.record, ctx.resolved, actor, cmd.reason
            ),
            idempotency,
            if_match,
        )

    async def resolve_dispute(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        cmd: ResolveDispute,
        *,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        def decide(ctx: MatchContext) -> list[ev.Event]:
            override = None
            if cmd.action == "override" and cmd.result is not None:
                override = self._outcome(ctx, cmd.result)
            return lifecycle.resolve_dispute(
                tournament_id, ctx.record, actor, cmd.action, cmd.reason, override
            )

        return await self._match_command(tournament_id, actor, match, decide, idempotency, if_match)

    async def override(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        cmd: OverrideResult,
        *,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        return await self._match_command(
            tournament_id,
            actor,
            match,
            lambda ctx: lifecycle.set_result(
                tournament_id,
                ctx.record,
                ctx.resolved,
                actor,
                self._outcome(ctx, cmd.result),
                cmd.reason,
            ),
            idempotency,
            if_match,
        )

    async def forfeit(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        cmd: Forfeit,
        *,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        def decide(ctx: MatchContext) -> list[ev.Event]:
            outcome = lifecycle.forfeit_outcome(ctx.spec, ctx.resolved.teams, cmd.teams)
            return lifecycle.set_result(
                tournament_id, ctx.record, ctx.resolved, actor, outcome, cmd.reason
            )

        return await self._match_command(tournament_id, actor, match, decide, idempotency, if_match)

    async def reopen(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        cmd: Reopen,
        *,
        idempotency: IdempotencyKey | None = None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        return await self._match_command(
            tournament_id,
            actor,
            match,
            lambda ctx: lifecycle.reopen(tournament_id, ctx.record, actor, cmd.reason),
            idempotency,
            if_match,
        )

    # -- plumbing ----------------------------------------------------------------------------

    def _run(self, tournament_id: str, game_id: str) -> GameRun:
        state = self.catalog.get(tournament_id)
        state.game(game_id)
        run = self.play.get(tournament_id).games.get(game_id)
        if run is None or not run.started:
            raise NotFound("this game has not started", code="game_not_started")
        return run

    def _started(self, tournament_id: str, game_id: str) -> bool:
        run = self.play.get(tournament_id).games.get(game_id)
        return run is not None and run.started

    def _outcome(self, ctx: MatchContext, result: ReportResult) -> Outcome:
        return lifecycle.outcome_from_report(
            ctx.spec, ctx.resolved.teams, ctx.state.game(ctx.run.game_id), result
        )

    def _context(self, tournament_id: str, match: str) -> MatchContext:
        game_id, spec_id = split_key(match)
        run = self._run(tournament_id, game_id)
        spec = run.specs.get(spec_id)
        if spec is None:
            raise NotFound(f"no match {match!r}", code="match_not_found")
        record = run.records.get(spec_id) or MatchRecord(game_id, spec_id)
        return MatchContext(
            self.catalog.get(tournament_id),
            self.play.get(tournament_id),
            run,
            spec,
            record,
            run.resolved(spec_id),
        )

    async def _match_command(
        self,
        tournament_id: str,
        actor: Actor,
        match: str,
        decide: Callable[[MatchContext], Sequence[ev.Event]],
        idempotency: IdempotencyKey | None,
        if_match: int | None = None,
    ) -> MatchOutcome:
        self._context(tournament_id, match)  # unknown games and matches are 404s up front
        attempts = 0

        def decision() -> Decision[MatchOutcome]:
            nonlocal attempts
            attempts += 1
            ctx = self._context(tournament_id, match)
            check_version(
                ctx.record.version,
                if_match,
                fresh=attempts > 1,
                describe=lambda: Views(ctx.state, ctx.play).match_detail(ctx.run, ctx.spec.id),
                what="match",
            )
            events = list(decide(ctx))
            writes: list[tuple[str, Sequence[ev.Event], int]] = []
            if events:
                stream = lifecycle.stream_id(tournament_id, ctx.run.game_id, ctx.spec.id)
                writes.append((stream, events, ctx.record.version))
                writes.extend(
                    game_rules.dependent_writes(tournament_id, ctx.run, ctx.spec.id, events)
                )
            return Decision(
                MatchOutcome(tournament_id, match, bool(events)), writes, scope=tournament_id
            )

        game_id, spec_id = split_key(match)
        return await self.runner.run(
            decide=decision,
            outcome_type=MatchOutcome,
            lock=lifecycle.stream_id(tournament_id, game_id, spec_id),
            idempotency=idempotency,
            idempotency_scope=tournament_id,
            metadata=metadata_for(actor),
        )
