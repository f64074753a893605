"""The scaled shape's media store: S3-compatible object storage through obstore.

obstore (the Rust ``object_store`` crate behind an async Python API) talks to AWS S3, MinIO,
Ceph, R2 and the like; credentials come from the standard ``AWS_*`` environment variables
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``), never from a URL.
Every object is stored with its ``Content-Type`` and ``Cache-Control: immutable``, so a bucket
(or a CDN in front of it) serves variants straight to phones, Range requests included.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import obstore
from obstore.exceptions import BaseError
from obstore.store import S3Store

from beerolympics.ports.mediastore import (
    IMMUTABLE,
    MediaNotFound,
    MediaStoreUnavailable,
    StoredObject,
    check_key,
)

CHUNK: Final = 256 * 1024


@contextlib.contextmanager
def _translated(key: str) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError as exc:  # obstore's "not found"
        raise MediaNotFound(key) from exc
    except (BaseError, OSError) as exc:
        raise MediaStoreUnavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc


class S3MediaStore:
    """:class:`~beerolympics.ports.mediastore.MediaStore` in a bucket (under a prefix).

    ``public_base`` is the URL clients fetch objects from (the bucket's public URL or the
    CDN's); without it the app serves them.
    """

    def __init__(self, store: S3Store, public_base: str = "") -> None:
        self.store = store
        self.public_base = public_base.rstrip("/")

    @classmethod
    def from_url(cls, url: str, public_base: str = "") -> S3MediaStore:
        """``s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1``.

        With an ``endpoint`` (MinIO, a local server) requests use path-style addressing, and
        plain HTTP when the endpoint says so.
        """
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"expected s3://bucket/prefix, got {url!r}")
        query = dict(parse_qsl(parts.query))
        options: Any = {"connect_timeout": "5s", "timeout": "60s"}
        config: dict[str, Any] = {}
        if "region" in query:
            config["region"] = query["region"]
        if "endpoint" in query:
            config["endpoint"] = query["endpoint"]
            config["virtual_hosted_style_request"] = False
            options["allow_http"] = query["endpoint"].startswith("http://")
        store = S3Store(
            parts.netloc,
            prefix=parts.path.strip("/") or None,
            client_options=options,
            retry_config={
                "max_retries": 3,
                "backoff": {
                    "init_backoff": dt.timedelta(milliseconds=100),
                    "max_backoff": dt.timedelta(seconds=2),
                    "base": 2,
                },
                "retry_timeout": dt.timedelta(seconds=20),
            },
            **config,
        )
        return cls(store, public_base)

    async def put(self, key: str, source: bytes | Path, content_type: str) -> None:
        check_key(key)
        attributes: Any = {"Content-Type": content_type, "Cache-Control": IMMUTABLE}
        with _translated(key):
            await obstore.put_async(self.store, key, source, attributes=attributes)

    async def stat(self, key: str) -> StoredObject | None:
        check_key(key)
        try:
            with _translated(key):
                found = await obstore.get_async(self.store, key, options={"head": True})
        except MediaNotFound:
            return None
        kind = str(found.attributes.get("Content-Type", "application/octet-stream"))
        return StoredObject(found.meta["size"], kind)

    async def stream(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_key(key)
        options: Any = {}
        if start or end is not None:
            options["range"] = (start, end) if end is not None else {"offset": start}
        with _translated(key):
            found = await obstore.get_async(self.store, key, options=options)
            async for chunk in found.stream(min_chunk_size=CHUNK):
                yield bytes(chunk)

    async def fetch(self, key: str, destination: Path) -> None:
        with destination.open("wb") as out:
            async for chunk in self.stream(key):
                await asyncio.to_thread(out.write, chunk)

    async def delete(self, key: str) -> None:
        check_key(key)
        with _translated(key), contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self.store, key)

    def public_url(self, key: str) -> str | None:
        return f"{self.public_base}/{check_key(key)}" if self.public_base else None

    async def ping(self) -> None:
        with contextlib.suppress(MediaNotFound):
            await self.stat("ping")

    async def close(self) -> None:
        return None
