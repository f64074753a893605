"""Pub/sub inside one process (``memory://``): the embedded shape and tests.

A :class:`MemoryBroker` plays the part Redis plays for the scaled shape; each
:class:`MemoryPubSub` is one "app instance" on it. ``MemoryPubSub()`` makes its own broker,
which is all a single process needs; tests hand one broker to several instances.

A publish puts the message into the queue of every subscription to its topic before it returns,
without awaiting anything, so "established" and the order guarantees hold trivially. Everything
must run on one event loop.

Overflow: each subscription queues at most ``queue_size`` messages. A publish that finds the
queue full does not block and does not fail; it cuts that subscription off instead, the way
Redis disconnects a subscriber whose output buffer passes its limit: the subscription receives
nothing more, and its iterator yields what it had queued, then raises
:class:`~beerolympics.ports.pubsub.PubSubUnavailable`. Dropping messages silently would leave a
gap its reader cannot see; cut off, the reader re-subscribes and catches up from the event store.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import Final, Literal, Self

from beerolympics.ports.pubsub import (
    Message,
    PubSubUnavailable,
    check_message,
    check_topic,
    check_topics,
)

DEFAULT_QUEUE_SIZE: Final = 10_000


class MemoryBroker:
    """The backend several :class:`MemoryPubSub` instances share: who subscribes to what."""

    def __init__(self) -> None:
        # A dict per topic, not a set: delivery order between subscriptions stays stable.
        self._topics: dict[str, dict[MemorySubscription, None]] = {}

    def subscriber_count(self, topic: str) -> int:
        """How many established subscriptions ``topic`` has (what Redis ``PUBSUB NUMSUB`` says)."""
        return len(self._topics.get(topic, ()))

    def add(self, subscription: MemorySubscription, topics: tuple[str, ...]) -> None:
        for topic in topics:
            self._topics.setdefault(topic, {})[subscription] = None

    def remove(self, subscription: MemorySubscription, topics: tuple[str, ...]) -> None:
        for topic in topics:
            subscribers = self._topics.get(topic)
            if subscribers is not None:
                subscribers.pop(subscription, None)
                if not subscribers:
                    del self._topics[topic]

    def deliver(self, topic: str, message: bytes) -> None:
        # A copy: a subscription that overflows removes itself while we go.
        for subscription in list(self._topics.get(topic, ())):
            subscription.offer(topic, message)


class MemorySubscription:
    """A :class:`~beerolympics.ports.pubsub.Subscription` fed by a :class:`MemoryBroker`."""

    def __init__(self, owner: MemoryPubSub, topics: tuple[str, ...], queue_size: int) -> None:
        self._owner = owner
        self._topics = topics
        self._queue_size = queue_size
        self._queue: deque[Message] = deque()
        self._ready = asyncio.Event()
        self._state: Literal["new", "active", "exited"] = "new"
        self._lost: str | None = None

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a subscription can be entered only once")
        self._owner.check_open()
        self._owner.broker.add(self, self._topics)
        self._owner.subscriptions[self] = None
        self._state = "active"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._state != "active":
            return
        self._state = "exited"
        self._queue.clear()
        self._detach()
        self._ready.set()  # a reader waiting in another task ends

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Message:
        while True:
            if self._state == "new":
                raise RuntimeError("enter the subscription (async with) before iterating it")
            if self._state == "exited":
                raise StopAsyncIteration
            if self._queue:
                return self._queue.popleft()
            if self._lost is not None:
                raise PubSubUnavailable(self._lost)
            self._ready.clear()
            await self._ready.wait()

    def offer(self, topic: str, message: bytes) -> None:
        """Queue a published message (the broker calls this); cut off when the queue is full."""
        if len(self._queue) >= self._queue_size:
            self.lose(f"the subscriber fell behind by more than {self._queue_size} messages")
            return
        self._queue.append((topic, message))
        self._ready.set()

    def lose(self, reason: str) -> None:
        """End the subscription: no more messages, and the iterator raises after the queued."""
        if self._lost is None:
            self._lost = reason
        self._detach()
        self._ready.set()

    def _detach(self) -> None:
        self._owner.broker.remove(self, self._topics)
        self._owner.subscriptions.pop(self, None)


class MemoryPubSub:
    """A :class:`~beerolympics.ports.pubsub.PubSub` on a :class:`MemoryBroker`.

    ``queue_size`` bounds each subscription's queue; see the module's note on overflow.
    """

    def __init__(
        self, broker: MemoryBroker | None = None, *, queue_size: int = DEFAULT_QUEUE_SIZE
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.broker = broker if broker is not None else MemoryBroker()
        self.subscriptions: dict[MemorySubscription, None] = {}
        self._queue_size = queue_size
        self._closed = False

    def check_open(self) -> None:
        if self._closed:
            raise PubSubUnavailable("the pub/sub instance is closed")

    async def publish(self, topic: str, message: bytes) -> None:
        check_topic(topic)
        check_message(message)
        self.check_open()
        self.broker.deliver(topic, message)

    def subscribe(self, *topics: str) -> MemorySubscription:
        return MemorySubscription(self, check_topics(topics), self._queue_size)

    async def ping(self) -> None:
        self.check_open()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for subscription in list(self.subscriptions):
            subscription.lose("the pub/sub instance is closed")
