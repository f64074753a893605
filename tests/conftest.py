"""Shared test configuration: where the real backing services are, and what to do without them.

The scaled shape is tested against real PostgreSQL and Redis, named by
``BEEROLYMPICS_TEST_POSTGRES`` and ``BEEROLYMPICS_TEST_REDIS``. On a laptop without them those
tests are skipped; with ``CI=true`` a missing service is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from beerolympics.adapters.postgres.eventstore import split_schema


def service_url(name: str) -> str:
    """The URL of a test service, or skip (fail under CI) when it is not configured."""
    variable = f"BEEROLYMPICS_TEST_{name.upper()}"
    url = os.environ.get(variable, "")
    if not url:
        message = f"{variable} is not set"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}, and CI=true requires {name}", pytrace=False)
        pytest.skip(message)
    return url


@contextlib.asynccontextmanager
async def fresh_postgres_schema() -> AsyncIterator[str]:
    """The test PostgreSQL's URL with a schema of its own, dropped afterwards."""
    base = service_url("postgres")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    finally:
        conn = await asyncpg.connect(split_schema(base)[0])
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


PUSHER_JS = Path(__file__).parent / "pusher"


def pusher_js() -> tuple[str, Path]:
    """Node and the folder where ``npm ci`` installed pusher-js (``tests/pusher``), or skip
    (fail under CI) when either is missing."""
    node = shutil.which("node")
    if node is None:
        message = "node is not installed"
    elif not (PUSHER_JS / "node_modules" / "pusher-js" / "package.json").exists():
        message = "pusher-js is not installed: run npm ci in tests/pusher"
    else:
        return node, PUSHER_JS
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}, and CI=true requires the pusher-js tests", pytrace=False)
    pytest.skip(message)
