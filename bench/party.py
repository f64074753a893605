"""The party, measured: ``--phones`` simulated phones for ``--seconds`` against the scaled shape
(two instances and a job worker on PostgreSQL and Redis, nginx in front, as ``deploy.stack``
brings it up) and, side by side, against one instance without the proxy.

Every phone holds a WebSocket on the tournament channel (captains also on their team's), in
live protocol 5 as the pages speak it, and opens pages the way the app does: the leaderboard
and the stations with the ETags it got last time, every ``--page-every`` seconds. Game A's
matches are called to its tables by the queue; game B's by the organizer. Captains report each
called match after a short game and the other captain confirms it; ``--photos`` photos are
uploaded along the way. The phones come from ten addresses (ten routers of a hundred phones).

Printed for each run: per route p50/p95/p99 and errors; results confirmed; the cache hit ratio
(nginx's; the instances' own fast path behind it); database pool utilization (the most any
instance reached, and the mean); live delivery (from a confirmation being sent to the frame
carrying it, on the observing phones) p50/p99; CPU seconds per instance and per result.

    python -m bench.party [--phones 1000] [--seconds 60] [--photos 10] [--nginx-workers 2]

Needs nginx (Debian's nginx-light), PostgreSQL and Redis as ``deploy.stack`` expects them. The
load generator runs on the same two cores as everything it measures: its own CPU, nginx's and
how busy the whole machine was are printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from deploy.stack import Stack

from beerolympics.live.connection import PROTOCOL
from bench.common import percentile, table

ADDRESSES = [f"198.51.100.{i}" for i in range(1, 11)]


@dataclass
class Party:
    tid: str
    organizer: str
    captains: dict[str, str]  # team id → token
    game_a: str
    game_b: str


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[tuple[str, int]] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    confirmed: int = 0
    reported: int = 0
    photos: int = 0
    deliveries: list[float] = field(default_factory=list)
    sockets_open: int = 0
    sockets_failed: int = 0
    closes: Counter[int] = field(default_factory=Counter)
    pool: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: match id → when its confirmation was sent (observers measure delivery from it).
    sent: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """HTTP with per-route timing; ``route`` names the request in the table.

    aiohttp, and its WebSocket client for the phones' sockets: both parse in C, so the
    generator spends its share of the two cores on sending and reading, not on itself.
    """

    def __init__(self, base: str, figures: Figures) -> None:
        self.http = aiohttp.ClientSession(
            base_url=base,
            timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(limit=200),
        )
        #: The phones' sockets: a connection each for as long as the run (a session of their
        #: own, or they would hold every connection the requests' pool has).
        self.sockets = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.figures = figures

    async def close(self) -> None:
        await self.http.close()
        await self.sockets.close()

    async def request(
        self, route: str, method: str, path: str, ok: tuple[int, ...] = (), **kwargs: Any
    ) -> Reply | None:
        started = time.perf_counter()
        try:
            async with self.http.request(method, path, **kwargs) as response:
                reply = Reply(response.status, response.headers, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.figures.transport_errors[f"{route}: {type(exc).__name__}"] += 1
            return None
        self.figures.latencies[route].append(time.perf_counter() - started)
        if reply.status_code >= 400 and reply.status_code not in ok:
            self.figures.errors[route, reply.status_code] += 1
        return reply


def bearer(token: str, address: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Forwarded-For": address}


async def call(client: Client, method: str, path: str, **kwargs: Any) -> Any:
    """A setup request, which must succeed."""
    async with client.http.request(method, path, **kwargs) as response:
        body = await response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {body.decode()}")
        return json.loads(body)


async def setup(client: Client, teams: int) -> Party:
    address = {"X-Forwarded-For": "203.0.113.1"}
    created = await call(
        client, "POST", "/api/v1/tournaments", json={"name": "Garage Games"}, headers=address
    )
    tid, organizer = created["tournament"]["id"], created["token"]
    api = f"/api/v1/tournaments/{tid}"
    org = bearer(organizer, "203.0.113.1")
    await call(client, "PATCH", api, json={"rest_seconds": 0}, headers=org)
    captains = {}
    for n in range(teams):
        body = {
            "join_code": created["join_code"],
            "name": f"Team {n}",
            "colour": "#224466",
            "captain_name": f"Captain {n}",
        }
        team = await call(client, "POST", f"{api}/teams", json=body, headers=address)
        captains[team["team"]["id"]] = team["token"]
    games = []
    for name, auto_call, tables in (("Beer pong", True, 16), ("Flip cup", False, 8)):
        body = {
            "name": name,
            "format": "round_robin",
            "auto_call": auto_call,
            "stations": [f"{name} {i + 1}" for i in range(tables)],
        }
        game = await call(client, "POST", f"{api}/games", json=body, headers=org)
        await call(client, "POST", f"{api}/games/{game['id']}/start", json={}, headers=org)
        games.append(game["id"])
    return Party(tid, organizer, captains, games[0], games[1])


async def phone(
    n: int,
    base: str,
    client: Client,
    party: Party,
    deadline: float,
    page_every: float,
    team: str | None,
    observer: bool,
) -> None:
    figures = client.figures
    address = ADDRESSES[n % len(ADDRESSES)]
    headers = {"X-Forwarded-For": address}
    if team is not None:
        headers["Cookie"] = f"bo_{party.tid}={party.captains[team]}"
    api = f"/api/v1/tournaments/{party.tid}"
    etags: dict[str, str] = {}
    ws_url = base.replace("http", "ws") + f"{api}/live"
    try:
        async with client.sockets.ws_connect(
            ws_url,
            headers=headers,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None),
            max_msg_size=0,
            compress=15,  # offers permessage-deflate, as browsers do
        ) as ws:
            figures.sockets_open += 1
            # As the pages subscribe: protocol 5, told what changed; the leaderboard page and
            # the TV (here one phone in ten) keep the leaderboard and get it as patches.
            hello: dict[str, Any] = {"type": "subscribe", "channel": "tournament"}
            hello["protocol"] = PROTOCOL
            if n % 10 == 1:
                hello["have"] = {"leaderboard": -1}
            await ws.send_str(json.dumps(hello))
            if team is not None:
                await ws.send_str(json.dumps({"type": "subscribe", "channel": f"team:{team}"}))

            async def listen() -> None:
                async for message in ws:
                    if not observer or message.type is not aiohttp.WSMsgType.TEXT:
                        continue
                    now = time.perf_counter()
                    for match in re.findall(r'"id":"(gm_[^"]+)"', message.data):
                        sent = figures.sent.get(match)
                        if sent is not None and now > sent:
                            figures.deliveries.append(now - sent)
                            figures.sent.pop(match, None)  # the first frame after counts

            listener = asyncio.create_task(listen())
            await asyncio.sleep(random.uniform(0, page_every))
            while time.perf_counter() < deadline and not listener.done():
                for route, path in (
                    ("GET leaderboard", f"{api}/leaderboard"),
                    ("GET stations", f"{api}/stations"),
                ):
                    sent_headers = dict(headers)
                    if path in etags:
                        sent_headers["If-None-Match"] = etags[path]
                    response = await client.request(route, "GET", path, headers=sent_headers)
                    if response is not None and "etag" in response.headers:
                        etags[path] = response.headers["etag"]
                await asyncio.sleep(page_every * random.uniform(0.7, 1.3))
            if listener.done() and ws.close_code not in (None, 1000):
                figures.closes[ws.close_code] += 1
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
    except aiohttp.WSServerHandshakeError as exc:
        figures.closes[exc.status] += 1
        figures.sockets_failed += 1
    except (aiohttp.ClientError, TimeoutError):
        figures.sockets_failed += 1


async def play(client: Client, party: Party, match: dict[str, Any]) -> None:
    """Two captains at a table: one reports, the other confirms."""
    figures = client.figures
    api = f"/api/v1/tournaments/{party.tid}/matches/{match['id']}"
    teams = [slot["team"]["id"] for slot in match["slots"] if slot.get("team")]
    if len(teams) != 2:
        return
    await asyncio.sleep(random.uniform(1, 3))  # the game itself
    winner = random.choice(teams)
    address = ADDRESSES[hash(teams[0]) % len(ADDRESSES)]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    reported = await client.request(
        "POST result",
        "POST",
        f"{api}/result",
        ok=(409,),
        json={"winner": winner},
        headers={**bearer(party.captains[teams[0]], address), **key},
    )
    if reported is None or reported.status_code >= 300:
        return
    figures.reported += 1
    figures.sent[match["id"]] = time.perf_counter()
    confirmed = await client.request(
        "POST confirm",
        "POST",
        f"{api}/confirm",
        ok=(409,),
        json={},
        headers={**bearer(party.captains[teams[1]], address), "Idempotency-Key": uuid.uuid4().hex},
    )
    if confirmed is not None and confirmed.status_code < 300:
        figures.confirmed += 1


async def referee(client: Client, party: Party, deadline: float) -> None:
    """Plays every match the queue (game A) or the organizer (game B) calls."""
    api = f"/api/v1/tournaments/{party.tid}"
    playing: set[str] = set()
    tasks: set[asyncio.Task[None]] = set()
    public = {"X-Forwarded-For": "203.0.113.2"}  # the tables' phones: public reads
    while time.perf_counter() < deadline:
        page = await client.request(
            "GET matches",
            "GET",
            f"{api}/matches",
            params={"status": "called", "limit": 100},
            headers=public,
        )
        if page is not None and page.status_code == 200:
            for match in page.json()["items"]:
                if match["id"] not in playing:
                    playing.add(match["id"])
                    task = asyncio.create_task(play(client, party, match))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()


#: What is left of a limit and when it resets, from a ``RateLimit`` field.
RATE_LEFT = re.compile(r";r=(?P<r>\d+);t=(?P<t>\d+)")


async def organizer(client: Client, party: Party, deadline: float) -> None:
    """Calls game B's ready matches whose teams are free to its free tables, as the control
    room does."""
    api = f"/api/v1/tournaments/{party.tid}"
    org = bearer(party.organizer, "203.0.113.1")
    public = {"X-Forwarded-For": "203.0.113.1"}  # the control room reads what all read
    while time.perf_counter() < deadline:
        boards = await client.request("GET stations", "GET", f"{api}/stations", headers=public)
        ready = await client.request(
            "GET matches",
            "GET",
            f"{api}/matches",
            params={"game_id": party.game_b, "status": "ready", "limit": 100},
            headers=public,
        )
        if boards is not None and ready is not None and ready.status_code == 200:
            tables = boards.json()["stations"]
            free = [
                b["station"]["id"]
                for b in tables
                if b["game_id"] == party.game_b and b["station"]["match"] is None
            ]
            # Teams at a table now (in either game) cannot be called elsewhere: the control
            # room skips their matches, as its page does.
            busy = {
                slot["team"]["id"]
                for b in tables
                if b["now_playing"] is not None
                for slot in b["now_playing"]["slots"]
                if slot["team"] is not None
            }
            callable_now = [
                m
                for m in ready.json()["items"]
                if not busy.intersection(s["team"]["id"] for s in m["slots"] if s["team"])
            ]
            for station, match in zip(free, callable_now, strict=False):
                reply = await client.request(
                    "POST call",
                    "POST",
                    f"{api}/matches/{match['id']}/call",
                    ok=(409, 422),
                    json={"station_id": station},
                    headers={**org, "Idempotency-Key": uuid.uuid4().hex},
                )
                # Its credential's calls are limited (100 a minute): with none left, it waits
                # for the window the RateLimit field names, as a client should.
                left = RATE_LEFT.search(reply.headers.get("RateLimit", "") if reply else "")
                if left is not None and int(left["r"]) == 0:
                    await asyncio.sleep(int(left["t"]))
                    break
        await asyncio.sleep(2)


async def photographer(client: Client, party: Party, photos: int, seconds: float) -> None:
    from beerolympics.testing import samples

    jpeg = samples.photo(1600, 1200, quality=85)
    teams = list(party.captains)
    for i in range(photos):
        await asyncio.sleep(seconds / (photos + 1))
        team = teams[i % len(teams)]
        response = await client.request(
            "POST photo",
            "POST",
            f"/api/v1/tournaments/{party.tid}/media",
            data=jpeg,
            headers={
                **bearer(party.captains[team], ADDRESSES[i % len(ADDRESSES)]),
                "Content-Type": "image/jpeg",
            },
        )
        if response is not None and response.status_code == 202:
            client.figures.photos += 1


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nginx_cpu_seconds(stack: Stack) -> float:
    """nginx's master and its workers."""
    if stack.nginx is None or stack.nginx.popen is None:
        return 0.0
    master = stack.nginx.popen.pid
    total = cpu_seconds(master)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                total += cpu_seconds(int(stat.parent.name))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle (nor waiting for I/O) since boot."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


