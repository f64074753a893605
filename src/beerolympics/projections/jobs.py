"""The jobs projection: every job's state, the open ones, and the figures ``/metrics`` shows.

Each instance folds the job streams like any other: the supervisor reads the open jobs from
here, the control room the dead-letter list, and ``/metrics`` the counts and the time jobs
waited and ran — all derived from events, so every instance reports the same numbers.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from typing import Final

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain import jobs
from beerolympics.domain.jobs import JobState
from beerolympics.ports.eventstore import RecordedEvent

#: Seconds: a photo waits and runs well under a second, a clip for tens of seconds.
BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Durations:
    """A histogram of seconds in :data:`BUCKETS`, as Prometheus wants it."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, int]]:
        running, out = 0, []
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out


class Jobs:
    """The :class:`~beerolympics.projections.projector.Projection` of job streams."""

    def __init__(self) -> None:
        self.jobs: dict[str, JobState] = {}
        #: Jobs still to finish (queued, running, waiting for a retry), by id.
        self.open: dict[str, JobState] = {}
        #: Dead jobs, by id: the dead-letter list.
        self.dead: dict[str, JobState] = {}
        #: Job ids of each tournament, oldest first.
        self.by_scope: defaultdict[str, list[str]] = defaultdict(list)
        self.succeeded: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        #: From due (queued, retry time) to started; from started to succeeded or failed.
        self.wait: defaultdict[str, Durations] = defaultdict(Durations)
        self.run: defaultdict[str, Durations] = defaultdict(Durations)

    def apply(self, event: ev.Event, recorded: RecordedEvent) -> None:
        if not isinstance(event, jobs.JOB_EVENTS):
            return
        at = recorded.recorded_at
        if isinstance(event, ev.JobQueued):
            state = jobs.queued(event, recorded.scope, at)
            state.position = recorded.position
            self.jobs[state.id] = self.open[state.id] = state
            self.by_scope[recorded.scope].append(state.id)
            return
        found = self.jobs.get(event.job_id)
        if found is None:
            return
        state = found
        if isinstance(event, ev.JobStarted) and state.due_at is not None:
            self.wait[state.kind].observe((at - state.due_at).total_seconds())
        if isinstance(event, ev.JobSucceeded | ev.JobFailed) and state.started_at is not None:
            self.run[state.kind].observe((at - state.started_at).total_seconds())
        jobs.evolve(state, event, at)
        if isinstance(event, ev.JobSucceeded):
            self.succeeded[state.kind] += 1
        elif isinstance(event, ev.JobFailed):
            self.failures[state.kind] += 1
        if state.open:
            self.open[state.id] = state
            self.dead.pop(state.id, None)
        else:
            self.open.pop(state.id, None)
            if state.status == "dead":
                self.dead[state.id] = state

    def of(self, scope: str) -> list[JobState]:
        """The jobs of one tournament, newest first."""
        return [self.jobs[i] for i in reversed(self.by_scope.get(scope, []))]

    def counts(self) -> Counter[tuple[str, str]]:
        """Jobs by (kind, status) for the open and dead ones."""
        found: Counter[tuple[str, str]] = Counter()
        for state in (*self.open.values(), *self.dead.values()):
            found[state.kind, state.status] += 1
        return found


class AttemptError(msgspec.Struct, frozen=True):
    attempt: int
    error: str


class JobView(msgspec.Struct, frozen=True):
    """A job as organizers see it (the control room, ``GET /jobs``)."""

    id: str
    kind: str
    subject: str
    status: str
    attempt: int
    max_attempts: int
    failures: int
    progress: float | None
    error: str
    errors: list[AttemptError]
    queued_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    retry_at: dt.datetime | None


def job_view(state: JobState) -> JobView:
    return JobView(
        id=state.id,
        kind=state.kind,
        subject=state.subject,
        status=state.status,
        attempt=state.attempt,
        max_attempts=state.max_attempts,
        failures=state.failures,
        progress=state.progress,
        error=state.error,
        errors=[AttemptError(a, e) for a, e in state.history],
        queued_at=state.queued_at,
        started_at=state.started_at,
        finished_at=state.finished_at,
        retry_at=state.retry_at,
    )
