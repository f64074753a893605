"""The event store port: an append-only log of events in streams, with one global order.

Every adapter (in-memory, SQLite, PostgreSQL) implements :class:`EventStore` with exactly the
semantics stated here, and passes the one contract suite in ``beerolympics.testing``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

#: ``expected_version`` that skips the optimistic-concurrency check for a stream.
ANY_VERSION: Final = -1
#: ``expected_version`` that requires the stream not to exist yet.
NO_STREAM: Final = 0

JSONObject = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended. ``data`` and ``metadata`` must be JSON-serialisable."""

    type: str
    data: JSONObject
    metadata: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored.

    ``position`` is the event's place in the global order (1, 2, 3, …); ``version`` its place in
    its stream (1, 2, 3, …); ``scope`` the partition it belongs to (a tournament), which is what
    live channels and per-tournament reads filter on.
    """

    position: int
    stream_id: str
    version: int
    scope: str
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class StreamWrite:
    """Events for one stream, and the version the stream must be at for them to be appended.

    ``expected_version`` is the stream's current version (its number of events), or
    :data:`NO_STREAM` (the stream must not exist), or :data:`ANY_VERSION` (no check).
    """

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int = ANY_VERSION


@dataclass(frozen=True, slots=True)
class Idempotency:
    """A command's idempotency key, recorded atomically with the events it caused.

    ``fingerprint`` identifies the request (a hash of what was asked), ``outcome`` is what the
    command answered (opaque bytes the service decodes again). Keys are unique per ``scope``.
    """

    scope: str
    key: str
    fingerprint: str
    outcome: bytes


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """The first outcome recorded for an idempotency key."""

    fingerprint: str
    outcome: bytes
    position: int


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append did.

    ``versions`` maps each written stream to its version after the append. ``first_position``
    and ``last_position`` bound the positions given to the new events (both equal the store's
    last position at the time when no event was written); ``events`` are the new events as
    stored. ``replayed`` carries the first outcome when the idempotency key had been used
    before: then nothing was appended.
    """

    first_position: int
    last_position: int
    versions: Mapping[str, int]
    replayed: StoredOutcome | None = None
    events: Sequence[RecordedEvent] = ()


class EventStoreError(Exception):
    """Base of every error an event store raises; adapters translate driver errors into these."""


class WrongExpectedVersion(EventStoreError):
    """A stream was not at the expected version; nothing of the append was stored."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id!r} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(EventStoreError):
    """An idempotency key came back with a different request fingerprint; nothing was stored."""

    def __init__(self, scope: str, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for another request")
        self.scope = scope
        self.key = key


class StoreUnavailable(EventStoreError):
    """The backend could not be reached or failed; the append may be retried."""


class StoreNotEmpty(EventStoreError):
    """:meth:`EventStore.restore` was called on a store that already holds events."""


class EventStore(Protocol):
    """An append-only event log.

    Ordering: every event gets a global ``position``. Positions start at 1 and increase by one
    per event with no gaps, and a reader never sees position ``n`` before every position below
    ``n`` is visible too — also while other processes commit concurrently. So a reader that
    remembers the last position it saw can resume from it and miss nothing.

    Atomicity: one :meth:`append` call stores all its events in all its streams, or none.
    """

    async def append(
        self,
        writes: Sequence[StreamWrite],
        *,
        scope: str,
        idempotency: Idempotency | None = None,
    ) -> AppendResult:
        """Append events to one or more streams atomically, all tagged with ``scope``.

        Raises :class:`WrongExpectedVersion` when a stream's version differs from its write's
        ``expected_version`` (nothing is stored). With ``idempotency``: when the key is new it is
        stored with the events; when the key was used before with the same fingerprint nothing is
        appended and the result carries the first outcome in ``replayed``; with another
        fingerprint :class:`IdempotencyKeyReused` is raised. Concurrent appends with the same key
        store it once. An append with no events at all still records its key.
        """
        ...

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        """Events of one stream with ``version >= from_version``, in version order.

        An unknown stream reads as an empty list.
        """
        ...

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, *, scope: str | None = None
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events with ``position > after_position`` in position order.

        With ``scope`` only that scope's events are returned (still in global order).
        """
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version: its number of events, 0 when it does not exist."""
        ...

    async def last_position(self) -> int:
        """The position of the newest event; 0 for an empty store."""
        ...

    async def get_outcome(self, scope: str, key: str) -> StoredOutcome | None:
        """The outcome first recorded for an idempotency key, or ``None``."""
        ...

    async def restore(self, events: Sequence[RecordedEvent]) -> None:
        """Load exported events into an EMPTY store, keeping positions, versions and times.

        Raises :class:`StoreNotEmpty` when the store has events, and ``ValueError`` when the
        events do not continue the log without gaps (positions 1, 2, … and versions per stream).
        """
        ...

    def exclusive(self, *names: str) -> AbstractAsyncContextManager[None]:
        """Hold the locks ``names`` until the block exits, against every handle on this backend.

        Two processes sharing the backend never run blocks sharing a name at once, so a
        decision that reads state beyond one stream (are these two teams already playing?) can
        catch up with the log inside the block and append knowing nobody else decided on that
        state meanwhile; blocks on disjoint names run side by side. Names are taken in sorted
        order, so blocks never wait on each other in a circle. A waiter that is cancelled gives
        up its place; a crashed holder's locks are released.
        """
        ...

    async def ping(self) -> None:
        """Return when the backend answers; raise :class:`StoreUnavailable` otherwise."""
        ...

    async def close(self) -> None:
        """Release connections and threads. The store is unusable afterwards."""
        ...


def check_restorable(events: Sequence[RecordedEvent], after_position: int = 0) -> None:
    """Raise ``ValueError`` unless ``events`` continue a log at ``after_position`` gap-free."""
    versions: dict[str, int] = {}
    expected_position = after_position
    for event in events:
        expected_position += 1
        if event.position != expected_position:
            raise ValueError(f"expected position {expected_position}, got {event.position}")
        version = versions.get(event.stream_id, 0) + 1
        if event.version != version:
            raise ValueError(
                f"stream {event.stream_id!r}: expected version {version}, got {event.version}"
            )
        versions[event.stream_id] = version
