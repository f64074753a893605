"""Background jobs as the event log sees them: a job's life and the rules that move it on.

A job lives on its own stream (``job:<id>``): queued, then started, failed and started again,
until it succeeds or runs out of attempts (dead). Every move is decided here, against the job's
folded state, and appended with the stream's version, so two workers (or a worker and the
supervisor) can never both move the same job: the second append fails and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from beerolympics.domain import events as ev
from beerolympics.domain.errors import Conflict

JobStatus = Literal["queued", "running", "retrying", "succeeded", "dead"]
OPEN: Final = ("queued", "running", "retrying")
JOB_EVENTS: Final = (
    ev.JobQueued,
    ev.JobStarted,
    ev.JobProgressed,
    ev.JobSucceeded,
    ev.JobFailed,
    ev.JobRetried,
)


def stream_id(job_id: str) -> str:
    return f"job:{job_id}"


@dataclass(slots=True)
class JobState:
    """A job folded from its stream. ``attempt`` is the last attempt started (0: none yet);
    ``failures`` counts failed attempts since it was queued or last retried by hand."""

    id: str
    kind: str
    scope: str
    payload: dict[str, Any]
    max_attempts: int
    subject: str = ""
    status: JobStatus = "queued"
    attempt: int = 0
    failures: int = 0
    worker: str = ""
    deadline: dt.datetime | None = None
    retry_at: dt.datetime | None = None
    progress: float | None = None
    error: str = ""
    queued_at: dt.datetime | None = None
    #: When the job last became due: queued, its retry time, or a manual retry.
    due_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    version: int = 0
    #: (attempt, error) of every failed attempt.
    history: list[tuple[int, str]] = field(default_factory=list)
    #: Where the job was queued in the log (lists page by it).
    position: int = 0

    @property
    def stream(self) -> str:
        return stream_id(self.id)

    @property
    def open(self) -> bool:
        return self.status in OPEN


def queued(event: ev.JobQueued, scope: str, at: dt.datetime) -> JobState:
    return JobState(
        id=event.job_id,
        kind=event.kind,
        scope=scope,
        payload=dict(event.payload),
        max_attempts=event.max_attempts,
        subject=event.subject,
        queued_at=at,
        due_at=at,
        version=1,
    )


def evolve(state: JobState, event: ev.Event, at: dt.datetime) -> None:
    """Fold one event of the job's stream into ``state`` (in place)."""
    if isinstance(event, ev.JobStarted):
        state.status = "running"
        state.attempt = event.attempt
        state.worker = event.worker
        state.deadline = event.deadline
        state.started_at = at
        state.progress = None
    elif isinstance(event, ev.JobProgressed):
        state.progress = event.progress
    elif isinstance(event, ev.JobSucceeded):
        state.status = "succeeded"
        state.progress = 1.0
        state.finished_at = at
        state.error = ""
    elif isinstance(event, ev.JobFailed):
        state.failures += 1
        state.error = event.error
        state.retry_at = event.retry_at
        state.finished_at = at
        state.status = "retrying" if event.retry_at is not None else "dead"
        state.due_at = event.retry_at
        state.history.append((event.attempt, event.error))
    elif isinstance(event, ev.JobRetried):
        state.status = "queued"
        state.failures = 0
        state.retry_at = None
        state.due_at = at
    state.version += 1


def fold(scope: str, recorded: list[tuple[ev.Event, dt.datetime]]) -> JobState | None:
    """The state of a job from its stream's events with their times; ``None`` for no job."""
    state: JobState | None = None
    for event, at in recorded:
        if isinstance(event, ev.JobQueued):
            state = queued(event, scope, at)
        elif state is not None:
            evolve(state, event, at)
    return state


# -- decisions ------------------------------------------------------------------------------


def start(
    state: JobState, attempt: int, worker: str, now: dt.datetime, time_limit: float
) -> ev.JobStarted | None:
    """Take ``attempt`` of the job, or nothing: it is done, dead, already taken, or this is a
    message for another attempt (a duplicate, or one the supervisor sent again)."""
    if state.status not in ("queued", "retrying") or attempt != state.attempt + 1:
        return None
    deadline = now + dt.timedelta(seconds=time_limit)
    return ev.JobStarted(job_id=state.id, attempt=attempt, worker=worker, deadline=deadline)


def running(state: JobState, attempt: int) -> bool:
    """Whether ``attempt`` is the job's current run (and may report on it)."""
    return state.status == "running" and state.attempt == attempt


def succeed(state: JobState, attempt: int, seconds: float) -> ev.JobSucceeded | None:
    if not running(state, attempt):
        return None
    return ev.JobSucceeded(job_id=state.id, attempt=attempt, seconds=round(seconds, 6))


def fail(
    state: JobState, attempt: int, error: str, now: dt.datetime, delay: float
) -> ev.JobFailed | None:
    """The attempt failed: run again after ``delay`` seconds, or die when it was the last."""
    if not running(state, attempt):
        return None
    last = state.failures + 1 >= state.max_attempts
    retry_at = None if last else now + dt.timedelta(seconds=delay)
    return ev.JobFailed(job_id=state.id, attempt=attempt, error=error[:500], retry_at=retry_at)


def lost(state: JobState, now: dt.datetime, beat: float | None, lost_after: float) -> str | None:
    """Why the running attempt is lost — its deadline passed, or its worker stopped beating
    for ``lost_after`` seconds (``beat``: its last, as epoch seconds) — or ``None``."""
    if state.status != "running" or state.deadline is None or state.started_at is None:
        return None
    if now > state.deadline:
        return "timed out: no result by its deadline"
    since = beat if beat is not None else state.started_at.timestamp()
    if now.timestamp() - since > lost_after:
        return f"worker lost: {state.worker} stopped answering"
    return None


def retry(state: JobState) -> ev.JobRetried:
    """Send a dead job back to the queue (an organizer's decision)."""
    if state.status != "dead":
        raise Conflict("only a job in the dead-letter list can be retried", code="job_not_dead")
    return ev.JobRetried(job_id=state.id)
