"""The commands: rebuild, export and import reproduce identical projections; serve runs as a
server should."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from pathlib import Path

import asyncpg
import httpx
from click.testing import CliRunner
from websockets.asyncio.client import connect

from beerolympics.adapters.postgres.eventstore import split_schema
from beerolympics.app import create_app
from beerolympics.cli import main
from tests.conftest import service_url
from tests.factories import make_settings
from tests.servers import ServeProcess


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def digest(output: str) -> str:
    match = re.search(r"digest: ([0-9a-f]{64})", output)
    assert match, output
    return match.group(1)


def demo_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    output = run(
        "serve", "--database-url", url, "--data-dir", str(tmp_path), "--demo", "--get", "/healthz"
    )
    assert '"ok"' in output
    return url


def test_export_then_import_reproduces_the_projections(tmp_path: Path) -> None:
    source = demo_store(tmp_path)
    common = ["--data-dir", str(tmp_path)]
    original = run("rebuild", "--database-url", source, *common)
    assert re.search(r"replayed \d+ events", original)
    export = tmp_path / "events.jsonl"
    run("export", "--database-url", source, "-o", str(export), *common)
    lines = export.read_text().splitlines()
    assert len(lines) > 50
    first = json.loads(lines[0])
    assert first["position"] == 1
    assert first["type"] == "TournamentCreated"
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    imported = run("import", str(export), "--database-url", target, *common)
    assert f"imported {len(lines)} events" in imported
    assert digest(imported) == digest(original)
    assert digest(run("rebuild", "--database-url", target, *common)) == digest(original)


def test_import_refuses_a_store_with_events(tmp_path: Path) -> None:
    source = demo_store(tmp_path)
    export = tmp_path / "events.jsonl"
    run("export", "--database-url", source, "-o", str(export), "--data-dir", str(tmp_path))
    result = CliRunner().invoke(
        main, ["import", str(export), "--database-url", source, "--data-dir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "already holds events" in result.output


def test_import_into_postgres_matches_sqlite(tmp_path: Path) -> None:
    base = service_url("postgres")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    target = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    source = demo_store(tmp_path)
    export = tmp_path / "events.jsonl"
    common = ["--data-dir", str(tmp_path)]
    run("export", "--database-url", source, "-o", str(export), *common)
    try:
        imported = run("import", str(export), "--database-url", target, *common)
        assert digest(imported) == digest(run("rebuild", "--database-url", source, *common))
    finally:

        async def drop() -> None:
            conn = await asyncpg.connect(split_schema(base)[0])
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()

        asyncio.run(drop())


def test_serve_get_fails_on_an_error_status(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "serve",
            "--database-url",
            "memory://",
            "--data-dir",
            str(tmp_path),
            "--get",
            "/api/v1/tournaments/nope",
        ],
    )
    assert result.exit_code == 1
    assert "tournament_not_found" in result.output


def test_settings_command_prints_values(tmp_path: Path) -> None:
    assert "BEEROLYMPICS_PORT=8000" in run("settings")
    assert create_app(make_settings(tmp_path)) is not None


async def test_serve_holds_more_live_phones_than_the_open_files_it_was_started_with(
    tmp_path: Path,
) -> None:
    # Started with a soft limit of 64 open files (the hard one as it is), as a shell or a
    # service manager may start it: it raises the limit, and 150 phones all get in.
    env = {"BEEROLYMPICS_LIVE_MAX_ANONYMOUS": "1000"}
    with ServeProcess(tmp_path, env=env, open_files=64) as served:
        async with httpx.AsyncClient(base_url=served.url) as http:
            created = await http.post("/api/v1/tournaments", json={"name": "Files Cup"})
            tid = created.json()["tournament"]["id"]
        url = served.url.replace("http://", "ws://") + f"/api/v1/tournaments/{tid}/live"
        async with contextlib.AsyncExitStack() as stack:
            sockets = [await stack.enter_async_context(connect(url)) for _ in range(150)]
            welcomes = await asyncio.gather(*(ws.recv() for ws in sockets))
        assert all(json.loads(w)["type"] == "welcome" for w in welcomes)
        assert "open files: up to" in served.log.read_text()
