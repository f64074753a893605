"""HTTP conventions shared by every resource: ETags, caching, cursors, preconditions, keys.

ETags name the event position a representation reflects: ``"v<n>"`` is version ``n`` of the
resource's own stream (what ``If-Match`` takes), ``"p<n>"`` the newest position of a
tournament's events (lists and aggregates), ``"g<n>"`` the global position.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Final

import msgspec
from litestar import Request, Response

from beerolympics.domain.errors import Invalid, VersionConflict
from beerolympics.services.runner import IdempotencyKey

#: Where the HTTP API lives.
API: Final = "/api/v1"
JSON: Final = "application/json"
PRIVATE: Final = "private, no-cache"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_VERSION_TAG = re.compile(r'^(?:W/)?"v(\d{1,18})"$')
_encoder = msgspec.json.Encoder()


def public_cache_control(s_maxage: int, stale_while_revalidate: int) -> str:
    """Browsers revalidate every time (cheap: 304); shared caches may hold it briefly."""
    return (
        f"public, max-age=0, s-maxage={s_maxage}, stale-while-revalidate={stale_while_revalidate}"
    )


class Representations:
    """Serialized bodies, cached per key and per the position they reflect (an LRU).

    A hot read serves the same bytes until the position moves; only then is the view built and
    encoded again — once, however many clients ask.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._entries: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._capacity = capacity
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, position: int, build: Callable[[], Any]) -> bytes:
        entry = self._entries.get(key)
        if entry is not None and entry[0] == position:
            self.hits += 1
            self._entries.move_to_end(key)
            return entry[1]
        self.misses += 1
        body = _encoder.encode(build())
        self._entries[key] = (position, body)
        self._entries.move_to_end(key)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return body


def etag_matches(request: Request[Any, Any, Any], etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, lists, ``*``)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def cached_json(
    request: Request[Any, Any, Any],
    representations: Representations,
    key: Hashable,
    etag: str,
    position: int,
    build: Callable[[], Any],
    cache_control: str,
) -> Response[Any]:
    """A GET answered from pre-serialized bytes, or ``304`` when the client has them."""
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Authorization, Cookie"}
    if etag_matches(request, etag):
        return Response(content=b"", status_code=304, headers=headers)
    body = representations.get(key, position, build)
    return Response(content=body, media_type=JSON, headers=headers)


def json_response(
    value: Any, *, status: int = 200, etag: str | None = None, cache_control: str = PRIVATE
) -> Response[Any]:
    headers = {"Cache-Control": cache_control}
    if etag:
        headers["ETag"] = etag
    return Response(
        content=_encoder.encode(value), status_code=status, media_type=JSON, headers=headers
    )


def if_match_version(request: Request[Any, Any, Any]) -> int | None:
    """The stream version named by ``If-Match`` (``"v<n>"``); ``None`` when absent or ``*``."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    match = _VERSION_TAG.match(header.strip())
    if match is None:
        raise VersionConflict(
            f'If-Match {header!r} does not name a version of this resource (expected "v<n>")',
            code="version_conflict",
        )
    return int(match.group(1))


def idempotency_key(
    request: Request[Any, Any, Any], command: str, payload: Any = None
) -> IdempotencyKey | None:
    """The request's ``Idempotency-Key``, fingerprinted with what the request asks for."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise Invalid(
            "Idempotency-Key must be 1–255 visible ASCII characters",
            code="invalid_idempotency_key",
        )
    digest = hashlib.sha256()
    digest.update(f"{command}\n{request.url.path}\n".encode())
    digest.update(_encoder.encode(payload))
    return IdempotencyKey(key, digest.hexdigest())


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"c{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The position a cursor continues after; a cursor we did not issue is a 400."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not re.fullmatch(r"c\d{1,18}", raw):
        raise Invalid("this cursor was not issued by this API", code="invalid_cursor")
    return int(raw[1:])
