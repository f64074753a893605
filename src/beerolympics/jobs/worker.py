"""The job worker: takes messages off the queue and runs the attempts they name.

One worker is one consumer: inside ``beerolympics serve`` (the embedded shape) or as
``beerolympics worker`` (the scaled shape, any number of them). For each message it reads the
job's stream, takes the attempt by appending ``JobStarted`` with the stream's version (a
duplicate message, or a second worker, finds the attempt taken and drops it), runs the kind's
handler with the attempt's time limit, and appends the outcome with the version it holds:
``JobSucceeded`` together with the handler's events, or ``JobFailed`` with the time of the next
attempt, which it pushes to the queue delayed until then. If the supervisor declared the
attempt lost meanwhile, that append fails and the late result is dropped: effects recorded in
the log happen once. While it runs, the worker beats every ``heartbeat`` seconds so the
supervisor can tell a busy worker from a dead one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, TypeVar

import msgspec

from beerolympics.domain import jobs
from beerolympics.domain.events import Event, EventCodec, JobProgressed
from beerolympics.domain.jobs import JobState
from beerolympics.jobs.cpu import CpuPool
from beerolympics.jobs.kinds import AttemptLost, Completion, JobKind, JobKinds
from beerolympics.ports.eventstore import (
    AppendResult,
    EventStore,
    StoreUnavailable,
    StreamWrite,
    WrongExpectedVersion,
)
from beerolympics.ports.jobqueue import JobQueue, JobQueueUnavailable

log = logging.getLogger("beerolympics.jobs")

T = TypeVar("T")
Clock = Callable[[], dt.datetime]
Appended = Callable[[AppendResult], Awaitable[None]]

SYSTEM: Final = {"role": "system", "credential": "system"}


class JobMessage(msgspec.Struct, frozen=True, array_like=True):
    """What travels on the queue: run ``attempt`` of ``job``."""

    job: str
    attempt: int


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(JobMessage).decode


def message(job_id: str, attempt: int) -> bytes:
    return _encode(JobMessage(job_id, attempt))


async def load(store: EventStore, codec: EventCodec, job_id: str) -> JobState | None:
    """A job's current state, read from its stream."""
    recorded = await store.read_stream(jobs.stream_id(job_id))
    if not recorded:
        return None
    return jobs.fold(recorded[0].scope, [(codec.decode(r), r.recorded_at) for r in recorded])


