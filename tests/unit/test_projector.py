"""The projector's catch-up: callers waiting together share one read of the log, and none
returns before what was stored ahead of its call is applied."""

from __future__ import annotations

import asyncio

from beerolympics.adapters.memory.eventstore import MemoryEventStore
from beerolympics.domain.events import Event, EventCodec, TournamentUpdated
from beerolympics.ports.eventstore import ANY_VERSION, RecordedEvent, StreamWrite
from beerolympics.projections.projector import Projector


class CountedReads(MemoryEventStore):
    """The memory store, counting reads of the whole log; each read lets the loop run once
    before it is answered, as a read from a database would."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        self.reads += 1
        await asyncio.sleep(0)
        return await super().read_all(after_position, limit)


class Positions:
    def __init__(self) -> None:
        self.seen: list[int] = []

    def apply(self, event: Event, recorded: RecordedEvent) -> None:
        self.seen.append(recorded.position)


async def store_one(store: CountedReads, codec: EventCodec, i: int) -> int:
    new = codec.encode(TournamentUpdated(venue=f"Table {i}"))
    result = await store.append([StreamWrite("tournament:t", [new], ANY_VERSION)], scope="t")
    return result.last_position


async def test_callers_waiting_together_share_a_read_and_see_what_came_before() -> None:
    store, codec, positions = CountedReads(), EventCodec(), Positions()
    projector = Projector(store, codec, [positions])
    for i in range(3):
        await store_one(store, codec, i)

    async def catch_up_after_storing(i: int) -> tuple[int, int]:
        stored = await store_one(store, codec, i)
        return stored, await projector.catch_up()

    reached = await asyncio.gather(*(catch_up_after_storing(i) for i in range(3, 40)))
    # Each caller returned with its own event applied, and every event was applied once.
    assert all(position >= stored for stored, position in reached)
    assert positions.seen == list(range(1, 41))
    # 37 callers: far fewer reads than callers (a caller shares a read begun after it came).
    assert store.reads < 10


async def test_a_read_begun_before_the_call_does_not_count_for_it() -> None:
    store, codec, positions = CountedReads(), EventCodec(), Positions()
    projector = Projector(store, codec, [positions])
    first = asyncio.create_task(projector.catch_up())
    await asyncio.sleep(0)  # its read has begun (and sees nothing yet)
    stored = await store_one(store, codec, 1)
    assert await projector.catch_up() >= stored
    await first
    assert positions.seen == [1]
