"""The embedded event store: one SQLite file in WAL mode (``sqlite:///path``).

All writes go through ONE writer thread fed by a queue; it takes every append waiting at that
moment and commits them in one transaction, so concurrent appends share a commit. Reads run on a
small pool of reader threads with their own connections, concurrently with the writer (WAL).
Plain ``sqlite3``: it is the fastest way to drive SQLite from Python.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import os
import queue
import sqlite3
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

import msgspec

from beerolympics.adapters.batching import PendingAppend, encode_json, fail, plan_batch, settle
from beerolympics.ports.eventstore import (
    AppendResult,
    Idempotency,
    RecordedEvent,
    StoredOutcome,
    StoreNotEmpty,
    StoreUnavailable,
    StreamWrite,
    check_restorable,
)

T = TypeVar("T")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    scope TEXT NOT NULL,
    type TEXT NOT NULL,
    data BLOB NOT NULL,
    metadata BLOB NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS events_scope_position ON events (scope, position);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome BLOB NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
"""
_SCHEMA_VERSION: Final = 1
_MAX_BATCH: Final = 256
_PARAMS_PER_QUERY: Final = 400
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_STOP: Final = object()
#: Files that named locks hash onto (see :meth:`SQLiteEventStore.exclusive`).
_LOCK_BUCKETS: Final = 1024
_COLUMNS: Final = "position, stream_id, version, scope, type, data, metadata, recorded_at"
_decode = msgspec.json.Decoder().decode


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _event(row: tuple[Any, ...]) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        stream_id=row[1],
        version=row[2],
        scope=row[3],
        type=row[4],
        data=_decode(row[5]),
        metadata=_decode(row[6]),
        recorded_at=_EPOCH + timedelta(microseconds=row[7]),
    )


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SQLiteEventStore:
    """An :class:`~beerolympics.ports.eventstore.EventStore` in one SQLite file."""

    def __init__(self, path: str | Path, *, readers: int = 4, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._synchronous = synchronous
        try:
            self._writer_conn = self._connect()
            self._migrate(self._writer_conn)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="sqlite-writer", daemon=True)
        self._writer.start()
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-reader")
        self._lock_dir = Path(f"{self.path}-locks")
        self._lock_dir_made = False
        self._bucket_locks: collections.defaultdict[int, asyncio.Lock]
        self._bucket_locks = collections.defaultdict(asyncio.Lock)
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version > _SCHEMA_VERSION:
            raise StoreUnavailable(
                f"database schema {version} is newer than this program ({_SCHEMA_VERSION})"
            )
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    # -- writing -------------------------------------------------------------------------

    async def append(
        self,
        writes: Sequence[StreamWrite],
        *,
        scope: str,
        idempotency: Idempotency | None = None,
    ) -> AppendResult:
        self._check_open()
        future: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        self._queue.put(PendingAppend(writes, scope, idempotency, future))
        return await future

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < _MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._write_batch(batch)  # type: ignore[arg-type]
                    return
                batch.append(item)
            self._write_batch(batch)  # type: ignore[arg-type]

    def _write_batch(self, batch: list[PendingAppend]) -> None:
        conn = self._writer_conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                plan = plan_batch(
                    batch,
                    versions=self._versions(conn, {s for p in batch for s in p.stream_ids()}),
                    stored_outcomes=self._outcomes(conn, batch),
                    last_position=conn.execute(
                        "SELECT coalesce(max(position), 0) FROM events"
                    ).fetchone()[0],
                    now=datetime.now(UTC),
                )
                conn.executemany(
                    f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            r.event.position,
                            r.event.stream_id,
                            r.event.version,
                            r.event.scope,
                            r.event.type,
                            r.data_json,
                            r.metadata_json,
                            _micros(r.event.recorded_at),
                        )
                        for r in plan.rows
                    ],
                )
                conn.executemany(
                    "INSERT INTO idempotency (scope, key, fingerprint, outcome, position)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(i.scope, i.key, i.fingerprint, i.outcome, pos) for i, pos in plan.outcomes],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._on_loops(batch, fail, batch, StoreUnavailable(f"SQLite write failed: {exc}"))
            return
        self._on_loops(batch, settle, batch, plan)

    @staticmethod
    def _on_loops(batch: list[PendingAppend], fn: Callable[..., None], *args: Any) -> None:
        loops = {p.future.get_loop() for p in batch if p.future is not None}
        for loop in loops:
            if not loop.is_closed():
                loop.call_soon_threadsafe(fn, *args)

    @staticmethod
    def _versions(conn: sqlite3.Connection, stream_ids: set[str]) -> dict[str, int]:
        versions: dict[str, int] = {}
        for chunk in _chunks(sorted(stream_ids), _PARAMS_PER_QUERY):
            values = ",".join("(?)" for _ in chunk)
            # max() of one stream alone is read off the end of the (stream_id, version) index;
            # ``GROUP BY stream_id`` would go through every version of each stream.
            rows = conn.execute(
                "SELECT k.column1, (SELECT max(version) FROM events WHERE stream_id = k.column1)"
                f" FROM (VALUES {values}) AS k",
                chunk,
            ).fetchall()
            versions.update((stream, version) for stream, version in rows if version is not None)
        return versions

    @staticmethod
    def _outcomes(
        conn: sqlite3.Connection, batch: list[PendingAppend]
    ) -> dict[tuple[str, str], StoredOutcome]:
        keys = sorted({(p.idempotency.scope, p.idempotency.key) for p in batch if p.idempotency})
        found: dict[tuple[str, str], StoredOutcome] = {}
        for chunk in _chunks(keys, _PARAMS_PER_QUERY // 2):
            values = ",".join("(?, ?)" for _ in chunk)
            # The keys drive the join (CROSS JOIN keeps them the outer loop): one look-up in
            # the primary key each, where ``(scope, key) IN (VALUES …)`` scans the whole table.
            rows = conn.execute(
                "SELECT i.scope, i.key, i.fingerprint, i.outcome, i.position"
                f" FROM (VALUES {values}) AS k CROSS JOIN idempotency AS i"
                " ON i.scope = k.column1 AND i.key = k.column2",
                [part for key in chunk for part in key],
            ).fetchall()
            for scope, key, fingerprint, outcome, position in rows:
                found[(scope, key)] = StoredOutcome(fingerprint, bytes(outcome), position)
        return found

    # -- reading -------------------------------------------------------------------------

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        self._check_open()
        return await asyncio.get_running_loop().run_in_executor(
            self._readers, self._with_reader, fn
        )

    def _with_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            self._reader_conns.append(conn)
        try:
            return fn(conn)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite read failed: {exc}") from exc

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        def run(conn: sqlite3.Connection) -> list[RecordedEvent]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM events WHERE stream_id = ? AND version >= ?"
                " ORDER BY version",
                (stream_id, from_version),
            )
            return [_event(row) for row in rows]

        return await self._read(run)

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, *, scope: str | None = None
    ) -> list[RecordedEvent]:
        def run(conn: sqlite3.Connection) -> list[RecordedEvent]:
            if scope is None:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                    (after_position, max(limit, 0)),
                )
            else:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM events WHERE scope = ? AND position > ?"
                    " ORDER BY position LIMIT ?",
                    (scope, after_position, max(limit, 0)),
                )
            return [_event(row) for row in rows]

        return await self._read(run)

    async def stream_version(self, stream_id: str) -> int:
        def run(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = ?", (stream_id,)
            ).fetchone()
            return int(row[0])

        return await self._read(run)

    async def last_position(self) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0])

        return await self._read(run)

    async def get_outcome(self, scope: str, key: str) -> StoredOutcome | None:
        def run(conn: sqlite3.Connection) -> StoredOutcome | None:
            row = conn.execute(
                "SELECT fingerprint, outcome, position FROM idempotency"
                " WHERE scope = ? AND key = ?",
                (scope, key),
            ).fetchone()
            return None if row is None else StoredOutcome(row[0], bytes(row[1]), row[2])

        return await self._read(run)

    async def restore(self, events: Sequence[RecordedEvent]) -> None:
        check_restorable(events)
        rows = [
            (
                e.position,
                e.stream_id,
                e.version,
                e.scope,
                e.type,
                encode_json(e.data),
                encode_json(e.metadata),
                _micros(e.recorded_at),
            )
            for e in events
        ]

        def run() -> None:
            # A connection of its own: BEGIN IMMEDIATE serialises it with the writer thread.
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                if conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None:
                    conn.execute("ROLLBACK")
                    raise StoreNotEmpty("the store already holds events")
                conn.executemany(
                    f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
                conn.execute("COMMIT")
            finally:
                conn.close()

        self._check_open()
        await asyncio.get_running_loop().run_in_executor(self._readers, run)

    @asynccontextmanager
    async def exclusive(self, *names: str) -> AsyncIterator[None]:
        """A ``flock`` per name's bucket, on a file of ``<database>-locks/``: SQLite serves one
        machine, so the kernel's locks reach every process that shares the database. Each
        block opens its own descriptors, so handles in one process exclude each other as
        processes do; closing them unlocks. Within this handle a bucket is awaited, not
        polled; names that share a bucket (one in :data:`_LOCK_BUCKETS`) just take turns."""
        self._check_open()
        buckets = sorted({zlib.crc32(name.encode()) % _LOCK_BUCKETS for name in names})
        if not self._lock_dir_made:
            self._lock_dir.mkdir(exist_ok=True)
            self._lock_dir_made = True
        async with AsyncExitStack() as held:
            for bucket in buckets:
                await held.enter_async_context(self._bucket_locks[bucket])
                held.callback(os.close, await self._flock(self._lock_dir / str(bucket)))
            yield

    @staticmethod
    async def _flock(path: Path) -> int:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            delay = 0.0005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.02)
        except BaseException:
            os.close(fd)
            raise

    async def ping(self) -> None:
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        await asyncio.to_thread(self._writer.join)
        self._readers.shutdown(wait=True)
        for conn in [*self._reader_conns, self._writer_conn]:
            conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the event store is closed")
