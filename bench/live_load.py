"""Live fan-out under load: thousands of WebSocket clients following one tournament.

A ``beerolympics serve`` process runs on core 0; this load tool runs on core 1 (127.0.0.1
only, every phase bounded in time). For each size it reports, side by side with a raw
``websockets.broadcast`` server measured the same way in the same run:

- commit → last client, p50/p99 over several fan-outs (the commit is an organizer's
  announcement; t0 is when its request left the load tool);
- CPU per delivery on the server (its CPU time during the fan-outs / deliveries), and the
  ratio to the raw broadcast baseline;
- memory per connection (server RSS growth / connections) and the connection rate.

Then, at 1,000 connections: idle-channel latency (one event at a time), and 1,000 results a
second posted while the clients listen (backlog and latency).

    python -m bench.live_load [--sizes 1000,5000,10000] [--fanouts 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.common import percentile, table
from bench.http_leaderboard import free_port

MARK = re.compile(rb"bench-(\d+)")
TICKS = os.sysconf("SC_CLK_TCK")


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def process(command: list[str], env: dict[str, str] | None = None) -> Any:
    proc = subprocess.Popen(
        ["taskset", "-c", "0", *command],
        env={**os.environ, **(env or {})},
        preexec_fn=raise_fd_limit,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


class Clients:
    """N WebSocket clients; each records when it saw each marker (or each confirmed match
    when ``pattern`` is set)."""

    def __init__(self) -> None:
        self.sockets: list[ClientConnection] = []
        self.seen: dict[int, list[float]] = {}
        self.seen_keys: dict[bytes, list[float]] = {}
        self.pattern: re.Pattern[bytes] | None = None
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str, n: int, hello: str | None) -> float:
        started = time.perf_counter()
        batch = 200
        for i in range(0, n, batch):
            socks = await asyncio.gather(
                *(
                    connect(url, compression=None, max_queue=None, ping_interval=None)
                    for _ in range(min(batch, n - i))
                )
            )
            for ws in socks:
                if hello is not None:
                    await ws.send(hello)
                self.sockets.append(ws)
                self.tasks.append(asyncio.create_task(self._read(ws)))
        return n / (time.perf_counter() - started)

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for message in ws:
                data = message if isinstance(message, bytes) else message.encode()
                now = time.perf_counter()
                if self.pattern is not None:
                    for found in self.pattern.finditer(data):
                        self.seen_keys.setdefault(found.group(1), []).append(now)
                    continue
                for found in MARK.finditer(data):
                    self.seen.setdefault(int(found.group(1)), []).append(now)

    async def wait(self, mark: int, count: int, within: float = 20) -> list[float]:
        deadline = time.perf_counter() + within
        # The clients' readers fill ``seen``; polling keeps them free of any waker bookkeeping.
        while len(self.seen.get(mark, ())) < count and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        return self.seen.get(mark, [])

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


@contextlib.asynccontextmanager
async def app_server(
    tmp: Path,
) -> AsyncIterator[tuple[int, str, httpx.AsyncClient, dict[str, str]]]:
    port = free_port()
    env = {
        "BEEROLYMPICS_LIVE_MAX_CONNECTIONS": "100000",
        "BEEROLYMPICS_LIVE_SEND_BUFFER": "4096",
        "BEEROLYMPICS_LOG_LEVEL": "warning",
    }
    command = [
        sys.executable,
        "-m",
        "beerolympics",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(tmp),
    ]
    with process(command, env) as proc:
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                await http.get("/healthz")
                break
            if proc.poll() is not None:
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.1)
        body = (await http.post("/api/v1/tournaments", json={"name": "Load Cup"})).json()
        tid, auth = body["tournament"]["id"], {"Authorization": f"Bearer {body['token']}"}
        try:
            yield proc.pid, tid, http, auth
        finally:
            await http.aclose()


async def fanout(
    clients: Clients, n: int, fire: Any, pid: int, fanouts: int, mark0: int
) -> tuple[list[float], list[float], float]:
    """``fanouts`` one-at-a-time events: (commit→last-client latencies, commit→client
    latencies of every delivery, CPU per delivery)."""
    last: list[float] = []
    every: list[float] = []
    cpu_before = cpu_seconds(pid)
    for i in range(fanouts):
        mark = mark0 + i
        t0 = time.perf_counter()
        await fire(mark)
        times = await clients.wait(mark, n)
        if len(times) < n:
            raise RuntimeError(f"only {len(times)} of {n} clients got event {mark}")
        last.append(max(times) - t0)
        every += [t - t0 for t in times]
        await asyncio.sleep(0.3)  # let the channel go idle: each event is its own fan-out
    cpu = cpu_seconds(pid) - cpu_before
    return last, every, cpu / (fanouts * n)


async def measure_app(n: int, fanouts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async with app_server(Path(tmp)) as (pid, tid, http, auth):
            rss0 = rss_bytes(pid)
            clients = Clients()
            url = f"ws://127.0.0.1:{http.base_url.port}/api/v1/tournaments/{tid}/live"
            hello = '{"type":"subscribe","channel":"tournament"}'
            rate = await clients.open(url, n, hello)
            await asyncio.sleep(2)
            rss = (rss_bytes(pid) - rss0) / n

            async def fire(mark: int) -> None:
                r = await http.post(
                    f"/api/v1/tournaments/{tid}/announcements",
                    json={"message": f"bench-{mark}"},
                    headers=auth,
                )
                r.raise_for_status()

            last, every, per_delivery = await fanout(clients, n, fire, pid, fanouts, 1)
            await clients.close()
            return {
                "latencies": last,
                "every": every,
                "cpu": per_delivery,
                "rss": rss,
                "rate": rate,
            }


RAW_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve, broadcast
clients = set()
async def handler(ws):
    if ws.request.path == "/control":
        async for message in ws:
            broadcast(clients, message)
        return
    clients.add(ws)
    try:
        await ws.wait_closed()
    finally:
        clients.discard(ws)
async def main():
    options = {"compression": None, "max_queue": None, "ping_interval": None}
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), **options):
        await asyncio.Future()
asyncio.run(main())
"""