async def sample_pools(stack: Stack, figures: Figures, deadline: float) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        while time.perf_counter() < deadline:
            for instance in stack.instances:
                with contextlib.suppress(httpx.HTTPError):
                    text = (await http.get(f"{instance.url}/metrics")).text
                    found = re.search(r"^beerolympics_db_pool_utilization (\S+)$", text, re.M)
                    if found:
                        figures.pool[instance.url].append(float(found.group(1)))
            await asyncio.sleep(1)


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    if found is None:
        raise RuntimeError(f"/metrics has no {name}")
    return float(found.group(1))


async def fastpath_ratio(stack: Stack) -> float:
    hits = misses = 0.0
    async with httpx.AsyncClient(timeout=5) as http:
        for instance in stack.instances:
            text = (await http.get(f"{instance.url}/metrics")).text
            hits += metric(text, "beerolympics_fastpath_hits_total")
            misses += metric(text, "beerolympics_fastpath_misses_total")
    return hits / (hits + misses) if hits + misses else float("nan")


def nginx_ratio(stack: Stack) -> tuple[float, Counter[str]]:
    statuses: Counter[str] = Counter()
    for line in stack.nginx_access_log().read_text().splitlines():
        if '"GET /api/' in line:
            found = re.search(r"cache=(\S+)", line)
            if found:
                statuses[found.group(1)] += 1
    statuses.pop("-", None)  # not cacheable: live sockets' handshakes
    served = statuses["HIT"] + statuses["STALE"] + statuses["UPDATING"]
    total = sum(n for s, n in statuses.items() if s != "-")
    return (served / total if total else float("nan")), statuses


