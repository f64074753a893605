"""The supervisor: at-least-once delivery, from the event log.

The queue may lose a message (a worker popped it and died; a dispatch failed) and a worker may
die mid-attempt. The log cannot lose anything, so every app instance looks, once a ``tick``:

- a *running* attempt whose deadline passed, or whose worker has not beaten for ``lost_after``
  seconds, is failed ("worker lost") and its next attempt is pushed, delayed by the backoff —
  the same path as any failure, so a job a crashing file kills every time ends up dead, not in
  a loop;
- a *queued* job, or one whose retry time has come, that has waited ``lost_after`` seconds
  while no message is ready on the queue has lost its message: it is pushed again.

Several instances may do this at once: failing an attempt is an append with the job stream's
version (the second finds it done), and a message pushed twice starts the attempt once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence

from beerolympics.domain import jobs as rules
from beerolympics.domain.events import Event, JobFailed
from beerolympics.jobs.kinds import Backoff, JobKinds
from beerolympics.jobs.worker import message
from beerolympics.ports.eventstore import StoreUnavailable
from beerolympics.ports.jobqueue import Depth, JobQueue, JobQueueUnavailable
from beerolympics.projections.jobs import Jobs
from beerolympics.services.jobs import JobOutcome
from beerolympics.services.runner import CommandRunner, Decision

log = logging.getLogger("beerolympics.jobs")

Clock = Callable[[], dt.datetime]


class Supervisor:
    """Retries lost attempts and re-sends lost messages of the jobs in ``states``."""

    def __init__(
        self,
        states: Jobs,
        runner: CommandRunner,
        queue: JobQueue,
        kinds: JobKinds,
        *,
        lost_after: float = 30.0,
        tick: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        self.states = states
        self.runner = runner
        self.queue = queue
        self.kinds = kinds
        self.lost_after = lost_after
        self.tick = tick
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        #: What the queue held at the last look (``/metrics`` shows it).
        self.depth = Depth(0, 0)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="job-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            try:
                await self.check()
            except (JobQueueUnavailable, StoreUnavailable) as exc:
                log.warning("job supervisor: %s", exc)
            except Exception:
                log.exception("job supervisor failed; will look again")

    async def check(self) -> None:
        """One look at every open job."""
        now = self.clock()
        running = [s for s in self.states.open.values() if s.status == "running"]
        beats = await self.queue.beats() if running else {}
        for state in running:
            reason = rules.lost(state, now, beats.get(state.worker), self.lost_after)
            if reason is not None:
                await self._give_up(state.id, state.attempt, reason)
        self.depth = await self.queue.depth()
        if self.depth.ready:
            return
        overdue = now - dt.timedelta(seconds=self.lost_after)
        for state in list(self.states.open.values()):
            waiting = state.status in ("queued", "retrying")
            if waiting and state.due_at is not None and state.due_at <= overdue:
                log.info("job %s: its message was lost; sent again", state.id)
                await self.queue.push(message(state.id, state.attempt + 1))

    async def _give_up(self, job_id: str, attempt: int, reason: str) -> None:
        failed: list[JobFailed] = []

        def decide() -> Decision[JobOutcome]:
            state = self.states.jobs[job_id]
            kind = self.kinds.get(state.kind)
            backoff = kind.backoff if kind is not None else Backoff()
            delay = backoff.delay(state.failures + 1) * random.uniform(0.8, 1.2)
            event = rules.fail(state, attempt, reason, self.clock(), delay)
            failed[:] = [event] if event is not None else []
            writes: list[tuple[str, Sequence[Event], int]] = []
            if failed:
                writes.append((state.stream, list(failed), state.version))
            return Decision(JobOutcome(job_id), writes, state.scope)

        await self.runner.run(
            decide=decide,
            outcome_type=JobOutcome,
            lock=rules.stream_id(job_id),
            metadata={"role": "system", "credential": "system"},
        )
        if failed:
            log.warning("job %s attempt %d: %s", job_id, attempt, reason)
            if failed[0].retry_at is not None:
                at = failed[0].retry_at.timestamp()
                await self.queue.push(message(job_id, attempt + 1), at=at)
