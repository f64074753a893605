from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from beerolympics.adapters.batching import PendingAppend
from beerolympics.adapters.memory.eventstore import MemoryEventStore
from beerolympics.adapters.postgres.eventstore import (
    _READ_STATE,
    PostgresEventStore,
    split_schema,
)
from beerolympics.adapters.sqlite.eventstore import SQLiteEventStore
from beerolympics.ports.eventstore import EventStore, Idempotency, StoreUnavailable
from beerolympics.testing.eventstore_contract import EventStoreContract
from tests.conftest import service_url

T = TypeVar("T")


class TestMemoryEventStore(EventStoreContract):
    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[EventStore]:
        store = MemoryEventStore()
        yield store
        await store.close()


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture(autouse=True)
    def _path(self, tmp_path: Path) -> None:
        self.path = tmp_path / "events.db"

    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[EventStore]:
        store = SQLiteEventStore(self.path)
        yield store
        await store.close()

    @asynccontextmanager
    async def second_handle(self, store: EventStore) -> AsyncIterator[EventStore]:
        other = SQLiteEventStore(self.path)
        yield other
        await other.close()


@pytest.mark.postgres
class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture(autouse=True)
    async def _schema(self) -> AsyncIterator[None]:
        base = service_url("postgres")
        schema = f"test_{uuid.uuid4().hex[:12]}"
        self.url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
        yield
        conn = await asyncpg.connect(split_schema(base)[0])
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[EventStore]:
        store = await PostgresEventStore.open(self.url, min_size=1, max_size=4)
        yield store
        await store.close()

    @asynccontextmanager
    async def second_handle(self, store: EventStore) -> AsyncIterator[EventStore]:
        other = await PostgresEventStore.open(self.url, min_size=1, max_size=4)
        yield other
        await other.close()


async def test_postgres_unreachable_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable):
        await PostgresEventStore.open("postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)


async def test_sqlite_unwritable_path_is_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    with pytest.raises(StoreUnavailable):
        SQLiteEventStore(tmp_path / "db")


def _steps(conn: sqlite3.Connection, read: Callable[[], T]) -> tuple[int, T]:
    """What ``read`` costs on ``conn`` in SQLite's virtual machine steps (hundreds), and its
    result: a count that does not depend on how busy the machine is."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    conn.set_progress_handler(step, 100)
    try:
        result = read()
    finally:
        conn.set_progress_handler(None, 0)
    return steps, result


def test_sqlite_batch_looks_up_only_its_own_idempotency_keys(tmp_path: Path) -> None:
    """A batch finds its keys' stored outcomes through the primary key: the work does not grow
    with the keys stored before (a scan of the table did, and appends with keys slowed down as
    a tournament went on)."""
    path = tmp_path / "events.db"
    SQLiteEventStore(path)  # creates the schema
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)", ("t", "kept", "f", b"{}", 7))
    batch = [
        PendingAppend([], "t", Idempotency("t", key, "f", b"{}")) for key in ("a", "kept", "b")
    ]

    def look_up() -> int:
        steps, found = _steps(conn, lambda: SQLiteEventStore._outcomes(conn, batch))
        assert {key: (o.outcome, o.position) for key, o in found.items()} == {
            ("t", "kept"): (b"{}", 7)
        }
        return steps

    few = look_up()
    conn.executemany(
        "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
        (("t", f"old{i}", "f", b"{}", 1) for i in range(20_000)),
    )
    assert look_up() <= few + 1
    conn.close()


def test_sqlite_batch_reads_a_streams_version_off_its_end(tmp_path: Path) -> None:
    """A batch reads the versions of the streams it writes from the end of each stream: the
    work does not grow with a stream's events (a tournament's own stream grows all party)."""
    path = tmp_path / "events.db"
    SQLiteEventStore(path)  # creates the schema
    conn = sqlite3.connect(path)

    def add(stream: str, versions: range) -> None:
        conn.executemany(
            "INSERT INTO events (stream_id, version, scope, type, data, metadata, recorded_at)"
            " VALUES (?, ?, 't', 'T', '{}', '{}', 0)",
            ((stream, version) for version in versions),
        )

    add("tournament", range(1, 11))
    add("match", range(1, 4))
    few, versions = _steps(
        conn, lambda: SQLiteEventStore._versions(conn, {"tournament", "match", "new"})
    )
    assert versions == {"tournament": 10, "match": 3}
    add("tournament", range(11, 20_001))
    many, versions = _steps(
        conn, lambda: SQLiteEventStore._versions(conn, {"tournament", "match", "new"})
    )
    assert versions == {"tournament": 20_000, "match": 3}
    assert many <= few + 1
    conn.close()


@pytest.mark.postgres
async def test_postgres_batch_reads_a_streams_version_off_its_end() -> None:
    """The batch's one read of the state (last position, versions, stored keys) reads each
    stream's version off the end of its index: the rows it goes through do not grow with a
    stream's events. Counted in the rows PostgreSQL says each step of the plan produced."""
    url = service_url("postgres")
    base, _ = split_schema(url)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    store = await PostgresEventStore.open(f"{url}{'&' if '?' in url else '?'}schema={schema}")
    await store.close()  # the schema is made
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'SET search_path TO "{schema}"')
        await conn.execute(
            "INSERT INTO bo_events SELECT g, 'tournament', g, 't', 'T', '{}', '{}', now()"
            " FROM generate_series(1, 20000) AS g"
        )
        await conn.execute("INSERT INTO bo_idempotency VALUES ('t', 'kept', 'f', '\\x00', 1)")
        await conn.execute("ANALYZE")
        args = (["tournament", "new"], ["t", "t"], ["kept", "other"])
        rows = await conn.fetch(_READ_STATE, *args)
        assert sorted((r[0], r[1], r[3]) for r in rows) == [
            ("k", "t", 1),
            ("p", None, 0),
            ("v", "tournament", 20000),
        ]
        explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {_READ_STATE}", *args)
        [plan] = json.loads(explained)

        def produced(node: dict[str, Any]) -> list[int]:
            mine = node["Actual Rows"] * node["Actual Loops"]
            return [mine, *(n for child in node.get("Plans", ()) for n in produced(child))]

        assert max(produced(plan["Plan"])) <= 10
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
