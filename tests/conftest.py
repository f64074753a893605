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
from typing import NoReturn

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
FIREFOX_JS = Path(__file__).parent / "firefox"
FIREFOX = Path("/usr/bin/firefox-esr")


def pusher_js() -> tuple[str, Path]:
    """Node and the folder where ``npm ci`` installed pusher-js (``tests/pusher``), or skip
    (fail under CI) when either is missing."""
    return _node_package(PUSHER_JS, "pusher-js")


def firefox_js() -> tuple[str, Path, Path]:
    """Node, the folder where ``npm ci`` installed puppeteer-core (``tests/firefox``) and
    Debian's Firefox ESR, or skip (fail under CI) when one is missing."""
    node, folder = _node_package(FIREFOX_JS, "puppeteer-core")
    if not FIREFOX.exists():
        _missing(f"{FIREFOX} is missing (apt-get install firefox-esr)", "Firefox")
    return node, folder, FIREFOX


def _node_package(folder: Path, package: str) -> tuple[str, Path]:
    node = shutil.which("node")
    if node is None:
        _missing("node is not installed", package)
    elif not (folder / "node_modules" / package / "package.json").exists():
        _missing(f"{package} is not installed: run npm ci in tests/{folder.name}", package)
    return node, folder


def _missing(message: str, what: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}, and CI=true requires {what} for its tests", pytrace=False)
    pytest.skip(message)
