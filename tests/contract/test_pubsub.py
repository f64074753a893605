from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.asyncio import Redis

from beerolympics.adapters.memory.pubsub import MemoryBroker, MemoryPubSub
from beerolympics.adapters.redis.pubsub import RedisPubSub
from beerolympics.ports.pubsub import PubSub, PubSubUnavailable
from beerolympics.testing.pubsub_contract import PubSubContract, receive, receive_one
from tests.conftest import service_url


class TestMemoryPubSub(PubSubContract):
    @pytest.fixture(autouse=True)
    def _broker(self) -> None:
        self.broker = MemoryBroker()

    @asynccontextmanager
    async def open_pubsub(self) -> AsyncIterator[PubSub]:
        pubsub = MemoryPubSub(self.broker)
        yield pubsub
        await pubsub.close()

    async def subscriber_count(self, topic: str) -> int:
        return self.broker.subscriber_count(topic)


async def test_memory_subscriber_that_falls_behind_is_cut_off() -> None:
    broker = MemoryBroker()
    small, roomy = MemoryPubSub(broker, queue_size=3), MemoryPubSub(broker)
    async with small.subscribe("t") as slow, roomy.subscribe("t") as fine:
        for i in range(5):
            await small.publish("t", bytes([i]))  # never blocks, never fails
        assert broker.subscriber_count("t") == 1
        # What was queued before the overflow still arrives, then the subscription is over.
        assert await receive(slow, 3) == [("t", b"\x00"), ("t", b"\x01"), ("t", b"\x02")]
        with pytest.raises(PubSubUnavailable, match="fell behind"):
            await receive_one(slow)
        await small.publish("t", b"later")
        with pytest.raises(PubSubUnavailable):
            await receive_one(slow)
        assert await receive(fine, 6) == [("t", bytes([i])) for i in range(5)] + [("t", b"later")]
    await small.close()
    await roomy.close()


def test_memory_queue_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        MemoryPubSub(queue_size=0)


# -- Redis ---------------------------------------------------------------------------------


@asynccontextmanager
async def redis_admin() -> AsyncIterator[Redis]:
    admin = Redis.from_url(service_url("redis"))
    try:
        yield admin
    finally:
        await admin.aclose()


@pytest.mark.redis
class TestRedisPubSub(PubSubContract):
    @pytest.fixture(autouse=True)
    async def _admin(self) -> AsyncIterator[None]:
        self.url = service_url("redis")
        async with redis_admin() as admin:
            self.admin = admin
            yield

    @asynccontextmanager
    async def open_pubsub(self) -> AsyncIterator[PubSub]:
        pubsub = await RedisPubSub.open(self.url)
        try:
            yield pubsub
        finally:
            await pubsub.close()

    async def subscriber_count(self, topic: str) -> int:
        [(_, count)] = await self.admin.pubsub_numsub(topic)
        return int(count)


async def test_redis_unreachable_is_pubsub_unavailable() -> None:
    with pytest.raises(PubSubUnavailable):
        await RedisPubSub.open("redis://127.0.0.1:1/0", connect_timeout=2)


@pytest.mark.redis
async def test_redis_subscription_killed_by_the_server_raises() -> None:
    name = f"bo-test-{uuid.uuid4().hex}"
    topic = f"{name}:t"
    url = service_url("redis")
    pubsub = await RedisPubSub.open(f"{url}{'&' if '?' in url else '?'}client_name={name}")
    try:
        async with redis_admin() as admin, pubsub.subscribe(topic) as sub:
            clients = await admin.client_list(_type="pubsub")
            [client_id] = [c["id"] for c in clients if c.get("name") == name]
            assert await admin.client_kill_filter(_id=client_id) == 1
            with pytest.raises(PubSubUnavailable):
                await receive_one(sub)
            # Lost for good: redis-py must not have reconnected and re-subscribed under us.
            await pubsub.publish(topic, b"too late")
            with pytest.raises(PubSubUnavailable):
                await receive_one(sub)
            [(_, count)] = await admin.pubsub_numsub(topic)
            assert count == 0
        # The instance itself is fine: publishing and a new subscription work.
        async with pubsub.subscribe(topic) as again:
            await pubsub.publish(topic, b"recovered")
            assert await receive_one(again) == (topic, b"recovered")
    finally:
        await pubsub.close()


