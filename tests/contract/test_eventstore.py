from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from beerolympics.adapters.batching import PendingAppend
from beerolympics.adapters.memory.eventstore import MemoryEventStore
from beerolympics.adapters.postgres.eventstore import PostgresEventStore, split_schema
from beerolympics.adapters.sqlite.eventstore import SQLiteEventStore
from beerolympics.ports.eventstore import EventStore, Idempotency, StoreUnavailable
from beerolympics.testing.eventstore_contract import EventStoreContract
from tests.conftest import service_url


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


def test_sqlite_batch_looks_up_only_its_own_idempotency_keys(tmp_path: Path) -> None:
    """A batch finds its keys' stored outcomes through the primary key: the work does not grow
    with the keys stored before (a scan of the table did, and appends with keys slowed down as
    a tournament went on). Counted in SQLite's virtual machine steps, not in time."""
    path = tmp_path / "events.db"
    SQLiteEventStore(path)  # creates the schema
    conn = sqlite3.connect(path)
    stored = ("t", "kept", "f", b'{"ok": true}', 7)
    conn.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)", stored)
    batch = [
        PendingAppend([], "t", Idempotency("t", key, "f", b"{}")) for key in ("a", "kept", "b")
    ]

    def look_up() -> int:
        steps = 0

        def step() -> int:
            nonlocal steps
            steps += 1
            return 0  # go on

        conn.set_progress_handler(step, 100)
        found = SQLiteEventStore._outcomes(conn, batch)
        conn.set_progress_handler(None, 0)
        assert {key: (o.outcome, o.position) for key, o in found.items()} == {
            ("t", "kept"): (b'{"ok": true}', 7)
        }
        return steps

    few = look_up()
    conn.executemany(
        "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
        (("t", f"old{i}", "f", b"{}", 1) for i in range(20_000)),
    )
    assert look_up() <= few + 1
    conn.close()
