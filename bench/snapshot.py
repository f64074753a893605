"""Start-up on a long log: a full replay against a snapshot plus the tail, as ``serve`` does it.

Fills a SQLite store with ``--events`` events (``bench.rebuild``'s mix, written through the
domain's rules), then starts real ``beerolympics serve`` processes on it and times each from
launch to its first ``/readyz`` 200:

1. without a snapshot: the whole log is replayed (and a snapshot is written at shutdown);
2. with that snapshot, after ``--tail`` more events were appended: the snapshot, then the tail.

Prints the time to ready, the server's peak RSS and its RSS once ready, the shutdown time
(which includes writing the snapshot) and the snapshot's size.

    python -m bench.snapshot [--events 1000000] [--tail 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from beerolympics.runtime import Runtime
from beerolympics.settings import Settings
from bench.common import table
from bench.http_leaderboard import free_port
from bench.rebuild import fill


def settings(data: Path) -> Settings:
    return Settings.load({"data_dir": str(data), "secret_key": "bench"}, environ={})


async def append(data: Path, events: int, first: int = 1) -> int:
    rt = await Runtime.open(settings(data))
    try:
        return await fill(rt.store, events, first)
    finally:
        rt.snapshots = None  # this filler writes no snapshot of its own
        await rt.close()


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """Peak (VmHWM) or current (VmRSS) resident memory of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(data: Path) -> tuple[float, float, float, float, str]:
    """(seconds to ready, peak and ready RSS MB, seconds to stop, how it started) of one
    serve."""
    port = free_port()
    log = data / f"serve-{port}.log"
    command = [sys.executable, "-m", "beerolympics", "serve", "--data-dir", str(data)]
    command += ["--port", str(port), "--secret-key", "bench"]
    started = time.perf_counter()
    with log.open("wb") as sink:
        server = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while True:
            if server.poll() is not None:
                raise RuntimeError(log.read_text())
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        ready = time.perf_counter() - started
        rss, ready_rss = rss_mb(server.pid), rss_mb(server.pid, "VmRSS")
    finally:
        stopping = time.perf_counter()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=120)
    stopped = time.perf_counter() - stopping
    lines = log.read_text().splitlines()
    for line in lines:
        if "snapshot" in line:
            print("  server:", line.split(": ", 1)[-1])
    how = next((ln.split("at position", 1)[1].strip() for ln in lines if "at position" in ln), "?")
    return ready, rss, ready_rss, stopped, how


def main(events: int, tail: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        started = time.perf_counter()
        written = asyncio.run(append(data, events))
        print(f"filled SQLite with {written:,} events in {time.perf_counter() - started:.0f}s")
        rows = []
        ready, rss, ready_rss, stopped, how = serve(data)
        rows.append(
            [
                "replay the whole log",
                f"{ready:.2f}s",
                f"{rss:.0f}",
                f"{ready_rss:.0f}",
                f"{stopped:.2f}s",
                how,
            ]
        )
        [snapshot] = (data / "snapshots").glob("*.snapshot")
        size = snapshot.stat().st_size / 1e6
        if tail:
            asyncio.run(append(data, tail, first=10**6))
        ready, rss, ready_rss, stopped, how = serve(data)
        rows.append(
            [
                f"snapshot + {tail:,} more",
                f"{ready:.2f}s",
                f"{rss:.0f}",
                f"{ready_rss:.0f}",
                f"{stopped:.2f}s",
                how,
            ]
        )
    print(f"snapshot file: {size:.0f} MB")
    print("time from launch to the first /readyz 200; stop includes writing a snapshot")
    print(table(["start", "ready", "peak RSS MB", "RSS at ready MB", "stop", "log line"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tail", type=int, default=10_000)
    args = parser.parse_args()
    main(args.events, args.tail)
