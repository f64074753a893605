"""The embedded rate limiter: counts in this process's memory (``limits``' memory storage), and
leases in a dict of its own."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from limits.aio.storage import MemoryStorage

from beerolympics.adapters.limits import LimitsRateLimiter, check_lease

#: (name, key) → holder → when its lease lapses (monotonic seconds).
Leases = dict[tuple[str, str], dict[str, float]]


class MemoryRateLimiter(LimitsRateLimiter):
    """Counts for one process: each instance of a scaled deployment would count on its own."""

    def __init__(self, storage: MemoryStorage | None = None, leases: Leases | None = None) -> None:
        """``storage`` and ``leases``: what to share with another handle (tests of two
        "instances")."""
        super().__init__(storage or MemoryStorage(wrap_exceptions=True))
        self.leases: Leases = {} if leases is None else leases

    def _held(self, name: str, key: str) -> dict[str, float]:
        held = self.leases.setdefault((name, key), {})
        now = time.monotonic()
        for holder in [h for h, until in held.items() if until <= now]:
            del held[holder]
        return held

    async def acquire(self, name: str, key: str, holder: str, limit: int, ttl: float) -> bool:
        check_lease(name, key, holder, ttl)
        held = self._held(name, key)
        if holder not in held and len(held) >= limit:
            return False
        held[holder] = time.monotonic() + ttl
        return True

    async def release(self, name: str, key: str, holder: str) -> None:
        held = self._held(name, key)
        held.pop(holder, None)
        if not held:
            del self.leases[name, key]

    async def renew(self, name: str, leases: Sequence[tuple[str, str]], ttl: float) -> None:
        until = time.monotonic() + ttl
        for key, holder in leases:
            self.leases.setdefault((name, key), {})[holder] = until

    async def close(self) -> None:
        # The storage expires old windows in a task of its own.
        timer = getattr(self.storage, "timer", None)
        if isinstance(timer, asyncio.Task) and not timer.done():
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
