"""Use cases of matches: call, start, report, confirm, dispute, resolve, override, forfeit,
reopen. Each match has its own stream, so results of concurrent matches never contend; a
command that changes a result also resets or flags the matches that depended on it, in the same
atomic append."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain import games as game_rules
from beerolympics.domain import matches as lifecycle
from beerolympics.domain.commands import (
    CallMatch,
    DisputeResult,
    Forfeit,
    OverrideResult,
    Reopen,
    ReportResult,
    ResolveDispute,
)
from beerolympics.domain.errors import Conflict, NotFound
from beerolympics.domain.formats.base import MatchSpec, Outcome, ResolvedMatch
from beerolympics.domain.identity import Actor
from beerolympics.domain.matches import MatchRecord
from beerolympics.domain.tournament import TournamentState
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.play import GameRun, Play, TournamentPlay
from beerolympics.projections.play_views import Views
from beerolympics.services.games import started_run
from beerolympics.services.runner import CommandRunner, Decision, IdempotencyKey, check_version
from beerolympics.services.tournaments import metadata_for

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


def team_lock(tournament_id: str, team_id: str) -> str:
    """The lock a command holds while it decides on where this team is (calling, starting)."""
    return f"team:{tournament_id}:{team_id}"


def station_lock(tournament_id: str, game_id: str, station_id: str) -> str:
    """The lock a command holds while it decides on who is at this station (calling)."""
    return f"station:{tournament_id}:{game_id}:{station_id}"


class MatchService:
    """Everything done to a match."""

    def __init__(
        self, runner: CommandRunner, catalog: Catalog, play: Play, clock: Clock | None = None
    ) -> None:
        self.runner = runner
        self.catalog = catalog
        self.play = play
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

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

        return await self._match_command(
            tournament_id,
            actor,
            match,
            decide,
            idempotency,
            if_match,
            floor=(station_lock(tournament_id, split_key(match)[0], cmd.station_id),),
        )

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

        return await self._match_command(
            tournament_id, actor, match, decide, idempotency, if_match, floor=()
        )

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

    def _outcome(self, ctx: MatchContext, result: ReportResult) -> Outcome:
        return lifecycle.outcome_from_report(
            ctx.spec, ctx.resolved.teams, ctx.state.game(ctx.run.game_id), result
        )

    def _context(self, tournament_id: str, match: str) -> MatchContext:
        game_id, spec_id = split_key(match)
        run = started_run(self.catalog, self.play, tournament_id, game_id)
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
        *,
        floor: Collection[str] | None = None,
    ) -> MatchOutcome:
        """Decide on one match. ``floor``: the decision also reads where the match's teams
        are, and whatever else of the tournament's floor these lock names stand for (a
        station): it takes turns with every command reading any of them, across instances
        too, while commands about other teams and stations go on side by side."""
        teams = self._context(tournament_id, match).resolved.teams  # 404s up front
        attempts = 0

        def decision() -> Decision[MatchOutcome]:
            nonlocal attempts
            attempts += 1
            ctx = self._context(tournament_id, match)
            if floor is not None and not set(ctx.resolved.teams) <= set(teams):
                # Another result changed who plays this match since its locks were chosen.
                raise Conflict("the match's teams just changed; try again", code="match_changed")
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
        stream = lifecycle.stream_id(tournament_id, game_id, spec_id)
        locks = None if floor is None else [*floor, *(team_lock(tournament_id, t) for t in teams)]
        return await self.runner.run(
            decide=decision,
            outcome_type=MatchOutcome,
            lock=locks or stream,
            exclusive=floor is not None,
            idempotency=idempotency,
            idempotency_scope=tournament_id,
            metadata=metadata_for(actor),
        )
