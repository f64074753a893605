"""What a confirmed result costs the read model with ratings and highlight detection, side by
side with ratings off and highlights off.

A 128-team tournament of 6 games (bench.tournament's) is played out once through the services;
its log is then folded three times into fresh projections, timing every ``ResultConfirmed``:

- ``ratings off, highlights off``: catalog + play, the ratings' update made a no-op;
- ``ratings on, highlights off``: catalog + play, as the app has been;
- ``ratings on, highlights on``: catalog + play + media + highlights, as the app is now.

Highlight detection is also reported alone (its own ``apply`` for the same events).

    python -m bench.highlights [--teams 128] [--seed 7] [--repeat 3]

Each fold is run ``repeat`` times after one warm-up; the run with the lowest median is shown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

from beerolympics.domain import events as ev
from beerolympics.domain.events import EventCodec
from beerolympics.domain.ratings import TeamRatings
from beerolympics.ports.eventstore import EventStore, RecordedEvent
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.highlights import Highlights
from beerolympics.projections.media import Media
from beerolympics.projections.play import Play
from bench.common import runtime_on, summary_ms, table
from bench.tournament import GAMES, play_out, setup


@contextlib.contextmanager
def ratings_off() -> Iterator[None]:
    update = TeamRatings.update
    TeamRatings.update = lambda self, changes: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        TeamRatings.update = update  # type: ignore[method-assign]


def fold(
    log: Sequence[RecordedEvent], codec: EventCodec, *, highlights: bool
) -> tuple[list[float], list[float], Highlights | None]:
    """Fold ``log``; per confirmed result, the cost of every projection, and of highlights
    alone."""
    catalog = Catalog()
    play = Play(catalog)
    found = Highlights(catalog, play, Media()) if highlights else None
    totals: list[float] = []
    alone: list[float] = []
    for recorded in log:
        event = codec.decode(recorded)
        confirmed = isinstance(event, ev.ResultConfirmed)
        started = time.perf_counter()
        catalog.apply(event, recorded)
        play.apply(event, recorded)
        spent = time.perf_counter() - started
        if found is not None:
            started = time.perf_counter()
            found.apply(event, recorded)
            own = time.perf_counter() - started
            spent += own
            if confirmed:
                alone.append(own)
        if confirmed:
            totals.append(spent)
    return totals, alone, found


async def record_log(teams: int, seed: int) -> tuple[list[RecordedEvent], EventCodec, int]:
    async with runtime_on("memory", start=False) as rt:
        organizer, game_ids = await setup(rt, teams)
        latencies = await play_out(rt, organizer, game_ids, random.Random(seed))
        store: EventStore = rt.store
        log: list[RecordedEvent] = []
        while page := await store.read_all(log[-1].position if log else 0, 5000):
            log.extend(page)
        return log, rt.codec, len(latencies)


async def main(teams: int, seed: int, repeat: int) -> None:
    log, codec, results = await record_log(teams, seed)
    best: dict[str, list[float]] = {}
    alone: dict[str, list[float]] = {}
    found: Highlights | None = None

    def keep(name: str, costs: list[float], store: dict[str, list[float]]) -> None:
        # The quieter of the runs (the machine is shared): the lower median.
        if (
            name not in store
            or sorted(costs)[len(costs) // 2] < sorted(store[name])[len(store[name]) // 2]
        ):
            store[name] = costs

    fold(log, codec, highlights=True)  # warm-up: the first fold in a process pays extra
    for _ in range(repeat):
        with ratings_off():
            totals, _, _ = fold(log, codec, highlights=False)
        keep("ratings off, highlights off", totals, best)
        totals, _, _ = fold(log, codec, highlights=False)
        keep("ratings on, highlights off", totals, best)
        totals, own, found = fold(log, codec, highlights=True)
        keep("ratings on, highlights on", totals, best)
        keep("highlight detection alone", own, alone)
    assert found is not None
    kinds: dict[str, int] = {}
    for th in found.tournaments.values():
        for pending in th.pending.values():
            kinds[pending.event.kind] = kinds.get(pending.event.kind, 0) + 1
    print(
        f"{teams} teams, {len(GAMES)} games: {results} results confirmed,"
        f" {len(log)} events; best of {repeat} folds each"
    )
    base = sorted(best["ratings off, highlights off"])[results // 2]
    rows: list[list[Any]] = [
        [name, len(costs), summary_ms(costs), f"{sorted(costs)[len(costs) // 2] / base:.2f}×"]
        for name, costs in best.items()
    ]
    rows += [[name, len(costs), summary_ms(costs), ""] for name, costs in alone.items()]
    print(table(["per confirmed result", "count", "cost", "p50 vs off"], rows))
    print("highlights found: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=128)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.teams, args.seed, args.repeat))
