"""The resolver of :mod:`beerolympics.notify.outbound`'s sessions (imported with aiohttp, when
a delivery is made)."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from beerolympics.domain.notifications import refusal
from beerolympics.notify.outbound import Refused


class GuardedResolver(AbstractResolver):
    """Resolves names as usual and drops the addresses :func:`refusal` refuses."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [
            r
            for r in found
            if refusal(ipaddress.ip_address(r["host"]), allow_private=self.allow_private) is None
        ]
        if not allowed:
            reasons = {
                refusal(ipaddress.ip_address(r["host"]), allow_private=self.allow_private)
                for r in found
            }
            raise Refused(f"{host}: " + "; ".join(sorted(r for r in reasons if r)))
        return allowed

    async def close(self) -> None:
        await self._inner.close()
