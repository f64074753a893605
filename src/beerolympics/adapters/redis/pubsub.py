"""The scaled shape's pub/sub: Redis channels through ``redis.asyncio``.

Publishing goes through the client's connection pool. Each subscription gets its own connection
(a redis-py ``PubSub``) and its ``__aenter__`` returns only after Redis confirmed every channel:
Redis executes commands one at a time, so a ``PUBLISH`` sent after that confirmation finds the
subscription in place. Leaving sends ``UNSUBSCRIBE`` and waits for its confirmation too, so the
server has forgotten the subscription when ``__aexit__`` returns.

redis-py retries and reconnects by itself; a pub/sub connection it reconnects also re-subscribes
silently, and every message published meanwhile is lost without anybody noticing. So this
adapter turns that off (no retries, no reconnects behind our back): a broken subscription raises
:class:`~beerolympics.ports.pubsub.PubSubUnavailable` and its owner re-subscribes and catches up
from the event store. A publish is not retried either: when the reply is lost, a retry could
deliver the message twice.

A connection can also die without being closed (a network drop, a frozen server). An idle
subscription therefore PINGs Redis after ``health_check_interval`` seconds without traffic and
gives up when the answer has not come within another interval. A subscriber that falls behind
is cut off by Redis itself (``client-output-buffer-limit pubsub``) and sees the same error.

Redis channels are shared by all databases of a server: the ``/db`` of the URL does not
separate deployments, distinct topic names do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Final, Literal, Self

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.client import PubSub as RedisClientPubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from beerolympics.ports.pubsub import (
    Message,
    PubSubError,
    PubSubUnavailable,
    check_message,
    check_topic,
    check_topics,
)

# What means "Redis cannot be reached" (builtin TimeoutError is an OSError).
_UNREACHABLE: Final = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Raise driver errors as the port's: unreachable Redis as ``PubSubUnavailable``."""
    try:
        yield
    except _UNREACHABLE as exc:
        raise PubSubUnavailable(f"Redis {action} failed: {_describe(exc)}") from exc
    except redis.exceptions.RedisError as exc:
        raise PubSubError(f"Redis {action} failed: {_describe(exc)}") from exc


class RedisSubscription:
    """A :class:`~beerolympics.ports.pubsub.Subscription` on its own Redis connection."""

    def __init__(
        self, owner: RedisPubSub, topics: tuple[str, ...], *, timeout: float, health_check: float
    ) -> None:
        self._owner = owner
        self._topics = topics
        self._timeout = timeout
        self._health_check_interval = health_check
        self._pubsub: RedisClientPubSub | None = None
        self._state: Literal["new", "active", "exited"] = "new"
        self._lost: PubSubUnavailable | None = None
        # Messages that came in while __aenter__ waited for the confirmations.
        self._early: deque[Message] = deque()
        self._reading = False
        self._pinged = False

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a subscription can be entered only once")
        self._owner.check_open()
        self._pubsub = pubsub = self._owner.client.pubsub()
        try:
            with _translated("SUBSCRIBE"):
                async with asyncio.timeout(self._timeout):
                    await pubsub.subscribe(*self._topics)
                    await self._await_confirmations(pubsub)
            self._owner.check_open()  # closed while we waited: its close() could not see us
        except BaseException:
            await self._release()
            raise
        self._state = "active"
        self._owner.subscriptions[self] = None
        return self

    async def _await_confirmations(self, pubsub: RedisClientPubSub) -> None:
        waiting = set(self._topics)
        while waiting:
            response: dict[str, Any] | None = await pubsub.get_message(timeout=None)
            if response is None:
                continue
            if response["type"] == "subscribe":
                waiting.discard(response["channel"].decode())
            elif response["type"] == "message":
                self._early.append((response["channel"].decode(), response["data"]))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._state != "active":
            return
        self._state = "exited"
        self._early.clear()
        try:
            # A task reading this connection right now would race us for the replies; then
            # closing the connection ends its read, and Redis drops the subscription itself.
            if self._lost is None and not self._reading:
                await self._unsubscribe()
        finally:
            await self._release()

    async def _unsubscribe(self) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return
        with contextlib.suppress(*_UNREACHABLE, redis.exceptions.RedisError):
            async with asyncio.timeout(self._timeout):
                await pubsub.unsubscribe()
                while True:
                    response: dict[str, Any] | None = await pubsub.get_message(timeout=None)
                    # An unsubscribe confirmation's data counts the subscriptions left.
                    if response and response["type"] == "unsubscribe" and response["data"] == 0:
                        return

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Message:
        while True:
            if self._state == "new":
                raise RuntimeError("enter the subscription (async with) before iterating it")
            if self._state == "exited":
                raise StopAsyncIteration
            if self._early:
                return self._early.popleft()
            if self._lost is not None:
                raise PubSubUnavailable(*self._lost.args) from self._lost.__cause__
            if self._reading:
                raise RuntimeError("a Redis subscription is read by one task at a time")
            message = await self._read()
            if message is not None and self._state == "active":
                return message

    async def _read(self) -> Message | None:
        """Wait at most ``health_check_interval`` for a message; ``None`` when none came."""
        pubsub = self._pubsub
        connection = pubsub.connection if pubsub is not None else None
        if pubsub is None or connection is None or not connection.is_connected:
            # redis-py would reconnect and re-subscribe here, hiding what was lost meanwhile.
            await self.lose(PubSubUnavailable("the subscription's Redis connection is closed"))
            return None
        self._reading = True
        try:
            response: dict[str, Any] | None = await pubsub.get_message(
                timeout=self._health_check_interval
            )
            if response is None and not self._pinged:
                self._pinged = True
                await pubsub.ping()
                return None
        except (redis.exceptions.RedisError, OSError) as exc:
            error = PubSubUnavailable(f"lost the Redis subscription: {_describe(exc)}")
            error.__cause__ = exc
            await self.lose(error)
            return None
        finally:
            self._reading = False
        if response is None:
            interval = self._health_check_interval
            await self.lose(PubSubUnavailable(f"Redis did not answer a PING within {interval}s"))
            return None
        self._pinged = False  # any traffic shows the connection is alive
        if response["type"] == "message":
            return response["channel"].decode(), response["data"]
        return None  # a PING's answer, or a (un)subscribe confirmation

    async def lose(self, error: PubSubUnavailable) -> None:
        """End the subscription: its connection is closed and its iterator raises ``error``."""
        if self._lost is None:
            self._lost = error
        await self._release()

    async def _release(self) -> None:
        self._owner.subscriptions.pop(self, None)
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_UNREACHABLE):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


