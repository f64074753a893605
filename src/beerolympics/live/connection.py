"""One live client (a WebSocket or an SSE stream), independent of the transport.

Frames are queued per connection and written by the connection's own writer, so a slow phone
never holds up the others; when its queue fills up it is dropped (close code 4008) and comes
back with ``since``. Each subscription keeps the position the client has seen up to, so every
frame it gets continues exactly where the last one ended.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from beerolympics.domain.identity import Actor

CLOSE_TOO_SLOW: Final = 4008
CLOSE_RATE_LIMITED: Final = 4029

_ids = itertools.count(1)
_encode = msgspec.json.Encoder().encode


@dataclass(slots=True)
class Frame:
    """A frame as sent to every subscriber: its coverage, its text, and its messages (kept
    to cut the frame short for a client that already has its start)."""

    channel: str
    start: int
    end: int
    text: str
    messages: list[dict[str, Any]]


@dataclass(slots=True)
class Subscription:
    #: The position the client has everything up to; None while it is still catching up.
    cursor: int | None = None
    held: list[Frame] = field(default_factory=list)


class Connection:
    """A client following one tournament."""

    def __init__(
        self, tournament_id: str, actor: Actor, address: str, *, buffer: int, per_minute: int
    ) -> None:
        self.id = f"c_{next(_ids)}"
        self.tournament_id = tournament_id
        self.actor = actor
        self.address = address
        self.subscriptions: dict[str, Subscription] = {}
        self._queue: deque[str] = deque()
        self._buffer = buffer
        self._wakeup = asyncio.Event()
        self._per_minute = per_minute
        self._received: deque[float] = deque()
        self.close_code: int | None = None
        self.close_reason = ""

    @property
    def limit_key(self) -> str:
        """Connections are limited per credential, or per address without one."""
        return self.actor.credential_id or f"ip:{self.address}"

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message meant for this client only."""
        self.enqueue(_encode(message).decode())

    def enqueue(self, text: str) -> None:
        if self.close_code is not None:
            return
        if len(self._queue) >= self._buffer:
            self.close(CLOSE_TOO_SLOW, "too slow: the client did not keep up")
            return
        self._queue.append(text)
        self._wakeup.set()

    def deliver(self, frame: Frame) -> None:
        """Pass a channel's frame on, in order and without overlap with what was sent."""
        sub = self.subscriptions.get(frame.channel)
        if sub is None:
            return
        if sub.cursor is None:
            sub.held.append(frame)
            return
        if frame.start == frame.end:
            # State only (presence): it covers no events, so it cannot overlap anything.
            self.enqueue(frame.text)
            return
        if frame.end <= sub.cursor:
            return
        if frame.start < sub.cursor:
            # The replay already covered the start of this frame: send the rest only.
            cut = [m for m in frame.messages if m["p"] > sub.cursor]
            body = {"type": "frame", "channel": frame.channel, "from": sub.cursor}
            self.send({**body, "to": frame.end, "messages": cut})
        else:
            self.enqueue(frame.text)
        sub.cursor = frame.end

    def caught_up(self, channel: str, position: int) -> None:
        """The replay of ``channel`` ended at ``position``: release what arrived meanwhile."""
        sub = self.subscriptions.get(channel)
        if sub is None:
            return
        sub.cursor = position
        held, sub.held = sub.held, []
        for frame in held:
            self.deliver(frame)

    def count_message(self) -> bool:
        """Record a message from the client; False when it sent too many this minute."""
        now = time.monotonic()
        received = self._received
        received.append(now)
        while received and received[0] < now - 60:
            received.popleft()
        if len(received) > self._per_minute:
            self.close(CLOSE_RATE_LIMITED, "too many messages")
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self._wakeup.set()

    async def outgoing(self) -> AsyncIterator[str]:
        """What to send, in order, until the connection is closed."""
        queue = self._queue
        while self.close_code is None:
            while queue and self.close_code is None:
                yield queue.popleft()
            if self.close_code is None:
                self._wakeup.clear()
                if not queue:
                    await self._wakeup.wait()
