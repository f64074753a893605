"""Photos and clips through a real ``beerolympics serve`` (embedded shape), over loopback.

Phases, in one run:

1. idle: round trips of a ping on an otherwise idle live connection, nothing else happening;
2. single: 12 MP JPEGs (about 5 MB) uploaded one after another: accepted (the 202) and ready
   (its ``media_updated`` with ``ready`` arriving on a live connection), p50/p95;
3. burst: ``--photos`` such photos from ``--phones`` phones at once (each phone uploading its
   share one after another), while the idle connection keeps pinging: photos per second from
   the first byte sent to the last one ready, errors (not 202), lost (never ready), the peak
   memory of the server with its CPU processes, and the ping p50/p99 against phase 1;
4. an HEIC photo and a 30 s 1080p clip: time to ready (the clip: poster and 720p H.264).

The server runs with its defaults (``job_processes`` 1: one CPU process beside the one that
serves) except for rate limits, which a bench from one address would hit.

    python -m bench.media [--photos 100] [--phones 20] [--single 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.common import percentile
from bench.imaging import sample

CACHE = Path(tempfile.gettempdir()) / "beerolympics-bench-media"


def clip_30s() -> Path:
    path = CACHE / "clip-30s-1080p.mp4"
    if not path.exists():
        from beerolympics.testing import samples

        CACHE.mkdir(exist_ok=True)
        path.write_bytes(samples.clip(30, 1920, 1080))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def server(folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {
        **os.environ,
        "BEEROLYMPICS_RATE_LIMIT_UPLOADS": "100000/minute",
        "BEEROLYMPICS_RATE_LIMIT_API": "100000/minute",
        "BEEROLYMPICS_LIVE_MESSAGES_PER_MINUTE": "100000",
        "BEEROLYMPICS_DATABASE_URL": "",
    }
    command = [sys.executable, "-m", "beerolympics", "serve", "--port", str(port)]
    command += ["--data-dir", str(folder)]
    with (folder.parent / "serve.log").open("ab") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            time.sleep(0.1)
        yield url, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def tree_rss_mb(pgid: int) -> float:
    """Resident memory of every process in the group (the server and its CPU processes)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != pgid:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return total / 1024


class Monitor:
    """A live connection on the tournament channel: when each media item became ready."""

    def __init__(self) -> None:
        self.ready: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.changed = asyncio.Event()

    async def run(self, ws: ClientConnection) -> None:
        async for raw in ws:
            now = time.perf_counter()
            message = json.loads(raw)
            for item in message.get("messages", []):
                media = item.get("media") if item.get("kind") == "media_updated" else None
                if not media:
                    continue
                if media.get("status") == "ready":
                    self.ready.setdefault(media["id"], now)
                elif media.get("status") == "failed" or media.get("removed"):
                    self.failed[media["id"]] = media.get("reason", "removed")
                self.changed.set()

    async def until(self, media_id: str, within: float = 300) -> float:
        async with asyncio.timeout(within):
            while media_id not in self.ready:
                if media_id in self.failed:
                    raise RuntimeError(f"{media_id} failed: {self.failed[media_id]}")
                self.changed.clear()
                await self.changed.wait()
        return self.ready[media_id]


