"""Use cases of background jobs: queue one, send it to the workers, retry a dead one.

A feature queues a job *inside its own command*, so the job exists exactly when the command's
events do (no upload without its processing job, no job for an upload that failed)::

    job_id, write = self.jobs.queue("media.process", {"media_id": media_id}, scope=tid)
    decision = Decision(outcome, [(media_stream, [MediaUploaded(...)], NO_STREAM), write], tid)
    outcome = await self.runner.run(decide=lambda: decision, ...)
    await self.jobs.dispatch(job_id)

``dispatch`` only pushes a message; if that fails (or the process dies first) the supervisor
pushes it again, because the log says the job is queued and no message waits for it.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from beerolympics.domain import jobs as rules
from beerolympics.domain.codes import new_id
from beerolympics.domain.errors import NotFound
from beerolympics.domain.events import Event, JobQueued
from beerolympics.domain.identity import Actor, require_organizer
from beerolympics.domain.jobs import JobState
from beerolympics.jobs.kinds import JobKinds
from beerolympics.jobs.worker import message
from beerolympics.ports.eventstore import NO_STREAM
from beerolympics.ports.jobqueue import JobQueue, JobQueueUnavailable
from beerolympics.projections.jobs import Jobs
from beerolympics.services.runner import CommandRunner, Decision
from beerolympics.services.tournaments import metadata_for

log = logging.getLogger("beerolympics.jobs")

Write = tuple[str, list[Event], int]


class JobOutcome(msgspec.Struct, frozen=True):
    job_id: str


class JobService:
    """Queueing, dispatching and retrying jobs; the dead-letter list of a tournament."""

    def __init__(
        self, runner: CommandRunner, states: Jobs, queue: JobQueue, kinds: JobKinds
    ) -> None:
        self.runner = runner
        self.states = states
        self.queue = queue
        self.kinds = kinds

    def queue_write(
        self, kind: str, payload: dict[str, Any], *, subject: str = "", job_id: str | None = None
    ) -> tuple[str, Write]:
        """A new job of ``kind`` as a write for a command's decision; the job id with it.

        Raises ``KeyError`` for a kind nobody declared (a programming error, not bad input).
        """
        declared = self.kinds[kind]
        job_id = job_id or new_id("jb", 12)
        queued = JobQueued(
            job_id=job_id,
            kind=kind,
            payload=payload,
            max_attempts=declared.max_attempts,
            subject=subject,
        )
        return job_id, (rules.stream_id(job_id), [queued], NO_STREAM)

    async def dispatch(self, *job_ids: str) -> None:
        """Tell the workers about new jobs (their first attempt)."""
        for job_id in job_ids:
            try:
                await self.queue.push(message(job_id, 1))
            except JobQueueUnavailable as exc:
                log.warning("job %s queued, not yet dispatched (%s)", job_id, exc)

    async def enqueue(
        self, kind: str, payload: dict[str, Any], *, scope: str, subject: str = ""
    ) -> str:
        """Queue a job on its own (not part of another command) and dispatch it."""
        job_id, write = self.queue_write(kind, payload, subject=subject)
        await self.runner.run(
            decide=lambda: Decision(JobOutcome(job_id), [write], scope),
            outcome_type=JobOutcome,
            lock=write[0],
            metadata={"role": "system", "credential": "system"},
        )
        await self.dispatch(job_id)
        return job_id

    def get(self, tournament_id: str, job_id: str, actor: Actor) -> JobState:
        require_organizer(actor, tournament_id)
        state = self.states.jobs.get(job_id)
        if state is None or state.scope != tournament_id:
            raise NotFound(f"no job {job_id!r}", code="job_not_found")
        return state

    def of(self, tournament_id: str, actor: Actor) -> list[JobState]:
        """The tournament's jobs, newest first (organizers only)."""
        require_organizer(actor, tournament_id)
        return self.states.of(tournament_id)

    async def retry(self, tournament_id: str, job_id: str, actor: Actor) -> JobState:
        """Send a dead job back to the queue with a fresh set of attempts."""
        state = self.get(tournament_id, job_id, actor)

        def decide() -> Decision[JobOutcome]:
            current = self.states.jobs[job_id]
            return Decision(
                JobOutcome(job_id),
                [(current.stream, [rules.retry(current)], current.version)],
                tournament_id,
            )

        await self.runner.run(
            decide=decide,
            outcome_type=JobOutcome,
            lock=state.stream,
            metadata=metadata_for(actor),
        )
        try:
            await self.queue.push(message(job_id, state.attempt + 1))
        except JobQueueUnavailable as exc:
            log.warning("job %s retried, not yet dispatched (%s)", job_id, exc)
        return self.states.jobs[job_id]
