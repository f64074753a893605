"""What free tables take next, read from a round robin of thousands of waiting matches: the
conductor's look and the station board, as results come in.

The tournament of ``bench.live_load``'s results phase (128 teams, a home-and-away round robin,
48 tables), on the memory store, its matches called by hand. After each count of ``--results``
and with ``--playing`` matches being played, it times ``stations.fill`` for 1, 8 and all the
tables free (the conductor's look: which matches free tables take now), and a station board
with every table free (``Views.stations``: what a live frame or ``GET /stations`` builds).
Each figure is the median of ``--repeat`` runs.

    python -m bench.queue [--teams 128] [--tables 48] [--results 0,1000,4000] [--playing 8]
        [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import msgspec

from beerolympics.app import create_app
from beerolympics.domain import stations
from beerolympics.projections.play_views import Views
from beerolympics.runtime import Runtime
from beerolympics.settings import Settings
from bench.asgi import call
from bench.common import table


def _median_ms(run: Callable[[], object], repeat: int) -> str:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return f"{statistics.median(times) * 1000:.2f} ms"


async def main(teams: int, tables: int, checkpoints: list[int], playing: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(
            {
                "data_dir": tmp,
                "database_url": "memory://",
                "secret_key": "b",
                "rate_limit_api": "100000000/minute",
                "log_level": "warning",
            },
            environ={},
        )
        app = create_app(settings)
        async with app.lifespan():
            created = await call(app, "POST", "/api/v1/tournaments", body=b'{"name": "Bench"}')
            body = msgspec.json.decode(created.body)
            tid, auth = body["tournament"]["id"], {"authorization": f"Bearer {body['token']}"}
            api = f"/api/v1/tournaments/{tid}"

            async def send(method: str, path: str, payload: Any) -> dict[str, Any]:
                reply = await call(
                    app, method, api + path, body=msgspec.json.encode(payload), headers=auth
                )
                assert reply.status in (200, 201), reply.body
                decoded: dict[str, Any] = msgspec.json.decode(reply.body)
                return decoded

            await send("PATCH", "", {"max_teams": teams})
            for i in range(teams):
                await send(
                    "POST", "/teams", {"name": f"T{i}", "colour": "#123456", "captain_name": "C"}
                )
            game = await send(
                "POST",
                "/games",
                {
                    "name": "Pong",
                    "format": "round_robin",
                    "options": {"double": True},
                    "auto_call": False,
                    "stations": [f"Table {i + 1}" for i in range(tables)],
                },
            )
            await send("POST", f"/games/{game['id']}/start", {})
            rt: Runtime = app.state.runtime
            play = rt.play.get(tid)
            run = play.games[game["id"]]
            assert run.plan is not None
            assert run.resolution is not None
            order = [s.id for s in sorted(run.plan.matches, key=lambda spec: spec.round)]
            resolution = run.resolution
            rest = dt.timedelta(seconds=rt.catalog.get(tid).rest_seconds)
            later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # every match may go
            done: set[str] = set()

            async def report(spec_id: str) -> None:
                winner = resolution[spec_id].teams[0]
                await send("POST", f"/matches/{game['id']}.{spec_id}/result", {"winner": winner})
                done.add(spec_id)

            frees = sorted({1, min(8, tables), tables})
            rows = []
            for target in checkpoints:
                for spec_id in order:
                    if len(done) >= target:
                        break
                    if spec_id not in done:
                        await send("POST", f"/matches/{game['id']}.{spec_id}/start", {})
                        await report(spec_id)
                started: list[str] = []
                busy: set[str] = set()
                for spec_id in order:
                    pair = set(resolution[spec_id].teams)
                    if len(started) < playing and spec_id not in done and not busy & pair:
                        await send("POST", f"/matches/{game['id']}.{spec_id}/start", {})
                        started.append(spec_id)
                        busy |= pair
                look = functools.partial(
                    stations.fill,
                    {game["id"]: run.waiting},
                    without=play.busy.keys(),
                    last_finished=play.last_finished,
                    rest=rest,
                    now=later,
                )
                figures = [
                    _median_ms(functools.partial(look, free={game["id"]: free}), repeat)
                    for free in frees
                ]
                board = Views(rt.catalog.get(tid), play, lambda _name, build: build())
                figures.append(_median_ms(board.stations, repeat))
                rows.append([len(done), len(started), len(run.waiting), *figures])
                for spec_id in started:
                    await report(spec_id)
    print(f"free tables' next matches, {teams} teams, {tables} tables (median of {repeat})")
    print(
        table(
            ["results in", "playing", "waiting", *(f"{n} free" for n in frees), "board"],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teams", type=int, default=128)
    parser.add_argument("--tables", type=int, default=48)
    parser.add_argument("--results", default="0,1000,4000")
    parser.add_argument("--playing", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    checkpoints = sorted(int(n) for n in args.results.split(","))
    asyncio.run(main(args.teams, args.tables, checkpoints, args.playing, args.repeat))
