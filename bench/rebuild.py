"""Rebuilding projections from 100,000 events: read, decode and fold the whole log.

Fills a fresh SQLite store with a realistic mix (tournaments, teams, members, devices,
setting changes) written through the domain's own decision functions, then times a cold
replay as ``beerolympics rebuild`` does it.

    python -m bench.rebuild [--events 100000] [--backend sqlite|postgres|memory]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time

from beerolympics.domain import teams
from beerolympics.domain import tournament as rules
from beerolympics.domain.commands import CreateTournament, JoinTeam, RegisterTeam, UpdateTournament
from beerolympics.domain.events import Event, EventCodec, JoinCodeReserved
from beerolympics.domain.identity import SPECTATOR, Actor
from beerolympics.ports.eventstore import EventStore, StreamWrite
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.projector import Projector
from bench.common import peak_rss_mb, runtime_on

NOW = dt.datetime(2026, 7, 4, tzinfo=dt.UTC)


async def fill(store: EventStore, target: int, first: int = 1) -> int:
    """Append tournaments (numbered from ``first``) until at least ``target`` events more are
    stored."""
    codec = EventCodec()
    written = 0
    t = first - 1
    while written < target:
        t += 1
        tid = f"bench-{t}"
        events: list[Event] = rules.create(
            CreateTournament(name=f"Bench {t}", max_teams=64, max_team_size=8),
            tournament_id=tid,
            join_code=f"J{t:05d}",
            credential_id=f"cr_org_{t}",
            password_hash=None,
        )
        state = rules.start(events[0], NOW)  # type: ignore[arg-type]
        for e in events[1:]:
            rules.evolve(state, e, NOW)
        organizer = Actor("organizer", tid, f"cr_org_{t}")
        for n in range(32):
            new = teams.register_team(
                state,
                SPECTATOR,
                RegisterTeam(
                    join_code=state.join_code,
                    name=f"Team {n}",
                    colour="#112233",
                    captain_name=f"C{n}",
                ),
                team_id=f"tm_{n}",
                member_id=f"mb_{n}_0",
                credential_id=f"cr_{n}_0",
                invite_code=f"I{n:05d}",
            )
            for m in range(1, 4):
                for e in new:
                    rules.evolve(state, e, NOW)
                events += new
                new = teams.join_team(
                    state,
                    SPECTATOR,
                    JoinTeam(invite_code=f"I{n:05d}", name=f"P{m}"),
                    member_id=f"mb_{n}_{m}",
                    credential_id=f"cr_{n}_{m}",
                )
            for e in new:
                rules.evolve(state, e, NOW)
            events += new
        for v in range(20):
            new = rules.update(state, organizer, UpdateTournament(venue=f"Garden {v}"))
            for e in new:
                rules.evolve(state, e, NOW)
            events += new
        await store.append(
            [
                StreamWrite(rules.stream_id(tid), [codec.encode(e) for e in events], 0),
                StreamWrite(
                    rules.join_code_stream(state.join_code),
                    [codec.encode(JoinCodeReserved(tournament_id=tid))],
                    0,
                ),
            ],
            scope=tid,
        )
        written += len(events) + 1
    return written


async def main(events: int, backend: str) -> None:
    async with runtime_on(backend) as rt:
        started = time.perf_counter()
        written = await fill(rt.store, events)
        print(f"filled {backend} with {written:,} events in {time.perf_counter() - started:.1f}s")
        rss_before = peak_rss_mb()
        fresh = Catalog()
        projector = Projector(rt.store, EventCodec(), [fresh])
        count, seconds = await projector.replay()
        print(f"rebuild: {count:,} events in {seconds:.2f}s = {count / seconds:,.0f} events/s")
        print(f"read model: {len(fresh.tournaments)} tournaments, digest {fresh.digest()[:16]}")
        reads = time.perf_counter()
        position = 0
        while page := await rt.store.read_all(position, 2000):
            position = page[-1].position
        print(f"  of which reading the log alone: {time.perf_counter() - reads:.2f}s")
        print(f"peak RSS {peak_rss_mb():.0f} MB (before the rebuild {rss_before:.0f} MB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backend", default="sqlite")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.backend))
