"""A page's markup as the compression dictionary of its region answers (RFC 9842, ``dcz``).

After a result a page refreshing its regions gets a few KB of JSON (see ``regions.py``);
compressed on its own, most of what is left is markup the page already holds: team chips,
table rows, links. So a page comes with ``Link: </dictionaries/<sha-256>>;
rel="compression-dictionary"``: its own markup, spelled as a JSON string spells it (the
answers' markup is JSON-escaped, and a dictionary only helps where the bytes are the same).
The browser fetches it when idle and keeps it (it is named by its hash: immutable), says it
holds it when it refreshes (``Available-Dictionary``), and the answer goes out as Zstandard
compressed against it (``Content-Encoding: dcz``). A browser that has none, or names one this
instance no longer holds, gets the answer as before (brotli).

A page's dictionary is made at most every :data:`REUSE` seconds per page and viewer: an older
rendering of the same page shares nearly all its markup, and phones that load the page at
different positions then share one dictionary. A viewer's dictionary is only linked from that
viewer's pages (what a captain sees may not be a spectator's). Dictionaries are kept up to
``max_bytes``, least recently used first out, and compressors (each holds tables of about a
megabyte) for the :data:`COMPRESSORS` most recently used.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any, Final

import brotli
import msgspec
import zstandard
from litestar import Request, Response, get
from litestar.params import PathParameter
from litestar.types import Message, Receive, Scope, Send

from beerolympics.domain.errors import NotFound
from beerolympics.web.fastpath import BROTLI_QUALITY, COMPRESS_FROM

PATH: Final = "/dictionaries"
#: Seconds a page's dictionary is linked from its renderings before a newer one is made.
REUSE: Final = 300.0
#: What starts a ``dcz`` body: a Zstandard skippable frame holding the dictionary's SHA-256.
DCZ_HEADER: Final = b"\x5e\x2a\x4d\x18\x20\x00\x00\x00"
#: Pages whose path a URL pattern can say as it is (no pattern syntax in it).
_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9/_.~-]*$")
_LEVEL: Final = 3
#: Compressors kept ready, one per dictionary most recently answered with.
COMPRESSORS: Final = 64


@dataclass(frozen=True, slots=True)
class Dictionary:
    path: str
    data: bytes
    digest: bytes
    made: float

    @property
    def name(self) -> str:
        return self.digest.hex()


class Dictionaries:
    """The dictionaries recently linked from pages, by name and by the page and viewer."""

    def __init__(self, max_bytes: int = 32 << 20) -> None:
        self._by_name: OrderedDict[str, Dictionary] = OrderedDict()
        self._of_page: dict[Hashable, str] = {}
        self._compressors: OrderedDict[str, zstandard.ZstdCompressor] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes

    def compress(self, found: Dictionary, body: bytes) -> bytes:
        """``body`` as a ``dcz`` body: Zstandard compressed against ``found``."""
        compressor = self._compressors.pop(found.name, None)
        if compressor is None:
            prefix = zstandard.ZstdCompressionDict(
                found.data, dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
            compressor = zstandard.ZstdCompressor(level=_LEVEL, dict_data=prefix)
        self._compressors[found.name] = compressor
        if len(self._compressors) > COMPRESSORS:
            self._compressors.popitem(last=False)
        return DCZ_HEADER + found.digest + compressor.compress(body)

    def link(self, page: Hashable, path: str, html: str) -> str | None:
        """The ``Link`` header value for a rendering of ``page`` (a page and viewer) at
        ``path``; None for a path a URL pattern cannot say plainly."""
        if not _PLAIN_PATH.match(path):
            return None
        now = time.monotonic()
        found = self.named(self._of_page.get(page, ""))
        if found is None or now - found.made > REUSE:
            data = msgspec.json.encode(html)
            found = Dictionary(path, data, hashlib.sha256(data).digest(), now)
            self._keep(found)
            self._of_page[page] = found.name
        # (``page``: for a proxy that sends a page and its dictionary to one instance.)
        return f'<{PATH}/{found.name}?page={path}>; rel="compression-dictionary"'

    def _keep(self, found: Dictionary) -> None:
        self._by_name[found.name] = found
        self._bytes += len(found.data)
        while self._bytes > self._max_bytes and len(self._by_name) > 1:
            _, old = self._by_name.popitem(last=False)
            self._bytes -= len(old.data)
        if len(self._of_page) > 4 * len(self._by_name):
            self._of_page = {k: v for k, v in self._of_page.items() if v in self._by_name}

    def named(self, name: str) -> Dictionary | None:
        found = self._by_name.get(name)
        if found is not None:
            self._by_name.move_to_end(name)
        return found

    def available(self, header: str) -> Dictionary | None:
        """The dictionary an ``Available-Dictionary`` header names (``:<base64 SHA-256>:``),
        if this instance holds it."""
        value = header.strip()
        if len(value) != 46 or value[0] != ":" or value[-1] != ":":
            return None
        try:
            digest = base64.b64decode(value[1:-1], validate=True)
        except ValueError:
            return None
        return self.named(digest.hex())


@get(f"{PATH}/{{name:str}}", sync_to_thread=False, include_in_schema=False)
def dictionary(
    request: Request[Any, Any, Any],
    name: Annotated[str, PathParameter(max_length=64, pattern="^[0-9a-f]{64}$")],
) -> Response[bytes]:
    """A page's markup as a compression dictionary for its region answers."""
    found = request.app.state.dictionaries.named(name)
    if found is None:
        raise NotFound("no such dictionary (it may have been made on another instance)")
    return Response(
        found.data,
        media_type="application/json",
        headers={
            "Use-As-Dictionary": f'match="{found.path}", match-dest=("")',
            "Cache-Control": "private, max-age=31536000, immutable",
        },
    )


