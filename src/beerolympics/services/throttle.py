"""Rate limits as the app applies them: the configured limiter, and a local one while it is down.

In the scaled shape the limiter is Redis, shared by every instance. When Redis cannot be
reached, requests are neither refused nor let through uncounted: each instance counts in its
own memory until Redis answers again (tried again every :data:`RETRY_SECONDS`), so a limit
still holds per instance and nobody sees an error because of a limiter.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Final

from beerolympics.ports.ratelimiter import Rate, RateLimiter, RateLimiterUnavailable, Verdict

log = logging.getLogger("beerolympics.limits")

#: How long the local limiter stands in after the shared one failed.
RETRY_SECONDS: Final = 2.0


class Throttle:
    """Counts hits against the shared limiter, or ``fallback`` while it is unavailable."""

    def __init__(self, limiter: RateLimiter, fallback: RateLimiter | None = None) -> None:
        self.limiter = limiter
        self.fallback = fallback
        self._down_until = 0.0
        #: Hits refused, per limit name (for /metrics).
        self.refused: Counter[str] = Counter()
        #: Hits counted by the fallback because the shared limiter was unavailable.
        self.fallback_hits = 0
        #: Leases the fallback granted: (name, key, holder).
        self._local: set[tuple[str, str, str]] = set()

    @property
    def degraded(self) -> bool:
        """Whether the shared limiter failed lately and the local one stands in."""
        return time.monotonic() < self._down_until

    async def hit(self, name: str, rate: Rate, key: str, cost: int = 1) -> Verdict:
        verdict: Verdict | None = None
        if self.fallback is None or not self.degraded:
            try:
                verdict = await self.limiter.hit(name, rate, key, cost)
            except RateLimiterUnavailable as exc:
                if self.fallback is None:
                    raise
                if not self.degraded:
                    log.warning("rate limiter unavailable (%s): counting locally meanwhile", exc)
                self._down_until = time.monotonic() + RETRY_SECONDS
        if verdict is None:
            assert self.fallback is not None
            self.fallback_hits += 1
            verdict = await self.fallback.hit(name, rate, key, cost)
        if not verdict.allowed:
            self.refused[name] += 1
        return verdict

    # -- leases (live connections) ----------------------------------------------------------

    def _shared_usable(self) -> bool:
        return self.fallback is None or not self.degraded

    def _down(self, exc: Exception) -> None:
        if self.fallback is None:
            raise exc
        if not self.degraded:
            log.warning("rate limiter unavailable (%s): counting locally meanwhile", exc)
        self._down_until = time.monotonic() + RETRY_SECONDS

    async def acquire(self, name: str, key: str, holder: str, limit: int, ttl: float) -> bool:
        """A lease from the shared limiter, or from the local one while it is unavailable
        (the lease stays with whichever granted it)."""
        if self._shared_usable():
            try:
                taken = await self.limiter.acquire(name, key, holder, limit, ttl)
            except RateLimiterUnavailable as exc:
                self._down(exc)
            else:
                self._local.discard((name, key, holder))
                return taken
        assert self.fallback is not None
        taken = await self.fallback.acquire(name, key, holder, limit, ttl)
        if taken:
            self._local.add((name, key, holder))
        return taken

    async def release(self, name: str, key: str, holder: str) -> None:
        if (name, key, holder) in self._local:
            self._local.discard((name, key, holder))
            assert self.fallback is not None
            await self.fallback.release(name, key, holder)
            return
        with contextlib.suppress(RateLimiterUnavailable):  # unrenewed, it lapses by itself
            await self.limiter.release(name, key, holder)

    async def renew(self, name: str, leases: Sequence[tuple[str, str]], ttl: float) -> None:
        local = [(k, h) for k, h in leases if (name, k, h) in self._local]
        shared = [(k, h) for k, h in leases if (name, k, h) not in self._local]
        if local and self.fallback is not None:
            await self.fallback.renew(name, local, ttl)
        if shared:
            try:
                await self.limiter.renew(name, shared, ttl)
            except RateLimiterUnavailable as exc:
                self._down(exc)

    async def close(self) -> None:
        await self.limiter.close()
        if self.fallback is not None:
            await self.fallback.close()
