"""The one contract every job queue adapter passes, with the job system on top of it.

Subclass :class:`JobQueueContract` and implement :meth:`~JobQueueContract.open_queue` (an async
context manager yielding a queue on the backend under test; called again inside the first, a
second handle on the SAME queue, as another process would have) and
:meth:`~JobQueueContract.open_store` (the event store of the same shape). Set ``durable`` to
``False`` for a backend that lives in its process only.

The first half checks the port's own promises (:mod:`beerolympics.ports.jobqueue`); the second
half runs real :class:`~beerolympics.jobs.worker.JobWorker` s and the
:class:`~beerolympics.jobs.supervisor.Supervisor` on the queue and the store and checks what
the job system promises: every job runs at least once, a failed attempt is retried after its
backoff until the job dies, a dead job can be retried, a lost worker's attempt is retried, and
what a job records in the log is recorded exactly once however often it ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

import pytest

from beerolympics.domain import events as ev
from beerolympics.domain.identity import Actor
from beerolympics.domain.jobs import JobState
from beerolympics.jobs.cpu import CpuPool
from beerolympics.jobs.kinds import Backoff, Completion, JobContext, JobKind, JobKinds
from beerolympics.jobs.supervisor import Supervisor
from beerolympics.jobs.worker import JobWorker, message
from beerolympics.ports.eventstore import ANY_VERSION, EventStore
from beerolympics.ports.jobqueue import MAX_MESSAGE_BYTES, Depth, JobQueue
from beerolympics.projections.jobs import Jobs
from beerolympics.projections.projector import Projector
from beerolympics.services.jobs import JobOutcome, JobService
from beerolympics.services.runner import CommandRunner, Decision

#: How long a test waits for something that must happen.
WAIT: float = 10.0
SCOPE = "contract-cup"


class WorkDone(ev.Event, frozen=True):
    """The effect the contract's jobs record: one per job, whatever happens."""

    job_id: str
    attempt: int


async def until(condition: Callable[[], bool | Awaitable[bool]], within: float = WAIT) -> None:
    async with asyncio.timeout(within):
        while True:
            outcome = condition()
            if outcome if isinstance(outcome, bool) else await outcome:
                return
            await asyncio.sleep(0.02)


def record_work(ctx: JobContext) -> Completion:
    """The effect of a contract job. Appended without a version check on its own stream, so
    only the job stream's version keeps a second run from recording it twice."""
    done = WorkDone(job_id=ctx.job.id, attempt=ctx.job.attempt)
    return Completion([(f"effect:{ctx.job.id}", [done], ANY_VERSION)])


@dataclass
class Handler:
    """A job handler whose behaviour the test sets: fail the first ``failures`` calls, block
    while ``gate`` is closed, then record :class:`WorkDone`."""

    failures: int = 0
    gate: asyncio.Event | None = None
    progress: float | None = None
    calls: list[int] = field(default_factory=list)

    async def __call__(self, ctx: JobContext) -> Completion:
        self.calls.append(ctx.job.attempt)
        if self.progress is not None:
            await ctx.progress(self.progress)
        if self.gate is not None:
            await self.gate.wait()
        if len(self.calls) <= self.failures:
            raise RuntimeError(f"failure {len(self.calls)}")
        return record_work(ctx)


