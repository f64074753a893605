"""How many live connections one client may hold open: the live policy, in one place.

A connection with a credential counts against that credential (``live_max_connections``): one
person's phones and tabs. Without one it counts against the address it comes from
(``live_max_anonymous``). When the server is hosted, every phone at the venue reaches it from
the venue's one public address, so that budget is sized for a party — a few hundred guests and
the TV — not for one person; what it still stops is a single machine opening thousands.

Counts are kept per instance (a connection lives on one instance); behind several instances a
party's budget is per instance. A client refused here is closed with 4009 and falls back to
polling the page (see ``web/static/js/follow.js``).
"""

from __future__ import annotations

from beerolympics.domain.errors import RateLimited
from beerolympics.domain.identity import Actor
from beerolympics.settings import Settings

#: Seconds a refused client is told to wait before it tries again.
RETRY_AFTER = 60


class TooManyConnections(RateLimited):
    default_code = "too_many_connections"


class Admission:
    """Open live connections per credential, and per address for those without one."""

    def __init__(self, settings: Settings) -> None:
        self.per_credential = settings.live_max_connections
        self.per_address = settings.live_max_anonymous
        self._open: dict[str, int] = {}

    def key(self, actor: Actor, address: str) -> str:
        """What a connection counts against: its credential, else its address."""
        return actor.credential_id or f"ip:{address}"

    def admit(self, actor: Actor, address: str) -> None:
        """Count one more connection (``TooManyConnections`` when its budget is spent)."""
        key = self.key(actor, address)
        anonymous = actor.credential_id is None
        limit = self.per_address if anonymous else self.per_credential
        if self._open.get(key, 0) >= limit:
            raise TooManyConnections(
                f"too many live connections from this address ({limit} without signing in)"
                if anonymous
                else f"too many live connections for this sign-in ({limit})",
                details={"retry_after": RETRY_AFTER},
            )
        self._open[key] = self._open.get(key, 0) + 1

    def release(self, actor: Actor, address: str) -> None:
        """A connection admitted as ``actor`` from ``address`` closed."""
        key = self.key(actor, address)
        left = self._open.get(key, 0) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)

    def move(self, before: Actor, after: Actor, address: str) -> None:
        """A connection signed in on the way: it counts against ``after`` from now on (or
        ``TooManyConnections``, and it still counts as ``before``)."""
        if self.key(before, address) == self.key(after, address):
            return
        self.admit(after, address)
        self.release(before, address)
