"""Requests this server sends on its own (webhooks, pushes), and where they may go.

A URL an organizer or a phone gave us is a way to make the server send requests into its own
network (SSRF). So every delivery goes through :func:`post`, which:

- refuses link-local addresses (169.254.0.0/16 holds cloud metadata services, fe80::/10),
  multicast, unspecified and reserved ones, always;
- refuses private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback and shared (100.64/10)
  addresses unless ``notify_allow_private`` is set — a receiver on the party LAN needs it;
- checks the addresses a name resolves to when it connects (a resolver of our own, so a name
  that points somewhere else by the time we connect is checked where it points then), and
  the address a URL names literally before anything is sent;
- never follows redirects (a redirect is an answer like any other non-2xx), never reads proxy
  settings from the environment, and gives up after ``notify_timeout`` seconds.

aiohttp is imported when a delivery is made, not with this module: a serving instance that
never sends one starts without it (about 0.2 s of CPU at every start).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from beerolympics.domain.notifications import literal_address, refusal

if TYPE_CHECKING:
    import aiohttp


class Refused(Exception):
    """The URL leads to an address this server does not send to."""


class DeliveryFailed(Exception):
    """The receiver could not be reached or did not take the delivery; it is retried."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    #: The start of the answer's body, for the delivery log.
    excerpt: str


@dataclass(frozen=True, slots=True)
class Outbound:
    """How this process sends deliveries (from the settings)."""

    allow_private: bool
    timeout: float

    def check(self, url: str) -> None:
        """Refuse a URL whose literal address is refused (names are checked on connecting)."""
        address = literal_address(url)
        if address is not None and (reason := refusal(address, allow_private=self.allow_private)):
            raise Refused(reason)

    def session(self) -> aiohttp.ClientSession:
        import aiohttp

        from beerolympics.notify.resolver import GuardedResolver

        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(allow_private=self.allow_private), limit=64
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            trust_env=False,
            auto_decompress=False,
        )

    async def post(
        self,
        session: aiohttp.ClientSession,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> Answer:
        """POST ``body``; the answer's status, or :class:`DeliveryFailed` when there was none
        (refused address, no connection, timeout)."""
        import aiohttp

        try:
            self.check(url)
            async with session.post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                excerpt = (await response.content.read(200)).decode("utf-8", "replace")
                return Answer(response.status, excerpt)
        except Refused as exc:
            raise DeliveryFailed(f"refused: {exc}") from None
        except aiohttp.ClientConnectorError as exc:
            cause = exc.os_error
            if isinstance(cause, Refused):
                raise DeliveryFailed(f"refused: {cause}") from None
            raise DeliveryFailed(f"no connection: {cause.strerror or cause}") from None
        except TimeoutError:
            raise DeliveryFailed(f"no answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
