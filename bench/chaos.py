"""Chaos, with figures: the scaled shape (two instances and a worker behind nginx) on a PRIVATE
PostgreSQL cluster and a PRIVATE Redis (started here on free ports; the machine's own servers
are never touched) while results flow and phones follow them live.

Phases, one after another on the same stack, each with ``--phase-seconds`` of traffic:

1. ``kill -9`` of one instance: phones reconnect (through nginx, to the other) and resume
   with ``since``; writes that failed are retried with the same ``Idempotency-Key``;
2. a rolling restart of both instances (each drains its sockets with 1001);
3. Redis stopped for ``--outage`` seconds, then started again: what ``/readyz`` says meanwhile;
4. PostgreSQL stopped for ``--outage`` seconds, then started again: writes get 503.

Printed per phase: writes acknowledged and how they ended, responses by status (5xx listed),
reconnects and the longest a phone went without a socket, gaps (a frame not starting where the
last one ended), and at the end: acknowledged results missing from the log (must be 0),
results applied more than once (must be 0) and updates a phone never got (must be 0).

    python -m bench.chaos [--phones 40] [--phase-seconds 15] [--outage 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from deploy.private import PrivatePostgres, PrivateRedis
from deploy.stack import Stack
from websockets.asyncio.client import connect

from bench.common import table

ADDRESS = {"X-Forwarded-For": "198.51.100.7"}


@dataclass
class Phase:
    name: str
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    acknowledged: int = 0
    retried: int = 0
    given_up: int = 0
    readyz: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


@dataclass
class Follower:
    """A phone following the tournament channel, resuming where it stopped."""

    index: int
    cursor: int | None = None
    frames: int = 0
    gaps: int = 0
    reconnects: int = 0
    offline_since: float | None = None
    longest_offline: float = 0.0
    seen: set[str] = field(default_factory=set)


class Chaos:
    def __init__(self, stack: Stack, tid: str, captains: dict[str, str]) -> None:
        self.stack = stack
        self.tid = tid
        self.captains = captains
        self.phase = Phase("setup")
        self.phases: list[Phase] = []
        #: match id → the results acknowledged for it (report and confirm).
        self.acknowledged: dict[str, set[str]] = {}
        self.followers: list[Follower] = []
        self.stopping = False
        self.playing: set[asyncio.Task[None]] = set()
        self.http = httpx.AsyncClient(base_url=stack.url, timeout=10)

    def begin(self, name: str) -> Phase:
        self.phase = Phase(name)
        self.phases.append(self.phase)
        return self.phase

    async def write(self, path: str, body: Any, token: str) -> httpx.Response | None:
        """POST with an Idempotency-Key; on a transport error or a 5xx, the same request again
        (as the phone's outbox does) for up to 60 s."""
        key = uuid.uuid4().hex
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key, **ADDRESS}
        deadline = time.monotonic() + 60
        tries = 0
        while time.monotonic() < deadline:
            tries += 1
            phase = self.phase
            try:
                response = await self.http.post(path, json=body, headers=headers)
            except httpx.HTTPError:
                phase.transport_errors += 1
            else:
                phase.statuses[response.status_code] += 1
                if response.status_code < 500:
                    if tries > 1:
                        phase.retried += 1
                    return response
            await asyncio.sleep(0.5)
        self.phase.given_up += 1
        return None

    async def referee(self) -> None:
        """Plays called matches: one captain reports, the other confirms."""
        api = f"/api/v1/tournaments/{self.tid}"
        playing: set[str] = set()
        while not self.stopping:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                page = await self.http.get(
                    f"{api}/matches", params={"status": "called", "limit": 100}, headers=ADDRESS
                )
                self.phase.statuses[page.status_code] += 1
                for match in page.json()["items"] if page.status_code == 200 else []:
                    if match["id"] not in playing:
                        playing.add(match["id"])
                        task = asyncio.create_task(self.play(match))
                        self.playing.add(task)
                        task.add_done_callback(self.playing.discard)
            await asyncio.sleep(0.3)

    async def play(self, match: dict[str, Any]) -> None:
        teams = [s["team"]["id"] for s in match["slots"] if s.get("team")]
        if len(teams) != 2:
            return
        await asyncio.sleep(random.uniform(0.2, 1.0))
        path = f"/api/v1/tournaments/{self.tid}/matches/{match['id']}"
        reported = await self.write(f"{path}/result", {"winner": teams[0]}, self.captains[teams[0]])
        if reported is None or reported.status_code >= 300:
            return
        self.phase.acknowledged += 1
        self.acknowledged.setdefault(match["id"], set()).add("submitted")
        confirmed = await self.write(f"{path}/confirm", {}, self.captains[teams[1]])
        if confirmed is not None and confirmed.status_code < 300:
            self.phase.acknowledged += 1
            self.acknowledged[match["id"]].add("confirmed")

    async def follow(self, follower: Follower) -> None:
        ws_url = self.stack.url.replace("http", "ws") + f"/api/v1/tournaments/{self.tid}/live"
        while not self.stopping:
            try:
                async with connect(ws_url, additional_headers=ADDRESS, compression=None) as ws:
                    subscribe: dict[str, Any] = {"type": "subscribe", "channel": "tournament"}
                    if follower.cursor is not None:
                        subscribe["since"] = follower.cursor
                    await ws.send(json.dumps(subscribe))
                    async for text in ws:
                        message = json.loads(text)
                        if message["type"] == "subscribed" and follower.cursor is None:
                            follower.cursor = message["position"]
                        elif message["type"] == "frame":
                            if follower.offline_since is not None:
                                offline = time.monotonic() - follower.offline_since
                                follower.longest_offline = max(follower.longest_offline, offline)
                                follower.offline_since = None
                            if message["from"] != follower.cursor:
                                follower.gaps += 1
                            follower.cursor = message["to"]
                            follower.frames += 1
                            for item in message.get("messages", []):
                                match = item.get("match") if isinstance(item, dict) else None
                                if isinstance(match, dict) and match.get("status") in (
                                    "submitted",
                                    "confirmed",
                                ):
                                    follower.seen.add(f"{match['id']}:{match['status']}")
            except Exception:  # noqa: S110 - a dropped socket: reconnect, as live.js does
                pass
            if self.stopping:
                return
            follower.reconnects += 1
            if follower.offline_since is None:
                follower.offline_since = time.monotonic()
            await asyncio.sleep(random.uniform(0.1, 0.5))

    async def watch_readyz(self) -> None:
        async with httpx.AsyncClient(timeout=2) as http:
            while not self.stopping:
                for instance in self.stack.instances:
                    try:
                        response = await http.get(f"{instance.url}/readyz")
                        said = "ready" if response.status_code == 200 else response.json()["code"]
                    except (httpx.HTTPError, ValueError, KeyError):
                        said = "down"
                    self.phase.readyz[said] += 1
                await asyncio.sleep(0.5)


