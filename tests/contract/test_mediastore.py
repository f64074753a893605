from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import obstore
import pytest

from beerolympics.adapters.localfs.mediastore import LocalMediaStore
from beerolympics.adapters.s3.mediastore import S3MediaStore
from beerolympics.ports.mediastore import IMMUTABLE, MediaStore, MediaStoreUnavailable
from beerolympics.testing.mediastore_contract import MediaStoreContract
from tests.conftest import service_url

BUCKET = "beerolympics-test"


class TestLocalMediaStore(MediaStoreContract):
    @pytest.fixture(autouse=True)
    def _root(self, tmp_path: Path) -> None:
        self.root = tmp_path / "media"

    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[MediaStore]:
        store = LocalMediaStore(self.root)
        yield store
        await store.close()


def s3_url() -> str:
    """The test S3 server's bucket URL (the bucket is made if it does not exist)."""
    endpoint = service_url("s3")
    httpx.put(f"{endpoint}/{BUCKET}")  # 200 when made, 409 when it exists
    return f"s3://{BUCKET}/contract?endpoint={endpoint}&region=us-east-1"


@pytest.mark.s3
class TestS3MediaStore(MediaStoreContract):
    @pytest.fixture(autouse=True)
    def _url(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        self.url = s3_url()

    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[MediaStore]:
        store = S3MediaStore.from_url(self.url, public_base="https://cdn.example/media")
        yield store
        await store.close()

    async def test_objects_carry_what_a_cdn_needs(self) -> None:
        async with self.open_store() as store:
            assert isinstance(store, S3MediaStore)
            key = self.key("variant.webp")
            await store.put(key, b"RIFF....WEBP", "image/webp")
            assert store.public_url(key) == f"https://cdn.example/media/{key}"
            found = await obstore.get_async(store.store, key, options={"head": True})
            assert found.attributes["Content-Type"] == "image/webp"
            assert found.attributes["Cache-Control"] == IMMUTABLE


async def test_an_unreachable_bucket_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    store = S3MediaStore.from_url("s3://nowhere?endpoint=http://127.0.0.1:9&region=us-east-1")
    with pytest.raises(MediaStoreUnavailable):
        await store.ping()
