"""The one contract every :class:`~beerolympics.ports.mediastore.MediaStore` adapter passes.

Subclass :class:`MediaStoreContract` and implement :meth:`~MediaStoreContract.open_store`, an
async context manager yielding a store on the backend under test; called again inside the
first it must give a second handle on the SAME backend (another process's). Every test writes
under a fresh random prefix and never clears the backend.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from beerolympics.ports.mediastore import MediaNotFound, MediaStore, StoredObject


async def read(store: MediaStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.stream(key, start, end)])


class MediaStoreContract:
    def open_store(self) -> AbstractAsyncContextManager[MediaStore]:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _prefix(self) -> None:
        self.prefix = f"test-{uuid.uuid4().hex[:16]}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    @pytest.fixture
    async def store(self) -> AsyncIterator[MediaStore]:
        async with self.open_store() as store:
            yield store

    async def test_an_object_reads_back_whole_and_by_range(self, store: MediaStore) -> None:
        body = os.urandom(700_000)
        key = self.key("photo.webp")
        await store.put(key, body, "image/webp")
        assert await store.stat(key) == StoredObject(len(body), "image/webp")
        assert await read(store, key) == body
        assert await read(store, key, 1000, 2000) == body[1000:2000]
        assert await read(store, key, 650_000) == body[650_000:]
        assert await read(store, key, 0, 1) == body[:1]

    async def test_a_file_is_stored_from_disk_and_fetched_to_disk(
        self, store: MediaStore, tmp_path: Path
    ) -> None:
        source = tmp_path / "clip.mp4"
        source.write_bytes(os.urandom(6_000_000))
        key = self.key("clip.mp4")
        await store.put(key, source, "video/mp4")
        copy = tmp_path / "copy"
        await store.fetch(key, copy)
        assert (
            hashlib.sha256(copy.read_bytes()).digest()
            == hashlib.sha256(source.read_bytes()).digest()
        )
        found = await store.stat(key)
        assert found == StoredObject(6_000_000, "video/mp4")

    async def test_a_missing_object(self, store: MediaStore, tmp_path: Path) -> None:
        key = self.key("nothing.webp")
        assert await store.stat(key) is None
        with pytest.raises(MediaNotFound):
            await read(store, key)
        with pytest.raises(MediaNotFound):
            await store.fetch(key, tmp_path / "out")
        await store.delete(key)  # nothing to delete: no error

    async def test_putting_a_key_again_and_deleting(self, store: MediaStore) -> None:
        key = self.key("same.jpg")
        await asyncio.gather(*(store.put(key, b"identical bytes", "image/jpeg") for _ in range(5)))
        assert await read(store, key) == b"identical bytes"
        await store.delete(key)
        assert await store.stat(key) is None

    async def test_another_handle_sees_the_same_objects(self, store: MediaStore) -> None:
        key = self.key("shared.png")
        async with self.open_store() as other:
            await other.put(key, b"\x89PNG", "image/png")
            assert await read(store, key) == b"\x89PNG"
            await store.delete(key)
            assert await other.stat(key) is None

    @pytest.mark.parametrize(
        "bad", ["", "/abs", "a//b", "../up", "a/../b", "UPPER", "sp ace", "a/./b", "x" * 256]
    )
    async def test_keys_are_checked(self, store: MediaStore, bad: str) -> None:
        with pytest.raises(ValueError, match="key"):
            await store.put(bad, b"x", "image/png")
