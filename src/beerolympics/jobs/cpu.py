"""Worker processes for the CPU-heavy part of jobs (decoding, resizing, transcoding).

A pool of ``pebble`` processes, started with ``spawn`` (never a fork of a process that runs an
event loop and threads) and only when the first task comes. A task that runs out of time, or
whose attempt is cancelled, is stopped by killing its process, which pebble replaces; each
process is also replaced after ``max_tasks`` tasks, so a leak in a decoder cannot grow forever.
With ``memory_mb`` a process cannot map more than that (``RLIMIT_AS``): a file that slipped past
the pixel checks fails its own task instead of taking the machine down.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import Callable
from typing import Any, TypeVar

import pebble

T = TypeVar("T")


def _limit_memory(memory_mb: int | None) -> None:
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class CpuPool:
    """``processes`` worker processes; :meth:`run` is awaited from the event loop."""

    def __init__(self, processes: int, *, memory_mb: int | None = None, max_tasks: int = 200):
        if processes < 1:
            raise ValueError("a CPU pool needs at least one process")
        self.processes = processes
        self.memory_mb = memory_mb
        self.max_tasks = max_tasks
        self._pool: pebble.ProcessPool | None = None

    def _started(self) -> pebble.ProcessPool:
        if self._pool is None:
            self._pool = pebble.ProcessPool(
                max_workers=self.processes,
                max_tasks=self.max_tasks,
                initializer=_limit_memory,
                initargs=(self.memory_mb,),
                context=multiprocessing.get_context("spawn"),
            )
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any, limit: float | None = None) -> T:
        """``fn(*args)`` in a worker process; ``TimeoutError`` after ``limit`` seconds (the
        process is killed). Cancelling the await kills the process too."""
        future = self._started().schedule(fn, args=args, timeout=limit)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop every process, running tasks included."""
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                self._pool.join(timeout=10)
            self._pool = None
