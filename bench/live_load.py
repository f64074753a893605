"""Live fan-out under load: thousands of WebSocket clients following one tournament.

A ``beerolympics serve`` process runs on core 0; this load tool runs on core 1 (127.0.0.1
only, every phase bounded in time). For each size it reports, side by side with a raw
``websockets.broadcast`` server measured the same way in the same run:

- commit → last client, p50/p99 over several fan-outs (the commit is an organizer's
  announcement; t0 is when its request left the load tool);
- CPU per delivery on the server (its CPU time during the fan-outs / deliveries), and the
  ratio to the raw broadcast baseline;
- memory per connection (server RSS growth / connections) and the connection rate.

Then, at 1,000 connections: idle-channel latency (one event at a time), and results posted
at each target rate while the clients listen (a poster process on core 1 reports double round-robin
matches of 128 teams as an official, a team's next match once its last one is played; with the
"start+report" flow it starts each match first, two requests a result; in "queue+report" the
station queue calls matches to 48 tables as they free up): rate
reached, report → client latency over every delivery, whether it grows (p99 of the first and
second half of the run), and how busy the server and the poster were.

    python -m bench.live_load [--sizes 1000,5000,10000] [--fanouts 10] [--results-rates 100,1000]
        [--results-flows report,start+report,queue+report] [--backend sqlite|postgres] [--pusher]
        [--protocols 5,1] [--bytes 12x3,128x48] [--bytes-results 40] [--wire plain,deflate]

With ``--wire deflate`` the load clients offer permessage-deflate, as browsers do (the server
then compresses frames once for many sockets, see ``web/wire.py``); ``plain,deflate`` measures
both, side by side.

Clients speak protocol 5 of the live channels (the leaderboard and station board as patches),
or 1 (those whole, as before protocol 2): ``--protocols 5,1`` measures the results phase with
each, side by side. ``--bytes TEAMSxTABLES`` first measures what one phone receives per result
(a round robin on that many tables, the queue calling matches, results reported one at a time),
with a page of protocol 5 (it keeps no state), a client of protocol 5 that keeps both states,
and one of protocol 1 on the same server: bytes per result, mean and p99, and what they carry,
by message kind; and each of them again over a connection offering permessage-deflate, counted
as bytes on the wire; and a page of protocol 5 over Server-Sent Events (where WebSockets are
blocked), taking gzip or not, counted as the body's bytes as they come.

With ``--pusher`` each size is also measured with clients of the Pusher protocol
(``/app/{key}?protocol=7``, the same hub): the same fan-outs, side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Frame, Opcode

from beerolympics.live.connection import PROTOCOL
from bench.common import fresh_store, percentile, table
from bench.http_leaderboard import free_port

MARK = re.compile(rb"bench-(\d+)")
HEAD = 512  # what a load client reads of a frame: enough for its position or a marker


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid: int) -> float:
    """CPU time of the process's threads, in nanoseconds from the scheduler (``/proc/<pid>/
    stat`` counts 10 ms ticks: too coarse for ten fan-outs to 1,000 clients)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


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


def client_frame(opcode: Opcode, payload: bytes) -> bytes:
    """A client's WebSocket frame (masked, as clients must)."""
    return Frame(opcode, payload).serialize(mask=True)


