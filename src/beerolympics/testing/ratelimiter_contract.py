"""The one contract every :class:`~beerolympics.ports.ratelimiter.RateLimiter` adapter passes.

Subclass :class:`RateLimiterContract` and implement :meth:`RateLimiterContract.open_limiter`,
an async context manager yielding a limiter on the backend under test. Calling it again inside
the first must give a second, independent handle on the SAME backend (as another app instance
would have): the suite checks that both count against one budget.

The backend may be shared with other tests: every test uses keys under a fresh random prefix.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest

from beerolympics.ports.ratelimiter import Rate, RateLimiter

MINUTE = Rate(3, 60)


class RateLimiterContract:
    def open_limiter(self) -> AbstractAsyncContextManager[RateLimiter]:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _key_prefix(self) -> None:
        self._prefix = f"bo-test-{uuid.uuid4().hex}:"

    def key(self, name: str) -> str:
        return self._prefix + name

    @pytest.fixture
    async def limiter(self) -> AsyncIterator[RateLimiter]:
        async with self.open_limiter() as limiter:
            yield limiter

    async def test_allows_the_rate_then_refuses(self, limiter: RateLimiter) -> None:
        key = self.key("phone")
        verdicts = [await limiter.hit("api", MINUTE, key) for _ in range(5)]
        assert [v.allowed for v in verdicts] == [True, True, True, False, False]
        assert [v.remaining for v in verdicts] == [2, 1, 0, 0, 0]
        assert all(v.rate == MINUTE for v in verdicts)
        assert verdicts[0].reset == 0
        # Refused: the client is told to wait, at least a second and at most the window.
        assert all(1 <= v.reset <= 60 for v in verdicts[3:])

    async def test_a_refused_hit_counts_nothing(self, limiter: RateLimiter) -> None:
        key = self.key("phone")
        assert (await limiter.hit("api", MINUTE, key, cost=2)).remaining == 1
        assert not (await limiter.hit("api", MINUTE, key, cost=2)).allowed
        assert (await limiter.hit("api", MINUTE, key)).allowed
        assert not (await limiter.hit("api", MINUTE, key)).allowed

    async def test_names_and_keys_have_budgets_of_their_own(self, limiter: RateLimiter) -> None:
        a, b = self.key("a"), self.key("b")
        for _ in range(3):
            assert (await limiter.hit("api", MINUTE, a)).allowed
        assert not (await limiter.hit("api", MINUTE, a)).allowed
        assert (await limiter.hit("api", MINUTE, b)).allowed
        assert (await limiter.hit("media", MINUTE, a)).allowed

    async def test_clear_gives_the_budget_back(self, limiter: RateLimiter) -> None:
        key = self.key("phone")
        await limiter.hit("api", MINUTE, key, cost=3)
        assert not (await limiter.hit("api", MINUTE, key)).allowed
        await limiter.clear("api", MINUTE, key)
        assert (await limiter.hit("api", MINUTE, key)).remaining == 2

    async def test_the_window_slides(self, limiter: RateLimiter) -> None:
        rate, key = Rate(2, 1), self.key("fast")
        assert (await limiter.hit("api", rate, key, cost=2)).allowed
        refused = await limiter.hit("api", rate, key)
        assert not refused.allowed
        assert refused.reset == 1
        # Within two windows the budget is back (the previous window's weight has decayed).
        async with asyncio.timeout(3):
            while not (await limiter.hit("api", rate, key)).allowed:  # noqa: ASYNC110
                await asyncio.sleep(0.05)

    async def test_instances_on_one_backend_share_the_budget(self, limiter: RateLimiter) -> None:
        key, rate = self.key("shared"), Rate(20, 60)
        async with self.open_limiter() as other:
            verdicts = await asyncio.gather(
                *(handle.hit("api", rate, key) for handle in [limiter, other] * 25)
            )
            assert sum(v.allowed for v in verdicts) == 20
            assert not (await other.hit("api", rate, key)).allowed
            assert not (await limiter.hit("api", rate, key)).allowed

    async def test_bad_arguments_are_value_errors(self, limiter: RateLimiter) -> None:
        with pytest.raises(ValueError, match="name and a key"):
            await limiter.hit("", MINUTE, self.key("x"))
        with pytest.raises(ValueError, match="name and a key"):
            await limiter.hit("api", MINUTE, "")
        with pytest.raises(ValueError, match="cost"):
            await limiter.hit("api", MINUTE, self.key("x"), cost=0)

    async def test_ping_and_close(self) -> None:
        async with self.open_limiter() as limiter:
            await limiter.ping()
        await limiter.close()  # idempotent

    # -- leases ------------------------------------------------------------------------------

    async def test_leases_up_to_the_limit(self, limiter: RateLimiter) -> None:
        key = self.key("address")
        taken = [await limiter.acquire("live", key, f"c{i}", 2, 60) for i in range(3)]
        assert taken == [True, True, False]
        assert await limiter.acquire("live", key, "c0", 2, 60)  # a holder keeps its lease
        assert await limiter.acquire("live", self.key("other"), "c2", 2, 60)
        await limiter.release("live", key, "c1")
        await limiter.release("live", key, "never-held")
        assert await limiter.acquire("live", key, "c2", 2, 60)
        assert not await limiter.acquire("live", key, "c3", 2, 60)

    async def test_leases_lapse_unless_renewed(self, limiter: RateLimiter) -> None:
        key = self.key("address")
        assert await limiter.acquire("live", key, "kept", 2, 0.3)
        assert await limiter.acquire("live", key, "lapsing", 2, 0.3)
        async with asyncio.timeout(5):
            # An instance that died renews nothing: its lease frees itself.
            while not await limiter.acquire("live", key, "newcomer", 2, 60):
                await limiter.renew("live", [(key, "kept")], 0.3)
                await asyncio.sleep(0.05)
        await limiter.renew("live", [(key, "kept")], 60)
        assert not await limiter.acquire("live", key, "one-too-many", 2, 60)

    async def test_instances_on_one_backend_share_leases(self, limiter: RateLimiter) -> None:
        key = self.key("address")
        async with self.open_limiter() as other:
            taken = await asyncio.gather(
                *(
                    h.acquire("live", key, f"c{i}", 5, 60)
                    for i, h in enumerate([limiter, other] * 6)
                )
            )
            assert sum(taken) == 5
            await other.renew("live", [], 60)

    async def test_bad_lease_arguments_are_value_errors(self, limiter: RateLimiter) -> None:
        with pytest.raises(ValueError, match="holder"):
            await limiter.acquire("live", self.key("x"), "", 1, 60)
        with pytest.raises(ValueError, match="0 s"):
            await limiter.acquire("live", self.key("x"), "c", 1, 0)