async def backplanes_connected(stack: Stack, within: float = 60) -> None:
    async with httpx.AsyncClient(timeout=2) as http, asyncio.timeout(within):
        for instance in stack.instances:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    text = (await http.get(f"{instance.url}/metrics")).text
                    if "\nbeerolympics_backplane_connected 1.0" in text:
                        break
                await asyncio.sleep(0.1)


async def setup(stack: Stack, teams: int) -> tuple[str, dict[str, str]]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        created = (
            await http.post("/api/v1/tournaments", json={"name": "Chaos Cup"}, headers=ADDRESS)
        ).json()
        tid, org = (
            created["tournament"]["id"],
            {"Authorization": f"Bearer {created['token']}", **ADDRESS},
        )
        api = f"/api/v1/tournaments/{tid}"
        await http.patch(api, json={"rest_seconds": 0}, headers=org)
        captains = {}
        for n in range(teams):
            body = {
                "join_code": created["join_code"],
                "name": f"Crew {n}",
                "colour": "#335577",
                "captain_name": f"C{n}",
            }
            team = (await http.post(f"{api}/teams", json=body, headers=ADDRESS)).json()
            captains[team["team"]["id"]] = team["token"]
        body = {
            "name": "Pong",
            "format": "round_robin",
            "stations": [f"Table {i}" for i in range(8)],
        }
        game = (await http.post(f"{api}/games", json=body, headers=org)).json()
        started = await http.post(f"{api}/games/{game['id']}/start", json={}, headers=org)
        assert started.status_code < 300, started.text
    return tid, captains


