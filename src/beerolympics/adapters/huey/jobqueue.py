"""The job queue on huey's storage engines: SQLite (embedded), Redis (scaled), memory (tests).

huey (https://huey.readthedocs.io) keeps a FIFO queue, a schedule of delayed messages that is
popped atomically (a Lua script on Redis, one transaction on SQLite) and a key-value table in
each of its storages; this adapter uses those three through huey's storage API and nothing of
huey's task layer (no pickled tasks, no consumer): messages are our own bytes, and the workers
are ``beerolympics.jobs``. huey's dequeue deletes the message, which is why the port promises
at most once and the job system builds at-least-once on the event log.

huey's storages are synchronous, so every call runs on this adapter's own small thread pool,
never on the event loop. Redis pops block on the server (``BRPOP``, a second at a time) so a
message is taken the moment it is pushed; SQLite and memory are polled every quarter of a
second, and a push made through the same handle wakes its waiting pops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from huey.constants import EmptyData  # type: ignore[import-untyped]
from huey.storage import (  # type: ignore[import-untyped]
    BaseStorage,
    MemoryStorage,
    RedisStorage,
    SqliteStorage,
)

from beerolympics.ports.jobqueue import Depth, JobQueueUnavailable, check_message

T = TypeVar("T")

#: The queue's name inside a backend: several deployments may share one Redis by naming theirs.
DEFAULT_NAME: Final = "beerolympics"
_BEAT: Final = "beat:"
_POLL: Final = 0.25


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)
    with contextlib.suppress(ImportError):
        import redis.exceptions

        errors += (redis.exceptions.RedisError,)
    return errors


def _when(at: float) -> dt.datetime:
    # huey's storages turn a naive datetime back into epoch seconds with time.mktime (local
    # time), so a local naive datetime round-trips exactly in every process.
    return dt.datetime.fromtimestamp(at)


class HueyJobQueue:
    """:class:`~beerolympics.ports.jobqueue.JobQueue` over one huey storage.

    ``blocking`` is a storage of the same queue whose ``dequeue`` waits on the server (Redis);
    without it pops are polled.
    """

    def __init__(self, storage: BaseStorage, *, blocking: BaseStorage | None = None) -> None:
        self._storage = storage
        self._blocking = blocking
        self._threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jobqueue")
        self._errors = _driver_errors()
        self._pushed: asyncio.Event | None = None
        self._closed = False

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise JobQueueUnavailable("the job queue is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._threads, fn, *args)
        except self._errors as exc:
            raise JobQueueUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _wake(self) -> asyncio.Event:
        if self._pushed is None:
            self._pushed = asyncio.Event()
        return self._pushed

    async def push(self, message: bytes, *, at: float | None = None) -> None:
        check_message(message)
        if at is None or at <= time.time():
            await self._call(self._storage.enqueue, message)
        else:
            await self._call(self._storage.add_to_schedule, message, _when(at))
        self._wake().set()

    def _promote_due(self) -> None:
        for message in self._storage.read_schedule(_when(time.time())):
            self._storage.enqueue(message)

    def _take(self, blocking: bool) -> bytes | None:
        self._promote_due()
        storage = self._blocking if blocking and self._blocking is not None else self._storage
        found = storage.dequeue()
        return None if found is None else bytes(found)

    async def pop(self, wait: float = 0.0) -> bytes | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            blocking = self._blocking is not None and deadline - loop.time() >= 1
            message = await self._take_keeping(blocking)
            if message is not None:
                return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            if not blocking:
                pushed = self._wake()
                pushed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(_POLL, remaining)):
                        await pushed.wait()

    async def _take_keeping(self, blocking: bool) -> bytes | None:
        """Take a message on a thread; if the caller is cancelled meanwhile, put back what the
        thread took (a cancelled pop loses nothing)."""
        if self._closed:
            raise JobQueueUnavailable("the job queue is closed")
        future = asyncio.get_running_loop().run_in_executor(self._threads, self._take, blocking)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:

            def put_back(done: asyncio.Future[bytes | None]) -> None:
                if not done.cancelled() and done.exception() is None and done.result():
                    self._threads.submit(self._storage.enqueue, done.result())

            future.add_done_callback(put_back)
            raise
        except self._errors as exc:
            raise JobQueueUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def depth(self) -> Depth:
        def sizes() -> Depth:
            return Depth(self._storage.queue_size(), self._storage.schedule_size())

        return await self._call(sizes)

    async def beat(self, worker: str, at: float) -> None:
        await self._call(self._storage.put_data, _BEAT + worker, repr(float(at)).encode())

    async def beats(self) -> dict[str, float]:
        items: dict[str, Any] = await self._call(self._storage.result_items)
        return {
            key.removeprefix(_BEAT): float(bytes(value))
            for key, value in items.items()
            if key.startswith(_BEAT) and value is not EmptyData
        }

    async def forget(self, worker: str) -> None:
        await self._call(self._storage.pop_data, _BEAT + worker)

    async def ping(self) -> None:
        await self._call(self._storage.queue_size)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A blocking pop on a thread returns within a second.
        await asyncio.get_running_loop().run_in_executor(None, self._threads.shutdown, True)
        with contextlib.suppress(*self._errors):
            self._storage.close()
            pool = getattr(self._storage, "pool", None)
            if pool is not None:
                pool.disconnect()


def memory_job_queue(storage: MemoryStorage | None = None) -> HueyJobQueue:
    """A queue in this process only; pass the storage of another to get a second handle."""
    return HueyJobQueue(storage or MemoryStorage(DEFAULT_NAME))


def sqlite_job_queue(path: Path | str, name: str = DEFAULT_NAME) -> HueyJobQueue:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return HueyJobQueue(SqliteStorage(name, filename=str(path), timeout=10))
    except sqlite3.Error as exc:
        raise JobQueueUnavailable(f"cannot open the job queue at {path}: {exc}") from exc


def redis_job_queue(url: str) -> HueyJobQueue:
    """``redis://host:port/db``; ``?queue=NAME`` names the queue (default ``beerolympics``)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    name = query.pop("queue", DEFAULT_NAME)
    plain = urlunsplit(parts._replace(query=urlencode(query)))
    polled = RedisStorage(name, url=plain, blocking=False)
    blocking = RedisStorage(name, connection_pool=polled.pool, blocking=True, read_timeout=1)
    return HueyJobQueue(polled, blocking=blocking)
