"""How many live connections one client may hold open: the live policy, in one place.

A connection with a credential counts against that credential (``live_max_connections``): one
person's phones and tabs. Without one it counts against the address it comes from
(``live_max_anonymous``). When the server is hosted, every phone at the venue reaches it from
the venue's one public address, so that budget is sized for a party — a few hundred guests and
the TV — not for one person; what it still stops is a single machine opening thousands.

Each open connection holds a *lease* of the rate limiter (see ``ports/ratelimiter.py``): with
``rate_limit_url`` on Redis the budgets hold across every instance, wherever a phone's sockets
land. An instance renews its leases every :data:`RENEW_EVERY` seconds; the leases of one that
died lapse after :data:`LEASE_TTL`. A client refused here is closed with 4009 and falls back
to polling the page (see ``web/static/js/follow.js``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Final

from beerolympics.domain.errors import RateLimited
from beerolympics.domain.identity import Actor
from beerolympics.ports.ratelimiter import RateLimiterUnavailable
from beerolympics.services.throttle import Throttle
from beerolympics.settings import Settings

log = logging.getLogger("beerolympics.live")

#: Seconds a refused client is told to wait before it tries again.
RETRY_AFTER = 60
#: The name leases of live connections are held under.
LIVE: Final = "live"
LEASE_TTL: Final = 60.0
RENEW_EVERY: Final = 20.0


class TooManyConnections(RateLimited):
    default_code = "too_many_connections"


class Admission:
    """Open live connections per credential, and per address for those without one."""

    def __init__(self, settings: Settings, throttle: Throttle) -> None:
        self.per_credential = settings.live_max_connections
        self.per_address = settings.live_max_anonymous
        self.throttle = throttle
        # Holders are connection ids, unique across instances with this prefix.
        self._instance = secrets.token_hex(4)
        #: holder → the key its lease is of.
        self._held: dict[str, str] = {}
        self._renewer: asyncio.Task[None] | None = None
        self._releasing: set[asyncio.Task[None]] = set()

    def key(self, actor: Actor, address: str) -> str:
        """What a connection counts against: its credential, else its address."""
        return actor.credential_id or f"ip:{address}"

    def holder(self, connection_id: str) -> str:
        return f"{self._instance}:{connection_id}"

    async def admit(self, actor: Actor, address: str, connection_id: str) -> None:
        """Count one more connection (``TooManyConnections`` when its budget is spent)."""
        key, holder = self.key(actor, address), self.holder(connection_id)
        anonymous = actor.credential_id is None
        limit = self.per_address if anonymous else self.per_credential
        if not await self.throttle.acquire(LIVE, key, holder, limit, LEASE_TTL):
            raise TooManyConnections(
                f"too many live connections from this address ({limit} without signing in)"
                if anonymous
                else f"too many live connections for this sign-in ({limit})",
                details={"retry_after": RETRY_AFTER},
            )
        self._held[holder] = key

    def release(self, connection_id: str) -> None:
        """A connection closed: its lease is given back (in the background)."""
        holder = self.holder(connection_id)
        key = self._held.pop(holder, None)
        if key is not None:
            task = asyncio.get_running_loop().create_task(self.throttle.release(LIVE, key, holder))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)

    async def move(self, before: Actor, after: Actor, address: str, connection_id: str) -> None:
        """A connection signed in on the way: it counts against ``after`` from now on (or
        ``TooManyConnections``, and it still counts as ``before``)."""
        if self.key(before, address) == self.key(after, address):
            return
        holder = self.holder(connection_id)
        old = self._held.get(holder)
        await self.admit(after, address, connection_id)
        if old is not None:
            await self.throttle.release(LIVE, old, holder)

    def start(self) -> None:
        self._renewer = asyncio.create_task(self._renew(), name="live-leases")

    async def flush(self, within: float = 2.0) -> None:
        """Wait (at most ``within`` seconds) until the leases of closed connections are back."""
        if self._releasing:
            await asyncio.wait(list(self._releasing), timeout=within)

    async def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self.flush()

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            leases = [(key, holder) for holder, key in self._held.items()]
            try:
                await self.throttle.renew(LIVE, leases, LEASE_TTL)
            except RateLimiterUnavailable as exc:
                log.warning("renewing live connection leases failed: %s", exc)