class Attempt:
    """The :class:`~beerolympics.jobs.kinds.JobContext` of one running attempt."""

    def __init__(self, worker: JobWorker, job: JobState, kind: JobKind) -> None:
        self.worker = worker
        self._job = job
        self.kind = kind
        self.reported = 0.0
        self.began = time.monotonic()

    @property
    def job(self) -> JobState:
        return self._job

    async def cpu(self, fn: Callable[..., T] | str, *args: Any) -> Any:
        left = self.kind.time_limit - (time.monotonic() - self.began)
        return await self.worker.cpu.run(fn, *args, limit=max(0.1, left))

    async def progress(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        if fraction - self.reported < 0.1:
            return
        job = self._job
        event = JobProgressed(job_id=job.id, attempt=job.attempt, progress=round(fraction, 3))
        try:
            await self.worker.append(job, [self.write(event)])
        except WrongExpectedVersion as exc:
            raise AttemptLost(f"attempt {job.attempt} of job {job.id} was taken away") from exc
        jobs.evolve(job, event, self.worker.clock())
        self.reported = fraction

    def write(self, event: Event) -> StreamWrite:
        """``event`` on the job's stream, at the version this attempt holds."""
        return self.worker.write(self._job.stream, [event], self._job.version)


class JobWorker:
    """Runs up to ``concurrency`` attempts at once, CPU work in ``cpu``'s processes.

    ``appended`` is called after every append this worker makes (the app applies the events to
    its projections at once; a standalone worker tells the other instances). With ``warm``
    the CPU processes start at once, not with the first task.
    """

    def __init__(
        self,
        store: EventStore,
        codec: EventCodec,
        queue: JobQueue,
        kinds: JobKinds,
        cpu: CpuPool,
        *,
        concurrency: int = 2,
        heartbeat: float = 5.0,
        appended: Appended | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        warm: bool = False,
    ) -> None:
        self.store = store
        self.warm = warm
        self.codec = codec
        self.queue = queue
        self.kinds = kinds
        self.cpu = cpu
        self.concurrency = concurrency
        self.heartbeat = heartbeat
        self.appended = appended
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.id = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.attempts: set[asyncio.Task[None]] = set()
        self._beater: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._warming: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._beater = asyncio.create_task(self._beat(), name="job-beat")
        self._consumer = asyncio.create_task(self._consume(), name="job-consume")
        if self.warm:
            self._warming = asyncio.create_task(self._warm(), name="job-warm")

    async def _warm(self) -> None:
        try:
            await self.cpu.warm()
        except Exception:
            log.exception("starting the CPU processes failed; they start with the first task")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking messages, give running attempts ``grace`` seconds, then cancel them
        (the supervisor retries those once this worker's beat goes stale)."""
        await _cancel(self._consumer)
        if self.attempts:
            await asyncio.wait(list(self.attempts), timeout=grace)
        unfinished = list(self.attempts)
        for task in unfinished:
            await _cancel(task)
        await _cancel(self._beater)
        await _cancel(self._warming)
        self._beater = self._consumer = self._warming = None
        if not unfinished:
            with contextlib.suppress(JobQueueUnavailable):
                await self.queue.forget(self.id)

    async def _beat(self) -> None:
        while True:
            try:
                await self.queue.beat(self.id, time.time())
            except JobQueueUnavailable as exc:
                log.warning("job worker %s could not beat: %s", self.id, exc)
            await asyncio.sleep(self.heartbeat)

    async def _consume(self) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        failures = 0
        while True:
            await slots.acquire()
            try:
                raw = await self.queue.pop(wait=1.0)
            except JobQueueUnavailable as exc:
                slots.release()
                failures += 1
                delay = min(10.0, 0.5 * 2**failures)
                log.warning("job queue unavailable (%s); again in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            except BaseException:
                slots.release()
                raise
            failures = 0
            if raw is None:
                slots.release()
                continue
            task = asyncio.create_task(self._handle(raw))
            self.attempts.add(task)
            task.add_done_callback(self.attempts.discard)
            task.add_done_callback(lambda _: slots.release())

    async def _handle(self, raw: bytes) -> None:
        try:
            found = _decode(raw)
        except msgspec.DecodeError:
            log.warning("dropped a job message that is not ours: %r", raw[:80])
            return
        try:
            await self.run_attempt(found.job, found.attempt)
        except (StoreUnavailable, JobQueueUnavailable) as exc:
            # The supervisor sends the job again once it sees the attempt is lost.
            log.warning("job %s attempt %d: %s", found.job, found.attempt, exc)
        except Exception:
            log.exception("job %s attempt %d: the worker failed", found.job, found.attempt)

    def write(self, stream: str, events: Sequence[Event], expected: int) -> StreamWrite:
        return StreamWrite(stream, [self.codec.encode(e, SYSTEM) for e in events], expected)

    async def append(self, job: JobState, writes: Sequence[StreamWrite]) -> AppendResult:
        result = await self.store.append(writes, scope=job.scope)
        if self.appended is not None:
            await self.appended(result)
        return result

    async def run_attempt(self, job_id: str, attempt: int) -> None:
        """Take and run ``attempt`` of the job, unless it is not that attempt's turn."""
        job = await load(self.store, self.codec, job_id)
        if job is None:
            log.warning("job %s: no such job (message dropped)", job_id)
            return
        kind = self.kinds.get(job.kind)
        if kind is None:
            # A worker of another version may know it: leave the message for one.
            log.warning("job %s: unknown kind %r; back to the queue in 30s", job_id, job.kind)
            await self.queue.push(message(job_id, attempt), at=time.time() + 30)
            return
        now = self.clock()
        started = jobs.start(job, attempt, self.id, now, kind.time_limit)
        if started is None:
            return
        run = Attempt(self, job, kind)
        try:
            await self.append(job, [run.write(started)])
        except WrongExpectedVersion:
            return  # another worker took it first
        jobs.evolve(job, started, now)
        error = await self._run(run)
        if error is not None:
            await self._fail(run, error)

    async def _run(self, run: Attempt) -> str | None:
        """Run the handler; ``None`` when its success was recorded (or the attempt was lost),
        else the error to record."""
        try:
            async with asyncio.timeout(run.kind.time_limit):
                completion = await run.kind.handler(run)
        except AttemptLost as exc:
            log.info("%s", exc)
            return None
        except TimeoutError:
            return f"timed out after {run.kind.time_limit:g}s"
        except Exception as exc:
            log.exception("job %s attempt %d failed", run.job.id, run.job.attempt)
            return f"{type(exc).__name__}: {exc}"
        return await self._succeed(run, completion or Completion())

    async def _succeed(self, run: Attempt, completion: Completion) -> str | None:
        job = run.job
        done = jobs.succeed(job, job.attempt, time.monotonic() - run.began)
        if done is None:
            return None
        writes = [run.write(done)]
        writes += [self.write(stream, events, v) for stream, events, v in completion.writes]
        try:
            result = await self.store.append(writes, scope=completion.scope or job.scope)
        except WrongExpectedVersion as exc:
            if exc.stream_id == job.stream:
                log.info("job %s attempt %d was taken away; result dropped", job.id, job.attempt)
                return None
            return f"conflict: {exc}"
        if self.appended is not None:
            await self.appended(result)
        return None

    async def _fail(self, run: Attempt, error: str) -> None:
        job = run.job
        delay = run.kind.backoff.delay(job.failures + 1) * random.uniform(0.8, 1.2)
        failed = jobs.fail(job, job.attempt, error, self.clock(), delay)
        if failed is None:
            return
        try:
            await self.append(job, [run.write(failed)])
        except WrongExpectedVersion:
            return
        if failed.retry_at is not None:
            at = failed.retry_at.timestamp()
            await self.queue.push(message(job.id, job.attempt + 1), at=at)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
