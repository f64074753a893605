"""The README quickstart works: its app command serves the demo tournament over HTTP."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.servers import free_port

ROOT = Path(__file__).parents[2]


def quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_readme_has_two_commands() -> None:
    assert quickstart_commands() == ["make run", "make test"]


def test_the_app_command_serves_the_demo(tmp_path: Path) -> None:
    run_command = quickstart_commands()[0]
    port = free_port()
    args = f"--port {port} --data-dir {tmp_path / 'data'}"
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*run_command.split(), f"ARGS={args}"],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "BEEROLYMPICS_DATABASE_URL": ""},
        )
    try:
        deadline = time.monotonic() + 60
        response = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/tournaments/backyard-olympics/teams", timeout=2
                )
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, log.read_text()
        assert response.status_code == 200
        body = response.json()
        assert body["total"] >= 12
        assert all(re.fullmatch(r"#[0-9A-F]{6}", team["colour"]) for team in body["items"])
        assert all(team["flag"] for team in body["items"])
        assert (tmp_path / "data" / "beerolympics.db").exists()
        # How to try it as the organizer and as a captain: sign-in links, printed at start-up.
        printed = log.read_text()
        for who in ("the organizer (control room)", "the captain of Hop Stars"):
            link = re.search(rf"{re.escape(who)}: (\S+/signin#token=\S+)", printed)
            assert link is not None, printed
            assert link.group(1).startswith(f"http://127.0.0.1:{port}/t/backyard-olympics/")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