class System:
    """The job system of one test: store, projection, service, supervisor, workers."""

    def __init__(self, store: EventStore, queue: JobQueue, kinds: JobKinds) -> None:
        self.store = store
        self.queue = queue
        self.codec = ev.EventCodec()
        self.states = Jobs()
        self.projector = Projector(store, self.codec, [self.states])
        self.runner = CommandRunner(store, self.codec, self.projector)
        self.kinds = kinds
        self.jobs = JobService(self.runner, self.states, queue, kinds)
        self.supervisor = Supervisor(self.states, self.runner, queue, kinds, lost_after=0.5)
        self.workers: list[JobWorker] = []

    def worker(self, name: str) -> JobWorker:
        worker = JobWorker(
            self.store,
            self.codec,
            self.queue,
            self.kinds,
            CpuPool(1),
            heartbeat=0.1,
            appended=self.runner.adopt,
            name=name,
        )
        self.workers.append(worker)
        worker.start()
        return worker

    def state(self, job_id: str) -> JobState:
        return self.states.jobs[job_id]

    async def settled(self, job_id: str, status: str = "succeeded") -> JobState:
        """Wait (looking at the log, and supervising) until the job reaches ``status``."""

        async def reached() -> bool:
            await self.projector.catch_up()
            await self.supervisor.check()
            return self.state(job_id).status == status

        await until(reached)
        return self.state(job_id)

    async def events(self, stream: str) -> list[ev.Event]:
        return [self.codec.decode(r) for r in await self.store.read_stream(stream)]

    async def stop(self) -> None:
        for worker in self.workers:
            await worker.stop(grace=0)
            worker.cpu.close()