App = Callable[[Scope, Receive, Send], Awaitable[None]]


def answering(dictionaries: Dictionaries, scope: Scope) -> Dictionary | None:
    """The dictionary to answer this request with: a page refreshing its regions
    (``X-Regions``) that holds a dictionary this instance has and takes ``dcz``."""
    request: dict[str, Any] = scope  # type: ignore[assignment]
    if request.get("method") != "GET":
        return None
    regions = accepts = False
    named = None
    for key, value in request["headers"]:
        if key == b"x-regions":
            regions = True
        elif key == b"available-dictionary":
            named = value.decode("latin-1")
        elif key == b"accept-encoding":
            accepts = b"dcz" in value
    if not regions or not accepts or named is None:
        return None
    return dictionaries.available(named)


async def answer_with(
    dictionaries: Dictionaries,
    found: Dictionary,
    app: App,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Run ``app`` with the request's own compression off and compress its answer: a region
    answer (JSON) against ``found``, anything else (the page whole) with brotli."""
    request: dict[str, Any] = scope  # type: ignore[assignment]
    accepted = b",".join(v for k, v in request["headers"] if k == b"accept-encoding")
    request["headers"] = [(k, v) for k, v in request["headers"] if k != b"accept-encoding"]
    start: dict[str, Any] | None = None
    out: Callable[[dict[str, Any]], Awaitable[None]] = send  # type: ignore[assignment]

    async def compressing(message: Message) -> None:
        nonlocal start
        event: dict[str, Any] = message  # type: ignore[assignment]
        if event["type"] == "http.response.start":
            start = event
            return
        if start is None or event["type"] != "http.response.body":
            await out(event)
            return
        head, start = start, None
        body: bytes = event.get("body", b"")
        named = {k.lower(): v for k, v in head["headers"]}
        json = named.get(b"content-type", b"").startswith(b"application/json")
        if (
            head["status"] != 200
            or event.get("more_body")
            or b"content-encoding" in named
            or not (json or (len(body) >= COMPRESS_FROM and b"br" in accepted))
        ):
            # (A 204, a stream, or what is not worth compressing: as it is.)
            await out(head)
            await out(event)
            return
        fields = [(k, v) for k, v in head["headers"] if k.lower() != b"content-length"]
        if json:
            body = dictionaries.compress(found, body)
            fields.append((b"content-encoding", b"dcz"))
            fields.append((b"vary", b"Accept-Encoding, Available-Dictionary"))
        else:
            body = brotli.compress(body, quality=BROTLI_QUALITY)
            fields.append((b"content-encoding", b"br"))
            fields.append((b"vary", b"Accept-Encoding"))
        fields.append((b"content-length", str(len(body)).encode()))
        await out({**head, "headers": fields})
        await out({**event, "body": body})

    await app(scope, receive, compressing)