class Pinger:
    """Round trips of ``ping`` on an idle live connection, every 50 ms while it runs."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.sent: dict[int, float] = {}
        self.rtts: list[float] = []
        self.count = 0

    def heard(self, message: dict[str, Any]) -> None:
        sent = self.sent.pop(message.get("id", -1), None)
        if sent is not None:
            self.rtts.append(time.perf_counter() - sent)

    async def run(self) -> None:
        async def listen() -> None:
            async for raw in self.ws:
                message = json.loads(raw)
                if message.get("type") == "pong":
                    self.heard(message)

        listener = asyncio.create_task(listen())
        try:
            while True:
                self.count += 1
                self.sent[self.count] = time.perf_counter()
                await self.ws.send(json.dumps({"type": "ping", "id": self.count}))
                await asyncio.sleep(0.05)
        finally:
            listener.cancel()

    def take(self) -> list[float]:
        found, self.rtts = self.rtts, []
        return found


async def upload(
    http: httpx.AsyncClient, media: str, token: str, body: bytes
) -> tuple[int, str, float]:
    started = time.perf_counter()
    r = await http.post(media, content=body, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - started
    found = r.json().get("id", "") if r.status_code == 202 else r.text[:80]
    return r.status_code, found, elapsed


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:7.1f} ms"


def pings(values: list[float]) -> str:
    return f"p50 {ms(values, 50)}  p99 {ms(values, 99)}  ({len(values)} pings)"


class Party:
    """The bench's tournament on one server: an organizer, one captain per phone, two live
    connections (the monitor and the idle one that pings)."""

    def __init__(self, http: httpx.AsyncClient, media: str, organizer: str, tokens: list[str]):
        self.http, self.media, self.organizer, self.tokens = http, media, organizer, tokens
        self.monitor = Monitor()
        self.pinger: Pinger | None = None

    async def single(self, body: bytes, count: int) -> tuple[list[float], list[float]]:
        accepted, ready = [], []
        for _ in range(count):
            started = time.perf_counter()
            status, media_id, took = await upload(self.http, self.media, self.organizer, body)
            assert status == 202, media_id
            accepted.append(took)
            ready.append(await self.monitor.until(media_id) - started)
        return accepted, ready

    async def burst(self, body: bytes, photos: int, pgid: int) -> dict[str, Any]:
        peak = 0.0
        sampling = True

        async def sample_rss() -> None:
            nonlocal peak
            while sampling:
                peak = max(peak, tree_rss_mb(pgid))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample_rss())
        sent: list[str] = []
        errors: list[str] = []
        accepted: list[float] = []

        async def one_phone(token: str, count: int) -> None:
            for _ in range(count):
                status, media_id, took = await upload(self.http, self.media, token, body)
                if status == 202:
                    sent.append(media_id)
                    accepted.append(took)
                else:
                    errors.append(f"{status} {media_id}")

        phones = len(self.tokens)
        share = [photos // phones + (1 if i < photos % phones else 0) for i in range(phones)]
        started = time.perf_counter()
        await asyncio.gather(*(one_phone(t, n) for t, n in zip(self.tokens, share, strict=True)))
        lost, finished = 0, started
        for media_id in sent:
            try:
                finished = max(finished, await self.monitor.until(media_id, within=600))
            except (TimeoutError, RuntimeError):
                lost += 1
        sampling = False
        await sampler
        elapsed = finished - started
        return {
            "rate": len(sent) / elapsed,
            "elapsed": elapsed,
            "errors": errors,
            "lost": lost,
            "accepted": accepted,
            "peak": peak,
        }

    async def one(self, body: bytes) -> tuple[float, float, str]:
        started = time.perf_counter()
        status, media_id, took = await upload(self.http, self.media, self.organizer, body)
        assert status == 202, media_id
        return took, await self.monitor.until(media_id, within=600) - started, media_id


async def party(http: httpx.AsyncClient, phones: int) -> tuple[Party, str]:
    body = {"name": "Bench Cup", "max_teams": 64}
    created = (await http.post("/api/v1/tournaments", json=body)).json()
    tid, organizer = created["tournament"]["id"], created["token"]
    api = f"/api/v1/tournaments/{tid}"
    tokens = []
    for i in range(phones):
        team = {"name": f"Team {i}", "colour": "#336699", "captain_name": f"C{i}"}
        r = await http.post(
            f"{api}/teams", json=team, headers={"Authorization": f"Bearer {organizer}"}
        )
        tokens.append(r.json()["token"])
    return Party(http, f"{api}/media", organizer, tokens), api


async def main(photos: int, phones: int, single: int) -> None:
    jpeg = sample("photo-12mp.jpg").read_bytes()
    heic = sample("photo-12mp.heic").read_bytes()
    clip = clip_30s().read_bytes()
    with tempfile.TemporaryDirectory() as tmp, server(Path(tmp) / "data") as (url, proc):
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            bench, api = await party(http, phones)
            live = url.replace("http", "ws") + f"{api}/live"
            async with connect(live, compression=None) as watch, connect(live) as idle:
                await watch.send(json.dumps({"type": "subscribe", "channel": "tournament"}))
                watching = asyncio.create_task(bench.monitor.run(watch))
                pinger = Pinger(idle)
                pinging = asyncio.create_task(pinger.run())
                print(
                    f"bench.media: beerolympics serve (embedded, defaults), {os.cpu_count()} cores"
                )

                await asyncio.sleep(5)
                idle_rtt = pinger.take()
                print(f"1. idle live connection, ping round trip: {pings(idle_rtt)}")

                accepted, ready = await bench.single(jpeg, single)
                print(
                    f"2. {single} × 12 MP JPEG ({len(jpeg) / 1e6:.1f} MB), one at a time:"
                    f" accepted p50 {ms(accepted, 50)} p95 {ms(accepted, 95)};"
                    f" every variant ready p50 {ms(ready, 50)} p95 {ms(ready, 95)}"
                )
                pinger.take()

                got = await bench.burst(jpeg, photos, proc.pid)
                busy_rtt = pinger.take()
                print(
                    f"3. {photos} photos from {phones} phones at once: {got['rate']:.2f} photos/s"
                    f" ({got['elapsed']:.1f} s to the last one ready), errors"
                    f" {len(got['errors'])}, lost {got['lost']}; accepted p95"
                    f" {ms(got['accepted'], 95)}; peak RSS (server + CPU processes)"
                    f" {got['peak']:.0f} MB"
                )
                print(f"   live ping while they process: {pings(busy_rtt)}")
                print(f"   live ping idle (phase 1):      {pings(idle_rtt)}")
                if got["errors"]:
                    print("   errors:", "; ".join(got["errors"][:5]))

                for label, body in (("12 MP HEIC", heic), ("30 s 1080p clip", clip)):
                    took, done, media_id = await bench.one(body)
                    print(
                        f"4. {label} ({len(body) / 1e6:.1f} MB): accepted {took * 1000:.0f} ms,"
                        f" ready {done:.2f} s"
                    )
                found = (await http.get(f"{bench.media}/{media_id}")).json()
                video, poster = found["variants"]["video"], found["variants"]["large"]
                print(
                    f"   the clip: {video['width']}×{video['height']} H.264,"
                    f" {video['size'] / 1e6:.1f} MB; poster {poster['width']}×{poster['height']}"
                )
                for task in (pinging, watching):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--phones", type=int, default=20)
    parser.add_argument("--single", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.photos, args.phones, args.single))
