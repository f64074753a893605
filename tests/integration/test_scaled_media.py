"""The scaled shape's media path for real: an app instance that runs no jobs, a separate
``beerolympics worker`` process, PostgreSQL, a Redis job queue and S3-compatible storage.

A photo uploaded to the instance is stored in the bucket, processed by the worker, and its
variants are served from the bucket's public URL; the instance hears of it over the backplane.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import obstore
import pytest
from redis.asyncio import Redis

from beerolympics.adapters.postgres.eventstore import split_schema
from beerolympics.adapters.s3.mediastore import S3MediaStore
from beerolympics.ports.mediastore import IMMUTABLE
from beerolympics.testing import samples
from tests.conftest import service_url
from tests.servers import ServeProcess

BUCKET = "beerolympics-test"


@pytest.fixture
async def shape(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    base, redis, s3 = service_url("postgres"), service_url("redis"), service_url("s3")
    schema, queue = f"test_{uuid.uuid4().hex[:12]}", f"bo_test_{uuid.uuid4().hex[:12]}"
    prefix = f"scaled-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient() as http:
        await http.put(f"{s3}/{BUCKET}")
    yield {
        "BEEROLYMPICS_DATABASE_URL": f"{base}{'&' if '?' in base else '?'}schema={schema}",
        "BEEROLYMPICS_PUBSUB_URL": redis,
        "BEEROLYMPICS_JOBS_URL": f"{redis}?queue={queue}",
        "BEEROLYMPICS_MEDIA_URL": f"s3://{BUCKET}/{prefix}?endpoint={s3}&region=us-east-1",
        "BEEROLYMPICS_MEDIA_PUBLIC_URL": f"{s3}/{BUCKET}/{prefix}",
        "BEEROLYMPICS_SECRET_KEY": "shared-by-every-process",
        "BEEROLYMPICS_POLL_INTERVAL": "60",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    admin = Redis.from_url(redis)
    try:
        await admin.delete(*(f"huey.{part}.{queue}" for part in ("redis", "schedule", "results")))
    finally:
        await admin.aclose()
    conn = await asyncpg.connect(split_schema(base)[0])
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@contextlib.contextmanager
def worker(tmp: Path, env: dict[str, str]) -> Iterator[None]:
    with (tmp / "worker.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "beerolympics", "worker", "--data-dir", str(tmp / "worker")],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


async def test_a_worker_process_turns_an_upload_into_variants_in_the_bucket(
    tmp_path: Path, shape: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve = ServeProcess(tmp_path / "app", "--job-processes", "0", env=shape)
    with serve, worker(tmp_path, shape):
        http = httpx.AsyncClient(base_url=serve.url, timeout=30)
        created = (await http.post("/api/v1/tournaments", json={"name": "Big Party"})).json()
        media = f"/api/v1/tournaments/{created['tournament']['id']}/media"
        auth = {"Authorization": f"Bearer {created['token']}"}
        r = await http.post(media, content=samples.photo(1600, 1200), headers=auth)
        assert r.status_code == 202
        deadline = time.monotonic() + 60
        while (found := (await http.get(f"{media}/{r.json()['id']}")).json())[
            "status"
        ] == "processing":
            assert time.monotonic() < deadline, "not processed in time"
            await asyncio.sleep(0.05)
        assert found["status"] == "ready"
        public = shape["BEEROLYMPICS_MEDIA_PUBLIC_URL"]
        for name, variant in found["variants"].items():
            assert variant["url"].startswith(public + "/v/"), name
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        bucket = S3MediaStore.from_url(shape["BEEROLYMPICS_MEDIA_URL"])
        key = found["variants"]["large"]["url"].removeprefix(public + "/")
        stored = await obstore.get_async(bucket.store, key)
        assert stored.attributes["Content-Type"] == "image/webp"
        assert stored.attributes["Cache-Control"] == IMMUTABLE
        assert bytes(await stored.bytes_async())[8:12] == b"WEBP"
        # An instance serves it too, from the bucket, when nothing serves the bucket directly.
        assert (await http.get(f"/media/{key}")).status_code == 200
        await http.aclose()