async def run(stack: Stack, through_proxy: bool, args: argparse.Namespace) -> dict[str, Any]:
    figures = Figures()
    base = stack.url if through_proxy else stack.instances[0].url
    client = Client(base, figures)
    party = await setup(client, args.teams)
    figures.latencies.clear()
    figures.errors.clear()
    captains = list(party.captains)
    pids = {i.url: i.popen.pid for i in stack.instances if i.popen is not None}
    cpu_before = {url: cpu_seconds(pid) for url, pid in pids.items()}
    generator_before = cpu_seconds(os.getpid())
    nginx_before, machine_before = nginx_cpu_seconds(stack), machine_busy_seconds()
    started = time.perf_counter()
    deadline = started + args.seconds
    phones = [
        phone(
            n,
            base,
            client,
            party,
            deadline,
            args.page_every,
            captains[n] if n < len(captains) else None,
            observer=n % 20 == 0,
        )
        for n in range(args.phones)
    ]
    await asyncio.gather(
        *phones,
        referee(client, party, deadline),
        organizer(client, party, deadline),
        photographer(client, party, args.photos, args.seconds),
        sample_pools(stack, figures, deadline),
    )
    wall = time.perf_counter() - started
    cpu = {url: cpu_seconds(pid) - cpu_before[url] for url, pid in pids.items()}
    generator = (cpu_seconds(os.getpid()) - generator_before) / wall
    nginx = (nginx_cpu_seconds(stack) - nginx_before) / wall
    machine = (machine_busy_seconds() - machine_before) / wall
    await client.close()
    ratio, statuses = nginx_ratio(stack) if through_proxy else (float("nan"), Counter())
    return {
        "figures": figures,
        "wall": wall,
        "cpu": cpu,
        "generator": generator,
        "nginx": nginx,
        "machine": machine,
        "nginx_ratio": ratio,
        "nginx_statuses": statuses,
        "fastpath_ratio": await fastpath_ratio(stack),
    }


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}" if values else "-"


