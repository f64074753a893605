from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from limits.aio.storage import MemoryStorage

from beerolympics.adapters.memory.ratelimiter import Leases, MemoryRateLimiter
from beerolympics.adapters.redis.ratelimiter import RedisRateLimiter
from beerolympics.ports.ratelimiter import Rate, RateLimiter, RateLimiterUnavailable
from beerolympics.services.throttle import Throttle
from beerolympics.testing.ratelimiter_contract import RateLimiterContract
from tests.conftest import service_url


class TestMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture(autouse=True)
    def _storage(self) -> None:
        self.storage = MemoryStorage(wrap_exceptions=True)
        self.leases: Leases = {}

    @asynccontextmanager
    async def open_limiter(self) -> AsyncIterator[RateLimiter]:
        limiter = MemoryRateLimiter(self.storage, self.leases)
        yield limiter
        await limiter.close()


@pytest.mark.redis
class TestRedisRateLimiter(RateLimiterContract):
    @asynccontextmanager
    async def open_limiter(self) -> AsyncIterator[RateLimiter]:
        limiter = RedisRateLimiter(service_url("redis"))
        try:
            yield limiter
        finally:
            await limiter.close()


async def test_unreachable_redis_fails_fast_as_unavailable() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(RateLimiterUnavailable):
        await limiter.hit("api", Rate(1, 60), "k")
    with pytest.raises(RateLimiterUnavailable):
        await limiter.ping()
    assert time.monotonic() - started < 2
    await limiter.close()


@pytest.mark.parametrize(
    ("text", "rate", "shown"),
    [
        ("100/minute", Rate(100, 60), "100/minute"),
        ("10 per 30 seconds", Rate(10, 30), "10 per 30 seconds"),
        ("5/Second", Rate(5, 1), "5/second"),
        ("6000 per hour", Rate(6000, 3600), "6000/hour"),
        ("1/2 days", Rate(1, 172800), "1 per 2 days"),
    ],
)
def test_rates_parse_and_print(text: str, rate: Rate, shown: str) -> None:
    assert Rate.parse(text) == rate
    assert str(rate) == shown


@pytest.mark.parametrize("text", ["", "100", "0/minute", "ten/minute", "5/fortnight", "5/0 s"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        Rate.parse(text)


async def test_throttle_counts_locally_while_the_shared_limiter_is_down() -> None:
    down = RedisRateLimiter("redis://127.0.0.1:1/0", timeout=0.5)
    throttle = Throttle(down, fallback=MemoryRateLimiter())
    verdicts = [await throttle.hit("api", Rate(2, 60), "phone") for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert throttle.degraded
    assert throttle.fallback_hits == 3
    assert throttle.refused == {"api": 1}
    await throttle.close()


async def test_throttle_without_fallback_lets_the_error_through() -> None:
    throttle = Throttle(RedisRateLimiter("redis://127.0.0.1:1/0", timeout=0.5))
    with pytest.raises(RateLimiterUnavailable):
        await throttle.hit("api", Rate(2, 60), "phone")
    await throttle.close()
