"""The scaled event store: PostgreSQL through a pooled asyncpg connection set.

How positions stay gap-free while several processes commit at once: every append transaction
first locks the single row of ``bo_position`` (``SELECT … FOR UPDATE``), reads the last position
there, writes its events at the following positions and moves the counter, then commits. The
row lock serialises position assignment *and* commit order across all processes, and PostgreSQL
releases it only after the commit is visible, so a reader can never see position ``n + 1``
before ``n``. A rolled-back transaction leaves the counter untouched, so there are no holes.

Event data is stored as ``json``, not ``jsonb``: the log keeps exactly the text it was given
(key order included) and nothing here queries inside it.

Serialising commits costs throughput, which the writer wins back by batching: each process
has ONE writer task that takes every append waiting at that moment and commits them together.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from beerolympics.adapters.batching import (
    BatchPlan,
    PendingAppend,
    encode_json,
    fail,
    plan_batch,
    settle,
)
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

_MAX_BATCH: Final = 512
_MIGRATION_LOCK: Final = 7_251_042_001
# Named locks for :meth:`PostgresEventStore.exclusive`, apart per schema (one database may hold
# several deployments).
_LOCK: Final = "SELECT pg_advisory_lock(hashtextextended(current_schema() || ':' || $1, 0))"
_UNLOCK_ALL: Final = "SELECT pg_advisory_unlock_all()"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS bo_events (
    position BIGINT PRIMARY KEY,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    scope TEXT NOT NULL,
    type TEXT NOT NULL,
    data JSON NOT NULL,
    metadata JSON NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS bo_events_scope_position ON bo_events (scope, position);
CREATE TABLE IF NOT EXISTS bo_idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome BYTEA NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS bo_position (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL
);
INSERT INTO bo_position (id, last) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
"""
_COLUMNS: Final = "position, stream_id, version, scope, type, data, metadata, recorded_at"
# What a batch needs to know, in one round trip: the last position, the versions of the
# streams it writes and the outcomes already stored for its idempotency keys.
_READ_STATE: Final = """
SELECT 'p', NULL::text, NULL::text, last, NULL::text, NULL::bytea FROM bo_position WHERE id = 1
UNION ALL
SELECT 'v', s, NULL, v, NULL, NULL FROM (
  -- max() of one stream alone is read off the end of the (stream_id, version) index, where
  -- GROUP BY over the streams goes through every version of each (or the whole table).
  SELECT s, (SELECT max(version) FROM bo_events WHERE stream_id = s)::bigint AS v
    FROM unnest($1::text[]) AS s
) AS found WHERE v IS NOT NULL
UNION ALL
SELECT 'k', i.scope, i.key, i.position, i.fingerprint, i.outcome
  FROM bo_idempotency i JOIN unnest($2::text[], $3::text[]) AS k(scope, key)
    ON i.scope = k.scope AND i.key = k.key
"""
# Everything a batch stores, in one statement.
_WRITE: Final = f"""
WITH new_events AS (
    INSERT INTO bo_events ({_COLUMNS})
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::text[],
                         $6::json[], $7::json[], $8::timestamptz[])
), new_outcomes AS (
    INSERT INTO bo_idempotency (scope, key, fingerprint, outcome, position)
    SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::bytea[], $13::bigint[])
)
UPDATE bo_position SET last = $14 WHERE id = 1
"""
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_decode = msgspec.json.Decoder().decode