def report(label: str, found: dict[str, Any]) -> list[list[str]]:
    figures: Figures = found["figures"]
    rows = []
    for route in sorted(figures.latencies):
        values = figures.latencies[route]
        errors = sum(n for (r, _), n in figures.errors.items() if r == route)
        errors += sum(n for r, n in figures.transport_errors.items() if r.startswith(route + ":"))
        rows.append(
            [
                label,
                route,
                str(len(values)),
                ms(values, 50),
                ms(values, 95),
                ms(values, 99),
                str(errors),
            ]
        )
    return rows


def summary(label: str, found: dict[str, Any], instances: int) -> list[str]:
    figures: Figures = found["figures"]
    cpu_total = sum(found["cpu"].values())
    pool = [v for values in figures.pool.values() for v in values]
    return [
        label,
        f"{figures.sockets_open}/{figures.sockets_open + figures.sockets_failed}",
        f"{figures.confirmed} ({figures.confirmed / found['wall']:.1f}/s)",
        str(figures.photos),
        f"{found['nginx_ratio']:.0%}" if found["nginx_ratio"] == found["nginx_ratio"] else "-",
        f"{found['fastpath_ratio']:.0%}",
        f"{max(pool):.0%} / {sum(pool) / len(pool):.0%}" if pool else "-",
        f"{ms(figures.deliveries, 50)} / {ms(figures.deliveries, 99)}",
        " + ".join(f"{c / found['wall']:.2f}" for c in found["cpu"].values()),
        f"{cpu_total / figures.confirmed * 1000:.0f} ms" if figures.confirmed else "-",
        f"{found['generator']:.2f}",
        f"{found['nginx']:.2f}" if found["nginx"] else "-",
        f"{found['machine']:.2f} of {os.cpu_count()}",
    ]


