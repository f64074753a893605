"""The one contract every :class:`~beerolympics.ports.eventstore.EventStore` adapter passes.

Subclass :class:`EventStoreContract` and implement :meth:`EventStoreContract.open_store`, an
async context manager yielding a store over an EMPTY backend. Calling it again inside the first
must give a second, independent handle onto the SAME backend (another connection pool, another
writer) — that is how the suite checks behaviour between processes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from beerolympics.ports.eventstore import (
    ANY_VERSION,
    NO_STREAM,
    EventStore,
    Idempotency,
    IdempotencyKeyReused,
    NewEvent,
    RecordedEvent,
    StoreNotEmpty,
    StoreUnavailable,
    StreamWrite,
    WrongExpectedVersion,
)


def ev(kind: str = "Happened", **data: object) -> NewEvent:
    return NewEvent(kind, data, {"v": 1})


def write(stream: str, *events: NewEvent, expected: int = ANY_VERSION) -> list[StreamWrite]:
    return [StreamWrite(stream, events, expected)]


async def append_retrying(store: EventStore, stream: str, scope: str, n: int) -> int:
    """Append ``n`` events one by one with exact expected versions, retrying conflicts."""
    conflicts = 0
    done = 0
    while done < n:
        version = await store.stream_version(stream)
        try:
            await store.append(write(stream, ev(n=done), expected=version), scope=scope)
        except WrongExpectedVersion:
            conflicts += 1
            await asyncio.sleep(0)
        else:
            done += 1
    return conflicts


def assert_gap_free(events: list[RecordedEvent]) -> None:
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    versions: dict[str, int] = {}
    for event in events:
        versions[event.stream_id] = versions.get(event.stream_id, 0) + 1
        assert event.version == versions[event.stream_id]


class EventStoreContract:
    """Behaviour every event store must show. Subclasses provide :meth:`open_store`."""

    def open_store(self) -> AbstractAsyncContextManager[EventStore]:
        raise NotImplementedError

    @pytest.fixture
    async def store(self) -> AsyncIterator[EventStore]:
        async with self.open_store() as store:
            yield store

    @asynccontextmanager
    async def second_handle(self, store: EventStore) -> AsyncIterator[EventStore]:
        """Another handle on ``store``'s backend; adapters without one share the instance."""
        yield store

    # -- basics --------------------------------------------------------------------------

    async def test_empty_store(self, store: EventStore) -> None:
        assert await store.last_position() == 0
        assert await store.read_all() == []
        assert await store.read_stream("nope") == []
        assert await store.stream_version("nope") == 0
        assert await store.get_outcome("s", "k") is None

    async def test_append_and_read_back(self, store: EventStore) -> None:
        before = datetime.now(UTC) - timedelta(seconds=1)
        data = {"name": "Ünïcødé 🍺", "nested": {"list": [1, 2.5, None, True]}, "n": 2**40}
        result = await store.append(
            [StreamWrite("t-1", [NewEvent("TournamentCreated", data, {"actor": "a"})], NO_STREAM)],
            scope="t1",
        )
        assert (result.first_position, result.last_position) == (1, 1)
        assert result.versions == {"t-1": 1}
        assert result.replayed is None
        [event] = await store.read_stream("t-1")
        assert event.position == 1
        assert event.version == 1
        assert event.stream_id == "t-1"
        assert event.scope == "t1"
        assert event.type == "TournamentCreated"
        assert event.data == data
        assert event.metadata == {"actor": "a"}
        assert event.recorded_at.tzinfo is not None
        assert before <= event.recorded_at <= datetime.now(UTC) + timedelta(seconds=1)
        assert await store.read_all() == [event]
        assert list(result.events) == [event]
        assert await store.last_position() == 1
        assert await store.stream_version("t-1") == 1

    async def test_multi_event_append_gets_consecutive_versions(self, store: EventStore) -> None:
        await store.append(write("s", ev(i=0)), scope="x")
        result = await store.append(write("s", ev(i=1), ev(i=2), ev(i=3), expected=1), scope="x")
        assert (result.first_position, result.last_position) == (2, 4)
        events = await store.read_stream("s")
        assert list(result.events) == events[1:]
        assert [e.version for e in events] == [1, 2, 3, 4]
        assert [e.data["i"] for e in events] == [0, 1, 2, 3]
        assert [e.data["i"] for e in await store.read_stream("s", from_version=3)] == [2, 3]

    async def test_append_to_several_streams_is_atomic(self, store: EventStore) -> None:
        result = await store.append(
            [
                StreamWrite("a", [ev(), ev()], NO_STREAM),
                StreamWrite("b", [ev()], NO_STREAM),
                StreamWrite("a", [ev()], 2),
            ],
            scope="x",
        )
        assert result.versions == {"a": 3, "b": 1}
        assert [e.stream_id for e in await store.read_all()] == ["a", "a", "b", "a"]
        with pytest.raises(WrongExpectedVersion) as info:
            await store.append(
                [StreamWrite("c", [ev()], NO_STREAM), StreamWrite("b", [ev()], NO_STREAM)],
                scope="x",
            )
        assert (info.value.stream_id, info.value.expected, info.value.actual) == ("b", 0, 1)
        assert await store.stream_version("c") == 0
        assert await store.last_position() == 4

    async def test_expected_version_rules(self, store: EventStore) -> None:
        await store.append(write("s", ev(), expected=NO_STREAM), scope="x")
        with pytest.raises(WrongExpectedVersion):
            await store.append(write("s", ev(), expected=NO_STREAM), scope="x")
        with pytest.raises(WrongExpectedVersion) as info:
            await store.append(write("s", ev(), expected=5), scope="x")
        assert info.value.actual == 1
        await store.append(write("s", ev(), expected=1), scope="x")
        await store.append(write("s", ev(), expected=ANY_VERSION), scope="x")
        assert await store.stream_version("s") == 3
        assert [e.version for e in await store.read_stream("s")] == [1, 2, 3]

    async def test_rejected_append_stores_nothing(self, store: EventStore) -> None:
        await store.append(write("s", ev()), scope="x")
        with pytest.raises(WrongExpectedVersion):
            await store.append(write("s", ev(), ev(), expected=0), scope="x")
        with pytest.raises(TypeError):
            await store.append(write("s", NewEvent("Bad", {"when": object()})), scope="x")
        assert await store.last_position() == 1
        assert len(await store.read_all()) == 1
        # The log continues without a hole after the rejections.
        await store.append(write("s", ev()), scope="x")
        assert_gap_free(await store.read_all())

    async def test_read_all_pages_and_scopes(self, store: EventStore) -> None:
        for i in range(10):
            await store.append(write(f"s{i % 3}", ev(i=i)), scope="even" if i % 2 == 0 else "odd")
        assert [e.position for e in await store.read_all(3, 4)] == [4, 5, 6, 7]
        assert [e.position for e in await store.read_all(8, 100)] == [9, 10]
        assert await store.read_all(10) == []
        assert await store.read_all(0, 0) == []
        assert [e.data["i"] for e in await store.read_all(scope="odd")] == [1, 3, 5, 7, 9]
        assert [e.data["i"] for e in await store.read_all(4, 2, scope="even")] == [4, 6]
        assert await store.read_all(scope="nobody") == []

    # -- idempotency -----------------------------------------------------------------------

    async def test_idempotency_key_replays_first_outcome(self, store: EventStore) -> None:
        key = Idempotency("t1", "key-1", "fp-a", b'{"team":"T1"}')
        first = await store.append(write("s", ev(), ev()), scope="t1", idempotency=key)
        assert first.replayed is None
        stored = await store.get_outcome("t1", "key-1")
        assert stored is not None
        assert (stored.fingerprint, stored.outcome, stored.position) == ("fp-a", key.outcome, 2)
        again = Idempotency("t1", "key-1", "fp-a", b"something else")
        second = await store.append(write("s", ev()), scope="t1", idempotency=again)
        assert second.replayed == stored
        assert await store.last_position() == 2
        with pytest.raises(IdempotencyKeyReused):
            await store.append(
                write("s", ev()), scope="t1", idempotency=Idempotency("t1", "key-1", "fp-b", b"")
            )
        assert await store.last_position() == 2
        # Keys are per scope.
        other = await store.append(
            write("s", ev()), scope="t2", idempotency=Idempotency("t2", "key-1", "fp-b", b"2")
        )
        assert other.replayed is None
        assert await store.last_position() == 3

    async def test_failed_append_does_not_use_up_its_key(self, store: EventStore) -> None:
        await store.append(write("s", ev()), scope="x")
        key = Idempotency("x", "k", "fp", b"ok")
        with pytest.raises(WrongExpectedVersion):
            await store.append(write("s", ev(), expected=0), scope="x", idempotency=key)
        assert await store.get_outcome("x", "k") is None
        result = await store.append(write("s", ev(), expected=1), scope="x", idempotency=key)
        assert result.replayed is None

    async def test_key_without_events_is_recorded(self, store: EventStore) -> None:
        key = Idempotency("x", "noop", "fp", b"nothing to do")
        result = await store.append([], scope="x", idempotency=key)
        assert result.replayed is None
        assert (result.first_position, result.last_position) == (0, 0)
        stored = await store.get_outcome("x", "noop")
        assert stored is not None
        assert stored.outcome == b"nothing to do"
        assert (await store.append([], scope="x", idempotency=key)).replayed == stored

    async def test_concurrent_appends_with_one_key_store_it_once(self, store: EventStore) -> None:
        async with self.second_handle(store) as other:

            async def attempt(target: EventStore, i: int) -> bool:
                key = Idempotency("x", "same", "fp", f"outcome {i}".encode())
                result = await target.append(write(f"s{i}", ev()), scope="x", idempotency=key)
                return result.replayed is None

            firsts = await asyncio.gather(*(attempt((store, other)[i % 2], i) for i in range(20)))
        assert firsts.count(True) == 1
        assert await store.last_position() == 1

    # -- concurrency and ordering ----------------------------------------------------------

    async def test_concurrent_writers_on_one_stream(self, store: EventStore) -> None:
        async with self.second_handle(store) as other:
            await asyncio.gather(
                *(append_retrying((store, other)[i % 2], "hot", "x", 5) for i in range(8))
            )
        events = await store.read_all(limit=1000)
        assert len(events) == 40
        assert_gap_free(events)
        assert await store.stream_version("hot") == 40

    async def test_concurrent_writers_on_many_streams(self, store: EventStore) -> None:
        async def writer(target: EventStore, stream: str) -> None:
            for i in range(10):
                await target.append(write(stream, ev(i=i), expected=i), scope="x")

        async with self.second_handle(store) as other:
            await asyncio.gather(*(writer((store, other)[i % 2], f"m{i}") for i in range(20)))
        events = await store.read_all(limit=1000)
        assert len(events) == 200
        assert_gap_free(events)
        for i in range(20):
            assert [e.data["i"] for e in await store.read_stream(f"m{i}")] == list(range(10))

    async def test_readers_never_see_a_gap_while_writers_commit(self, store: EventStore) -> None:
        total = 120
        rng = random.Random(7)

        async def writer(target: EventStore, n: int) -> None:
            for i in range(n):
                events = [ev(i=i)] * rng.randint(1, 3)
                await target.append(write(f"w{rng.randint(0, 9)}", *events), scope="x")

        seen: list[int] = []

        async def reader(target: EventStore, done: asyncio.Event) -> None:
            while True:
                finished = done.is_set()
                batch = await target.read_all(seen[-1] if seen else 0, 50)
                # Every read continues exactly where the last one stopped.
                assert [e.position for e in batch] == list(
                    range(len(seen) + 1, len(seen) + 1 + len(batch))
                )
                seen.extend(e.position for e in batch)
                if finished and not batch:
                    return
                await asyncio.sleep(0)

        async with self.second_handle(store) as other:
            done = asyncio.Event()
            readers = [asyncio.create_task(reader(other, done))]
            await asyncio.gather(*(writer((store, other)[i % 2], total // 6) for i in range(6)))
            done.set()
            await asyncio.gather(*readers)
        assert seen == list(range(1, await store.last_position() + 1))

    # -- named locks -----------------------------------------------------------------------

    async def test_exclusive_blocks_take_turns_across_handles(self, store: EventStore) -> None:
        inside: list[int] = []
        overlaps = 0

        async def hold(target: EventStore, i: int) -> None:
            nonlocal overlaps
            async with target.exclusive("floor:t1"):
                overlaps += bool(inside)
                inside.append(i)
                await asyncio.sleep(0.005)
                inside.remove(i)

        async with self.second_handle(store) as other:
            await asyncio.gather(*(hold((store, other)[i % 2], i) for i in range(8)))
        assert overlaps == 0
        assert inside == []

    async def test_blocks_wait_only_for_the_names_they_share(self, store: EventStore) -> None:
        """A block on several names waits while any of them is held, on this handle or
        another, and blocks on other names go on meanwhile."""
        async with self.second_handle(store) as other:
            entered, leave = asyncio.Event(), asyncio.Event()

            async def holder() -> None:
                async with store.exclusive("team:a", "team:b"):
                    entered.set()
                    await leave.wait()

            async def enter(target: EventStore, *names: str) -> None:
                async with target.exclusive(*names):
                    pass

            holding = asyncio.create_task(holder())
            await entered.wait()
            async with asyncio.timeout(5):
                await enter(store, "team:c", "team:d")
                await enter(other, "team:d", "team:c")
            waiting = [
                asyncio.create_task(enter(store, "team:d", "team:b")),
                asyncio.create_task(enter(other, "team:a")),
            ]
            await asyncio.sleep(0.1)
            assert not any(task.done() for task in waiting)
            leave.set()
            async with asyncio.timeout(5):
                await asyncio.gather(holding, *waiting)

    async def test_a_cancelled_waiter_leaves_the_lock_usable(self, store: EventStore) -> None:
        async with self.second_handle(store) as other:
            entered = asyncio.Event()
            leave = asyncio.Event()

            async def holder() -> None:
                async with store.exclusive("floor:t2"):
                    entered.set()
                    await leave.wait()

            holding = asyncio.create_task(holder())
            await entered.wait()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05), other.exclusive("floor:t2"):
                    pytest.fail("entered a lock another handle holds")
            leave.set()
            await holding
            async with asyncio.timeout(5):
                async with other.exclusive("floor:t2"):
                    pass
                async with store.exclusive("floor:t2"):
                    pass

    async def test_many_names_held_at_once_still_append_and_read(self, store: EventStore) -> None:
        """Blocks on more names than the store has connections all finish: holding locks must
        not starve the appends and reads made inside them."""

        async def hold(i: int) -> None:
            async with store.exclusive(f"floor:many-{i}"):
                await store.read_all(limit=10)
                await store.append(write(f"many-{i}", ev()), scope="x")
                await asyncio.sleep(0.01)

        async with asyncio.timeout(20):
            await asyncio.gather(*(hold(i) for i in range(24)))
        assert await store.last_position() == 24

    # -- export / import -------------------------------------------------------------------

    async def test_restore_keeps_positions_versions_and_times(self, store: EventStore) -> None:
        moment = datetime(2026, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)
        events = [
            RecordedEvent(1, "a", 1, "t", "X", {"k": 1}, {"v": 1}, moment),
            RecordedEvent(2, "b", 1, "t", "Y", {}, {}, moment + timedelta(seconds=1)),
            RecordedEvent(3, "a", 2, "u", "Z", {"k": [1]}, {}, moment + timedelta(seconds=2)),
        ]
        await store.restore(events)
        assert await store.read_all() == events
        assert await store.last_position() == 3
        assert await store.stream_version("a") == 2
        result = await store.append(write("a", ev(), expected=2), scope="t")
        assert result.first_position == 4
        with pytest.raises(StoreNotEmpty):
            await store.restore(events)

    async def test_restore_rejects_a_log_with_holes(self, store: EventStore) -> None:
        moment = datetime.now(UTC)
        gap = [
            RecordedEvent(1, "a", 1, "t", "X", {}, {}, moment),
            RecordedEvent(3, "a", 2, "t", "X", {}, {}, moment),
        ]
        with pytest.raises(ValueError, match="position"):
            await store.restore(gap)
        skipped_version = [
            RecordedEvent(1, "a", 1, "t", "X", {}, {}, moment),
            RecordedEvent(2, "a", 3, "t", "X", {}, {}, moment),
        ]
        with pytest.raises(ValueError, match="version"):
            await store.restore(skipped_version)
        assert await store.last_position() == 0

    # -- lifecycle -------------------------------------------------------------------------

    async def test_ping_and_closed_store(self) -> None:
        async with self.open_store() as store:
            await store.ping()
            await store.close()
            with pytest.raises(StoreUnavailable):
                await store.append(write("s", ev()), scope="x")
            with pytest.raises(StoreUnavailable):
                await store.read_all()