_DRIVER_ERRORS: Final = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def _event(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        stream_id=row[1],
        version=row[2],
        scope=row[3],
        type=row[4],
        data=_decode(row[5]),
        metadata=_decode(row[6]),
        recorded_at=row[7],
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release hook: this store sets no session state, so there is nothing to reset
    (asyncpg's default reset costs a round trip per released connection)."""


def split_schema(url: str) -> tuple[str, str | None]:
    """Take a ``schema`` query parameter off a PostgreSQL URL: ``(url_without_it, schema)``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid PostgreSQL schema name {schema!r}")
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresEventStore:
    """An :class:`~beerolympics.ports.eventstore.EventStore` on PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # A held lock keeps a pooled connection; the blocks inside still append and read. Two
        # connections always stay free for that, or holders would wait on each other forever.
        self._lock_slots = asyncio.Semaphore(max(1, pool.get_max_size() - 2))
        self._queue: asyncio.Queue[PendingAppend | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    async def open(
        cls, url: str, *, min_size: int = 2, max_size: int = 10, connect_timeout: float = 10.0
    ) -> PostgresEventStore:
        """Connect a pool to ``url`` (an optional ``?schema=name`` selects a schema) and migrate."""
        dsn, schema = split_schema(url)
        settings = {"search_path": schema} if schema else None
        try:
            if schema:
                admin = await asyncpg.connect(dsn, timeout=connect_timeout)
                try:
                    await admin.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                finally:
                    await admin.close()
            pool = await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                timeout=connect_timeout,
                command_timeout=60,
                server_settings=settings,
                reset=_keep_session,
            )
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
                await conn.execute(_SCHEMA)
        except _DRIVER_ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL unavailable: {exc}") from exc
        return cls(pool)

    def pool_stats(self) -> tuple[int, int, int]:
        """``(in_use, size, max_size)`` of the connection pool, for metrics."""
        size = self._pool.get_size()
        return size - self._pool.get_idle_size(), size, self._pool.get_max_size()

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
        self._queue.put_nowait(PendingAppend(writes, scope, idempotency, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="postgres-writer")
        return await future

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < _MAX_BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            try:
                plan = await self._write_batch(batch)
            except _DRIVER_ERRORS as exc:
                fail(batch, StoreUnavailable(f"PostgreSQL write failed: {exc}"))
            except Exception as exc:  # a bug must reach the callers, not kill the writer
                fail(batch, exc)
            else:
                settle(batch, plan)

    async def _write_batch(self, batch: list[PendingAppend]) -> BatchPlan:
        streams = sorted({s for p in batch for s in p.stream_ids()})
        keys = sorted({(p.idempotency.scope, p.idempotency.key) for p in batch if p.idempotency})
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1 FROM bo_position WHERE id = 1 FOR UPDATE")
            # A new statement after the lock: READ COMMITTED gives it a fresh snapshot that
            # includes whatever the previous holder of the lock committed.
            rows = await conn.fetch(
                _READ_STATE, streams, [k[0] for k in keys], [k[1] for k in keys]
            )
            last = 0
            versions: dict[str, int] = {}
            outcomes: dict[tuple[str, str], StoredOutcome] = {}
            for kind, a, b, number, fingerprint, outcome in rows:
                if kind == "p":
                    last = number
                elif kind == "v":
                    versions[a] = number
                else:
                    outcomes[(a, b)] = StoredOutcome(fingerprint, bytes(outcome), number)
            plan = plan_batch(
                batch,
                versions=versions,
                stored_outcomes=outcomes,
                last_position=last,
                now=datetime.now(UTC),
            )
            if plan.rows or plan.outcomes:
                events = [r.event for r in plan.rows]
                await conn.execute(
                    _WRITE,
                    [e.position for e in events],
                    [e.stream_id for e in events],
                    [e.version for e in events],
                    [e.scope for e in events],
                    [e.type for e in events],
                    [r.data_json.decode() for r in plan.rows],
                    [r.metadata_json.decode() for r in plan.rows],
                    [e.recorded_at for e in events],
                    [i.scope for i, _ in plan.outcomes],
                    [i.key for i, _ in plan.outcomes],
                    [i.fingerprint for i, _ in plan.outcomes],
                    [i.outcome for i, _ in plan.outcomes],
                    [pos for _, pos in plan.outcomes],
                    events[-1].position if events else last,
                )
        return plan

    # -- reading -------------------------------------------------------------------------

    async def _fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        self._check_open()
        try:
            async with self._pool.acquire() as conn:
                rows: list[asyncpg.Record] = await conn.fetch(query, *args)
                return rows
        except _DRIVER_ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL read failed: {exc}") from exc

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM bo_events WHERE stream_id = $1 AND version >= $2"
            " ORDER BY version",
            stream_id,
            from_version,
        )
        return [_event(row) for row in rows]

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, *, scope: str | None = None
    ) -> list[RecordedEvent]:
        if scope is None:
            rows = await self._fetch(
                f"SELECT {_COLUMNS} FROM bo_events WHERE position > $1 ORDER BY position LIMIT $2",
                after_position,
                max(limit, 0),
            )
        else:
            rows = await self._fetch(
                f"SELECT {_COLUMNS} FROM bo_events WHERE scope = $1 AND position > $2"
                " ORDER BY position LIMIT $3",
                scope,
                after_position,
                max(limit, 0),
            )
        return [_event(row) for row in rows]

    async def stream_version(self, stream_id: str) -> int:
        rows = await self._fetch(
            "SELECT coalesce(max(version), 0) FROM bo_events WHERE stream_id = $1", stream_id
        )
        return int(rows[0][0])

    async def last_position(self) -> int:
        rows = await self._fetch("SELECT last FROM bo_position WHERE id = 1")
        return int(rows[0][0])

    async def get_outcome(self, scope: str, key: str) -> StoredOutcome | None:
        rows = await self._fetch(
            "SELECT fingerprint, outcome, position FROM bo_idempotency"
            " WHERE scope = $1 AND key = $2",
            scope,
            key,
        )
        return StoredOutcome(rows[0][0], bytes(rows[0][1]), rows[0][2]) if rows else None

    async def restore(self, events: Sequence[RecordedEvent]) -> None:
        self._check_open()
        check_restorable(events)
        records = [
            (
                e.position,
                e.stream_id,
                e.version,
                e.scope,
                e.type,
                encode_json(e.data).decode(),
                encode_json(e.metadata).decode(),
                e.recorded_at,
            )
            for e in events
        ]
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                last = await conn.fetchval("SELECT last FROM bo_position WHERE id = 1 FOR UPDATE")
                if last or await conn.fetchval("SELECT EXISTS (SELECT 1 FROM bo_events)"):
                    raise StoreNotEmpty("the store already holds events")
                await conn.executemany(
                    f"INSERT INTO bo_events ({_COLUMNS})"
                    " VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8)",
                    records,
                )
                if records:
                    await conn.execute(
                        "UPDATE bo_position SET last = $1 WHERE id = 1", records[-1][0]
                    )
        except _DRIVER_ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL restore failed: {exc}") from exc

    @asynccontextmanager
    async def exclusive(self, *names: str) -> AsyncIterator[None]:
        """Session advisory locks, taken in sorted order on one connection of the pool and
        held for the block: PostgreSQL queues the waiters and frees the locks when a holder's
        connection dies. At most the pool's size less two blocks hold locks at once (the rest
        wait their turn here)."""
        self._check_open()
        async with self._lock_slots, self._locked(sorted(set(names))):
            yield

    @asynccontextmanager
    async def _locked(self, names: list[str]) -> AsyncIterator[None]:
        try:
            conn = await self._pool.acquire()
        except _DRIVER_ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL unavailable: {exc}") from exc
        try:
            for name in names:
                await conn.execute(_LOCK, name)
        except BaseException as exc:
            # Failed or cancelled while waiting: a lock may have been granted just before, so
            # end the session, which releases whatever it holds.
            await self._drop(conn)
            if isinstance(exc, _DRIVER_ERRORS):
                raise StoreUnavailable(f"PostgreSQL unavailable: {exc}") from exc
            raise
        try:
            yield
        finally:
            try:
                await conn.execute(_UNLOCK_ALL)
            except BaseException as exc:
                await self._drop(conn)
                if not isinstance(exc, _DRIVER_ERRORS):
                    raise
            else:
                await self._pool.release(conn)

    async def _drop(self, conn: PoolConnectionProxy) -> None:
        conn.terminate()
        await self._pool.release(conn)

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None and not self._writer.done():
            # Appends already queued are still written; the writer stops at the marker.
            self._queue.put_nowait(None)
            await self._writer
        await self._pool.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the event store is closed")
