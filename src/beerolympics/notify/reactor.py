"""Turns what the log says into notification jobs: the deliveries events owe, queued.

It listens to the projector: for every event that owes deliveries (see
:mod:`beerolympics.projections.notifications`) it queues those jobs the log does not have
yet, as a command of the system, and tells the workers. Job ids come from the event's
position and the target, so two instances that both see an event queue its jobs once: the
second finds the job streams taken, catches up and finds nothing left to do. At start-up it
looks at the last hour's events too, for deliveries an instance that stopped never queued.
Older ones are not sent: a "you're up" from yesterday helps nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence

import msgspec

from beerolympics.domain.events import Event
from beerolympics.ports.eventstore import RecordedEvent
from beerolympics.projections.jobs import Jobs
from beerolympics.projections.notifications import WINDOW, Notifications, Owed
from beerolympics.services.jobs import JobService
from beerolympics.services.runner import CommandRunner, Decision

log = logging.getLogger("beerolympics.notify")

Clock = Callable[[], dt.datetime]


class Queued(msgspec.Struct, frozen=True):
    jobs: list[str]


class Reactor:
    """Queues the notification jobs events owe (one per instance, started after replay)."""

    def __init__(
        self,
        notifications: Notifications,
        job_states: Jobs,
        jobs: JobService,
        runner: CommandRunner,
        clock: Clock | None = None,
    ) -> None:
        self.notifications = notifications
        self.job_states = job_states
        self.jobs = jobs
        self.runner = runner
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._seen = 0
        self._pending: asyncio.Queue[Owed] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self, position: int) -> None:
        """Queue what the last hour's events before ``position`` still owe, then follow."""
        since = self.clock() - WINDOW
        for owed in self.notifications.after(0):
            if owed.at >= since and owed.position <= position:
                self._pending.put_nowait(owed)
        self._seen = position
        self._task = asyncio.create_task(self._loop(), name="notify-reactor")

    def notice(self, page: Sequence[tuple[Event, RecordedEvent]]) -> None:
        """Projector listener."""
        if self._task is None or not page:
            return
        for owed in self.notifications.after(self._seen):
            self._pending.put_nowait(owed)
        self._seen = max(self._seen, page[-1][1].position)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def idle(self) -> None:
        """Return once everything noticed so far is queued (tests, benchmarks)."""
        await self._pending.join()

    async def _loop(self) -> None:
        while True:
            owed = await self._pending.get()
            try:
                await self.queue(owed)
            except Exception:
                log.exception(
                    "queueing the notifications of event %d failed; retrying", owed.position
                )
                await asyncio.sleep(2.0)
                self._pending.put_nowait(owed)
            finally:
                self._pending.task_done()

    async def queue(self, owed: Owed) -> list[str]:
        """Queue the deliveries ``owed`` that the log does not have yet; their job ids."""
        if all(d.job_id in self.job_states.jobs for d in owed.deliveries):
            return []

        def decide() -> Decision[Queued]:
            missing = [d for d in owed.deliveries if d.job_id not in self.job_states.jobs]
            writes = [
                self.jobs.queue_write(d.kind, d.payload, subject=d.subject, job_id=d.job_id)
                for d in missing
            ]
            return Decision(
                Queued([job_id for job_id, _ in writes]), [w for _, w in writes], owed.tournament_id
            )

        outcome = await self.runner.run(
            decide=decide,
            outcome_type=Queued,
            lock=f"notify:{owed.tournament_id}",
            metadata={"role": "system", "credential": "system"},
        )
        await self.jobs.dispatch(*outcome.jobs)
        return outcome.jobs
