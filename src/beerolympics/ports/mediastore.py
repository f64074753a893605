"""The media store port: immutable objects (photos, clips, their variants) by key.

Keys are content-addressed by the callers (a hash of the bytes in the key), so an object never
changes once stored: a second put of a key stores the same bytes again, harmlessly, and a URL
made from a key can be cached for a year. Keys are 1 to 255 characters of ``a-z 0-9 . _ - /``
in segments that are neither empty nor ``.``/``..`` (checked by :func:`check_key`).

Every adapter (a folder of the data directory, S3-compatible object storage) implements
:class:`MediaStore` with exactly these semantics and passes the one contract suite in
``beerolympics.testing.mediastore_contract``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

MAX_KEY_LENGTH: Final = 255
_KEY: Final = re.compile(r"[a-z0-9._-]+(?:/[a-z0-9._-]+)*")

#: How media may be cached once stored: for a year, never revalidated.
IMMUTABLE: Final = "public, max-age=31536000, immutable"


class MediaStoreError(Exception):
    """Base of every error a media store raises; adapters translate driver errors into these."""


class MediaNotFound(MediaStoreError):
    """No object under this key."""


class MediaStoreUnavailable(MediaStoreError):
    """The backend could not be reached or failed; the call may be retried."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    size: int
    content_type: str


def check_key(key: str) -> str:
    """Return ``key`` when it is a valid key; ``ValueError`` otherwise."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"a key has 1 to {MAX_KEY_LENGTH} characters: {key!r}")
    if not _KEY.fullmatch(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"not a valid key: {key!r}")
    return key


class MediaStore(Protocol):
    """Objects by key: put whole, read whole or by byte range, delete."""

    async def put(self, key: str, source: bytes | Path, content_type: str) -> None:
        """Store ``source`` (the bytes, or a file streamed from disk) under ``key``.

        When this returns, the object is complete and durable; a reader never sees part of
        it. ``ValueError`` for an invalid key.
        """
        ...

    async def stat(self, key: str) -> StoredObject | None:
        """Size and content type of the object, or ``None`` when there is none."""
        ...

    def stream(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes ``[start, end)`` of the object (to its end without ``end``), in chunks.

        Raises :class:`MediaNotFound` (when iterated) for a missing object; ``start`` and
        ``end`` must lie within the object.
        """
        ...

    async def fetch(self, key: str, destination: Path) -> None:
        """Copy the object into the file ``destination`` (for processing it locally)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing object does nothing."""
        ...

    def public_url(self, key: str) -> str | None:
        """Where clients fetch the object directly (a bucket or the CDN in front of it), or
        ``None`` when the app serves it itself (``/media/<key>``)."""
        ...

    async def ping(self) -> None:
        """Return when the backend answers; raise :class:`MediaStoreUnavailable` otherwise."""
        ...

    async def close(self) -> None: ...