class LeanSocket(asyncio.Protocol):
    """One load client: the opening handshake by hand, then server frames parsed only as
    far as the bench needs (a frame's first bytes), pings answered. Thousands of these in
    one process keep up where full clients would measure themselves instead of the server."""

    def __init__(self, clients: Clients, index: int, request: bytes, hello: bytes | None):
        self.clients, self.index = clients, index
        self.request, self.hello = request, hello
        self.buffer = bytearray()
        self.open = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        #: The window of the frames the server compressed (permessage-deflate), if agreed.
        self.inflate: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.clients.bytes += len(data)
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(ConnectionError(bytes(buffer[:end]).decode()))
                return
            if b"permessage-deflate" in buffer[:end].lower():
                self.inflate = zlib.decompressobj(-15)
            del buffer[: end + 4]
            self.open = True
            if self.hello is not None and self.transport is not None:
                self.transport.write(client_frame(Opcode.TEXT, self.hello))
            self.ready.set_result(None)
        consumed = 0
        while len(buffer) - consumed >= 2:
            opcode, size = buffer[consumed] & 0x0F, buffer[consumed + 1] & 0x7F
            compressed = buffer[consumed] & 0x40
            start = consumed + 2
            if size == 126:
                size, start = int.from_bytes(buffer[start : start + 2], "big"), start + 2
            elif size == 127:
                size, start = int.from_bytes(buffer[start : start + 8], "big"), start + 8
            if len(buffer) < start + size:
                break
            consumed = start + size
            if opcode == 0x9 and self.transport is not None:  # ping: answer with its payload
                self.transport.write(client_frame(Opcode.PONG, bytes(buffer[start:consumed])))
            elif opcode in (0x1, 0x2):
                if compressed and self.inflate is not None:
                    # The whole message goes through the window, to keep it as the server's.
                    payload = bytes(buffer[start:consumed]) + b"\x00\x00\xff\xff"
                    head = self.inflate.decompress(payload)[:HEAD]
                else:
                    head = bytes(buffer[start : min(consumed, start + HEAD)])
                self.clients.received(self.index, head, now)
        if consumed:
            del buffer[:consumed]


class Clients:
    """N WebSocket clients; each records when it saw each marker, or (``positions``) up to
    which position each frame it received went."""

    def __init__(self, *, deflate: bool = False) -> None:
        #: Whether the clients offer permessage-deflate (as browsers do).
        self.deflate = deflate
        #: Bytes the clients received, on the wire.
        self.bytes = 0
        self.sockets: list[LeanSocket] = []
        self.seen: dict[int, list[float]] = {}
        self.positions = False
        self.frames: list[list[tuple[int, float]]] = []

    async def open(self, url: str, n: int, hello: str | None) -> float:
        parts = urlsplit(url)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: YmVlcm9seW1waWNzLWJjaA==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            + ("Sec-WebSocket-Extensions: permessage-deflate\r\n" if self.deflate else "")
            + "\r\n"
        ).encode()
        greeting = hello.encode() if hello is not None else None
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        batch = 200
        for i in range(0, n, batch):
            socks = [
                LeanSocket(self, len(self.sockets) + k, request, greeting)
                for k in range(min(batch, n - i))
            ]
            await asyncio.gather(
                *(loop.create_connection(lambda s=s: s, parts.hostname, parts.port) for s in socks)
            )
            await asyncio.gather(*(s.ready for s in socks))
            self.sockets += socks
            self.frames += [[] for _ in socks]
        return n / (time.perf_counter() - started)

    def received(self, index: int, head: bytes, now: float) -> None:
        if self.positions:
            # Only the frame's head: a client this cheap keeps up with big frames.
            found = FRAME_TO.search(head)
            if found is not None:
                self.frames[index].append((int(found.group(1)), time.time()))
            return
        for found in MARK.finditer(head):
            self.seen.setdefault(int(found.group(1)), []).append(now)

    async def wait(self, mark: int, count: int, within: float = 20) -> list[float]:
        deadline = time.perf_counter() + within
        # The sockets fill ``seen``; polling keeps them free of any waker bookkeeping.
        while len(self.seen.get(mark, ())) < count and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        return self.seen.get(mark, [])

    async def close(self) -> None:
        for sock in self.sockets:
            if sock.transport is not None:
                sock.transport.close()
        await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def app_server(
    tmp: Path, backend: str = "sqlite"
) -> AsyncIterator[tuple[int, str, httpx.AsyncClient, dict[str, str]]]:
    async with fresh_store(backend, tmp) as url, _serving(tmp, url) as served:
        yield served


