"""Matches started and reported through the whole HTTP stack, in-process (ASGI, no socket,
nobody listening live): what the command path costs, without the live fan-out that
``bench.live_load`` adds.

The tournament of ``bench.live_load``'s results phase: 128 teams, a home-and-away round robin
on 48 tables, an organizer reporting every result, on the SQLite store. Results go in the
order of the rounds, ``--concurrency`` at a time, and a team plays one match at a time (a
match waits for its teams' previous matches). CPU is the process's, every thread counted; by
quarter of the results too, so work that grows with what is stored shows (the whole round
robin is 16,256 results).

``--stores sqlite,memory`` also runs it on the memory store: the same commands with nothing
written to disk (no writer thread, no reads of the log), side by side. A command there never
waits for anything, so they run one after another whatever ``--concurrency`` says.

``--keys without,with`` also sends every request with an ``Idempotency-Key`` of its own, as
the pages' outbox does (the server then stores each outcome under its key), side by side.

    python -m bench.match_flow [--results 3000] [--flows start+report,report] [--concurrency 64]
        [--stores sqlite,memory] [--keys without,with]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

from bench.asgi import round_robin
from bench.common import summary_ms, table

TEAMS = 128
TABLES = 48


async def measure(
    flow: str, results: int, concurrency: int, store: str, keys: bool
) -> list[object]:
    async with round_robin(store, TEAMS, TABLES) as party:
        sent = itertools.count()

        async def post(path: str, payload: object) -> None:
            key = f"bench-{next(sent)}" if keys else None
            await party.organizer.send("POST", path, payload, key=key)

        specs = party.in_rounds()[:results]
        teams = {spec_id: party.teams(spec_id) for spec_id in specs}

        latencies: list[float] = []
        slots = asyncio.Semaphore(concurrency)

        async def one(spec_id: str, before: list[asyncio.Future[None]]) -> None:
            await asyncio.gather(*before)
            async with slots:
                started = time.perf_counter()
                url = f"/matches/{party.game_id}.{spec_id}"
                if flow == "start+report":
                    await post(f"{url}/start", {})
                await post(f"{url}/result", {"winner": teams[spec_id][0]})
                latencies.append(time.perf_counter() - started)
                if len(latencies) % quarter == 0:
                    marks.append(time.process_time())

        quarter = max(len(specs) // 4, 1)
        cpu, began = time.process_time(), time.perf_counter()
        marks = [cpu]
        last: dict[str, asyncio.Future[None]] = {}
        tasks = []
        for spec_id in specs:
            before = [last[t] for t in teams[spec_id] if t in last]
            task = asyncio.ensure_future(one(spec_id, before))
            tasks.append(task)
            last.update(dict.fromkeys(teams[spec_id], task))
        await asyncio.gather(*tasks)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    return [
        flow,
        store,
        "with" if keys else "without",
        len(specs),
        f"{len(specs) / elapsed:,.0f}",
        f"{cpu / len(specs) * 1000:.2f} ms",
        " / ".join(f"{(b - a) / quarter * 1000:.2f}" for a, b in itertools.pairwise(marks[:5])),
        summary_ms(latencies),
    ]


async def main(
    flows: list[str],
    results: int,
    concurrency: int,
    stores: tuple[str, ...] = ("sqlite",),
    keys: tuple[bool, ...] = (False,),
) -> None:
    rows = [
        await measure(flow, results, concurrency, store, with_keys)
        for flow in flows
        for store in stores
        for with_keys in keys
    ]
    print(f"results through the HTTP stack in-process, {concurrency} at a time")
    headers = ["requests", "store", "keys", "results", "results/s", "CPU/result"]
    headers += ["CPU/result by quarter, ms", "per result"]
    print(table(headers, rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=int, default=3000)
    parser.add_argument("--flows", default="start+report,report")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--stores", default="sqlite", help="sqlite, memory or both")
    parser.add_argument("--keys", default="without", help="without, with or both")
    args = parser.parse_args()
    stores = tuple(args.stores.split(","))
    if not set(stores) <= {"sqlite", "memory"}:
        parser.error("--stores takes sqlite and memory")
    keys = args.keys.split(",")
    if not set(keys) <= {"without", "with"}:
        parser.error("--keys takes without and with")
    asyncio.run(
        main(
            args.flows.split(","),
            args.results,
            args.concurrency,
            stores,
            tuple(k == "with" for k in keys),
        )
    )
