"""Ready-made WebSocket frames, written straight to the socket under uvicorn.

A live frame goes to thousands of sockets. Through ASGI, every send builds a message, runs a
coroutine through the server, and encodes and frames the same text again — per socket, more
than the write itself costs. A server's frames are not masked and compression is off, so the
bytes on the wire are the same for every client: a channel frame is framed once
(:meth:`~beerolympics.live.connection.Frame.websocket_bytes`), and where the server is
uvicorn's ``websockets-sansio`` protocol, :func:`frame_writer` writes those bytes to the
socket directly, under the conditions uvicorn's own send checks (handshake done, no close
sent, not paused by flow control). Otherwise — another server, a paused socket — the ASGI
send is used and waits for the socket as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from beerolympics.live.connection import WriteFrame

#: Scope key under which :class:`KeepServerSend` leaves a WebSocket's send as the server gave it.
SERVER_SEND: Final = "beerolympics.server_send"


class KeepServerSend:
    """ASGI wrapper, outside the framework: leaves a WebSocket's own ``send`` in its scope, so
    the live endpoint can send past the framework's per-message wrappers (and reach the
    socket, see :func:`frame_writer`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Hands back the app's coroutine rather than awaiting it: no frame of this wrapper
        # stays alive for as long as a socket is open.
        if scope["type"] == ScopeType.WEBSOCKET:
            scope_dict: dict[str, Any] = scope  # type: ignore[assignment]
            scope_dict[SERVER_SEND] = send
        return self.app(scope, receive, send)


def frame_writer(server_send: object) -> WriteFrame | None:
    """Something that writes a ready-made frame to the socket behind ``server_send`` (the
    ASGI send uvicorn gave the app) and says whether it could; ``None`` for other servers."""
    protocol = getattr(server_send, "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol) or protocol.conn.extensions:
        return None
    return _SocketWriter(protocol)


class _SocketWriter:
    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def __call__(self, data: bytes) -> bool:
        protocol = self._protocol
        if (
            protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()
            or protocol.conn.state is not State.OPEN
        ):
            return False
        protocol.transport.write(data)
        return True
