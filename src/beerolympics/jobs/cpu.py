"""Worker processes for the CPU-heavy part of jobs (decoding, resizing, transcoding).

A pool of ``pebble`` processes, started with ``spawn`` (never a fork of a process that runs an
event loop and threads) and only when the first task comes. A task that runs out of time, or
whose attempt is cancelled, is stopped by killing its process, which pebble replaces; each
process is also replaced after ``max_tasks`` tasks, so a leak in a decoder cannot grow forever.
With ``memory_mb`` a process cannot map more than that (``RLIMIT_AS``): a file that slipped past
the pixel checks fails its own task instead of taking the machine down. The processes run at
a lower priority (``nice`` 10) than the process that serves phones.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pebble

T = TypeVar("T")


def _start(memory_mb: int | None, preload: tuple[str, ...]) -> None:
    # Below the web process in the scheduler's eyes: on a small machine, photos being
    # processed must not delay live updates.
    os.nice(10)
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for module in preload:
        importlib.import_module(module)


def _ready() -> int:
    return os.getpid()


def _call(target: str, *args: Any) -> Any:
    """Call the function named ``package.module:function`` (imported here, in the CPU
    process)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


class CpuPool:
    """``processes`` worker processes; :meth:`run` is awaited from the event loop."""

    def __init__(
        self,
        processes: int,
        *,
        memory_mb: int | None = None,
        max_tasks: int = 200,
        preload: tuple[str, ...] = (),
    ):
        if processes < 1:
            raise ValueError("a CPU pool needs at least one process")
        self.processes = processes
        self.memory_mb = memory_mb
        self.max_tasks = max_tasks
        self.preload = preload
        self._pool: pebble.ProcessPool | None = None

    def _started(self) -> pebble.ProcessPool:
        if self._pool is None:
            self._pool = pebble.ProcessPool(
                max_workers=self.processes,
                max_tasks=self.max_tasks,
                initializer=_start,
                initargs=(self.memory_mb, self.preload),
                context=multiprocessing.get_context("spawn"),
            )
        return self._pool

    async def run(self, fn: Callable[..., T] | str, *args: Any, limit: float | None = None) -> Any:
        """``fn(*args)`` in a worker process (``fn`` or its name, ``"package.module:function"``);
        ``TimeoutError`` after ``limit`` seconds (the process is killed). Cancelling the await
        kills the process too."""
        if isinstance(fn, str):
            fn, args = _call, (fn, *args)
        future = self._started().schedule(fn, args=args, timeout=limit)
        return await asyncio.wrap_future(future)

    async def warm(self) -> None:
        """Start the processes now (importing ``preload``), not with the first task."""
        await asyncio.gather(*(self.run(_ready) for _ in range(self.processes)))

    def close(self) -> None:
        """Stop every process, running tasks included."""
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                self._pool.join(timeout=10)
            self._pool = None
