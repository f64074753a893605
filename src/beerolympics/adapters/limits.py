"""The :class:`~beerolympics.ports.ratelimiter.RateLimiter` port on the ``limits`` library.

``limits`` keeps the counts (its sliding-window-counter strategy) in a storage of its own: in
process memory for the embedded shape, Redis for the scaled one (see ``memory/ratelimiter.py``
and ``redis/ratelimiter.py``). This class translates: a :class:`Rate` under a name becomes a
``limits`` item with that namespace, and the storage's errors become the port's. Leases (what is
held open, such as live connections) are nothing ``limits`` counts: each adapter keeps them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from beerolympics.ports.ratelimiter import Rate, RateLimiterUnavailable, Verdict


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except StorageError as exc:
        cause = exc.storage_error
        raise RateLimiterUnavailable(f"{type(cause).__name__}: {cause}") from exc


def check_lease(name: str, key: str, holder: str, ttl: float) -> None:
    if not (name and key and holder):
        raise ValueError("a lease needs a name, a key and a holder")
    if ttl <= 0:
        raise ValueError(f"a lease lasts more than 0 s, got {ttl}")


class LimitsRateLimiter:
    """A rate limiter over a ``limits`` async storage created with ``wrap_exceptions=True``."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._items: dict[tuple[str, Rate], RateLimitItemPerSecond] = {}

    def _item(self, name: str, rate: Rate) -> RateLimitItemPerSecond:
        item = self._items.get((name, rate))
        if item is None:
            item = RateLimitItemPerSecond(rate.amount, rate.seconds, namespace=name)
            self._items[name, rate] = item
        return item

    async def hit(self, name: str, rate: Rate, key: str, cost: int = 1) -> Verdict:
        if not name or not key:
            raise ValueError("a limit needs a name and a key")
        if cost < 1:
            raise ValueError(f"cost is at least 1, got {cost}")
        item = self._item(name, rate)
        with _translated():
            allowed = await self._strategy.hit(item, key, cost=cost)
            stats = await self._strategy.get_window_stats(item, key)
        remaining = stats.remaining if allowed else 0
        reset = 0.0 if remaining else max(0.0, stats.reset_time - time.time())
        if not allowed:
            # At least a second: a client told "retry in 0" would knock again at once.
            reset = max(1.0, math.ceil(reset))
        return Verdict(allowed, rate, remaining, reset)

    async def clear(self, name: str, rate: Rate, key: str) -> None:
        with _translated():
            await self._strategy.clear(self._item(name, rate), key)

    async def ping(self) -> None:
        with _translated():
            if not await self.storage.check():
                raise RateLimiterUnavailable("the rate-limit storage did not answer")

    async def close(self) -> None:
        """Nothing to release here; adapters with connections override this."""
