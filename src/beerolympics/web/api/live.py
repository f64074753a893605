"""``/api/v1/tournaments/{id}/live``: the live protocol over WebSocket, and over SSE
(``/live/events``). See docs/live-protocol.md."""

from __future__ import annotations

import asyncio
import contextlib
import re
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Annotated, Any, Final, TypeVar, cast

import msgspec
from litestar import Request, get
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream
from litestar.types import Receive, Scope, Send

from beerolympics.domain.errors import DomainError, NotFound, Unauthenticated
from beerolympics.domain.identity import Actor
from beerolympics.live.admission import TooManyConnections
from beerolympics.live.connection import PROTOCOL, Connection, HangUp, code_build
from beerolympics.live.hub import Hub
from beerolympics.runtime import Runtime
from beerolympics.web.api.tournaments import ERRORS, TournamentId
from beerolympics.web.consistency import catch_up_for
from beerolympics.web.context import actor, scope_actor
from beerolympics.web.http import API
from beerolympics.web.wire import SERVER_SEND, frame_writer

CLOSE_BAD_MESSAGE = 4000
CLOSE_INVALID_CREDENTIAL = 4001
CLOSE_NO_TOURNAMENT = 4004
CLOSE_TOO_MANY = 4009
CLOSE_TOO_BIG = 1009


class Auth(msgspec.Struct, tag="auth"):
    token: str


class Subscribe(msgspec.Struct, tag="subscribe"):
    channel: str
    since: int | None = None
    protocol: int | None = None
    have: dict[str, int] | None = None
    #: The code the held states were made by (``build`` of the welcome they came under).
    build: str | None = None


class Resync(msgspec.Struct, tag="resync"):
    channel: str
    kinds: list[str] | None = None


class Unsubscribe(msgspec.Struct, tag="unsubscribe"):
    channel: str


class Ping(msgspec.Struct, tag="ping"):
    id: int | str | None = None


ClientMessage = Auth | Subscribe | Unsubscribe | Resync | Ping
_decode = msgspec.json.Decoder(ClientMessage).decode


class _Head(msgspec.Struct):
    type: str
    to: int | None = None
    position: int | None = None


_head = msgspec.json.Decoder(_Head).decode


def _welcome(conn: Connection, hub: Hub) -> dict[str, Any]:
    return {
        "type": "welcome",
        "protocol": PROTOCOL,
        "build": code_build(),
        "connection": conn.id,
        "tournament": conn.tournament_id,
        "role": conn.actor.role,
        "position": hub.position,
        "heartbeat": hub.settings.live_heartbeat,
        "window_ms": hub.settings.live_window_ms,
    }


#: The WebSocket's path; the tournament id is the one group.
SOCKET_PATH = re.compile(rf"^{re.escape(API)}/tournaments/([^/]+)/live$")


async def live_socket(scope: Scope, receive: Receive, send: Send, tournament_id: str) -> None:
    """The live protocol over a WebSocket (see docs/live-protocol.md), as plain ASGI.

    A live socket stays open for hours, so it is served past the framework's routing (see
    :class:`beerolympics.app.App`): the framework's connection object, parsed parameters and
    the coroutine frames of its middleware, routing and handler would otherwise stay alive
    with every socket (3.7 KB of the 23.8 KB a socket cost, in tracemalloc).
    """
    state = scope["app"].state
    rt: Runtime = state.runtime
    hub: Hub = state.hub
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept", "subprotocol": None, "headers": []})

    async def hang_up(code: int, reason: str) -> None:
        await send({"type": "websocket.close", "code": code, "reason": reason})

    await catch_up_for(rt, scope["path"])
    try:
        rt.catalog.get(tournament_id)
        who = scope_actor(rt, scope, tournament_id)
    except NotFound:
        await hang_up(CLOSE_NO_TOURNAMENT, "no such tournament")
        return
    except Unauthenticated:
        await hang_up(CLOSE_INVALID_CREDENTIAL, "the credential is not valid")
        return
    client = scope.get("client")
    conn = new_connection(Connection, tournament_id, who, client[0] if client else None, hub)
    try:
        await hub.connect(conn)
    except TooManyConnections as refused:
        await hang_up(CLOSE_TOO_MANY, refused.message)
        return

    attach(conn, scope, send, hang_up)
    conn.send(_welcome(conn, hub))
    await serve(conn, hub, receive, lambda text: _handle(rt, hub, conn, text))


C = TypeVar("C", bound=Connection)


def new_connection(
    kind: type[C], tournament_id: str, who: Actor, address: str | None, hub: Hub
) -> C:
    """A connection of ``kind`` with the live limits of the settings."""
    settings = hub.settings
    return kind(
        tournament_id,
        who,
        address or "unknown",
        buffer=settings.live_send_buffer,
        per_minute=settings.live_messages_per_minute,
    )


def attach(conn: Connection, scope: Scope, send: Send, hang_up: HangUp) -> None:
    """Write to the socket through the server's own send when serving (see web/wire.py),
    the framework's otherwise."""
    server_send: Callable[[Any], Coroutine[Any, Any, None]]
    server_send = cast("dict[str, Any]", scope).get(SERVER_SEND, send)

    def send_text(text: str) -> Coroutine[Any, Any, None]:
        return server_send({"type": "websocket.send", "bytes": None, "text": text})

    conn.attach(send_text, hang_up, frame_writer(server_send))


