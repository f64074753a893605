"""The one contract every :class:`~beerolympics.ports.pubsub.PubSub` adapter passes.

Subclass :class:`PubSubContract` and implement :meth:`PubSubContract.open_pubsub`, an async
context manager yielding an instance on the backend under test, and
:meth:`PubSubContract.subscriber_count`. Calling ``open_pubsub`` again inside the first must
give a second, independent instance on the SAME backend (its own connections, as another app
instance would have) — that is how the suite checks fan-out between instances.

The backend may be shared with other tests and other test runs: every test uses topics under a
fresh random prefix (:meth:`PubSubContract.topic`) and never clears the backend. No test sleeps
for a while to let something happen: "nothing else arrived" is shown by a marker message,
published afterwards, arriving next; a backend's own bookkeeping is polled under a timeout.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest

from beerolympics.ports.pubsub import (
    MAX_TOPIC_LENGTH,
    Message,
    PubSub,
    PubSubUnavailable,
    Subscription,
)

#: How long a test waits for something that must happen.
WAIT: float = 5.0


async def receive(subscription: Subscription, count: int = 1) -> list[Message]:
    """The next ``count`` messages; fails when they do not come within :data:`WAIT`."""
    async with asyncio.timeout(WAIT):
        return [await anext(subscription) for _ in range(count)]


async def receive_one(subscription: Subscription) -> Message:
    [message] = await receive(subscription)
    return message


class PubSubContract:
    """Behaviour every pub/sub must show. Subclasses provide the two methods above the line."""

    def open_pubsub(self) -> AbstractAsyncContextManager[PubSub]:
        raise NotImplementedError

    async def subscriber_count(self, topic: str) -> int:
        """How many established subscriptions the backend holds for ``topic``."""
        raise NotImplementedError

    # ------------------------------------------------------------------------------------

    async def wait_for_subscribers(self, topic: str, count: int) -> None:
        """Wait until the backend counts ``count`` subscriptions to ``topic``."""
        async with asyncio.timeout(WAIT):
            # A backend tells nobody when it has noticed a closed connection: ask until it has.
            while await self.subscriber_count(topic) != count:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    @pytest.fixture(autouse=True)
    def _topic_prefix(self) -> None:
        self._prefix = f"bo-test-{uuid.uuid4().hex}:"

    def topic(self, name: str) -> str:
        """``name`` under this test's own prefix."""
        return self._prefix + name

    @pytest.fixture
    async def pubsub(self) -> AsyncIterator[PubSub]:
        async with self.open_pubsub() as pubsub:
            yield pubsub

    # -- delivery ------------------------------------------------------------------------

    async def test_round_trip(self, pubsub: PubSub) -> None:
        topic = self.topic("tournament.t1")
        async with pubsub.subscribe(topic) as sub:
            await pubsub.publish(topic, b"committed up to 42")
            assert await receive_one(sub) == (topic, b"committed up to 42")

    async def test_two_subscribers_both_receive(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        async with pubsub.subscribe(topic) as first, pubsub.subscribe(topic) as second:
            await pubsub.publish(topic, b"hello")
            assert await receive_one(first) == (topic, b"hello")
            assert await receive_one(second) == (topic, b"hello")
            # Each receives it once: the next thing each sees is the next message.
            await pubsub.publish(topic, b"next")
            assert await receive_one(first) == (topic, b"next")
            assert await receive_one(second) == (topic, b"next")

    async def test_topics_are_isolated(self, pubsub: PubSub) -> None:
        mine, other = self.topic("mine"), self.topic("other")
        async with pubsub.subscribe(mine) as sub:
            await pubsub.publish(other, b"not for you")
            await pubsub.publish(mine, b"marker")
            assert await receive_one(sub) == (mine, b"marker")
        # Nor does a prefix or a longer name match.
        async with pubsub.subscribe(self.topic("a")) as sub:
            await pubsub.publish(self.topic("a.b"), b"x")
            await pubsub.publish(self.topic("a*"), b"x")
            await pubsub.publish(self.topic("a"), b"marker")
            assert await receive_one(sub) == (self.topic("a"), b"marker")

    async def test_one_subscription_to_several_topics(self, pubsub: PubSub) -> None:
        a, b, c = self.topic("a"), self.topic("b"), self.topic("c")
        # A topic named twice counts once.
        async with pubsub.subscribe(a, b, a) as sub:
            await pubsub.publish(a, b"1")
            await pubsub.publish(c, b"2")
            await pubsub.publish(b, b"3")
            await pubsub.publish(a, b"4")
            assert await receive(sub, 3) == [(a, b"1"), (b, b"3"), (a, b"4")]
            assert await self.subscriber_count(a) == 1
            assert await self.subscriber_count(b) == 1

    async def test_messages_from_one_publisher_arrive_in_order(self, pubsub: PubSub) -> None:
        topic = self.topic("ordered")
        async with pubsub.subscribe(topic) as sub:
            for i in range(200):
                await pubsub.publish(topic, str(i).encode())
            assert await receive(sub, 200) == [(topic, str(i).encode()) for i in range(200)]

    async def test_message_published_before_subscribing_is_lost(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        await pubsub.publish(topic, b"nobody listens")
        async with pubsub.subscribe(topic) as sub:
            await pubsub.publish(topic, b"marker")
            assert await receive_one(sub) == (topic, b"marker")

    async def test_binary_payloads_arrive_unchanged(self, pubsub: PubSub) -> None:
        topic = self.topic("binary")
        payloads = [
            b"",
            b"\x00",
            bytes(range(256)),
            b"\r\n*1\r\n$4\r\nPING\r\n",
            "Ünïcødé 🍺".encode(),
            bytes(i % 251 for i in range(64 * 1024)),
        ]
        async with pubsub.subscribe(topic) as sub:
            for payload in payloads:
                await pubsub.publish(topic, payload)
            received = await receive(sub, len(payloads))
        assert [message for _, message in received] == payloads
        assert all(type(message) is bytes for _, message in received)

    async def test_unusual_but_valid_topics(self, pubsub: PubSub) -> None:
        topics = [
            self.topic("ü🍺/*?[x]"),
            self.topic("x" * (MAX_TOPIC_LENGTH - len(self.topic("")))),
        ]
        assert len(topics[1]) == MAX_TOPIC_LENGTH
        async with pubsub.subscribe(*topics) as sub:
            for topic in topics:
                await pubsub.publish(topic, b"x")
            assert await receive(sub, 2) == [(t, b"x") for t in topics]

    # -- between instances -----------------------------------------------------------------

    async def test_publish_reaches_a_subscription_of_another_instance(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        async with self.open_pubsub() as other, other.subscribe(topic) as sub:
            await pubsub.publish(topic, b"from A")
            assert await receive_one(sub) == (topic, b"from A")

    async def test_concurrent_publishers_on_two_instances(self, pubsub: PubSub) -> None:
        topic = self.topic("busy")

        async def publisher(target: PubSub, name: str) -> None:
            for i in range(50):
                await target.publish(topic, f"{name}:{i}".encode())

        async with (
            self.open_pubsub() as other,
            pubsub.subscribe(topic) as on_a,
            other.subscribe(topic) as on_b,
        ):
            await asyncio.gather(*(publisher((pubsub, other)[n % 2], f"p{n}") for n in range(4)))
            await pubsub.publish(topic, b"marker")
            for sub in (on_a, on_b):
                received = [message.decode() for _, message in await receive(sub, 200)]
                # Each message exactly once…
                expected = Counter(f"p{n}:{i}" for n in range(4) for i in range(50))
                assert Counter(received) == expected
                # …and each publisher's messages in the order it published them.
                for n in range(4):
                    mine = [m for m in received if m.startswith(f"p{n}:")]
                    assert mine == [f"p{n}:{i}" for i in range(50)]
                assert await receive_one(sub) == (topic, b"marker")

    # -- subscription lifecycle ------------------------------------------------------------

    async def test_subscription_is_established_when_entered(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        assert await self.subscriber_count(topic) == 0
        async with self.open_pubsub() as other, other.subscribe(topic) as sub:
            assert await self.subscriber_count(topic) == 1
            # Published at once, from another instance, without waiting for anything.
            await pubsub.publish(topic, b"first")
            assert await receive_one(sub) == (topic, b"first")

    async def test_leaving_the_context_unsubscribes(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        async with pubsub.subscribe(topic) as witness:
            async with pubsub.subscribe(topic) as sub:
                assert await self.subscriber_count(topic) == 2
            assert await self.subscriber_count(topic) == 1
            await pubsub.publish(topic, b"after")
            assert await receive_one(witness) == (topic, b"after")
            with pytest.raises(StopAsyncIteration):
                await receive_one(sub)
        assert await self.subscriber_count(topic) == 0

    async def test_leaving_ends_a_wait_in_another_task(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        sub = pubsub.subscribe(topic)
        async with sub:
            waiting = asyncio.create_task(receive(sub))
            await pubsub.publish(topic, b"one")
            assert await waiting == [(topic, b"one")]
            waiting = asyncio.create_task(receive(sub))
            # Let the reader get as far as waiting; ending before that must work the same.
            for _ in range(3):
                await asyncio.sleep(0)
        with pytest.raises(StopAsyncIteration):
            await waiting
        # The waiting reader may have kept the adapter from unsubscribing politely; then the
        # backend notices the closed connection a moment later.
        await self.wait_for_subscribers(topic, 0)

    async def test_a_cancelled_wait_loses_nothing(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        async with pubsub.subscribe(topic) as sub:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await anext(sub)
            await pubsub.publish(topic, b"still here")
            assert await receive_one(sub) == (topic, b"still here")
            assert await self.subscriber_count(topic) == 1

    async def test_a_subscription_is_entered_once(self, pubsub: PubSub) -> None:
        sub = pubsub.subscribe(self.topic("t"))
        with pytest.raises(RuntimeError):
            await anext(sub)
        async with sub:
            with pytest.raises(RuntimeError):
                await sub.__aenter__()

    async def test_an_error_inside_the_context_still_unsubscribes(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        with pytest.raises(KeyError):
            async with pubsub.subscribe(topic):
                raise KeyError("boom")
        assert await self.subscriber_count(topic) == 0

    # -- lifecycle and validation ----------------------------------------------------------

    async def test_ping_and_closed_instance(self, pubsub: PubSub) -> None:
        topic = self.topic("t")
        async with self.open_pubsub() as doomed:
            await doomed.ping()
            async with doomed.subscribe(topic) as sub, pubsub.subscribe(topic) as survivor:
                await doomed.close()
                with pytest.raises(PubSubUnavailable, match="closed"):
                    await receive_one(sub)
                with pytest.raises(PubSubUnavailable):
                    await receive_one(sub)
                with pytest.raises(PubSubUnavailable):
                    await doomed.publish(topic, b"x")
                with pytest.raises(PubSubUnavailable):
                    async with doomed.subscribe(topic):
                        pass
                with pytest.raises(PubSubUnavailable):
                    await doomed.ping()
                await doomed.close()
                # Other instances on the backend carry on.
                await pubsub.ping()
                await pubsub.publish(topic, b"alive")
                assert await receive_one(survivor) == (topic, b"alive")
            # The closed instance may have closed its connection without unsubscribing.
            await self.wait_for_subscribers(topic, 0)

    async def test_invalid_topics_and_messages(self, pubsub: PubSub) -> None:
        bad_topics = ["", "a b", "tab\there", "line\nbreak", "nbsp\u00a0", "x" * 201]
        for bad in bad_topics:
            with pytest.raises(ValueError, match="topic"):
                await pubsub.publish(bad, b"x")
            with pytest.raises(ValueError, match="topic"):
                pubsub.subscribe(self.topic("ok"), bad)
        with pytest.raises(ValueError, match="topic"):
            pubsub.subscribe()
        with pytest.raises(TypeError):
            await pubsub.publish(self.topic("t"), "text")  # type: ignore[arg-type]