async def verify(chaos: Chaos) -> dict[str, int]:
    """What the log holds against what was acknowledged, and what each phone saw."""
    api = f"/api/v1/tournaments/{chaos.tid}/matches"
    lost = applied_twice = 0
    for match_id, acknowledged in list(chaos.acknowledged.items()):
        match = (await chaos.http.get(f"{api}/{match_id}", headers=ADDRESS)).json()
        history = match["history"]
        status = match["match"]["status"]
        wanted = ("confirmed",) if "confirmed" in acknowledged else ("submitted", "confirmed")
        if status not in wanted:
            lost += 1
        submitted = [h for h in history if "submitted" in str(h.get("type", "")).lower()]
        if len(submitted) > 1:
            applied_twice += 1
    expected = {f"{m}:confirmed" for m, a in chaos.acknowledged.items() if "confirmed" in a}
    missed = sum(len(expected - f.seen) for f in chaos.followers)
    return {"lost": lost, "applied_twice": applied_twice, "missed_updates": missed}


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o755)  # noqa: S103 - the private PostgreSQL runs as its own user
        with PrivatePostgres(folder / "pg") as pg, PrivateRedis(folder / "redis") as redis:
            stack = Stack(
                folder / "stack",
                instances=2,
                workers=1,
                database_url=pg.url,
                redis_url=redis.url,
                serve_args=["--log-level", "warning", "--live-heartbeat", "5"],
            )
            with stack:
                tid, captains = await setup(stack, args.teams)
                chaos = Chaos(stack, tid, captains)
                chaos.followers = [Follower(i) for i in range(args.phones)]
                chaos.begin("warm-up")
                background = [
                    asyncio.create_task(chaos.referee()),
                    asyncio.create_task(chaos.watch_readyz()),
                    *(asyncio.create_task(chaos.follow(f)) for f in chaos.followers),
                ]
                await asyncio.sleep(3)

                phase = chaos.begin("kill -9 one instance")
                await asyncio.sleep(args.phase_seconds / 3)
                killed = time.monotonic()
                await asyncio.to_thread(stack.instances[0].kill)
                phase.notes.append("instance 0 killed")
                await asyncio.sleep(args.phase_seconds * 2 / 3)
                await asyncio.to_thread(stack.instances[0].start)
                phase.notes.append(f"instance 0 back after {time.monotonic() - killed:.1f}s")

                phase = chaos.begin("rolling restart")
                started = time.monotonic()
                await asyncio.to_thread(stack.rolling_restart)
                phase.notes.append(f"both instances restarted in {time.monotonic() - started:.1f}s")
                await asyncio.sleep(args.phase_seconds / 2)

                phase = chaos.begin(f"Redis down {args.outage:g}s")
                await asyncio.sleep(args.phase_seconds / 3)
                await asyncio.to_thread(redis.stop)
                await asyncio.sleep(args.outage)
                await asyncio.to_thread(redis.start)
                back = time.monotonic()
                await backplanes_connected(stack)
                phase.notes.append(
                    f"every instance follows the others over Redis again"
                    f" {time.monotonic() - back:.1f}s after it came back"
                )
                await asyncio.sleep(args.phase_seconds / 3)

                phase = chaos.begin(f"PostgreSQL down {args.outage:g}s")
                await asyncio.sleep(args.phase_seconds / 3)
                await asyncio.to_thread(pg.stop)
                await asyncio.sleep(args.outage)
                await asyncio.to_thread(pg.start)
                await asyncio.sleep(args.phase_seconds / 3)

                chaos.begin("settle")
                await asyncio.sleep(5)
                chaos.stopping = True
                # Results still being played finish (their writes may be acknowledged yet).
                await asyncio.gather(*chaos.playing, return_exceptions=True)
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
                outcome = await verify(chaos)
                await chaos.http.aclose()
    print(f"{args.phones} phones following live, results from {args.teams} teams on 8 tables")
    rows = []
    for phase in chaos.phases:
        fives = sum(n for s, n in phase.statuses.items() if s >= 500)
        rows.append(
            [
                phase.name,
                str(phase.acknowledged),
                str(phase.retried),
                str(phase.given_up),
                ", ".join(f"{s}: {n}" for s, n in sorted(phase.statuses.items())),
                str(fives),
                str(phase.transport_errors),
                ", ".join(f"{k} {v}" for k, v in phase.readyz.most_common()),
            ]
        )
    print(
        table(
            [
                "phase",
                "acked writes",
                "retried",
                "gave up",
                "responses",
                "5xx",
                "transport errs",
                "/readyz said",
            ],
            rows,
        )
    )
    for phase in chaos.phases:
        for note in phase.notes:
            print(f"{phase.name}: {note}")
    followers = chaos.followers
    print(
        f"phones: {sum(f.reconnects for f in followers)} reconnects, longest without a frame"
        f" after a drop {max(f.longest_offline for f in followers):.1f}s,"
        f" gaps {sum(f.gaps for f in followers)}, frames {sum(f.frames for f in followers)}"
    )
    confirmed = sum("confirmed" in a for a in chaos.acknowledged.values())
    print(
        f"results: {confirmed} confirmed and acknowledged; lost {outcome['lost']},"
        f" applied twice {outcome['applied_twice']}, updates a phone never got"
        f" {outcome['missed_updates']}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phones", type=int, default=40)
    parser.add_argument("--teams", type=int, default=32)
    parser.add_argument("--phase-seconds", type=float, default=15)
    parser.add_argument("--outage", type=float, default=10)
    asyncio.run(measure(parser.parse_args()))