@contextlib.asynccontextmanager
async def _serving(
    tmp: Path, database_url: str
) -> AsyncIterator[tuple[int, str, httpx.AsyncClient, dict[str, str]]]:
    port = free_port()
    env = {
        "BEEROLYMPICS_LIVE_MAX_CONNECTIONS": "100000",
        # Every load client connects from 127.0.0.1, without a credential.
        "BEEROLYMPICS_LIVE_MAX_ANONYMOUS": "1000000",
        "BEEROLYMPICS_LIVE_SEND_BUFFER": "4096",
        # One organizer sets up 128 teams and reports every result: no per-credential limit.
        "BEEROLYMPICS_RATE_LIMIT_API": "100000000/minute",
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
        "--database-url",
        database_url,
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


async def measure_app(
    n: int, fanouts: int, *, pusher: bool = False, deflate: bool = False
) -> dict[str, Any]:
    """The app's fan-out to ``n`` clients of the native protocol, or of Pusher's; offering
    permessage-deflate with ``deflate``."""
    with tempfile.TemporaryDirectory() as tmp:
        async with app_server(Path(tmp)) as (pid, tid, http, auth):
            rss0 = rss_bytes(pid)
            clients = Clients(deflate=deflate)
            if pusher:
                url = f"ws://127.0.0.1:{http.base_url.port}/app/{tid}?protocol=7"
                hello = '{"event":"pusher:subscribe","data":{"channel":"tournament"}}'
            else:
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


FRAME_TO = re.compile(rb'"type":"frame".*?"to":(\d+)')
CONFIRMED = re.compile(
    rb'"p":(\d+),"kind":"match_updated","event":"ResultConfirmed","match":\{"id":"([^"]+)"'
)


async def observe(url: str, hello: str, confirmed: dict[str, int]) -> None:
    """One more client, which notes the position of every confirmed result."""
    async with connect(url, compression=None, max_queue=None, max_size=None) as ws:
        await ws.send(hello)
        async for message in ws:
            data = message if isinstance(message, bytes) else message.encode()
            for found in CONFIRMED.finditer(data):
                confirmed.setdefault(found.group(2).decode(), int(found.group(1)))


POSTER = """
import asyncio, json, sys, time
import aiohttp
base, api, token, rate, seconds, path, flow = sys.argv[1:8]
rate, seconds = int(rate), float(seconds)
rounds = json.load(open(path))
auth = {"Authorization": "Bearer " + token}
sent, failed, slot = {}, [], [0.0]
async def paced(deadline):
    # A fixed schedule: results keep coming at the rate whether or not the server keeps up
    # (a match whose teams were still playing at its slot goes as soon as they are done).
    at = slot[0] = slot[0] + 1 / rate
    if at >= deadline:
        return False
    await asyncio.sleep(max(0, at - time.perf_counter()))
    return True
async def post(http, url, body=None):
    async with http.post(url, json=body, headers=auth) as reply:
        await reply.read()
        if reply.status >= 400:
            failed.append(reply.status)
async def one(http, match, before, deadline):
    # A team plays one match at a time: wait for both teams' previous matches.
    await asyncio.gather(*before)
    if not await paced(deadline):
        return
    url = base + api + "/matches/" + match["id"]
    if flow == "start+report":
        await post(http, url + "/start")
    sent[match["id"]] = time.time()
    await post(http, url + "/result", {"winner": match["winner"]})
async def main():
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def warm():
            async with http.get(base + "/healthz") as reply:
                await reply.read()
        # Open the pool's connections first: the run measures results, not TCP handshakes.
        await asyncio.gather(*(warm() for _ in range(100)))
        started = time.perf_counter()
        slot[0], deadline, last, tasks = started, started + seconds, {}, []
        for match in (m for matches in rounds for m in matches):
            before = [last[t] for t in match["teams"] if t in last]
            task = asyncio.ensure_future(one(http, match, before, deadline))
            tasks.append(task)
            for team in match["teams"]:
                last[team] = task
        await asyncio.gather(*tasks)
        elapsed = max(seconds, time.perf_counter() - started)
    report = {"sent": sent, "rate": len(sent) / elapsed, "posted": len(sent), "failed": len(failed)}
    report["cpu"] = time.process_time() / elapsed
    json.dump(report, sys.stdout)
asyncio.run(main())
"""


async def results_under_load(
    n: int,
    seconds: float,
    rate: int,
    flow: str,
    backend: str,
    protocol: int = 2,
    deflate: bool = False,
) -> dict[str, Any]:
    """``rate`` results a second (an official reports each match, from a poster process of its
    own) while ``n`` clients follow the tournament; latency from the report's request to each
    client (wall clock, shared by the processes). ``flow``: "report" alone; "start+report",
    starting each match first; "queue+report", with the station queue calling matches to 48
    tables as they free up (most reports are of called matches, and each result frees a table
    the queue fills)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with app_server(Path(tmp), backend) as (pid, tid, http, auth):
            api = f"/api/v1/tournaments/{tid}"
            (await http.patch(api, json={"max_teams": 128}, headers=auth)).raise_for_status()
            for i in range(128):
                team = {"name": f"T{i}", "colour": "#123456", "captain_name": "C"}
                (await http.post(f"{api}/teams", json=team, headers=auth)).raise_for_status()
            # Home and away: 16,256 matches, enough for 12 s at 1,250 results a second.
            body = {
                "name": "Pong",
                "format": "round_robin",
                "options": {"double": True},
                "auto_call": flow == "queue+report",
                "stations": [f"Table {i + 1}" for i in range(48)],
            }
            game = (await http.post(f"{api}/games", json=body, headers=auth)).json()
            await http.post(f"{api}/games/{game['id']}/start", json={}, headers=auth)
            matches: list[dict[str, Any]] = []
            cursor = None
            while True:
                params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
                page = (await http.get(f"{api}/matches", params=params)).json()
                matches += [
                    {
                        "id": m["id"],
                        "round": m["round"],
                        "teams": [slot["team"]["id"] for slot in m["slots"]],
                        "winner": m["slots"][0]["team"]["id"],
                    }
                    for m in page["items"]
                ]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            listing = Path(tmp) / "matches.json"
            rounds: dict[int, list[dict[str, Any]]] = {}
            for m in matches:
                rounds.setdefault(m["round"], []).append(m)
            listing.write_text(json.dumps([rounds[r] for r in sorted(rounds)]))
            position = (await http.get("/readyz")).json()["position"]
            clients = Clients(deflate=deflate)
            clients.positions = True
            url = f"ws://127.0.0.1:{http.base_url.port}{api}/live"
            # From the current position: no snapshot to chew through before the run.
            subscribe = {"type": "subscribe", "channel": "tournament", "since": position}
            hello = json.dumps({**subscribe, "protocol": protocol} if protocol > 1 else subscribe)
            await clients.open(url, n, hello)
            confirmed: dict[str, int] = {}
            observer = asyncio.create_task(observe(url, hello, confirmed))
            await asyncio.sleep(1)
            token = auth["Authorization"].removeprefix("Bearer ")
            cpu0, started, bytes0 = cpu_seconds(pid), time.perf_counter(), clients.bytes
            own0 = time.process_time()
            poster = await asyncio.create_subprocess_exec(
                "taskset",
                "-c",
                "1",
                sys.executable,
                "-c",
                POSTER,
                str(http.base_url).rstrip("/"),
                api,
                token,
                str(rate),
                str(seconds),
                str(listing),
                flow,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await poster.communicate()
            elapsed = time.perf_counter() - started
            cpu = (cpu_seconds(pid) - cpu0) / elapsed
            listeners_cpu = (time.process_time() - own0) / elapsed
            per_phone = (clients.bytes - bytes0) / n / elapsed
            await asyncio.sleep(3)
            observer.cancel()
            await clients.close()
    report = json.loads(out)
    sent = sorted((t, confirmed[k]) for k, t in report["sent"].items() if k in confirmed)
    half = len(sent) // 2
    latencies: list[list[float]] = [[], []]
    by_second: dict[int, list[float]] = {}
    missed = 0
    for frames in clients.frames:
        tos = [to for to, _ in frames]
        for i, (at, p) in enumerate(sent):
            seen = bisect.bisect_left(tos, p)
            if seen == len(tos):
                missed += 1
            else:
                latency = frames[seen][1] - at
                latencies[i >= half].append(latency)
                by_second.setdefault(int(at - sent[0][0]), []).append(latency)
    return {
        "p99_by_second": [percentile(by_second[s], 99) for s in sorted(by_second)],
        "posted": report["posted"],
        "failed": report["failed"],
        "rate": report["rate"],
        "latencies": latencies[0] + latencies[1],
        "early_p99": percentile(latencies[0], 99),
        "late_p99": percentile(latencies[1], 99),
        "missed": missed + (report["posted"] - len(sent)) * n,
        "expected": report["posted"] * n,
        "cpu": cpu,
        "poster_cpu": report["cpu"],
        "per_phone": per_phone,
        "listeners_cpu": listeners_cpu,
    }


#: The clients of the bytes phase: a page of protocol 5 (it keeps no state: it is told what
#: changed and refreshes that), a client of protocol 5 that keeps the leaderboard and the
#: station board (it is sent their patches), and one of protocol 1 (states whole).
#: How the second of each client's two connections is counted.
COMPRESSED = "permessage-deflate, bytes on the wire"
BYTE_CLIENTS: dict[str, dict[str, Any]] = {
    f"{PROTOCOL} (a page: notices)": {"protocol": PROTOCOL},
    f"{PROTOCOL} (keeps both states: patches)": {
        "protocol": PROTOCOL,
        "have": {"leaderboard": -1, "stations": -1},
    },
    "1 (whole states)": {},
}


#: The bytes phase's page over Server-Sent Events, plain and gzipped.
SSE_CLIENTS = {
    False: f"{PROTOCOL} (a page: notices), Server-Sent Events",
    True: f"{PROTOCOL} (a page: notices), Server-Sent Events gzipped, bytes on the wire",
}


async def bytes_per_result(
    teams: int, tables: int, results: int
) -> tuple[dict[str, list[int]], dict[str, Counter[str]], dict[str, int]]:
    """What one phone receives per result, by client (``BYTE_CLIENTS``): a round robin of
    ``teams`` on ``tables`` (the queue calls matches as tables free up), results reported one
    at a time by an official, each given time for its frames to go out before the next. And
    where those bytes go, by message kind (``frame``: the frames' own fields and the messages'
    ``p`` and ``kind``), summed over the results. And what each received joining: the
    welcome, the snapshot and the frames of the first seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        async with app_server(Path(tmp)) as (_pid, tid, http, auth):
            api = f"/api/v1/tournaments/{tid}"
            (await http.patch(api, json={"max_teams": teams}, headers=auth)).raise_for_status()
            for i in range(teams):
                team = {"name": f"Team {i}", "colour": "#123456", "captain_name": "C"}
                (await http.post(f"{api}/teams", json=team, headers=auth)).raise_for_status()
            body = {
                "name": "Pong",
                "format": "round_robin",
                "auto_call": True,
                "stations": [f"Table {i + 1}" for i in range(tables)],
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
            matches.sort(key=lambda m: m["round"])
            url = f"ws://127.0.0.1:{http.base_url.port}{api}/live"
            clients = {c: (subscribe, False) for c, subscribe in BYTE_CLIENTS.items()}
            clients |= {f"{c}, {COMPRESSED}": (s, True) for c, s in BYTE_CLIENTS.items()}
            received = dict.fromkeys(clients, 0)
            counting = False
            kinds: dict[str, Counter[str]] = {c: Counter() for c in received}

            async def listen(client: str) -> None:
                says, compressed = clients[client]
                subscribe = {"type": "subscribe", "channel": "tournament", **says}
                compression = "deflate" if compressed else None

                class Counted(ClientConnection):
                    def data_received(self, data: bytes) -> None:
                        if compressed:
                            received[client] += len(data)
                        super().data_received(data)

                async with connect(
                    url, compression=compression, max_size=None, create_connection=Counted
                ) as ws:
                    await ws.send(json.dumps(subscribe))
                    async for message in ws:
                        if compressed:
                            continue
                        received[client] += len(message)  # ASCII: characters are bytes
                        if counting:
                            by_kind(kinds[client], message)

            # A page over Server-Sent Events (where WebSockets are blocked), plain and gzipped:
            # bytes as they come off its socket, after the response headers.
            events_url = f"{api}/live/events"
            for gzipped in (False, True):
                received[SSE_CLIENTS[gzipped]] = 0
                kinds[SSE_CLIENTS[gzipped]] = Counter()

            async def follow_events(gzipped: bool) -> None:
                client = SSE_CLIENTS[gzipped]
                params = {"channel": "tournament", "protocol": PROTOCOL}
                accept = {"Accept-Encoding": "gzip" if gzipped else "identity"}
                async with http.stream("GET", events_url, params=params, headers=accept) as r:
                    async for chunk in r.aiter_raw():
                        received[client] += len(chunk)

            listeners = [asyncio.create_task(listen(p)) for p in clients]
            listeners += [asyncio.create_task(follow_events(g)) for g in (False, True)]
            # The snapshots and the first calls to the tables are not counted per result.
            await asyncio.sleep(3)
            joining = dict(received)
            per_result: dict[str, list[int]] = {c: [] for c in received}
            counting = True
            for match in matches[:results]:
                before = dict(received)
                winner = match["slots"][0]["team"]["id"]
                reply = await http.post(
                    f"{api}/matches/{match['id']}/result", json={"winner": winner}, headers=auth
                )
                reply.raise_for_status()
                await asyncio.sleep(0.4)  # the frame at once, the rest one window later
                for p in received:
                    per_result[p].append(received[p] - before[p])
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
            return per_result, kinds, joining


def by_kind(counts: Counter[str], text: str | bytes) -> None:
    """Add a message's bytes to ``counts`` by what they carry (see :func:`bytes_per_result`)."""
    message = json.loads(text)
    if message.get("type") != "frame":
        counts[message.get("type", "?")] += len(text)
        return
    inside = 0
    for m in message["messages"]:
        body = {k: v for k, v in m.items() if k not in ("p", "kind")}
        size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=True))
        counts[m["kind"]] += size
        inside += size
    counts["frame"] += len(text) - inside


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


