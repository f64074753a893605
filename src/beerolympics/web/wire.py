"""Ready-made WebSocket frames, written straight to the socket under uvicorn.

A live frame goes to thousands of sockets. Through ASGI, every send builds a message, runs a
coroutine through the server, and encodes and frames the same text again — per socket, more
than the write itself costs. A server's frames are not masked, so a channel frame is framed
once (:meth:`~beerolympics.live.connection.Frame.websocket_bytes`) and, where the server is
uvicorn's ``websockets-sansio`` protocol, :func:`frame_writer` writes those bytes to the
socket directly, under the conditions uvicorn's own send checks (handshake done, no close
sent, not paused by flow control). Otherwise — another server, a paused socket — the ASGI
send is used and waits for the socket as usual.

**Compression, once for many.** A frame of a few hundred bytes compresses to a fifth of itself
when the compressor may refer to the frames before it: the same keys, team ids and names come
back frame after frame. That needs the client to keep its window from message to message
(permessage-deflate's context takeover, RFC 7692), and normally a compressor per socket, fed
every message: per-socket compression, 2-3 times the CPU of the fan-out. Instead
(:class:`LiveWebSocketProtocol`), the server negotiates context takeover, never keeps a
compressor of its own, and compresses a frame with the last two messages the socket's window
ends with as the dictionary (:func:`deflate`). Sockets that got the same frames have the same
ending, so a frame is compressed once per ending (usually one or two), and the bytes go to
every socket that has it. A socket that got something of its own lately gets the frame
compressed against that. Messages sent uncompressed (heartbeats, small answers) leave the
window as it was, and a message the websockets library compresses (the ASGI send, when the
socket pushes back) is compressed alone, which any window can take: the ending it leaves is
then not known, and the next frame is compressed alone too. Apple's browsers are not offered
compression (:func:`apple_webkit`).
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Sequence
from typing import Any, Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import CTRL_OPCODES, Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import ExtensionParameter

from beerolympics.live.connection import Frame as LiveFrame
from beerolympics.live.connection import WriteFrame, text_frame

#: Scope key under which :class:`KeepServerSend` leaves a WebSocket's send as the server gave it.
SERVER_SEND: Final = "beerolympics.server_send"
#: Messages shorter than this go uncompressed: deflate would save a few bytes, if any.
DEFLATE_FROM: Final = 96
#: A frame compressed against more endings than this is compressed alone for the rest.
ENDINGS: Final = 8
#: Of a socket's own message, what the window's ending keeps (characters): enough for the next
#: frame to refer to, while thousands of sockets each hold theirs.
KEEP: Final = 4096
#: zlib's default level (a compressor lives for one message).
LEVEL: Final = 6

_SYNC_TAIL: Final = b"\x00\x00\xff\xff"


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


class SharedDeflate(PerMessageDeflate):
    """permessage-deflate as negotiated with the client, and what its window ends with.

    The client keeps its window (context takeover), the server keeps no compressor: what the
    websockets library sends through it is compressed alone, and then the window's ending is
    not known (``ending`` is empty). The server's writer (:class:`_DeflateWriter`) sets
    ``ending`` as it writes. The client compresses each of its own messages alone
    (``client_no_context_takeover``), so no decompressor is kept for it either.
    """

    def __init__(self, negotiated: PerMessageDeflate) -> None:
        super().__init__(
            negotiated.remote_no_context_takeover,
            True,  # the library's own compression: message by message
            negotiated.remote_max_window_bits,
            negotiated.local_max_window_bits,
            {"memLevel": 5},
        )
        #: Whether the client keeps its window from message to message.
        self.takeover = not negotiated.local_no_context_takeover
        #: The last messages (texts) compressed to the client, oldest first.
        self.ending: tuple[str, ...] = ()

    def encode(self, frame: Frame) -> Frame:
        if frame.opcode not in CTRL_OPCODES:
            self.ending = ()
        return super().encode(frame)


class SharedDeflateFactory(ServerPerMessageDeflateFactory):
    """Negotiates permessage-deflate with context takeover for the server's messages (see the
    module's docstring) and none for the client's."""

    def __init__(self) -> None:
        super().__init__(client_no_context_takeover=True, compress_settings={"memLevel": 5})

    def process_request_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> tuple[list[ExtensionParameter], SharedDeflate]:
        response, negotiated = super().process_request_params(params, accepted_extensions)
        return response, SharedDeflate(negotiated)


def apple_webkit(user_agent: str) -> bool:
    """Whether a browser's networking is Apple's (Safari, and every browser on iOS, whose
    user agents name AppleWebKit but not Chrome or Android).

    Apple's WebSocket stack has mis-inflated permessage-deflate in several versions (reported
    against Safari 13, 15, 17 and iOS browsers as late as 2026: truncated or garbled messages,
    then a dropped connection), and the compression here mixes messages compressed alone,
    against a dictionary and uncompressed, which those reports involve. It could not be tried
    on Apple's browsers, so they are not offered it: they get the frames uncompressed.
    """
    return "AppleWebKit" in user_agent and not any(
        other in user_agent for other in ("Chrome", "Android")
    )


class LiveServerProtocol(ServerProtocol):
    """The websockets library's server side, declining permessage-deflate to Apple's browsers
    (see :func:`apple_webkit`)."""

    def process_extensions(self, headers: Headers) -> tuple[str | None, list[Extension]]:
        if apple_webkit(headers.get("User-Agent", "")):
            return None, []
        return super().process_extensions(headers)


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol, offering :class:`SharedDeflateFactory`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = LiveServerProtocol(
            extensions=[SharedDeflateFactory()],
            max_size=self.config.ws_max_size,
            logger=self.conn.logger,
        )


class _Deflate(Extension):
    """Compresses one text message against ``dictionary`` (the end of the client's window)."""

    name = PerMessageDeflate.name

    def __init__(self, dictionary: bytes, bits: int) -> None:
        self.dictionary = dictionary
        self.bits = bits

    def encode(self, frame: Frame) -> Frame:
        if self.dictionary:
            compressor = zlib.compressobj(
                LEVEL, zlib.DEFLATED, -self.bits, 8, zlib.Z_DEFAULT_STRATEGY, self.dictionary
            )
        else:
            compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -self.bits)
        data = compressor.compress(frame.data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(_SYNC_TAIL)
        return Frame(frame.opcode, data[:-4], rsv1=True)

    def decode(self, frame: Frame, *, max_size: int | None = None) -> Frame:
        raise NotImplementedError  # only ever used to send


def deflate(text: str, ending: tuple[str, ...], bits: int) -> bytes:
    """``text`` as one compressed WebSocket text frame, for a client whose window (of
    ``2**bits`` bytes) ends with the texts ``ending``."""
    window = "".join(ending)[-(1 << bits) :].encode()
    return Frame(Opcode.TEXT, text.encode()).serialize(
        mask=False, extensions=[_Deflate(window, bits)]
    )


def frame_writer(server_send: object) -> WriteFrame | None:
    """Something that writes a channel's frame, or a text, to the socket behind
    ``server_send`` (the ASGI send uvicorn gave the app) now and says whether it could
    (see :data:`~beerolympics.live.connection.WriteFrame`); ``None`` for other servers."""
    protocol = getattr(server_send, "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    extensions = protocol.conn.extensions
    if not extensions:
        return _SocketWriter(protocol)
    if len(extensions) == 1 and isinstance(extensions[0], SharedDeflate):
        return _DeflateWriter(protocol, extensions[0])
    return None


def _open(protocol: WebSocketsSansIOProtocol) -> bool:
    return not (
        protocol.close_sent
        or protocol.disconnected
        or not protocol.writable.is_set()
        or protocol.conn.state is not State.OPEN
    )


class _SocketWriter:
    """Frames uncompressed: a channel frame's bytes as made once for every socket; a text of
    this socket's own goes through the ASGI send."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def __call__(self, message: LiveFrame | str) -> bool:
        if isinstance(message, str) or not _open(self._protocol):
            return False
        self._protocol.transport.write(message.websocket_bytes())
        return True


class _DeflateWriter:
    """Frames compressed against the end of the client's window (see the module's docstring)."""

    __slots__ = ("_bits", "_extension", "_protocol")

    def __init__(self, protocol: WebSocketsSansIOProtocol, extension: SharedDeflate) -> None:
        self._protocol = protocol
        self._extension = extension
        self._bits = extension.local_max_window_bits

    def __call__(self, message: LiveFrame | str) -> bool:
        protocol = self._protocol
        if not _open(protocol):
            return False
        extension, bits = self._extension, self._bits
        ending = extension.ending if extension.takeover else ()
        if isinstance(message, str):
            # This socket's own: compressed for it alone, and kept in part.
            text = kept = message
            if len(text) < DEFLATE_FROM:
                protocol.transport.write(text_frame(text))
                return True
            data = deflate(text, ending, bits)
            if len(kept) > KEEP:
                # Only the end of it: what came before in the window is no longer next to it.
                kept, ending = kept[-KEEP:], ()
        else:
            # A channel's: compressed once per ending, and kept whole (the same text for all).
            text = kept = message.text
            if len(text) < DEFLATE_FROM:
                protocol.transport.write(message.websocket_bytes())
                return True
            made = message.deflated
            if made is None:
                made = message.deflated = {}
            if len(made) >= ENDINGS and (ending, bits) not in made:
                ending = ()
            found = made.get((ending, bits))
            if found is None:
                found = made[ending, bits] = deflate(text, ending, bits)
            data = found
        protocol.transport.write(data)
        if extension.takeover:
            extension.ending = (ending[-1], kept) if ending else (kept,)
        return True
