"""The leaderboard GET through the real HTTP stack, on one core, next to a trivial endpoint.

A ``beerolympics serve`` process (uvicorn, uvloop, httptools; one worker) is pinned to core 0
and ``wrk`` to core 1, on 127.0.0.1 only, each run bounded in time. The store holds a 128-team
tournament with 6 games part-played. Measured in the same run:

- ``/healthz``: the framework's trivial endpoint (a small JSON body built per request);
- the leaderboard answered 200 (pre-serialized bytes, cached per tournament position);
- the leaderboard answered 304 (``If-None-Match`` with the current ETag).

    python -m bench.http_leaderboard [--seconds 8] [--connections 32]

Needs ``wrk`` (Debian package ``wrk``) and ``taskset``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from beerolympics.runtime import Runtime
from beerolympics.settings import Settings
from bench import tournament
from bench.common import table


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def fill(data_dir: Path, teams: int) -> str:
    """A 128-team tournament with half of every game played; returns its id."""
    settings = Settings.load({"data_dir": str(data_dir), "secret_key": "bench"}, environ={})
    rt = await Runtime.open(settings)
    await rt.projector.replay()
    organizer, game_ids = await tournament.setup(rt, teams)
    rng = random.Random(3)
    tid = organizer.tournament_id or ""
    for _ in range(400):
        game_id = rng.choice(game_ids)
        ready = tournament.ready(rt, tid, game_id)
        if not ready:
            continue
        spec, teams_, kind = rng.choice(ready)
        key = f"{game_id}.{spec}"
        await rt.matches.start_match(tid, organizer, key)
        winner = rng.choice(teams_)
        result = (
            tournament.ReportResult(values={t: rng.uniform(5, 30) for t in teams_})
            if kind == "heat"
            else tournament.ReportResult(winner=winner)
        )
        await rt.matches.report(tid, organizer, key, result)
    await rt.close()
    return tid


def wrk(
    url: str, seconds: float, connections: int, headers: dict[str, str]
) -> tuple[float, str, str]:
    """(requests/s, p50, p99) as wrk reports them."""
    command = [
        "taskset",
        "-c",
        "1",
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{round(seconds)}s",
        "--latency",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    if "Non-2xx or 3xx" in output:
        raise RuntimeError(output)
    return rate, p50, p99


def main(seconds: float, connections: int, teams: int) -> None:
    if not shutil.which("wrk") or not shutil.which("taskset"):
        sys.exit("needs wrk and taskset (apt-get install wrk util-linux)")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        tid = asyncio.run(fill(data, teams))
        port = free_port()
        server = subprocess.Popen(
            [
                "taskset",
                "-c",
                "0",
                sys.executable,
                "-m",
                "beerolympics",
                "serve",
                "--data-dir",
                str(data),
                "--port",
                str(port),
                "--secret-key",
                "bench",
                "--log-level",
                "warning",
            ],
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            board = httpx.get(f"{base}/api/v1/tournaments/{tid}/leaderboard")
            etag = board.headers["etag"]
            size = len(board.content)
            runs = [
                ("/healthz (trivial)", f"{base}/healthz", {}),
                (
                    f"leaderboard 200 ({size // 1024} KB)",
                    f"{base}/api/v1/tournaments/{tid}/leaderboard",
                    {},
                ),
                (
                    "leaderboard 304",
                    f"{base}/api/v1/tournaments/{tid}/leaderboard",
                    {"If-None-Match": etag},
                ),
            ]
            results = [
                (name, *wrk(url, seconds, connections, headers)) for name, url, headers in runs
            ]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    trivial = results[0][1]
    print(f"one server core, wrk on the other, {connections} connections, {seconds:g}s each")
    print(
        table(
            ["endpoint", "req/s", "p50", "p99", "vs trivial"],
            [
                [name, f"{rate:,.0f}", p50, p99, f"{rate / trivial:.2f}"]
                for name, rate, p50, p99 in results
            ],
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--teams", type=int, default=128)
    args = parser.parse_args()
    main(args.seconds, args.connections, args.teams)
