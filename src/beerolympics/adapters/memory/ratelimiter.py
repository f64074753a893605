"""The embedded rate limiter: counts in this process's memory (``limits``' memory storage)."""

from __future__ import annotations

import asyncio
import contextlib

from limits.aio.storage import MemoryStorage

from beerolympics.adapters.limits import LimitsRateLimiter


class MemoryRateLimiter(LimitsRateLimiter):
    """Counts for one process: each instance of a scaled deployment would count on its own."""

    def __init__(self, storage: MemoryStorage | None = None) -> None:
        """``storage``: counts to share with another handle (tests of two "instances")."""
        super().__init__(storage or MemoryStorage(wrap_exceptions=True))

    async def close(self) -> None:
        # The storage expires old windows in a task of its own.
        timer = getattr(self.storage, "timer", None)
        if isinstance(timer, asyncio.Task) and not timer.done():
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