async def serve(
    conn: Connection, hub: Hub, receive: Receive, handle: Callable[[str], Awaitable[None]]
) -> None:
    """Hand the client's messages to ``handle`` (within the size and rate limits) until the
    connection ends, then take it out of the hub."""
    max_bytes = hub.settings.live_max_message_bytes
    try:
        while conn.close_code is None:
            text = await _receive_text(receive)
            if text is None:
                return
            if len(text.encode()) > max_bytes:
                conn.close(CLOSE_TOO_BIG, "message too big")
            elif conn.count_message():
                await handle(text)
        # Closed from this side: wait for the client's answer to the close frame.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while await _receive_text(receive) is not None:
                    pass
    finally:
        hub.disconnect(conn)
        conn.close(1000, "")


async def _receive_text(receive: Receive) -> str | None:
    """The client's next message as text; None once it is gone."""
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return None
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            return text


async def _handle(rt: Runtime, hub: Hub, conn: Connection, text: str) -> None:
    try:
        message = _decode(text)
    except msgspec.DecodeError:
        conn.close(CLOSE_BAD_MESSAGE, "not a known message")
        return
    channel = getattr(message, "channel", None)
    try:
        if isinstance(message, Subscribe):
            await hub.subscribe(
                conn,
                message.channel,
                message.since,
                message.protocol,
                message.have,
                message.build,
            )
        elif isinstance(message, Resync):
            hub.resync(conn, message.channel, message.kinds)
        elif isinstance(message, Unsubscribe):
            hub.unsubscribe(conn, message.channel)
        elif isinstance(message, Ping):
            conn.send({"type": "pong", "id": message.id})
        else:
            found = rt.authenticator.actor(message.token)
            if found is None or found.tournament_id != conn.tournament_id:
                conn.close(CLOSE_INVALID_CREDENTIAL, "the credential is not valid")
                return
            try:
                await hub.reidentify(conn, found)
            except TooManyConnections as refused:
                conn.close(CLOSE_TOO_MANY, refused.message)
                return
            conn.send(_welcome(conn, hub))
    except DomainError as exc:
        conn.send({"type": "error", "code": exc.code, "message": exc.message, "channel": channel})


@get(
    "/tournaments/{tournament_id:str}/live/events",
    summary="Live updates as Server-Sent Events",
    tags=["live"],
    responses={404: ERRORS[404]},
)
async def live_events(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    channel: Annotated[list[str], QueryParameter(max_items=20)],
    since: Annotated[int | None, QueryParameter(ge=0)] = None,
    protocol: Annotated[int | None, QueryParameter(ge=1, le=1000)] = None,
    keep: Annotated[list[str] | None, QueryParameter(max_items=4)] = None,
    last_event_id: Annotated[
        str | None, HeaderParameter(name="Last-Event-ID", max_length=32)
    ] = None,
) -> Stream:
    """The same frames as the WebSocket, one SSE event each (``id`` is the frame's ``to``),
    gzipped for a client that takes it."""
    rt: Runtime = request.app.state.runtime
    hub: Hub = request.app.state.hub
    rt.catalog.get(tournament_id)
    who = actor(request, tournament_id)
    if last_event_id is not None and last_event_id.isdigit():
        since = int(last_event_id)
    address = request.client.host if request.client else None
    conn = new_connection(Connection, tournament_id, who, address, hub)
    await hub.connect(conn)
    try:
        for name in channel:
            # Over SSE a client names the states it keeps, and is sent them: it holds none
            # (it cannot send a resync either: it reconnects instead).
            have = dict.fromkeys(keep, -1) if keep else None
            await hub.subscribe(conn, name, since, protocol, have)
    except DomainError:
        hub.disconnect(conn)
        raise
    gzipped = hub.settings.live_compression and gzip_accepted(
        request.headers.get("accept-encoding", "")
    )
    if not gzipped:
        return ServerSentEvent(_events(hub, conn), headers={"Vary": "Accept-Encoding"})
    return Stream(
        _gzipped(_events(hub, conn)),
        media_type="text/event-stream",
        headers={
            "Content-Encoding": "gzip",
            "Vary": "Accept-Encoding",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        },
    )


#: The window Server-Sent Events are gzipped with (2**13 bytes: the last dozen frames or so)
#: and zlib's memory level: about 48 KB a connection.
SSE_WINDOW_BITS: Final = 13
SSE_MEMORY_LEVEL: Final = 5


def gzip_accepted(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header takes gzip, by name or else as ``*``, with a q
    above 0."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        q = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            weights[coding.lower()] = float(q)
        except ValueError:
            weights[coding.lower()] = 0.0
    return weights.get("gzip", weights.get("*", 0.0)) > 0


async def _gzipped(events: AsyncGenerator[ServerSentEventMessage]) -> AsyncIterator[bytes]:
    """The events as one gzip stream, each flushed whole as it comes (none held back: a
    browser decodes each as it arrives), the stream ended properly if the server ends it."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + SSE_WINDOW_BITS, SSE_MEMORY_LEVEL)
    async with contextlib.aclosing(events):
        async for event in events:
            yield packer.compress(event.encode()) + packer.flush(zlib.Z_SYNC_FLUSH)
    yield packer.flush()


async def _events(hub: Hub, conn: Connection) -> AsyncGenerator[ServerSentEventMessage]:
    try:
        yield ServerSentEventMessage(
            event="welcome", data=msgspec.json.encode(_welcome(conn, hub)).decode()
        )
        async for text in conn.outgoing():
            head = _head(text)
            event_id = head.to if head.to is not None else head.position
            yield ServerSentEventMessage(event=head.type, data=text, id=event_id)
    finally:
        hub.disconnect(conn)
