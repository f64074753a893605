"""Push subscriptions and webhooks: what may be stored, by whom, and the streams they live on.

A team member's phone subscribes to Web Push for its team; organizers register webhooks for
kinds of tournament events. Both are checked here before anything is stored: a subscription
must look like what a browser's ``PushSubscription.toJSON()`` gives (an http(s) endpoint, a P-256
public key and a 16-byte auth secret), a webhook URL must be http(s) without credentials in
it. Where the URL's host resolves is checked again at every delivery
(:mod:`beerolympics.notify.outbound`), since a name can change what it points at.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import secrets
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec
from msgspec import Meta

from beerolympics.domain.commands import Command
from beerolympics.domain.errors import Conflict, Invalid

#: What a webhook can be told about. ``highlight.created`` arrives once highlights are
#: detected (an event the highlights feature appends).
TOPICS: Final = ("match.confirmed", "game.finished", "tournament.finished", "highlight.created")
Topic = Literal["match.confirmed", "game.finished", "tournament.finished", "highlight.created"]

MAX_WEBHOOKS: Final = 10
MAX_SUBSCRIPTIONS_PER_TEAM: Final = 40
MAX_URL: Final = 2048

_B64URL = r"^[A-Za-z0-9_-]+={0,2}$"
_ID_ALPHABET: Final = "abcdefghijkmnpqrstuvwxyz23456789"


class SubscriptionKeys(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    p256dh: Annotated[
        str,
        Meta(
            min_length=86,
            max_length=90,
            pattern=_B64URL,
            description="The phone's P-256 public key, base64url (65 bytes, uncompressed).",
        ),
    ]
    auth: Annotated[
        str,
        Meta(
            min_length=22,
            max_length=24,
            pattern=_B64URL,
            description="The 16-byte auth secret, base64url.",
        ),
    ]


class Subscribe(Command, frozen=True):
    """A browser's ``PushSubscription.toJSON()``, as it is."""

    endpoint: Annotated[
        str,
        Meta(min_length=12, max_length=MAX_URL, description="The push service's URL."),
    ]
    keys: SubscriptionKeys
    expirationTime: float | None = None  # noqa: N815 (the browser's name)


class RegisterWebhook(Command, frozen=True):
    url: Annotated[
        str,
        Meta(min_length=10, max_length=MAX_URL, description="Where deliveries are POSTed."),
    ]
    events: Annotated[
        list[Topic],
        Meta(
            min_length=1,
            max_length=len(TOPICS),
            description="The kinds of events to deliver (default: all of them).",
        ),
    ] = msgspec.field(default_factory=lambda: list(TOPICS))


def push_stream(tournament_id: str, subscription_id: str) -> str:
    return f"push:{tournament_id}:{subscription_id}"


def webhook_stream(tournament_id: str, webhook_id: str) -> str:
    return f"webhook:{tournament_id}:{webhook_id}"


def digest_id(prefix: str, *parts: str, length: int = 12) -> str:
    """An id made from ``parts``: the same parts always give the same id (so a second try,
    or a second instance, names the same thing)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[index])
    return prefix + "_" + "".join(chars)


def subscription_id(tournament_id: str, endpoint: str) -> str:
    """One id per endpoint and tournament: subscribing again updates, never duplicates."""
    return digest_id("ps", tournament_id, endpoint, length=14)


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise Invalid("not base64url", code="invalid_subscription") from None


def check_subscription(cmd: Subscribe, *, allow_plain_http: bool) -> None:
    """Refuse a subscription no browser would give: the endpoint must be an https URL (plain
    http only where private receivers are allowed, for a push service on the LAN) and the keys
    a P-256 point and a 16-byte secret."""
    check_url(cmd.endpoint, what="endpoint", https_only=not allow_plain_http)
    point = _b64url(cmd.keys.p256dh)
    if len(point) != 65 or point[0] != 4:
        raise Invalid(
            "keys.p256dh must be an uncompressed P-256 public key (65 bytes)",
            code="invalid_subscription",
        )
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise Invalid("keys.p256dh is not a point on P-256", code="invalid_subscription") from None
    if len(_b64url(cmd.keys.auth)) != 16:
        raise Invalid("keys.auth must be 16 bytes", code="invalid_subscription")


def check_url(url: str, *, what: str = "url", https_only: bool = False) -> None:
    """An absolute http(s) URL with a host, no credentials and no fragment."""
    code = "invalid_subscription" if what == "endpoint" else "invalid_webhook_url"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid(f"{what} is not a URL", code=code) from None
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes:
        raise Invalid(f"{what} must be an {' or '.join(schemes)} URL", code=code)
    if not parts.hostname:
        raise Invalid(f"{what} has no host", code=code)
    if parts.username is not None or parts.password is not None:
        raise Invalid(f"{what} must not carry a user name or password", code=code)
    if parts.fragment or any(c.isspace() or ord(c) < 32 for c in url):
        raise Invalid(f"{what} must not have a fragment or blanks", code=code)
    if port == 0:
        raise Invalid(f"{what} has no usable port", code=code)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def literal_address(url: str) -> Address | None:
    """The IP address a URL names literally, if it does."""
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why a delivery to ``address`` is refused, or ``None`` when it may go there."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return f"{address} is link-local (where cloud metadata lives)"
    if (
        address.is_multicast
        or address.is_unspecified
        or (address.is_reserved and not address.is_loopback)
    ):
        return f"{address} is not a unicast address"
    if address.is_global:
        return None
    if address.is_private or address.is_loopback or _shared(address):
        if allow_private:
            return None
        return f"{address} is a private address (set notify_allow_private to allow the LAN)"
    return f"{address} is not a unicast address"


def _shared(address: Address) -> bool:
    return isinstance(address, ipaddress.IPv4Address) and address in _CGNAT


_CGNAT: Final = ipaddress.ip_network("100.64.0.0/10")


def check_webhook_address(url: str, *, allow_private: bool) -> None:
    """Refuse a webhook whose URL names an address deliveries would never go to (a name is
    checked where it resolves at each delivery)."""
    address = literal_address(url)
    if address is not None and (reason := refusal(address, allow_private=allow_private)):
        raise Invalid(f"url: {reason}", code="invalid_webhook_url")


def check_webhook_count(active: int) -> None:
    if active >= MAX_WEBHOOKS:
        raise Conflict(
            f"a tournament has at most {MAX_WEBHOOKS} webhooks; remove one first",
            code="too_many_webhooks",
        )


def check_subscription_count(active: int) -> None:
    if active >= MAX_SUBSCRIPTIONS_PER_TEAM:
        raise Conflict(
            f"a team has at most {MAX_SUBSCRIPTIONS_PER_TEAM} phones with notifications",
            code="too_many_subscriptions",
        )