async def measure(args: argparse.Namespace) -> None:
    runs = []
    for instances, through_proxy, label in (
        (2, True, "nginx + 2 instances"),
        (1, False, "1 instance, no proxy"),
    ):
        with tempfile.TemporaryDirectory(prefix="bench-party-") as tmp:
            stack = Stack(
                Path(tmp),
                instances=instances,
                workers=1,
                # The generator's phones reach the app from ten "routers"; the per-address
                # budgets are the defaults.
                serve_args=["--log-level", "warning"],
                nginx_workers=args.nginx_workers,
            )
            with stack:
                found = await run(stack, through_proxy, args)
                runs.append((label, instances, found))
    print(
        f"{args.phones} phones for {args.seconds:g}s, a page every ~{args.page_every:g}s each,"
        f" {args.teams} teams"
    )
    print(
        table(
            ["run", "route", "requests", "p50 ms", "p95 ms", "p99 ms", "errors"],
            [row for label, _, found in runs for row in report(label, found)],
        )
    )
    print()
    print(
        table(
            [
                "run",
                "sockets",
                "results",
                "photos",
                "nginx hits",
                "fast path",
                "pool max/mean",
                "live p50/p99 ms",
                "CPU cores/instance",
                "CPU per result",
                "generator cores",
                "nginx cores",
                "machine busy",
            ],
            [summary(label, found, n) for label, n, found in runs],
        )
    )
    for label, _, found in runs:
        figures: Figures = found["figures"]
        extra = []
        if found["nginx_statuses"]:
            extra.append(
                "nginx cache: "
                + ", ".join(f"{k} {v}" for k, v in found["nginx_statuses"].most_common())
            )
        if figures.closes:
            extra.append(
                "sockets closed or refused (close code or HTTP status): "
                + ", ".join(f"{k}: {v}" for k, v in figures.closes.items())
            )
        if figures.errors:
            extra.append(
                "errors: " + ", ".join(f"{r} {s}: {n}" for (r, s), n in figures.errors.items())
            )
        if figures.transport_errors:
            extra.append(
                "transport: " + ", ".join(f"{k}: {v}" for k, v in figures.transport_errors.items())
            )
        for line in extra:
            print(f"{label}: {line}")
    print(
        "CPU per result: the app instances' CPU seconds over confirmed results (PostgreSQL,"
        " Redis, nginx and the generator not included); the generator shares the two cores"
        " (generator cores: its own CPU over the run)."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--teams", type=int, default=64)
    parser.add_argument("--page-every", type=float, default=15)
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument(
        "--nginx-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="nginx worker processes (default: one a core, as worker_processes auto)",
    )
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(measure(args))
    else:
        uvloop.run(measure(args))
