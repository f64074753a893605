from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from huey.storage import MemoryStorage  # type: ignore[import-untyped]
from redis.asyncio import Redis

from beerolympics.adapters.huey.jobqueue import (
    memory_job_queue,
    redis_job_queue,
    sqlite_job_queue,
)
from beerolympics.adapters.memory.eventstore import MemoryEventStore
from beerolympics.adapters.postgres.eventstore import PostgresEventStore, split_schema
from beerolympics.adapters.sqlite.eventstore import SQLiteEventStore
from beerolympics.ports.eventstore import EventStore
from beerolympics.ports.jobqueue import JobQueue
from beerolympics.testing.jobqueue_contract import JobQueueContract
from tests.conftest import service_url


class TestMemoryJobQueue(JobQueueContract):
    durable = False

    @pytest.fixture(autouse=True)
    def _storage(self) -> None:
        self.storage = MemoryStorage("contract")
        self.store = MemoryEventStore()

    @asynccontextmanager
    async def open_queue(self) -> AsyncIterator[JobQueue]:
        queue = memory_job_queue(self.storage)
        yield queue
        await queue.close()

    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[EventStore]:
        yield self.store


class TestSQLiteJobQueue(JobQueueContract):
    """The embedded shape: huey's SQLite storage beside the SQLite event store."""

    @pytest.fixture(autouse=True)
    def _paths(self, tmp_path: Path) -> None:
        self.path = tmp_path / "jobs.db"
        self.events = tmp_path / "events.db"

    @asynccontextmanager
    async def open_queue(self) -> AsyncIterator[JobQueue]:
        queue = sqlite_job_queue(self.path)
        yield queue
        await queue.close()

    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[EventStore]:
        store = SQLiteEventStore(self.events)
        yield store
        await store.close()


@pytest.mark.redis
@pytest.mark.postgres
class TestRedisJobQueue(JobQueueContract):
    """The scaled shape: huey's Redis storage beside the PostgreSQL event store."""

    @pytest.fixture(autouse=True)
    async def _backends(self) -> AsyncIterator[None]:
        name = f"bo_test_{uuid.uuid4().hex[:12]}"
        self.url = f"{service_url('redis')}?queue={name}"
        base = service_url("postgres")
        schema = f"test_{uuid.uuid4().hex[:12]}"
        self.database = f"{base}{'&' if '?' in base else '?'}schema={schema}"
        yield
        admin = Redis.from_url(service_url("redis"))
        try:
            await admin.delete(
                *(f"huey.{part}.{name}" for part in ("redis", "schedule", "results"))
            )
        finally:
            await admin.aclose()
        conn = await asyncpg.connect(split_schema(base)[0])
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    @asynccontextmanager
    async def open_queue(self) -> AsyncIterator[JobQueue]:
        queue = redis_job_queue(self.url)
        yield queue
        await queue.close()

    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[EventStore]:
        store = await PostgresEventStore.open(self.database)
        yield store
        await store.close()