class TcpProxy:
    """A TCP relay in front of Redis that a test can freeze (a silent network) or cut."""

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pipes: set[asyncio.Task[None]] = set()
        self._frozen = False
        self.from_clients = bytearray()
        self._traffic = asyncio.Event()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        if self._frozen:
            return
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._writers.append(up_writer)
        for task in (self._pipe(reader, up_writer, True), self._pipe(up_reader, writer, False)):
            self._pipes.add(asyncio.create_task(task))

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_client: bool
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if from_client:
                    self.from_clients += data
                    self._traffic.set()
                writer.write(data)
                await writer.drain()

    async def wait_for_sent(self, needle: bytes, times: int) -> None:
        """Wait until clients have sent ``needle`` ``times`` times through the proxy."""
        async with asyncio.timeout(5):
            while self.from_clients.count(needle) < times:
                self._traffic.clear()
                await self._traffic.wait()

    async def freeze(self) -> None:
        """Stop relaying, keep every connection open: nobody notices anything but silence."""
        self._frozen = True
        for task in self._pipes:
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        self._pipes.clear()

    async def close(self) -> None:
        """Stop listening and cut every connection, as a Redis restart would."""
        await self.freeze()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        self._writers.clear()


@asynccontextmanager
async def proxied_redis() -> AsyncIterator[tuple[TcpProxy, str]]:
    parts = urlsplit(service_url("redis"))
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    port = await proxy.start()
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    try:
        yield proxy, urlunsplit(parts._replace(netloc=netloc))
    finally:
        await proxy.close()


@pytest.mark.redis
async def test_redis_going_away_is_pubsub_unavailable_everywhere() -> None:
    topic = f"bo-test-{uuid.uuid4().hex}:t"
    async with proxied_redis() as (proxy, url):
        pubsub = await RedisPubSub.open(url, connect_timeout=2)
        try:
            async with pubsub.subscribe(topic) as sub:
                waiting = asyncio.create_task(receive(sub))
                await proxy.close()
                with pytest.raises(PubSubUnavailable):
                    await waiting
                with pytest.raises(PubSubUnavailable):
                    await pubsub.publish(topic, b"x")
                with pytest.raises(PubSubUnavailable):
                    await pubsub.ping()
                with pytest.raises(PubSubUnavailable):
                    async with pubsub.subscribe(topic):
                        pass
        finally:
            await pubsub.close()


@pytest.mark.redis
async def test_redis_silent_connection_is_detected_by_pings() -> None:
    topic = f"bo-test-{uuid.uuid4().hex}:t"
    async with proxied_redis() as (proxy, url):
        pubsub = await RedisPubSub.open(url, health_check_interval=0.15)
        try:
            async with pubsub.subscribe(topic) as sub:
                waiting = asyncio.create_task(receive(sub))
                # Idle, it PINGs; answered, it carries on (a second PING is only sent after the
                # answer to the first) and still gets what comes next.
                await proxy.wait_for_sent(b"PING", proxy.from_clients.count(b"PING") + 2)
                assert not waiting.done()
                await pubsub.publish(topic, b"still alive")
                assert await waiting == [(topic, b"still alive")]
                # A connection that stays open but carries nothing is given up.
                await proxy.freeze()
                with pytest.raises(PubSubUnavailable, match="PING"):
                    await receive_one(sub)
        finally:
            await pubsub.close()


@pytest.mark.redis
async def test_redis_subscribe_returns_only_once_redis_confirmed() -> None:
    topic = f"bo-test-{uuid.uuid4().hex}:t"
    async with proxied_redis() as (proxy, url):
        pubsub = await RedisPubSub.open(url, command_timeout=0.2)
        try:
            await proxy.freeze()
            # The SUBSCRIBE is sent but never answered: entering must not pretend it worked.
            with pytest.raises(PubSubUnavailable, match="SUBSCRIBE"):
                async with pubsub.subscribe(topic):
                    pass
            assert not pubsub.subscriptions
        finally:
            await pubsub.close()


@pytest.mark.redis
async def test_redis_leaving_unsubscribes_before_closing_the_connection() -> None:
    topic = f"bo-test-{uuid.uuid4().hex}:t"
    async with proxied_redis() as (proxy, url):
        pubsub = await RedisPubSub.open(url)
        try:
            async with pubsub.subscribe(topic):
                assert b"UNSUBSCRIBE" not in proxy.from_clients
            # Confirmed, too: Redis has forgotten the subscription when __aexit__ returns.
            assert b"UNSUBSCRIBE" in proxy.from_clients
            assert not pubsub.subscriptions
        finally:
            await pubsub.close()
