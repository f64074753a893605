"""Job kinds: what a kind of background work is called, does, and how it is retried.

A feature adds background work by declaring a :class:`JobKind` — a name, an async handler and
its retry policy — in the factory :func:`beerolympics.jobs.registry.job_kinds`, which both
``beerolympics serve`` and ``beerolympics worker`` call; then it queues jobs of that kind with
:class:`beerolympics.services.jobs.JobService` (see ``docs/design.md``, "Background jobs").

A handler runs at least once per job and may run again after a crash, so it must be
idempotent. Whatever it changes in the event log it returns as a :class:`Completion`: those
events are appended in one transaction with the job's success, under the job stream's
version, so they happen exactly once however often the handler ran. Side effects outside the
log (a stored file, an HTTP call) may repeat: make them idempotent (content-addressed keys, the
job id as the receiver's idempotency key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from beerolympics.domain.events import Event
from beerolympics.domain.jobs import JobState

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds before retry ``n`` (1, 2, …): ``first × factor^(n-1)``, at most ``cap``."""

    first: float = 2.0
    factor: float = 4.0
    cap: float = 600.0

    def delay(self, failures: int) -> float:
        return min(self.cap, self.first * self.factor ** max(0, failures - 1))


@dataclass(frozen=True, slots=True)
class Completion:
    """Events a run produced, per stream with the version that stream must be at (or
    ``ANY_VERSION``): appended atomically with the job's success, or not at all."""

    writes: Sequence[tuple[str, Sequence[Event], int]] = ()
    scope: str | None = None


class JobContext(Protocol):
    """What a handler gets: the job, and the worker's services for it."""

    @property
    def job(self) -> JobState:
        """The job as it was when this attempt started (``job.attempt`` is this attempt)."""
        ...

    async def cpu(self, fn: Callable[..., T] | str, *args: Any) -> Any:
        """Run ``fn(*args)`` in a worker process (CPU-bound work never runs on the event
        loop); it is killed when the attempt runs out of time. ``fn`` is a module-level
        function, or its name (``"package.module:function"``, so this process need not import
        its module); it and its arguments must be picklable."""
        ...

    async def progress(self, fraction: float) -> None:
        """Report how far the attempt got (0 to 1); stored when it moved by a tenth or more.
        Raises :class:`AttemptLost` when the attempt is no longer the job's (stop working)."""
        ...


Handler = Callable[[JobContext], Awaitable[Completion | None]]


class AttemptLost(Exception):
    """The attempt was taken away (it timed out, its worker was declared lost): its result,
    if any, is not recorded."""


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of background work. ``time_limit`` is per attempt, in seconds; after
    ``max_attempts`` failed attempts a job is dead and waits in the dead-letter list."""

    name: str
    handler: Handler = field(compare=False)
    max_attempts: int = 5
    backoff: Backoff = Backoff()
    time_limit: float = 120.0


class JobKinds(Mapping[str, JobKind]):
    """The kinds a worker can run, by name."""

    def __init__(self, kinds: Iterable[JobKind] = ()) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in kinds:
            self.add(kind)

    def add(self, kind: JobKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is declared twice")
        self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> JobKind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)
