"""A job worker process killed with SIGKILL in the middle of a job, for real.

Two real worker processes on the embedded shape's SQLite files: the first takes the job and is
killed (with the CPU process it was waiting on) while the job runs; the supervisor sees its
heartbeat stop, fails the attempt and sends the job again; the second worker runs it. The
job's effect is in the log exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from beerolympics.adapters.huey.jobqueue import sqlite_job_queue
from beerolympics.adapters.sqlite.eventstore import SQLiteEventStore
from beerolympics.domain import events as ev
from beerolympics.testing.jobqueue_contract import SCOPE, System, WorkDone, until
from tests.integration.sleepy_worker import KINDS

ROOT = Path(__file__).parents[2]


@contextmanager
def worker_process(tmp: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "BEEROLYMPICS_DATABASE_URL": f"sqlite:///{tmp / 'events.db'}",
        "BEEROLYMPICS_JOBS_URL": f"sqlite:///{tmp / 'jobs.db'}",
        "BEEROLYMPICS_PUBSUB_URL": "memory://",
        "BEEROLYMPICS_JOB_LOST_AFTER": "2",
    }
    with (tmp / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.sleepy_worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_worker_killed_mid_job_is_replaced_and_the_job_done_once(tmp_path: Path) -> None:
    store = SQLiteEventStore(tmp_path / "events.db")
    queue = sqlite_job_queue(tmp_path / "jobs.db")
    system = System(store, queue, KINDS)
    system.supervisor.lost_after = 2
    try:
        with worker_process(tmp_path, "first") as first:
            job_id = await system.jobs.enqueue("contract.sleepy", {}, scope=SCOPE)

            async def started() -> bool:
                await system.projector.catch_up()
                return system.state(job_id).status == "running"

            await until(started, within=30)
            # The worker and the CPU process it started for the job's sleep.
            await until(lambda: len(group(first.pid)) >= 2, within=30)
            members = group(first.pid)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            await until(lambda: not any(alive(p) for p in members))
        with worker_process(tmp_path, "second"):
            state = await system.settled(job_id)
        assert state.attempt == 2
        assert state.history == [(1, state.history[0][1])]
        assert state.history[0][1].startswith("worker lost")
        events = await system.events(state.stream)
        workers = [e.worker for e in events if isinstance(e, ev.JobStarted)]
        assert len(workers) == 2
        assert workers[0] != workers[1]
        assert await system.events(f"effect:{job_id}") == [WorkDone(job_id=job_id, attempt=2)]
    finally:
        await queue.close()
        await store.close()


def group(pgid: int) -> list[int]:
    """The processes of a process group."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    found.append(int(entry))
            except ProcessLookupError:
                continue
    return found
