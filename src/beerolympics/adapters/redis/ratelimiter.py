"""The scaled rate limiter: counts in Redis (``limits``' Redis storage on ``redis.asyncio``),
shared by every instance, so a client has one budget whichever instance it reaches.

Each hit is one Lua script (count the hit if the sliding window allows it) and one read of the
window for the headers. The client never retries: a limit check that waits on a dead Redis
would hold up the request it guards, so an unreachable Redis fails fast, within
``timeout`` seconds, as :class:`~beerolympics.ports.ratelimiter.RateLimiterUnavailable`.

Leases live in one sorted set per key (member: the holder, score: when its lease lapses, in
Redis' own clock), changed by small Lua scripts so that "drop the lapsed, count, add" is one
atomic step whichever instance runs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, cast

import redis.exceptions
from limits.aio.storage import RedisStorage
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from beerolympics.adapters.limits import LimitsRateLimiter, check_lease
from beerolympics.ports.ratelimiter import RateLimiterUnavailable

#: Keys are ``<prefix>/<name>/<key>/…``: one Redis may serve several deployments.
DEFAULT_PREFIX = "beerolympics:limits"


_NOW: Final = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "
_ACQUIRE: Final = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return 1
end
return 0
"""
)
_RENEW: Final = (
    _NOW
    + """
for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now + tonumber(ARGV[1]), ARGV[i + 1])
    redis.call('PEXPIRE', key, ARGV[1])
end
return #KEYS
"""
)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
        raise RateLimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc


class RedisRateLimiter(LimitsRateLimiter):
    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = 0.5) -> None:
        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
        }
        storage = RedisStorage(
            f"async+{url}",
            wrap_exceptions=True,
            implementation="redispy",
            key_prefix=prefix,
            **options,
        )
        super().__init__(storage)
        # The redis.asyncio client limits made: closed with this adapter.
        self._redis = cast(Any, storage.bridge).storage
        self._prefix = prefix
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._renew = self._redis.register_script(_RENEW)

    def _lease_key(self, name: str, key: str) -> str:
        return f"{self._prefix}:leases:{name}:{key}"

    async def acquire(self, name: str, key: str, holder: str, limit: int, ttl: float) -> bool:
        check_lease(name, key, holder, ttl)
        with _translated():
            taken = await self._acquire([self._lease_key(name, key)], [holder, limit, _ms(ttl)])
        return bool(taken)

    async def release(self, name: str, key: str, holder: str) -> None:
        with _translated():
            await self._redis.zrem(self._lease_key(name, key), holder)

    async def renew(self, name: str, leases: Sequence[tuple[str, str]], ttl: float) -> None:
        if not leases:
            return
        keys = [self._lease_key(name, key) for key, _ in leases]
        with _translated():
            await self._renew(keys, [_ms(ttl), *(holder for _, holder in leases)])

    async def close(self) -> None:
        await self._redis.aclose()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
