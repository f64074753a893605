"""The embedded shape's media store: files in a folder of the data directory.

An object is the file at ``<root>/<key>``, written to a temporary file beside it and renamed
into place (so a reader sees all of it or nothing) after an ``fsync``. Its content type
follows from the key's extension, which the callers choose from what they stored. File I/O runs
on threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

from beerolympics.ports.mediastore import MediaNotFound, StoredObject, check_key

CHUNK: Final = 256 * 1024
TYPES: Final = {
    "webp": "image/webp",
    "avif": "image/avif",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "heic": "image/heic",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
}


def content_type(key: str) -> str:
    return TYPES.get(key.rpartition(".")[2], "application/octet-stream")


class LocalMediaStore:
    """:class:`~beerolympics.ports.mediastore.MediaStore` in the folder ``root``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where the object of ``key`` lives (the app serves it from there)."""
        return self.root / check_key(key)

    async def put(self, key: str, source: bytes | Path, content_type: str) -> None:
        target = self.path(key)
        await asyncio.to_thread(self._write, target, source)

    @staticmethod
    def _write(target: Path, source: bytes | Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, bytes):
                    out.write(source)
                else:
                    with source.open("rb") as given:
                        shutil.copyfileobj(given, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    async def stat(self, key: str) -> StoredObject | None:
        try:
            size = (await asyncio.to_thread(self.path(key).stat)).st_size
        except FileNotFoundError:
            return None
        return StoredObject(size, content_type(key))

    async def stream(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self.path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise MediaNotFound(key) from None
        try:
            await asyncio.to_thread(handle.seek, start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = await asyncio.to_thread(
                    handle.read, CHUNK if left is None else min(CHUNK, left)
                )
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def fetch(self, key: str, destination: Path) -> None:
        source = self.path(key)
        try:
            await asyncio.to_thread(shutil.copyfile, source, destination)
        except FileNotFoundError:
            raise MediaNotFound(key) from None

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self.path(key).unlink)

    def public_url(self, key: str) -> str | None:
        return None

    async def ping(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        return None
