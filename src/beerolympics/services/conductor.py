"""The tournament's automatic steps, driven by events and by the clock.

- a reported result nobody confirmed or disputed counts once its deadline passes;
- a Swiss or heats round that is complete gets the next round paired;
- a ready match of a withdrawn or disqualified team is forfeited;
- a free station of a game with auto-calling gets the longest-waiting ready match whose teams
  are free and rested.

Everything here is a command through the normal services, so it is stored, audited and safe to
run on several instances at once: whoever comes second finds the work done (expected versions).
State lives in the event log only, so a restart resumes every pending deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from beerolympics.domain import formats, stations
from beerolympics.domain import matches as lifecycle
from beerolympics.domain.commands import CallMatch, Forfeit
from beerolympics.domain.errors import DomainError
from beerolympics.domain.events import Event
from beerolympics.ports.eventstore import RecordedEvent
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.play import Play, TournamentPlay
from beerolympics.services.games import GameService
from beerolympics.services.matches import MatchService, system_actor

log = logging.getLogger("beerolympics.conductor")

Clock = Callable[[], dt.datetime]


class Conductor:
    """Runs the automatic steps of every live tournament of this instance."""

    def __init__(
        self,
        games: GameService,
        matches: MatchService,
        catalog: Catalog,
        play: Play,
        clock: Clock | None = None,
        tick: float = 0.5,
    ) -> None:
        self.games = games
        self.matches = matches
        self.catalog = catalog
        self.play = play
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.tick = tick
        self._dirty: set[str] = set()
        self._wakeups: dict[str, dt.datetime] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notice(self, page: Sequence[tuple[Event, RecordedEvent]]) -> None:
        """Projector listener: the tournaments of these events need a look."""
        self._dirty.update(recorded.scope for _, recorded in page if recorded.scope)
        self._changed.set()

    def wake(self) -> None:
        """Look at every tournament now (after the clock jumped, say)."""
        self._dirty.update(self.play.tournaments)
        self._changed.set()

    def start(self) -> None:
        self._dirty.update(self.play.tournaments)
        self._task = asyncio.create_task(self._loop(), name="conductor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: wait_for can swallow this task's cancellation
            # when the event fires at the same moment (and the task would never stop).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick):
                    await self._changed.wait()
            self._changed.clear()
            now = self.clock()
            due = {t for t, at in self._wakeups.items() if at <= now}
            scopes, self._dirty = self._dirty | due, set()
            for tournament_id in scopes:
                self._wakeups.pop(tournament_id, None)
                try:
                    await self.run(tournament_id)
                except Exception:
                    log.exception("automatic steps of %s failed; retrying later", tournament_id)
                    self._wakeups[tournament_id] = now + dt.timedelta(seconds=5)

    async def run(self, tournament_id: str) -> None:
        """Take every automatic step that is due in one tournament now."""
        state = self.catalog.tournaments.get(tournament_id)
        play = self.play.tournaments.get(tournament_id)
        if state is None or play is None or state.status == "finished":
            return
        now = self.clock()
        await self._deadlines(tournament_id, play, now)
        await self._rounds(tournament_id, play)
        await self._forfeits(tournament_id, play)
        wakeup = await self._queue(tournament_id, play, now)
        deadlines = [d for run in play.games.values() for d in run.deadlines.values()]
        upcoming = [t for t in (*deadlines, wakeup) if t is not None]
        if upcoming:
            self._wakeups[tournament_id] = min(upcoming)

    async def _attempt(self, step: str, work: Awaitable[object]) -> None:
        try:
            await work
        except DomainError as exc:
            # Someone (an organizer, another instance) got there first: nothing to do.
            log.debug("%s skipped: %s", step, exc.code)

    async def _deadlines(self, tournament_id: str, play: TournamentPlay, now: dt.datetime) -> None:
        for run in list(play.games.values()):
            for spec_id, deadline in list(run.deadlines.items()):
                if deadline <= now:
                    key = lifecycle.match_key(run.game_id, spec_id)
                    await self._attempt(
                        "deadline", self.matches.confirm_after_deadline(tournament_id, key)
                    )

    async def _rounds(self, tournament_id: str, play: TournamentPlay) -> None:
        for run in list(play.games.values()):
            if (
                run.plan is not None
                and run.resolution is not None
                and run.resolution.complete
                and formats.next_round(run.plan, run.outcomes)
            ):
                await self._attempt("round", self.games.add_round(tournament_id, run.game_id))

    async def _forfeits(self, tournament_id: str, play: TournamentPlay) -> None:
        state = self.catalog.tournaments[tournament_id]
        gone = {t.id for t in state.teams.values() if t.status != "active"}
        if not gone:
            return
        actor = system_actor(tournament_id)
        for run in list(play.games.values()):
            if run.resolution is None:
                continue
            for spec_id, resolved in run.resolution.matches.items():
                record = run.records.get(spec_id)
                absent = [t for t in resolved.teams if t in gone]
                if (
                    resolved.state != "ready"
                    or not absent
                    or run.specs[spec_id].kind != "head_to_head"
                    or (record is not None and record.phase not in ("open", "called"))
                ):
                    continue
                key = lifecycle.match_key(run.game_id, spec_id)
                cmd = Forfeit(teams=absent, reason="withdrawn from the tournament")
                await self._attempt("forfeit", self.matches.forfeit(tournament_id, actor, key, cmd))

    async def _queue(
        self, tournament_id: str, play: TournamentPlay, now: dt.datetime
    ) -> dt.datetime | None:
        state = self.catalog.tournaments[tournament_id]
        free = {
            game.id: [s.id for s in game.stations if (game.id, s.id) not in play.stations]
            for game in state.games.values()
            if game.auto_call
        }
        tables = sum(len(ids) for ids in free.values())
        if not tables:
            return None
        queues = {g: play.games[g].waiting for g, ids in free.items() if ids and g in play.games}
        rest = dt.timedelta(seconds=state.rest_seconds)
        resting = {t: at + rest for t, at in play.last_finished.items() if at + rest > now}
        taking, later = stations.fill(
            queues,
            {game_id: len(ids) for game_id, ids in free.items()},
            without=play.busy.keys() | resting.keys(),
            last_finished=play.last_finished,
            rest=rest,
            now=now,
        )
        actor = system_actor(tournament_id)
        for q in taking:
            await self._attempt(
                "call",
                self.matches.call_match(
                    tournament_id,
                    actor,
                    q.match.key,
                    CallMatch(station_id=free[q.match.game_id].pop(0)),
                    auto=True,
                ),
            )
        if len(taking) == tables:
            return None
        # A table stays free: look again when the first resting team has rested (busy teams
        # come back with a result, which is a look anyway), or a match readied by a clock
        # ahead of this one's is due.
        rested = [at for t, at in resting.items() if t not in play.busy]
        return min([*rested, *later], default=None)
