"""Use cases of games, matches, withdrawals and bonus challenges.

Game configuration lives on the tournament stream; a game's plan on its own stream; each match
on its own stream, so results of concurrent matches never contend. A command that changes a
result also resets or flags the matches that depended on it, in the same atomic append.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Callable

from beerolympics.domain import events as ev
from beerolympics.domain import formats
from beerolympics.domain import games as game_rules
from beerolympics.domain.codes import new_id
from beerolympics.domain.commands import (
    AddBonus,
    AddGame,
    AddReferee,
    ClaimBonus,
    StartGame,
    UpdateGame,
    WithdrawTeam,
)
from beerolympics.domain.errors import NotFound
from beerolympics.domain.identity import Actor
from beerolympics.ports.eventstore import NO_STREAM
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.play import GameRun, Play, game_stream
from beerolympics.services.runner import CommandRunner, Decision, IdempotencyKey
from beerolympics.services.tournaments import (
    ChangeOutcome,
    CreatedOutcome,
    CredentialOutcome,
    TournamentService,
    metadata_for,
)

Clock = Callable[[], dt.datetime]


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
            ratings = self.play.get(tournament_id).ratings.ordinals()
            events = game_rules.start_game(
                state,
                actor,
                game_id,
                cmd,
                started=run is not None and run.started,
                rng=rng,
                ratings=ratings,
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

    # -- plumbing ----------------------------------------------------------------------------

    def _run(self, tournament_id: str, game_id: str) -> GameRun:
        return started_run(self.catalog, self.play, tournament_id, game_id)

    def _started(self, tournament_id: str, game_id: str) -> bool:
        run = self.play.get(tournament_id).games.get(game_id)
        return run is not None and run.started


def started_run(catalog: Catalog, play: Play, tournament_id: str, game_id: str) -> GameRun:
    """The game as played so far; 404 for an unknown tournament or game, or one not started."""
    catalog.get(tournament_id).game(game_id)
    run = play.get(tournament_id).games.get(game_id)
    if run is None or not run.started:
        raise NotFound("this game has not started", code="game_not_started")
    return run
