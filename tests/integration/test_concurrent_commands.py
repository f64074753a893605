"""Commands racing on one tournament stream all land, on every backend: the runner retries
decisions taken on a stale version; commands racing for the same team take turns."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from beerolympics.adapters.postgres.eventstore import split_schema
from beerolympics.domain.commands import AddGame, CreateTournament, RegisterTeam, StartGame
from beerolympics.domain.errors import Conflict
from beerolympics.domain.identity import SPECTATOR, Actor
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


async def test_a_team_is_never_started_in_two_matches_at_once(runtime: Runtime) -> None:
    created = await runtime.tournaments.create_tournament(CreateTournament(name="Floor"))
    state = runtime.catalog.get(created.tournament_id)
    organizer = Actor("organizer", state.id, created.credential_id)
    for i in range(3):
        await runtime.tournaments.register_team(
            state.id,
            SPECTATOR,
            RegisterTeam(
                join_code=state.join_code, name=f"T{i}", colour="#101010", captain_name="A"
            ),
        )
    game = AddGame(name="Pong", format="round_robin", auto_call=False)
    game_id = (await runtime.games.add_game(state.id, organizer, game)).id
    await runtime.games.start_game(state.id, organizer, game_id, StartGame())
    run = runtime.play.get(state.id).games[game_id]
    assert run.resolution is not None
    # Three teams round robin: any two matches share a team.
    keys = [f"{game_id}.{m}" for m, r in run.resolution.matches.items() if r.state == "ready"]
    assert len(keys) == 3

    async def start(key: str) -> str:
        try:
            await runtime.matches.start_match(state.id, organizer, key)
        except Conflict as exc:
            return exc.code
        return "started"

    started = await asyncio.gather(*(start(key) for key in keys))
    assert sorted(started) == ["started", "team_busy", "team_busy"]
    assert len(set(runtime.play.get(state.id).busy.values())) == 1
