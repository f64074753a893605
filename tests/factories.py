"""Factories for tests: apps on a chosen store, tournaments and teams made through the API."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from beerolympics.app import create_app
from beerolympics.settings import Settings

_names = itertools.count(1)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database_url": "memory://",
        "secret_key": "test-secret-key",
        "poll_interval": 0.05,
        "jobs_url": "memory://",
        # Tests that need background jobs run turn a worker on (job_processes=1).
        "job_processes": 0,
    }
    values.update(overrides)
    return Settings.load(values, environ={})


class FakeClock:
    """The real time plus a jump tests make by hand.

    It follows the real time because stored events carry real times and are compared with it.
    """

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


@asynccontextmanager
async def api_client(
    settings: Settings, clock: FakeClock | None = None
) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(settings, clock=clock)) as client:
        yield client


async def eventually(condition: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Wait until ``condition()`` holds (background work such as the queue), or fail."""
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_tournament(client: AsyncTestClient[Any], **body: Any) -> dict[str, Any]:
    """POST a tournament; the response (with ``token``) as JSON. Clears the cookie jar."""
    payload = {"name": f"Cup {next(_names)}", **body}
    response = await client.post("/api/v1/tournaments", json=payload)
    assert response.status_code == 201, response.text
    client.cookies.clear()
    data: dict[str, Any] = response.json()
    return data


async def new_team(
    client: AsyncTestClient[Any], tournament: dict[str, Any], **body: Any
) -> dict[str, Any]:
    """Register a team with the tournament's join code; the response as JSON."""
    n = next(_names)
    payload = {
        "join_code": tournament["join_code"],
        "name": f"Team {n}",
        "colour": "#112233",
        "captain_name": f"Captain {n}",
        **body,
    }
    tid = tournament["tournament"]["id"]
    response = await client.post(f"/api/v1/tournaments/{tid}/teams", json=payload)
    assert response.status_code == 201, response.text
    client.cookies.clear()
    data: dict[str, Any] = response.json()
    return data
