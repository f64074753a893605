"""Commands racing on one tournament stream all land, on every backend: the runner retries
decisions taken on a stale version."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from beerolympics.adapters.postgres.eventstore import split_schema
from beerolympics.domain.commands import CreateTournament, RegisterTeam
from beerolympics.domain.identity import SPECTATOR
from beerolympics.runtime import Runtime
from tests.conftest import service_url
from tests.factories import make_settings


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    schema = None
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'events.db'}"
    else:
        base = service_url("postgres")
        schema = f"test_{uuid.uuid4().hex[:12]}"
        url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    rt = await Runtime.open(make_settings(tmp_path, database_url=url))
    await rt.start()
    yield rt
    await rt.close()
    if schema:
        conn = await asyncpg.connect(split_schema(service_url("postgres"))[0])
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()


async def test_thirty_teams_register_at_once(runtime: Runtime) -> None:
    created = await runtime.tournaments.create_tournament(
        CreateTournament(name="Rush", max_teams=64)
    )
    state = runtime.catalog.get(created.tournament_id)

    async def register(i: int) -> None:
        await runtime.tournaments.register_team(
            state.id,
            SPECTATOR,
            RegisterTeam(
                join_code=state.join_code, name=f"Rush {i}", colour="#101010", captain_name="A"
            ),
        )

    await asyncio.gather(*(register(i) for i in range(30)))
    assert len(state.teams) == 30
    events = await runtime.store.read_stream(f"tournament:{state.id}")
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert sum(e.type == "TeamRegistered" for e in events) == 30
