"""Commands racing on one tournament stream all land, on every backend: the runner retries
decisions taken on a stale version; commands racing for the same team take turns."""

from __future__ import annotations

import asyncio
import contextlib
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
from beerolympics.services.matches import team_lock
from tests.conftest import service_url
from tests.factories import make_settings


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.db'}"
    else:
        base = service_url("postgres")
        schema = f"test_{uuid.uuid4().hex[:12]}"
        yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
        conn = await asyncpg.connect(split_schema(base)[0])
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def instance(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = await Runtime.open(make_settings(tmp_path, database_url=database_url))
    await rt.start()
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    async with instance(database_url, tmp_path) as rt:
        yield rt


@pytest.fixture
async def second_runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """Another instance on the same backend, as a second ``beerolympics serve`` would be."""
    async with instance(database_url, tmp_path) as rt:
        yield rt


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" not in metafunc.fixturenames:
        return
    # Two instances need a backend they share: an in-memory store is one process's own.
    shared = "second_runtime" in metafunc.fixturenames
    backends = ["sqlite", "postgres"] if shared else ["memory", "sqlite", "postgres"]
    metafunc.parametrize("database_url", backends, indirect=True)


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


async def round_robin(runtime: Runtime, teams: int) -> tuple[Actor, dict[str, tuple[str, ...]]]:
    """A started round robin: its matches (keys) and who plays each."""
    created = await runtime.tournaments.create_tournament(CreateTournament(name="Floor"))
    state = runtime.catalog.get(created.tournament_id)
    organizer = Actor("organizer", state.id, created.credential_id)
    for i in range(teams):
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
    return organizer, {
        f"{game_id}.{m}": r.teams for m, r in run.resolution.matches.items() if r.state == "ready"
    }


async def three_team_round_robin(runtime: Runtime) -> tuple[Actor, list[str]]:
    """A started round robin of three teams: any two of its matches share a team."""
    organizer, matches = await round_robin(runtime, 3)
    assert len(matches) == 3
    return organizer, list(matches)


async def start(runtime: Runtime, organizer: Actor, key: str) -> str:
    assert organizer.tournament_id is not None
    try:
        await runtime.matches.start_match(organizer.tournament_id, organizer, key)
    except Conflict as exc:
        return exc.code
    return "started"


async def test_a_team_is_never_started_in_two_matches_at_once(runtime: Runtime) -> None:
    organizer, keys = await three_team_round_robin(runtime)
    started = await asyncio.gather(*(start(runtime, organizer, key) for key in keys))
    assert sorted(started) == ["started", "team_busy", "team_busy"]
    assert len(set(runtime.play.get(organizer.tournament_id).busy.values())) == 1


async def test_two_instances_never_start_a_team_twice(
    runtime: Runtime, second_runtime: Runtime
) -> None:
    for _ in range(5):
        organizer, keys = await three_team_round_robin(runtime)
        await second_runtime.projector.catch_up()
        # Each instance starts a different match; every pair of them shares a team.
        started = await asyncio.gather(
            start(runtime, organizer, keys[0]),
            start(second_runtime, organizer, keys[1]),
            start(runtime, organizer, keys[2]),
        )
        assert sorted(started) == ["started", "team_busy", "team_busy"]
        for instance in (runtime, second_runtime):
            await instance.projector.catch_up()
            busy = instance.play.get(organizer.tournament_id).busy
            assert len(set(busy.values())) == 1


async def test_a_start_waits_only_for_its_own_teams(runtime: Runtime) -> None:
    """While a team is held (as a call or a start about it holds it, on any instance), a match
    of two other teams starts, and the held team's match starts once it is let go."""
    organizer, matches = await round_robin(runtime, 4)
    assert organizer.tournament_id is not None
    held = next(iter(matches.values()))[0]
    others = next(key for key, teams in matches.items() if held not in teams)
    theirs = next(
        key for key, teams in matches.items() if held in teams and not {*teams} & {*matches[others]}
    )
    async with runtime.store.exclusive(team_lock(organizer.tournament_id, held)):
        async with asyncio.timeout(5):
            assert await start(runtime, organizer, others) == "started"
        waiting = asyncio.create_task(start(runtime, organizer, theirs))
        await asyncio.sleep(0.1)
        assert not waiting.done()
    async with asyncio.timeout(5):
        assert await waiting == "started"
