"""Single-event commands through the service layer, per backend and concurrency.

Each worker owns a tournament and changes its venue over and over (one ``TournamentUpdated``
per command): decide, append, catch the projection up. Concurrent workers on different
tournaments share commits through the store's single writer.

    python -m bench.commands [--seconds 3] [--backends memory,sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from beerolympics.domain.commands import CreateTournament, UpdateTournament
from beerolympics.domain.identity import Actor
from bench.common import runtime_on, summary_ms, table


async def measure(backend: str, concurrency: int, seconds: float) -> list[object]:
    async with runtime_on(backend, pg_pool_max=20) as rt:
        actors = []
        for i in range(concurrency):
            created = await rt.tournaments.create_tournament(CreateTournament(name=f"Bench {i}"))
            actors.append(Actor("organizer", created.tournament_id, created.credential_id))
        latencies: list[float] = []
        stop = time.perf_counter() + seconds

        async def worker(actor: Actor) -> None:
            n = 0
            while time.perf_counter() < stop:
                n += 1
                started = time.perf_counter()
                await rt.tournaments.update_tournament(
                    actor.tournament_id or "", actor, UpdateTournament(venue=f"Table {n}")
                )
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker(a) for a in actors))
        elapsed = time.perf_counter() - began
        return [
            backend,
            concurrency,
            len(latencies),
            f"{len(latencies) / elapsed:,.0f}",
            summary_ms(latencies),
        ]


async def main(backends: list[str], seconds: float, levels: list[int]) -> None:
    rows = []
    for backend in backends:
        for concurrency in levels:
            rows.append(await measure(backend, concurrency, seconds))
            print(
                table(["backend", "writers", "commands", "commands/s", "latency"], rows[-1:]),
                flush=True,
            )
    print("\nsingle-event commands through the service layer")
    print(table(["backend", "writers", "commands", "commands/s", "latency"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--backends", default="memory,sqlite,postgres")
    parser.add_argument("--writers", default="1,16,64")
    args = parser.parse_args()
    asyncio.run(
        main(args.backends.split(","), args.seconds, [int(w) for w in args.writers.split(",")])
    )
