"""One live client (a WebSocket or an SSE stream), independent of the transport.

A frame goes out at once when the connection is idle: the transport's send runs right there
and, as long as the socket accepts data, finishes without suspending — no task, no queue. Only
when the socket pushes back (flow control) does the rest of that send, and anything queued
behind it, move to a task of the connection's own, so a slow phone never holds up the others;
when its queue fills up it is dropped (close code 4008) and comes back with ``since``.
Each subscription keeps the position the client has seen up to, so every frame it gets
continues exactly where the last one ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import itertools
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec
from websockets import frames as websocket

from beerolympics.domain.identity import Actor
from beerolympics.live.deltas import brief

#: The live protocol's version, said in the welcome. Clients that say it when they subscribe
#: get the leaderboard and station board as patches (docs/live-protocol.md); older ones whole.
PROTOCOL: Final = 5


@functools.cache
def code_build() -> str:
    """A hash of the app's code, said in the welcome. Labels are positions, and the state at a
    position is the same on every instance of the same code; a deploy may change what a view
    holds, so a client resuming with the labels of states made by other code gets them again
    (see :meth:`~beerolympics.live.hub.Hub.subscribe`)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


CLOSE_TOO_SLOW: Final = 4008
CLOSE_RATE_LIMITED: Final = 4029

Send = Callable[[str], Coroutine[Any, Any, None]]
HangUp = Callable[[int, str], Awaitable[None]]
#: Writes a channel's frame, or a text of the socket's own, to the socket now (as one WebSocket
#: frame, made or compressed for many at once where it can: see ``web/wire.py``), or returns
#: False when it cannot.
WriteFrame = Callable[["Frame | str"], bool]

_ids = itertools.count(1)
_encode = msgspec.json.Encoder().encode
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"


def text_frame(text: str) -> bytes:
    """``text`` as one complete WebSocket text frame, as a server sends it (unmasked, not
    compressed)."""
    return websocket.Frame(websocket.Opcode.TEXT, text.encode()).serialize(mask=False)


def json_text(message: Any) -> str:
    """``message`` as JSON text in ASCII only (other characters as \\u escapes). The server
    encodes a frame's text again for every socket, and ASCII text encodes by copying: with a
    flag emoji in it, a frame would cost a conversion per subscriber."""
    text = _encode(message).decode()
    return text if text.isascii() else _NON_ASCII.sub(_escape, text)


@dataclass(slots=True)
class Frame:
    """A frame as sent to every subscriber: its coverage, its text, and its messages (kept
    to cut the frame short for a client that already has its start)."""

    channel: str
    start: int
    end: int
    text: str
    messages: list[dict[str, Any]]
    wire: bytes | None = None
    #: The frame compressed, by the ending of the client's window it was compressed against
    #: (see ``web/wire.py``).
    deflated: dict[tuple[tuple[str, ...], int], bytes] | None = None
    #: The frame with its patched states whole, for clients of protocol 1 (and Pusher's);
    #: None when it has no patches.
    full: Frame | None = None
    #: The frame as a Pusher event (see ``live/pusher.py``), made once for all Pusher sockets.
    pusher: Frame | None = None
    #: The kinds of patched states it says (patches, or whole states).
    states: frozenset[str] = frozenset()
    #: The frame for clients that keep only some of those states (see :meth:`keeping`).
    variants: dict[tuple[frozenset[str], bool], Frame] | None = None
    #: ``(kind, {index: message})``: messages said otherwise to clients that do not keep that
    #: state (a match said as the station board's, to clients without the board).
    unless: tuple[str, dict[int, dict[str, Any]]] | None = None
    #: The patched state (the station board) without which a client is told the frame's
    #: ``match_updated`` matches in brief (:func:`~beerolympics.live.deltas.brief`); None when
    #: the frame says no match.
    briefs: str | None = None

    def keeping(self, keeps: frozenset[str]) -> Frame:
        """The frame for a client that keeps only the patched states ``keeps``: the others
        said as notices (``{"p", "kind", "at"}``: that state changed, as of ``at``), and its
        matches in brief unless it keeps the station board; made once for all such clients."""
        kept = self.states & keeps
        brief = self.briefs is not None and self.briefs not in keeps
        if kept == self.states and not brief:
            return self
        if self.variants is None:
            self.variants = {}
        found = self.variants.get((kept, brief))
        if found is None:
            forms = self.unless[1] if self.unless and self.unless[0] not in kept else {}
            messages = [
                {"p": m["p"], "kind": m["kind"], "at": m["at"]}
                if m["kind"] in self.states and m["kind"] not in kept
                else briefly(forms.get(i, m))
                if brief
                else forms.get(i, m)
                for i, m in enumerate(self.messages)
            ]
            body = {"type": "frame", "channel": self.channel, "from": self.start, "to": self.end}
            text = json_text({**body, "messages": messages})
            found = self.variants[kept, brief] = Frame(
                self.channel, self.start, self.end, text, messages, states=kept
            )
        return found

    def websocket_bytes(self) -> bytes:
        """The frame as one WebSocket text frame, the same bytes for every socket (made on
        first use, so a frame that only SSE clients get is never framed)."""
        if self.wire is None:
            self.wire = text_frame(self.text)
        return self.wire