async def main(
    sizes: list[int],
    fanouts: int,
    results_rates: list[int],
    results_seconds: float,
    flows: list[str],
    backend: str,
    pusher: bool,
    protocols: list[int],
    byte_sizes: list[tuple[int, int]],
    byte_results: int,
    wires: list[str],
) -> None:
    raise_fd_limit()
    if byte_sizes:
        print("\nbytes one phone receives per result (results reported one at a time)")
        byte_rows = []
        for teams, tables in byte_sizes:
            found, kinds, joining = await bytes_per_result(teams, tables, byte_results)
            for client, size in joining.items():
                print(f"  {teams}x{tables}, protocol {client}, joining: {size / 1024:,.2f} KB")
            for client, per_result in found.items():
                if kinds[client]:
                    where = ", ".join(
                        f"{kind} {size / len(per_result) / 1024:.2f}"
                        for kind, size in kinds[client].most_common()
                    )
                    print(f"  {teams}x{tables}, protocol {client}, KB per result by kind: {where}")
                byte_rows.append(
                    [
                        f"{teams} teams / {tables} tables",
                        client,
                        f"{len(per_result)}",
                        f"{sum(per_result) / len(per_result) / 1024:,.2f} KB",
                        f"{percentile([float(x) for x in per_result], 99) / 1024:,.2f} KB",
                    ]
                )
            print(table(BYTE_HEADERS, byte_rows[-len(found) :]), flush=True)
        print(table(BYTE_HEADERS, byte_rows))
    rows = []
    idle: list[float] = []
    for n in sizes:
        raw = await measure_raw(n, fanouts)
        measured = [row("raw broadcast", n, raw, None)]
        for wire in wires:
            app = await measure_app(n, fanouts, deflate=wire == "deflate")
            if n == 1000 and not idle:
                idle = app["every"]
            name = "beerolympics" if wire == "plain" else "beerolympics, permessage-deflate"
            measured.append(row(name, n, app, raw))
        if pusher:
            over_pusher = await measure_app(n, fanouts, pusher=True)
            measured.append(row("beerolympics, Pusher", n, over_pusher, raw))
        rows += measured
        print(table(HEADERS, measured), flush=True)
    print("\ncommit → last client, one event at a time, one server core")
    print(table(HEADERS, rows))
    if idle:
        print(
            f"\nidle channel, 1,000 clients, commit → client over every delivery:"
            f" p50 {percentile(idle, 50) * 1e3:.1f} ms, p99 {percentile(idle, 99) * 1e3:.1f} ms"
        )
    if not results_rates:
        return
    print(
        f"\nresults posted while 1,000 clients listen (an official reports each match;"
        f" the event store on {backend})"
    )
    rows = []
    for flow, rate, protocol, wire in itertools.product(flows, results_rates, protocols, wires):
        deflate = wire == "deflate"
        load = await results_under_load(
            1000, results_seconds, rate, flow, backend, protocol, deflate
        )
        lat = load["latencies"]
        rows.append(
            [
                flow,
                f"{protocol}, deflate" if deflate else str(protocol),
                f"{rate:,}/s",
                f"{load['rate']:,.0f}/s",
                f"{load['failed']}",
                f"{load['missed']:,} of {load['expected']:,}",
                f"{percentile(lat, 50) * 1e3:.0f} ms",
                f"{percentile(lat, 99) * 1e3:.0f} ms",
                f"{load['early_p99'] * 1e3:.0f} / {load['late_p99'] * 1e3:.0f} ms",
                f"{load['cpu'] * 100:.0f}%",
                f"{load['poster_cpu'] * 100:.0f}%",
                f"{load['listeners_cpu'] * 100:.0f}%",
                f"{load['per_phone'] / 1024:,.1f} KB/s",
            ]
        )
        print(table(LOAD_HEADERS, rows[-1:]))
        each = " ".join(f"{p * 1e3:.0f}" for p in load["p99_by_second"])
        print(f"p99 of each second of the run, ms: {each}", flush=True)
    print(table(LOAD_HEADERS, rows))


