"""The pub/sub port: small notifications fanned out to every app instance, at most once.

In the scaled shape every app instance holds ONE subscription and fans what arrives out to its
own WebSocket clients; instances publish notifications such as "events up to position N were
committed in tournament T" or a presence snapshot. Only notifications go through here, never
the data itself: delivery is at most once and nothing is kept, so a subscriber that lost its
subscription (:class:`PubSubUnavailable`) subscribes again and recovers what it may have missed
from the event store, which stays the one source of truth.

Every adapter (in-memory, Redis) implements :class:`PubSub` with exactly the semantics stated
here, and passes the one contract suite in ``beerolympics.testing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Final, Protocol, Self

#: The longest topic, in characters.
MAX_TOPIC_LENGTH: Final = 200

#: What a subscription yields: ``(topic, message)``.
Message = tuple[str, bytes]


class PubSubError(Exception):
    """Base of every error a pub/sub raises; adapters translate driver errors into these."""


class PubSubUnavailable(PubSubError):
    """The backend could not be reached, the connection was lost or the instance is closed.

    Raised by a subscription's iterator, the subscription is over: subscribe again, then recover
    from the event store whatever was published in between.
    """


def check_topic(topic: str) -> str:
    """Return ``topic`` when it is 1 to 200 characters without whitespace; ``ValueError`` else."""
    if not isinstance(topic, str):
        raise TypeError(f"a topic is a str, not {type(topic).__name__}")
    if not 1 <= len(topic) <= MAX_TOPIC_LENGTH:
        raise ValueError(f"a topic has 1 to {MAX_TOPIC_LENGTH} characters, got {len(topic)}")
    if any(char.isspace() for char in topic):
        raise ValueError(f"a topic has no whitespace: {topic!r}")
    return topic


def check_topics(topics: Sequence[str]) -> tuple[str, ...]:
    """Check every topic of a subscription; at least one. Duplicates are dropped, order kept."""
    if not topics:
        raise ValueError("subscribe to at least one topic")
    return tuple(dict.fromkeys(check_topic(t) for t in topics))


def check_message(message: bytes) -> bytes:
    """Return ``message`` when it is ``bytes``; ``TypeError`` else (encode text yourself)."""
    if not isinstance(message, bytes):
        raise TypeError(f"a message is bytes, not {type(message).__name__}")
    return message


class Subscription(Protocol):
    """One subscription to one or more topics: an async context manager and async iterator.

    ``async with pubsub.subscribe("a", "b") as sub: async for topic, message in sub: …``

    Entering establishes the subscription: when ``__aenter__`` returns, every message published
    to one of its topics after that moment is delivered to it (unless it is lost, see below).
    Entering raises :class:`PubSubUnavailable` when the backend cannot be reached or the
    instance is closed. A subscription is entered once.

    Iterating yields ``(topic, message)`` pairs, ``message`` exactly the bytes published. It
    waits as long as nothing arrives. It raises :class:`PubSubUnavailable` when the subscription
    is lost: the connection to the backend broke, the subscriber fell so far behind that the
    backend cut it off, or the instance was closed. It may first yield messages it had already
    received; after that it raises again on every call and delivers nothing more.

    Iterate from one task at a time. A wait cancelled by its caller (a timeout) loses nothing:
    the subscription stays established and the next wait sees every message.

    Leaving the context unsubscribes and releases the subscription's resources. Nothing is
    delivered to it afterwards, and iterating ends (``StopAsyncIteration``) — also in a task
    that was waiting for a message at that moment. When ``__aexit__`` returns the backend no
    longer counts the subscription, except when its connection was lost or another task was
    waiting on it: then the backend drops it once it notices the closed connection.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def __aiter__(self) -> Self: ...

    async def __anext__(self) -> Message: ...


class PubSub(Protocol):
    """Fire-and-forget messages on named topics, fanned out to every established subscription.

    Topics are plain strings of 1 to 200 characters without whitespace (checked by
    :func:`check_topic`, ``ValueError`` otherwise); a topic needs no creating. Messages are
    ``bytes`` of any content (``TypeError`` otherwise) and should be small: notifications, not
    data.

    Delivery: at most once and never persisted. A message reaches every subscription to its
    topic that is established when it is published, once each; subscriptions established later
    never see it, and when nobody subscribes it is gone. Several instances on the same backend
    (app instances in separate processes) see each other's messages.

    Order: when ``publish(a)`` returned before ``publish(b)`` was called — one publisher awaiting
    each publish, whatever the topics — every subscription that receives both receives ``a``
    before ``b``. Concurrent publishes have no order between them.

    Loss: a subscription whose connection breaks or that falls too far behind raises
    :class:`PubSubUnavailable` from its iterator; the messages it missed are not redelivered.
    That is why only notifications go through here: the subscriber re-subscribes, then catches
    up from the event store.
    """

    async def publish(self, topic: str, message: bytes) -> None:
        """Send ``message`` to every subscription to ``topic`` established at this moment.

        Returns once the backend accepted the message, not when subscribers got it. Raises
        :class:`PubSubUnavailable` when the backend cannot be reached (the message may or may not
        have been delivered; it is not retried, since a retry could deliver it twice) or the
        instance is closed.
        """
        ...

    def subscribe(self, *topics: str) -> Subscription:
        """A subscription to ``topics``, established when its context is entered.

        Checks the topics right away (``ValueError`` for an invalid one or for none at all);
        duplicates count once. Does no I/O: the backend is only contacted on entering.
        """
        ...

    async def ping(self) -> None:
        """Return when the backend answers; raise :class:`PubSubUnavailable` otherwise."""
        ...

    async def close(self) -> None:
        """End this instance's subscriptions and release its connections.

        The instance's live subscriptions raise :class:`PubSubUnavailable` from their iterators;
        afterwards :meth:`publish`, entering a subscription and :meth:`ping` raise it too. Other
        instances on the same backend are not affected. Closing twice does nothing.
        """
        ...