class JobQueueContract:
    """Behaviour every job queue shows. Subclasses provide the methods above the line."""

    durable: bool = True

    def open_queue(self) -> AbstractAsyncContextManager[JobQueue]:
        raise NotImplementedError

    def open_store(self) -> AbstractAsyncContextManager[EventStore]:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------

    @pytest.fixture
    async def queue(self) -> AsyncIterator[JobQueue]:
        async with self.open_queue() as queue:
            yield queue

    @asynccontextmanager
    async def system(self, *kinds: JobKind) -> AsyncIterator[System]:
        async with self.open_store() as store, self.open_queue() as queue:
            system = System(store, queue, JobKinds(kinds))
            try:
                yield system
            finally:
                await system.stop()

    # -- the transport -------------------------------------------------------------------

    async def test_ready_messages_come_out_in_order(self, queue: JobQueue) -> None:
        for text in (b"one", b"two", b"three"):
            await queue.push(text)
        assert await queue.depth() == Depth(3, 0)
        assert [await queue.pop(), await queue.pop(), await queue.pop()] == [
            b"one",
            b"two",
            b"three",
        ]
        assert await queue.pop() is None
        assert await queue.depth() == Depth(0, 0)

    async def test_a_waiting_pop_gets_what_another_handle_pushes(self, queue: JobQueue) -> None:
        async with self.open_queue() as other:
            waiting = asyncio.create_task(queue.pop(wait=WAIT))
            await asyncio.sleep(0.1)
            started = time.monotonic()
            await other.push(b"hello")
            assert await waiting == b"hello"
            assert time.monotonic() - started < 1.5

    async def test_pop_gives_up_after_its_wait(self, queue: JobQueue) -> None:
        started = time.monotonic()
        assert await queue.pop(wait=0.3) is None
        assert 0.25 <= time.monotonic() - started < 2.0

    async def test_a_delayed_message_waits_for_its_time(self, queue: JobQueue) -> None:
        due = time.time() + 0.6
        await queue.push(b"later", at=due)
        await queue.push(b"now", at=time.time() - 5)  # a time in the past: ready at once
        assert await queue.depth() == Depth(1, 1)
        assert await queue.pop() == b"now"
        assert await queue.pop() is None
        assert await queue.pop(wait=WAIT) == b"later"
        assert time.time() >= due - 0.05
        assert await queue.depth() == Depth(0, 0)

    async def test_competing_consumers_share_messages_without_duplicates(
        self, queue: JobQueue
    ) -> None:
        sent = [f"m{i}".encode() for i in range(60)]
        async with self.open_queue() as other:
            for body in sent:
                await (queue if len(body) % 2 else other).push(body)
            got: list[bytes] = []

            async def consume(handle: JobQueue) -> None:
                while (body := await handle.pop(wait=0.3)) is not None:
                    got.append(body)

            await asyncio.gather(*(consume(h) for h in (queue, other, queue, other)))
        assert Counter(got) == Counter(sent)

    async def test_a_cancelled_pop_loses_nothing(self, queue: JobQueue) -> None:
        waiting = asyncio.create_task(queue.pop(wait=WAIT))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await queue.push(b"kept")
        assert await queue.pop(wait=3) == b"kept"

    async def test_messages_survive_reopening(self) -> None:
        if not self.durable:
            pytest.skip("this backend lives in its process only")
        async with self.open_queue() as queue:
            await queue.push(b"durable")
            await queue.push(b"delayed", at=time.time() + 0.2)
        async with self.open_queue() as again:
            assert await again.pop() == b"durable"
            assert await again.pop(wait=WAIT) == b"delayed"

    async def test_heartbeats_are_shared_and_forgotten(self, queue: JobQueue) -> None:
        async with self.open_queue() as other:
            await queue.beat("w1", 1000.5)
            await other.beat("w2", 2000.25)
            await queue.beat("w1", 1001.5)
            assert await other.beats() == {"w1": 1001.5, "w2": 2000.25}
            await other.forget("w1")
            await other.forget("never-beat")
            assert await queue.beats() == {"w2": 2000.25}

    async def test_messages_are_checked(self, queue: JobQueue) -> None:
        with pytest.raises(ValueError, match="1 to"):
            await queue.push(b"")
        with pytest.raises(ValueError, match="1 to"):
            await queue.push(b"x" * (MAX_MESSAGE_BYTES + 1))
        with pytest.raises(TypeError):
            await queue.push("text")  # type: ignore[arg-type]
        await queue.ping()

    # -- the job system on top -----------------------------------------------------------

    async def test_a_job_runs_and_records_its_effect_once(self) -> None:
        handler = Handler()
        async with self.system(JobKind("contract.work", handler)) as system:
            system.worker("w1")
            job_id = await system.jobs.enqueue("contract.work", {"n": 1}, scope=SCOPE)
            state = await system.settled(job_id)
            assert state.attempt == 1
            assert handler.calls == [1]
            assert await system.events(f"effect:{job_id}") == [WorkDone(job_id=job_id, attempt=1)]
            kinds = [type(e).__name__ for e in await system.events(state.stream)]
            assert kinds == ["JobQueued", "JobStarted", "JobSucceeded"]
            assert system.states.succeeded["contract.work"] == 1
            assert sum(system.states.wait["contract.work"].counts) == 1
            assert sum(system.states.run["contract.work"].counts) == 1

    async def test_failed_attempts_are_retried_after_their_backoff(self) -> None:
        handler = Handler(failures=2)
        kind = JobKind("contract.flaky", handler, backoff=Backoff(first=0.3, factor=2))
        async with self.system(kind) as system:
            system.worker("w1")
            job_id = await system.jobs.enqueue("contract.flaky", {}, scope=SCOPE)
            state = await system.settled(job_id)
            assert handler.calls == [1, 2, 3]
            assert state.attempt == 3
            recorded = await system.store.read_stream(state.stream)
            failed = [(system.codec.decode(r), r) for r in recorded if r.type == "JobFailed"]
            assert len(failed) == 2
            for (event, at), expected in zip(failed, (0.3, 0.6), strict=True):
                assert isinstance(event, ev.JobFailed)
                assert event.retry_at is not None
                delay = (event.retry_at - at.recorded_at).total_seconds()
                assert expected * 0.75 <= delay <= expected * 1.25
            started = [r.recorded_at for r in recorded if r.type == "JobStarted"]
            for (event, _), next_start in zip(failed, started[1:], strict=True):
                assert isinstance(event, ev.JobFailed)
                assert event.retry_at is not None
                assert next_start >= event.retry_at - dt.timedelta(milliseconds=50)
            assert system.states.failures["contract.flaky"] == 2

    async def test_a_job_out_of_attempts_is_dead_until_retried(self) -> None:
        handler = Handler(failures=2)
        kind = JobKind("contract.doomed", handler, max_attempts=2, backoff=Backoff(first=0.05))
        async with self.system(kind) as system:
            system.worker("w1")
            job_id = await system.jobs.enqueue("contract.doomed", {}, scope=SCOPE)
            state = await system.settled(job_id, "dead")
            assert state.error == "RuntimeError: failure 2"
            assert list(system.states.dead) == [job_id]
            organizer = Actor("organizer", SCOPE, "cr_contract")
            await system.jobs.retry(SCOPE, job_id, organizer)
            state = await system.settled(job_id)
            assert handler.calls == [1, 2, 3]
            assert state.attempt == 3
            assert job_id not in system.states.dead

    async def test_duplicate_messages_and_many_workers_run_an_attempt_once(self) -> None:
        handler = Handler(gate=asyncio.Event())
        async with self.system(JobKind("contract.once", handler)) as system:
            for name in ("w1", "w2", "w3"):
                system.worker(name)
            job_id = await system.jobs.enqueue("contract.once", {}, scope=SCOPE)
            for _ in range(5):
                await system.queue.push(message(job_id, 1))
            await until(lambda: bool(handler.calls))
            await asyncio.sleep(0.3)  # the duplicates reach the other workers meanwhile
            assert handler.gate is not None
            handler.gate.set()
            await system.settled(job_id)
            assert handler.calls == [1]
            assert len(await system.events(f"effect:{job_id}")) == 1

    async def test_a_lost_workers_attempt_is_retried_and_its_late_result_dropped(self) -> None:
        handler = Handler(gate=asyncio.Event())
        kind = JobKind("contract.lost", handler, backoff=Backoff(first=0.05))
        async with self.system(kind) as system:
            doomed = system.worker("doomed")
            job_id = await system.jobs.enqueue("contract.lost", {}, scope=SCOPE)
            await until(lambda: handler.calls == [1])
            # The worker stops beating as a killed one would, its attempt left hanging.
            assert doomed._beater is not None
            assert doomed._consumer is not None
            doomed._beater.cancel()
            doomed._consumer.cancel()
            await system.settled(job_id, "retrying")
            assert system.state(job_id).error.startswith("worker lost")
            system.worker("rescuer")
            assert handler.gate is not None
            handler.gate.set()  # both attempts finish; only the current one may record
            state = await system.settled(job_id)
            await until(lambda: not doomed.attempts)
            assert state.attempt == 2
            assert sorted(handler.calls) == [1, 2]
            assert await system.events(f"effect:{job_id}") == [WorkDone(job_id=job_id, attempt=2)]

    async def test_an_attempt_over_its_time_limit_fails(self) -> None:
        handler = Handler(gate=asyncio.Event())
        kind = JobKind("contract.slow", handler, time_limit=0.3, backoff=Backoff(first=0.05))
        async with self.system(kind) as system:
            system.worker("w1")
            job_id = await system.jobs.enqueue("contract.slow", {}, scope=SCOPE)
            await until(lambda: len(handler.calls) == 2)
            assert handler.gate is not None
            handler.gate.set()
            state = await system.settled(job_id)
            assert state.history[0] == (1, "timed out after 0.3s")
            assert state.attempt == 2

    async def test_a_job_whose_message_was_lost_is_sent_again(self) -> None:
        handler = Handler()
        async with self.system(JobKind("contract.orphan", handler)) as system:
            job_id, write = system.jobs.queue_write("contract.orphan", {})
            # Queued in the log, never dispatched: as if the process died right after.
            await system.runner.run(
                decide=lambda: Decision(JobOutcome(job_id), [write], SCOPE),
                outcome_type=JobOutcome,
                lock=write[0],
            )
            system.worker("w1")
            await system.settled(job_id)
            assert handler.calls == [1]

    async def test_progress_is_recorded(self) -> None:
        handler = Handler(progress=0.5)
        async with self.system(JobKind("contract.progress", handler)) as system:
            system.worker("w1")
            job_id = await system.jobs.enqueue("contract.progress", {}, scope=SCOPE)
            state = await system.settled(job_id)
            events = await system.events(state.stream)
            assert ev.JobProgressed(job_id=job_id, attempt=1, progress=0.5) in events
