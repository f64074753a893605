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
import time
from collections.abc import Callable
from typing import Any

from beerolympics.domain import stations
from beerolympics.projections.play_views import Views
from bench.asgi import round_robin
from bench.common import table


def _uncached(_name: str, build: Callable[[], Any]) -> Any:
    return build()


def _median_ms(run: Callable[[], object], repeat: int) -> str:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return f"{statistics.median(times) * 1000:.2f} ms"


async def main(teams: int, tables: int, checkpoints: list[int], playing: int, repeat: int) -> None:
    frees = sorted({1, min(8, tables), tables})
    rows = []
    async with round_robin("memory", teams, tables) as party:
        send, game_id, run = party.organizer.send, party.game_id, party.run
        catalog = party.runtime.catalog
        game_play = party.runtime.play.get(party.tournament_id)
        order = party.in_rounds()
        done: set[str] = set()

        async def report(spec_id: str) -> None:
            winner = party.teams(spec_id)[0]
            await send("POST", f"/matches/{game_id}.{spec_id}/result", {"winner": winner})
            done.add(spec_id)

        look = functools.partial(
            stations.fill,
            {game_id: run.waiting},
            without=game_play.busy.keys(),
            last_finished=game_play.last_finished,
            rest=dt.timedelta(seconds=catalog.get(party.tournament_id).rest_seconds),
            now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),  # every match may go
        )
        for target in checkpoints:
            for spec_id in order:
                if len(done) >= target:
                    break
                if spec_id not in done:
                    await send("POST", f"/matches/{game_id}.{spec_id}/start", {})
                    await report(spec_id)
            started: list[str] = []
            busy: set[str] = set()
            for spec_id in order:
                pair = set(party.teams(spec_id))
                if len(started) < playing and spec_id not in done and not busy & pair:
                    await send("POST", f"/matches/{game_id}.{spec_id}/start", {})
                    started.append(spec_id)
                    busy |= pair
            figures = [
                _median_ms(functools.partial(look, free={game_id: free}), repeat) for free in frees
            ]
            board = Views(catalog.get(party.tournament_id), game_play, _uncached)
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
