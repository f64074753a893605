"""The scaled rate limiter: counts in Redis (``limits``' Redis storage on ``redis.asyncio``),
shared by every instance, so a client has one budget whichever instance it reaches.

Each hit is one Lua script (count the hit if the sliding window allows it) and one read of the
window for the headers. The client never retries: a limit check that waits on a dead Redis
would hold up the request it guards, so an unreachable Redis fails fast, within
``timeout`` seconds, as :class:`~beerolympics.ports.ratelimiter.RateLimiterUnavailable`.
"""

from __future__ import annotations

from typing import Any, cast

from limits.aio.storage import RedisStorage
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from beerolympics.adapters.limits import LimitsRateLimiter

#: Keys are ``<prefix>/<name>/<key>/…``: one Redis may serve several deployments.
DEFAULT_PREFIX = "beerolympics:limits"


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

    async def close(self) -> None:
        await self._redis.aclose()
