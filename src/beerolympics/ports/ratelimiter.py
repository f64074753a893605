"""The rate-limiter port: how often one key (a credential, an address) may do one thing.

A limit is a :class:`Rate` ("100/minute") under a name ("api", "media"); the same key has a
separate budget under each name. Every adapter counts with a *sliding window*: a hit is allowed
while the hits of the last window (the current window plus the share of the previous one that
still overlaps it) stay within the rate, so a client cannot double its budget at a window's
edge. A refused hit is not counted: a client that waits gets its budget back, however hard it
knocked meanwhile.

Adapters that share a backend share the counts: two app instances on one Redis hold a client
to ONE budget, whichever instance it reaches. The in-memory adapter counts for one process.

Besides rates, the port counts what is held open — live connections — as *leases*: a holder
(a connection) takes one of at most ``limit`` leases of a key under a name, and gives it back
when it closes. A lease not renewed within ``ttl`` seconds lapses, so the leases of an instance
that died free themselves. Adapters on one backend share leases as they share counts.

Errors: a backend that cannot be reached raises :class:`RateLimiterUnavailable` (translated
from the driver's errors); the caller decides whether to let the request through (the app
falls back to counting in its own memory, see ``services/limits.py``).

Every adapter implements :class:`RateLimiter` with exactly these semantics and passes the one
contract suite in ``beerolympics.testing``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

_UNITS: Final = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE: Final = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$")


class RateLimiterError(Exception):
    """Base of every error a rate limiter raises."""


class RateLimiterUnavailable(RateLimiterError):
    """The backend could not be reached, or did not answer in time."""


@dataclass(frozen=True, slots=True)
class Rate:
    """``amount`` hits per ``seconds``."""

    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"100/minute"``, ``"10 per 30 seconds"``, ``"5/second"``…; ``ValueError`` else."""
        found = _RATE.match(text.lower())
        if found is None:
            raise ValueError(f"expected a rate such as '100/minute', got {text!r}")
        amount, multiple, unit = found.groups()
        rate = cls(int(amount), int(multiple or 1) * _UNITS[unit])
        if rate.amount < 1 or rate.seconds < 1:
            raise ValueError(f"a rate allows at least one hit in at least a second: {text!r}")
        return rate

    def __str__(self) -> str:
        for unit, seconds in reversed(_UNITS.items()):
            if self.seconds % seconds == 0:
                multiple = self.seconds // seconds
                if multiple == 1:
                    return f"{self.amount}/{unit}"
                return f"{self.amount} per {multiple} {unit}s"
        raise AssertionError("every rate is a whole number of seconds")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to a hit.

    ``remaining`` is how many more hits the window allows now (0 when refused); ``reset`` the
    seconds until at least one more is allowed (0 when some are left) — what ``Retry-After``
    says to a refused client.
    """

    allowed: bool
    rate: Rate
    remaining: int
    reset: float


class RateLimiter(Protocol):
    """Counts hits per ``(name, key)`` against a rate; see the module docstring."""

    async def hit(self, name: str, rate: Rate, key: str, cost: int = 1) -> Verdict:
        """Count ``cost`` hits for ``key`` under ``name`` if the rate allows them all, and say
        so; a refused hit counts nothing. ``name`` and ``key`` are any non-empty strings."""
        ...

    async def acquire(self, name: str, key: str, holder: str, limit: int, ttl: float) -> bool:
        """Take a lease of ``key`` under ``name`` for ``holder`` if fewer than ``limit``
        unexpired leases are held (a holder that has one already keeps it: True); the lease
        lapses after ``ttl`` seconds unless renewed."""
        ...

    async def release(self, name: str, key: str, holder: str) -> None:
        """Give a lease back (nothing happens when ``holder`` has none)."""
        ...

    async def renew(self, name: str, leases: Sequence[tuple[str, str]], ttl: float) -> None:
        """Extend the given ``(key, holder)`` leases by ``ttl`` seconds from now (one round
        trip for all of them); lapsed ones are taken again, even past the limit: the holders
        are still open."""
        ...

    async def clear(self, name: str, rate: Rate, key: str) -> None:
        """Forget every hit of ``key`` under ``name`` (an organizer lifting a block)."""
        ...

    async def ping(self) -> None:
        """Return when the backend answers; :class:`RateLimiterUnavailable` otherwise."""
        ...

    async def close(self) -> None:
        """Release connections. Idempotent."""
        ...
