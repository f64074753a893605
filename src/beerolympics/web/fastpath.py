"""Public reads answered before the framework: an in-process cache in front of the app.

Public reads of a tournament (leaderboard, brackets, standings, schedule, stations…) depend on
nothing but the URL and the tournament's event position. The first request goes through the
app, whose handler stores the encoded response here with the position it reflects; later
requests for the same URL are answered from this cache — 200 with the same bytes, or 304 when
the client already has them — for as long as the tournament's position has not moved. Any
event in the tournament moves it, so nothing stale is ever served.

A body of :data:`COMPRESS_FROM` bytes or more is also kept brotli- and gzip-compressed, made
once when it is stored, and sent compressed to a client that accepts it (the same as what the
app's compression middleware does for the first answer).
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

import brotli
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from beerolympics.web.http import API

PREFIX: Final = f"{API}/tournaments/"
#: Bodies from this size on are worth compressing (smaller ones barely shrink).
COMPRESS_FROM: Final = 1024
#: Brotli quality: most of the gain for a small part of the cost of the best (11).
BROTLI_QUALITY: Final = 5


@dataclass(frozen=True, slots=True)
class CachedResponse:
    tournament_id: str
    position: int
    etag: bytes
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    #: The body compressed, by content coding (b"br", b"gzip"); empty for a small body.
    encoded: dict[bytes, bytes] = field(default_factory=dict)


class PublicReads:
    """The cache of public responses by URL, validated against tournament positions."""

    def __init__(self, position_of: Callable[[str], int], capacity: int = 2048) -> None:
        self._position_of = position_of
        self._entries: OrderedDict[tuple[str, bytes], CachedResponse] = OrderedDict()
        self._capacity = capacity
        self.hits = 0
        #: Public GETs the cache could not answer (first asks, moved positions, unknown URLs).
        self.misses = 0

    def store(
        self,
        scope: Scope,
        tournament_id: str,
        position: int,
        etag: str,
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        """Remember the response to a public GET (called by the handler that built it)."""
        key = (scope["path"], scope.get("query_string", b""))
        encoded = {}
        if len(body) >= COMPRESS_FROM:
            encoded = {
                b"br": brotli.compress(body, quality=BROTLI_QUALITY),
                b"gzip": gzip.compress(body, compresslevel=6, mtime=0),
            }
        self._entries[key] = CachedResponse(
            tournament_id,
            position,
            etag.encode(),
            body,
            tuple((k.lower().encode(), v.encode()) for k, v in headers.items()),
            encoded,
        )
        self._entries.move_to_end(key)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def lookup(self, scope: Scope) -> CachedResponse | None:
        path, query = scope["path"], scope.get("query_string", b"")
        entry = self._entries.get((path, query))
        if entry is None or entry.position != self._position_of(entry.tournament_id):
            self.misses += 1
            return None
        self.hits += 1
        return entry


class FastPath:
    """ASGI middleware: serve a GET from the app's :class:`PublicReads` when it holds a
    current answer, before parameters are parsed or a handler runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: it hands back the one to await, so a connection that lives
        # for hours (a live socket) holds no frame of this middleware.
        if (
            scope["type"] == ScopeType.HTTP
            and scope["method"] == "GET"
            and scope["path"].startswith(PREFIX)
            and (reads := getattr(scope["app"].state, "public_reads", None)) is not None
            and (entry := reads.lookup(scope)) is not None
        ):
            return _answer(scope, send, entry)
        return self.app(scope, receive, send)


async def _answer(scope: Scope, send: Send, entry: CachedResponse) -> None:
    matches = False
    accepted = b""
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            matches = any(
                tag.strip().removeprefix(b"W/") == entry.etag or tag.strip() == b"*"
                for tag in value.split(b",")
            )
        elif name == b"accept-encoding":
            accepted = value
    headers: list[tuple[bytes, bytes]] = list(entry.headers)
    if entry.encoded:
        headers.append((b"vary", b"Accept-Encoding"))
    if matches:
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    body = entry.body
    codings = {part.split(b";")[0].strip() for part in accepted.split(b",")}
    for coding in (b"br", b"gzip"):
        if coding in entry.encoded and coding in codings:
            body = entry.encoded[coding]
            headers.append((b"content-encoding", coding))
            break
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
