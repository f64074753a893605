"""An event store held in process memory: for tests and throwaway runs (``memory://``)."""

from __future__ import annotations

import asyncio
import bisect
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

from beerolympics.adapters.batching import PendingAppend, plan_batch
from beerolympics.ports.eventstore import (
    AppendResult,
    EventStoreError,
    Idempotency,
    RecordedEvent,
    StoredOutcome,
    StoreNotEmpty,
    StoreUnavailable,
    StreamWrite,
    check_restorable,
)


class MemoryEventStore:
    """Everything lives in lists and dicts; an append is atomic because nothing in it awaits."""

    def __init__(self) -> None:
        self._events: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._scopes: dict[str, list[RecordedEvent]] = {}
        self._outcomes: dict[tuple[str, str], StoredOutcome] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._closed = False

    @asynccontextmanager
    async def exclusive(self, *names: str) -> AsyncIterator[None]:
        async with AsyncExitStack() as held:
            for name in sorted(set(names)):
                lock = self._locks.get(name)
                if lock is None:
                    lock = self._locks[name] = asyncio.Lock()
                await held.enter_async_context(lock)
            yield

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the event store is closed")

    async def append(
        self,
        writes: Sequence[StreamWrite],
        *,
        scope: str,
        idempotency: Idempotency | None = None,
    ) -> AppendResult:
        self._check_open()
        pending = PendingAppend(writes, scope, idempotency)
        keys = {(idempotency.scope, idempotency.key)} if idempotency else set()
        plan = plan_batch(
            [pending],
            versions={s: len(self._streams.get(s, ())) for s in pending.stream_ids()},
            stored_outcomes={k: self._outcomes[k] for k in keys if k in self._outcomes},
            last_position=len(self._events),
            now=datetime.now(UTC),
        )
        result = plan.results[0]
        if isinstance(result, EventStoreError):
            raise result
        self._add([row.event for row in plan.rows])
        for idem, position in plan.outcomes:
            self._outcomes[(idem.scope, idem.key)] = StoredOutcome(
                idem.fingerprint, idem.outcome, position
            )
        return result

    def _add(self, events: Sequence[RecordedEvent]) -> None:
        for event in events:
            self._events.append(event)
            self._streams.setdefault(event.stream_id, []).append(event)
            self._scopes.setdefault(event.scope, []).append(event)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        self._check_open()
        return self._streams.get(stream_id, [])[max(from_version, 1) - 1 :]

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, *, scope: str | None = None
    ) -> list[RecordedEvent]:
        self._check_open()
        if limit <= 0:
            return []
        if scope is None:
            start = max(after_position, 0)
            return self._events[start : start + limit]
        events = self._scopes.get(scope, [])
        start = bisect.bisect_right(events, after_position, key=lambda e: e.position)
        return events[start : start + limit]

    async def stream_version(self, stream_id: str) -> int:
        self._check_open()
        return len(self._streams.get(stream_id, ()))

    async def last_position(self) -> int:
        self._check_open()
        return len(self._events)

    async def get_outcome(self, scope: str, key: str) -> StoredOutcome | None:
        self._check_open()
        return self._outcomes.get((scope, key))

    async def restore(self, events: Sequence[RecordedEvent]) -> None:
        self._check_open()
        if self._events:
            raise StoreNotEmpty("the store already holds events")
        check_restorable(events)
        self._add(events)

    async def ping(self) -> None:
        self._check_open()

    async def close(self) -> None:
        self._closed = True