def briefly(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with its match in brief when it is a ``match_updated``."""
    if message["kind"] != "match_updated":
        return message
    return {**message, "match": brief(message["match"])}


@dataclass(slots=True)
class Subscription:
    #: The position the client has everything up to; None while it is still catching up.
    cursor: int | None = None
    held: list[Frame] = field(default_factory=list)
    #: The patched states the client keeps (None: it takes frames as they are).
    keeps: frozenset[str] | None = None


class Connection:
    """A client following one tournament."""

    __slots__ = (
        "_buffer",
        "_closing",
        "_hang_up",
        "_per_minute",
        "_queue",
        "_received",
        "_sending",
        "_transport",
        "_wakeup",
        "_write_frame",
        "actor",
        "address",
        "close_code",
        "close_reason",
        "id",
        "protocol",
        "subscriptions",
        "tournament_id",
    )

    def __init__(
        self, tournament_id: str, actor: Actor, address: str, *, buffer: int, per_minute: int
    ) -> None:
        self.id = f"c_{next(_ids)}"
        self.tournament_id = tournament_id
        self.actor = actor
        self.address = address
        self.subscriptions: dict[str, Subscription] = {}
        #: The protocol version the client speaks (it says so when it subscribes).
        self.protocol = 1
        # Thousands of these stay open at once, so what most never need is made on first use:
        # the queue when a socket pushes back (or for SSE), the wakeup for SSE only.
        self._queue: deque[str] | None = None
        self._buffer = buffer
        self._wakeup: asyncio.Event | None = None
        self._transport: Send | None = None
        self._hang_up: HangUp | None = None
        self._write_frame: WriteFrame | None = None
        self._sending: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._per_minute = per_minute
        self._received: list[float] = []
        self.close_code: int | None = None
        self.close_reason = ""

    @property
    def writes_frames(self) -> bool:
        """Whether channel frames can go to the socket as ready-made bytes."""
        return self._write_frame is not None

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message meant for this client only."""
        self.enqueue(json_text(message))

    def attach(self, send: Send, hang_up: HangUp, write_frame: WriteFrame | None = None) -> None:
        """Write straight to the transport from now on (WebSockets): ``send(text)``, and
        ``hang_up(code, reason)`` when the connection is closed from this side. With
        ``write_frame``, channel frames go to the socket as ready-made bytes when it can
        take them at once."""
        self._transport = send
        self._hang_up = hang_up
        self._write_frame = write_frame

    def beat(self, text: str) -> None:
        """The hub's heartbeat."""
        self.enqueue(text)

    def enqueue(self, text: str, frame: Frame | None = None) -> None:
        if self.close_code is not None:
            return
        queue = self._queue
        if self._transport is not None and self._sending is None and not queue:
            write = self._write_frame
            if write is not None and write(text if frame is None else frame):
                return
            self._send_now(self._transport, text)
            return
        if queue is None:
            queue = self._queue = deque()
        if len(queue) >= self._buffer:
            self.close(CLOSE_TOO_SLOW, "too slow: the client did not keep up")
            return
        queue.append(text)
        if self._wakeup is not None:
            self._wakeup.set()

    def _send_now(self, send: Send, text: str) -> None:
        # Drive the send coroutine by hand: it nearly always completes at once, and then no
        # task was needed. If the socket pushes back, a task finishes it (see _finish).
        coroutine = send(text)
        try:
            waiting = coroutine.send(None)
        except StopIteration:
            return
        except Exception:
            self.close(1006, "gone")
            return
        self._sending = asyncio.get_running_loop().create_task(
            self._finish(send, coroutine, waiting)
        )

    async def _finish(self, send: Send, coroutine: Any, waiting: Any) -> None:
        """Complete a send that suspended (as a Task would), then send what queued up."""
        try:
            while True:
                if isinstance(waiting, asyncio.Future):
                    # Wait for it without raising: the coroutine takes its result itself.
                    await asyncio.wait([waiting])
                else:
                    await asyncio.sleep(0)
                try:
                    waiting = coroutine.send(None)
                except StopIteration:
                    break
            queue = self._queue
            while queue and self.close_code is None:
                await send(queue.popleft())
        except asyncio.CancelledError:
            coroutine.close()
            raise
        except Exception:
            self.close(1006, "gone")
        finally:
            self._sending = None

    def deliver(self, frame: Frame) -> int:
        """Pass a channel's frame on, in order and without overlap with what was sent; the
        characters (bytes: frames are ASCII) it became for this client, 0 when held back or
        already sent."""
        sub = self.subscriptions.get(frame.channel)
        if sub is None:
            return 0
        if sub.cursor is None:
            sub.held.append(frame)
            return 0
        if frame.full is not None and self.protocol < PROTOCOL:
            frame = frame.full
        elif sub.keeps is not None and (frame.states or frame.briefs):
            frame = frame.keeping(sub.keeps)
        if frame.start == frame.end:
            # State only (presence): it covers no events, so it cannot overlap anything.
            self.enqueue(frame.text, frame)
            return len(frame.text)
        if frame.end <= sub.cursor:
            return 0
        if frame.start < sub.cursor:
            # The replay already covered the start of this frame: send the rest only.
            # (States go along whatever their position: they are the state at the frame's end.)
            cut = [m for m in frame.messages if m["p"] > sub.cursor or "at" in m]
            body = {"type": "frame", "channel": frame.channel, "from": sub.cursor}
            text = json_text({**body, "to": frame.end, "messages": cut})
            self.enqueue(text)
        else:
            text = frame.text
            self.enqueue(text, frame)
        sub.cursor = frame.end
        return len(text)

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
        if received[0] < now - 60:
            # At most per_minute + 1 entries: dropping from the front of a list is cheap here.
            received[:] = [at for at in received if at >= now - 60]
        if len(received) > self._per_minute:
            self.close(CLOSE_RATE_LIMITED, "too many messages")
            return False
        return True

    @property
    def closing(self) -> asyncio.Task[None] | None:
        """The task writing the close frame, once :meth:`close` started one."""
        return self._closing

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            if self._wakeup is not None:
                self._wakeup.set()
            if self._hang_up is not None:
                self._closing = asyncio.get_running_loop().create_task(self._shut())

    async def _shut(self) -> None:
        # What is already being written goes first (bounded), then the close frame.
        sending = self._sending
        if sending is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                async with asyncio.timeout(2):
                    await asyncio.shield(sending)
            sending.cancel()
        assert self._hang_up is not None
        with contextlib.suppress(Exception):
            await self._hang_up(self.close_code or 1000, self.close_reason)

    async def outgoing(self) -> AsyncIterator[str]:
        """What to send, in order, until the connection is closed."""
        if self._queue is None:
            self._queue = deque()
        queue = self._queue
        wakeup = self._wakeup = asyncio.Event()
        while self.close_code is None:
            while queue and self.close_code is None:
                yield queue.popleft()
            if self.close_code is None:
                wakeup.clear()
                if not queue:
                    await wakeup.wait()