class RedisPubSub:
    """A :class:`~beerolympics.ports.pubsub.PubSub` on Redis channels.

    Make one with :meth:`open`; a client handed to the constructor must be configured the same
    way (no retries). ``command_timeout`` bounds every command and the wait for (un)subscribe
    confirmations; ``health_check_interval`` is how long an idle subscription waits before it
    PINGs.
    """

    def __init__(
        self, client: Redis, *, command_timeout: float = 5.0, health_check_interval: float = 15.0
    ) -> None:
        self.client = client
        self.subscriptions: dict[RedisSubscription, None] = {}
        self._timeout = command_timeout
        self._health_check_interval = health_check_interval
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        connect_timeout: float = 2.0,
        command_timeout: float = 5.0,
        health_check_interval: float = 15.0,
    ) -> RedisPubSub:
        """Connect to ``url`` (``redis://``, ``rediss://`` or ``unix://``) and PING it.

        Raises :class:`~beerolympics.ports.pubsub.PubSubUnavailable` when Redis does not answer
        within ``connect_timeout`` seconds, ``ValueError`` for a URL redis-py does not accept.
        """
        client = Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=command_timeout,
            socket_keepalive=True,
            # No retries and, for subscriptions, no silent reconnects: see the module docstring.
            retry=Retry(NoBackoff(), 0, supported_errors=()),
        )
        pubsub = cls(
            client, command_timeout=command_timeout, health_check_interval=health_check_interval
        )
        try:
            await pubsub.ping()
        except BaseException:
            await pubsub.close()
            raise
        return pubsub

    async def publish(self, topic: str, message: bytes) -> None:
        check_topic(topic)
        check_message(message)
        self.check_open()
        with _translated("PUBLISH"):
            await self.client.publish(topic, message)

    def subscribe(self, *topics: str) -> RedisSubscription:
        return RedisSubscription(
            self,
            check_topics(topics),
            timeout=self._timeout,
            health_check=self._health_check_interval,
        )

    async def ping(self) -> None:
        self.check_open()
        with _translated("PING"):
            await self.client.ping()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for subscription in list(self.subscriptions):
            await subscription.lose(PubSubUnavailable("the pub/sub instance is closed"))
        await self.client.aclose()

    def check_open(self) -> None:
        if self._closed:
            raise PubSubUnavailable("the pub/sub instance is closed")