async def measure_raw(n: int, fanouts: int) -> dict[str, Any]:
    port = free_port()
    with process([sys.executable, "-c", RAW_SERVER, str(port)]) as proc:
        await asyncio.sleep(1)
        rss0 = rss_bytes(proc.pid)
        clients = Clients()
        rate = await clients.open(f"ws://127.0.0.1:{port}/", n, None)
        control = await connect(f"ws://127.0.0.1:{port}/control", compression=None)
        await asyncio.sleep(2)
        rss = (rss_bytes(proc.pid) - rss0) / n

        # The same kind of payload the app sends: a frame with one announcement.
        async def fire(mark: int) -> None:
            frame = (
                '{"type":"frame","channel":"tournament","from":1,"to":2,"messages":[{"p":2,'
                f'"kind":"announcement","announcement":{{"message":"bench-{mark}"}}}}]}}'
            )
            await control.send(frame)

        last, every, per_delivery = await fanout(clients, n, fire, proc.pid, fanouts, 1)
        await control.close()
        await clients.close()
        return {"latencies": last, "every": every, "cpu": per_delivery, "rss": rss, "rate": rate}


CONFIRMED = re.compile(rb'"event":"ResultConfirmed","match":\{"id":"([^"]+)"')


async def results_under_load(n: int, seconds: float, rate: int) -> dict[str, Any]:
    """``rate`` results a second (an official starts and reports each match) while ``n``
    clients follow the tournament; latency from the report's request to each client."""
    with tempfile.TemporaryDirectory() as tmp:
        async with app_server(Path(tmp)) as (pid, tid, http, auth):
            api = f"/api/v1/tournaments/{tid}"
            for i in range(64):
                team = {"name": f"T{i}", "colour": "#123456", "captain_name": "C"}
                await http.post(f"{api}/teams", json=team, headers=auth)
            body = {
                "name": "Pong",
                "format": "round_robin",
                "auto_call": False,
                "options": {"double": True},
            }
            game = (await http.post(f"{api}/games", json=body, headers=auth)).json()
            await http.post(f"{api}/games/{game['id']}/start", json={}, headers=auth)
            matches: list[dict[str, Any]] = []
            cursor = None
            while True:
                params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
                page = (await http.get(f"{api}/matches", params=params)).json()
                matches += page["items"]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            clients = Clients()
            clients.pattern = CONFIRMED
            url = f"ws://127.0.0.1:{http.base_url.port}{api}/live"
            await clients.open(url, n, '{"type":"subscribe","channel":"tournament"}')
            await asyncio.sleep(1)
            rng = random.Random(1)
            sent: dict[bytes, float] = {}
            pending: set[asyncio.Task[None]] = set()

            async def one(match: dict[str, Any]) -> None:
                key = match["id"]
                winner = match["slots"][0]["team"]["id"]
                await http.post(f"{api}/matches/{key}/start", headers=auth)
                sent[key.encode()] = time.perf_counter()
                await http.post(
                    f"{api}/matches/{key}/result", json={"winner": winner}, headers=auth
                )

            cpu0 = cpu_seconds(pid)
            started = time.perf_counter()
            posted = 0
            while time.perf_counter() - started < seconds and matches:
                due = int((time.perf_counter() - started) * rate) - posted
                for _ in range(min(max(0, due), len(matches))):
                    task = asyncio.create_task(one(matches.pop(rng.randrange(len(matches)))))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    posted += 1
                await asyncio.sleep(0.002)
            await asyncio.gather(*pending, return_exceptions=True)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(3)
            cpu = cpu_seconds(pid) - cpu0
            await clients.close()
            lat = [
                t - sent[k] for k, times in clients.seen_keys.items() if k in sent for t in times
            ]
            halves = sorted(sent.items(), key=lambda item: item[1])
            first = {k for k, _ in halves[: len(halves) // 2]}
            early = [t - sent[k] for k in first for t in clients.seen_keys.get(k, [])]
            late = [
                t - sent[k]
                for k, _ in halves[len(halves) // 2 :]
                for t in clients.seen_keys.get(k, [])
            ]
            delivered = sum(len(v) for v in clients.seen_keys.values())
            return {
                "posted": posted,
                "rate": posted / elapsed,
                "latencies": lat,
                "early_p99": percentile(early, 99),
                "late_p99": percentile(late, 99),
                "delivered": delivered,
                "expected": posted * n,
                "cpu": cpu / elapsed,
            }


def row(name: str, n: int, m: dict[str, Any], base: dict[str, Any] | None) -> list[object]:
    lat = m["latencies"]
    ratio = f"{m['cpu'] / base['cpu']:.2f}" if base else ""
    return [
        name,
        f"{n:,}",
        f"{percentile(lat, 50) * 1e3:.0f} ms",
        f"{percentile(lat, 99) * 1e3:.0f} ms",
        f"{m['cpu'] * 1e6:.1f} µs",
        ratio,
        f"{m['rss'] / 1024:.1f} KB",
        f"{m['rate']:,.0f}/s",
    ]


HEADERS = [
    "server",
    "clients",
    "last p50",
    "last p99",
    "CPU/delivery",
    "vs raw",
    "mem/conn",
    "connects",
]


async def main(sizes: list[int], fanouts: int, results_rate: int, results_seconds: float) -> None:
    raise_fd_limit()
    rows = []
    idle: list[float] = []
    for n in sizes:
        raw = await measure_raw(n, fanouts)
        app = await measure_app(n, fanouts)
        if n == 1000:
            idle = app["every"]
        rows += [row("raw broadcast", n, raw, None), row("beerolympics", n, app, raw)]
        print(table(HEADERS, rows[-2:]), flush=True)
    print("\ncommit → last client, one event at a time, one server core")
    print(table(HEADERS, rows))
    if idle:
        print(
            f"\nidle channel, 1,000 clients, commit → client over every delivery:"
            f" p50 {percentile(idle, 50) * 1e3:.1f} ms, p99 {percentile(idle, 99) * 1e3:.1f} ms"
        )
    load = await results_under_load(1000, results_seconds, results_rate)
    lat = load["latencies"]
    p50, p99 = percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3
    early, late = load["early_p99"] * 1e3, load["late_p99"] * 1e3
    print(
        f"\n{load['rate']:,.0f} results/s posted (target {results_rate:,}) for {results_seconds:g}s"
        f" while 1,000 clients listen: delivered {load['delivered']:,} of {load['expected']:,};"
        f" report → client p50 {p50:.0f} ms, p99 {p99:.0f} ms;"
        f" p99 first half {early:.0f} ms, second half {late:.0f} ms;"
        f" server CPU {load['cpu'] * 100:.0f}% of a core"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--fanouts", type=int, default=10)
    parser.add_argument("--results-rate", type=int, default=1000)
    parser.add_argument("--results-seconds", type=float, default=4)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    sizes = [int(s) for s in args.sizes.split(",")]
    asyncio.run(main(sizes, args.fanouts, args.results_rate, args.results_seconds))
