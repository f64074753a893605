"""Rate limits as the app applies them: the configured limiter, and a local one while it is down.

In the scaled shape the limiter is Redis, shared by every instance. When Redis cannot be
reached, requests are neither refused nor let through uncounted: each instance counts in its
own memory until Redis answers again (tried again every :data:`RETRY_SECONDS`), so a limit
still holds per instance and nobody sees an error because of a limiter.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
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

    async def close(self) -> None:
        await self.limiter.close()
        if self.fallback is not None:
            await self.fallback.close()