BYTE_HEADERS = ["tournament", "protocol", "results", "per result: mean", "p99"]

LOAD_HEADERS = [
    "requests",
    "protocol",
    "target",
    "posted",
    "errors",
    "missed deliveries",
    "report → client p50",
    "p99",
    "p99 1st / 2nd half",
    "server CPU",
    "poster CPU",
    "listeners CPU",
    "per phone (wire)",
]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--fanouts", type=int, default=10)
    parser.add_argument(
        "--results-rates", default="100,1000", help="comma-separated; empty: no results phase"
    )
    parser.add_argument(
        "--pusher",
        action="store_true",
        help="also fan out to clients of the Pusher protocol (/app/{key}?protocol=7)",
    )
    parser.add_argument("--results-seconds", type=float, default=4)
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="event store of the results phase (PostgreSQL: BEEROLYMPICS_BENCH_POSTGRES)",
    )
    parser.add_argument(
        "--results-flows",
        default="report,start+report,queue+report",
        help="per result: report only; start the match first; or report while the station"
        " queue calls matches to 48 tables (comma-separated)",
    )
    parser.add_argument(
        "--protocols",
        default=str(PROTOCOL),
        help="live protocol of the results phase's clients (comma-separated: 5,1 side by side)",
    )
    parser.add_argument(
        "--bytes",
        default="",
        help="TEAMSxTABLES,...: first measure the bytes a phone receives per result",
    )
    parser.add_argument("--bytes-results", type=int, default=40)
    parser.add_argument(
        "--wire",
        default="plain",
        help="plain, deflate or both (comma-separated): whether the load clients offer"
        " permessage-deflate, as browsers do",
    )
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rates = [int(r) for r in args.results_rates.split(",") if r]
    flows = args.results_flows.split(",")
    protocols = [int(p) for p in args.protocols.split(",") if p]
    byte_sizes = [
        (int(teams), int(tables))
        for teams, _, tables in (size.partition("x") for size in args.bytes.split(",") if size)
    ]
    uvloop.run(
        main(
            sizes,
            args.fanouts,
            rates,
            args.results_seconds,
            flows,
            args.backend,
            args.pusher,
            protocols,
            byte_sizes,
            args.bytes_results,
            args.wire.split(","),
        )
    )
