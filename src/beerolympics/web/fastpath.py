"""Public reads answered before the framework: an in-process cache in front of the app.

Public reads of a tournament (leaderboard, brackets, standings, schedule, stations…) depend on
nothing but the URL and the tournament's event position. The first request goes through the
app, whose handler stores the encoded response here with the position it reflects; later
requests for the same URL are answered from this cache — 200 with the same bytes, or 304 when
the client already has them — for as long as the tournament's position has not moved. Any
event in the tournament moves it, so nothing stale is ever served.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from beerolympics.web.http import API

PREFIX: Final = f"{API}/tournaments/"


@dataclass(frozen=True, slots=True)
class CachedResponse:
    tournament_id: str
    position: int
    etag: bytes
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]


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
        self._entries[key] = CachedResponse(
            tournament_id,
            position,
            etag.encode(),
            body,
            tuple((k.lower().encode(), v.encode()) for k, v in headers.items()),
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
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            matches = any(
                tag.strip().removeprefix(b"W/") == entry.etag or tag.strip() == b"*"
                for tag in value.split(b",")
            )
            break
    headers: list[tuple[bytes, bytes]] = list(entry.headers)
    if matches:
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    headers.append((b"content-length", str(len(entry.body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body, "more_body": False})
