"""Web Push: the server's VAPID key, and the ``push.send`` job that delivers one notification.

The VAPID key (RFC 8292) identifies this server to push services: phones subscribe with its
public half (``applicationServerKey``), and every push carries a JWT signed with the private
half. It is generated once into ``<data_dir>/vapid.pem``, or given as ``vapid_private_key``;
every instance and worker of a deployment must use the same one, or push services refuse the
pushes of the others (403).

A push is encrypted for the phone (RFC 8291, ``aes128gcm``) by pywebpush and POSTed to the
subscription's endpoint through :mod:`~beerolympics.notify.outbound`. The push service's
answer decides: 2xx delivered; 404 or 410 the subscription is gone, and ``PushUnsubscribed``
is recorded so it is never used again; anything else (429, 5xx, no connection) fails the
attempt, which the job queue retries with backoff. A notification that would arrive too late
to matter ("you're up" half an hour later) is dropped instead of sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from beerolympics.domain.events import (
    Event,
    EventCodec,
    PushSubscribed,
    PushUnsubscribed,
)
from beerolympics.domain.notifications import push_stream
from beerolympics.jobs.kinds import Backoff, Completion, JobContext, JobKind
from beerolympics.notify.messages import PushMessage
from beerolympics.notify.outbound import DeliveryFailed, Outbound
from beerolympics.ports.eventstore import ANY_VERSION, EventStore
from beerolympics.projections.notifications import PUSH_SEND
from beerolympics.settings import Settings, SettingsError

#: How long push services keep a VAPID token valid at most is 24 h; ours say 12.
TOKEN_SECONDS: Final = 12 * 3600


def load_vapid_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The VAPID private key: the setting, else ``<data_dir>/vapid.pem`` (made once)."""
    if settings.vapid_private_key:
        pem = settings.vapid_private_key.replace("\\n", "\n").encode()
        source = "vapid_private_key"
    else:
        path = settings.data_dir / "vapid.pem"
        if not path.exists():
            _generate(path)
        pem = path.read_bytes()
        source = str(path)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"{source}: not a PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SettingsError(f"{source}: a VAPID key is a P-256 (prime256v1) EC key")
    return key


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process of this deployment made it first
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as browsers take it (``applicationServerKey``): base64url, unpadded."""
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Subscription(msgspec.Struct, frozen=True):
    endpoint: str
    p256dh: str
    auth: str


async def read_subscription(
    store: EventStore, codec: EventCodec, tournament_id: str, subscription_id: str
) -> Subscription | None:
    """The subscription as its stream says now; ``None`` once unsubscribed."""
    found: Subscription | None = None
    for recorded in await store.read_stream(push_stream(tournament_id, subscription_id)):
        event = codec.decode(recorded)
        if isinstance(event, PushSubscribed):
            found = Subscription(event.endpoint, event.p256dh, event.auth)
        elif isinstance(event, PushUnsubscribed):
            found = None
    return found


class PushJobs:
    """The ``push.send`` job kind, bound to the store and the server's VAPID key."""

    def __init__(self, settings: Settings, events: EventStore, codec: EventCodec) -> None:
        self.events = events
        self.codec = codec
        self.outbound = Outbound(settings.notify_allow_private, settings.notify_timeout)
        self.retry = Backoff(settings.notify_retry_seconds, 3.0, 3600.0)
        self.subject = settings.vapid_subject
        self._settings = settings
        self._vapid: Vapid02 | None = None

    def kinds(self) -> list[JobKind]:
        return [
            JobKind(
                PUSH_SEND,
                self.send,
                max_attempts=5,
                backoff=self.retry,
                time_limit=self.outbound.timeout + 10,
            )
        ]

    @property
    def vapid(self) -> Vapid02:
        if self._vapid is None:
            self._vapid = Vapid02(private_key=load_vapid_key(self._settings))
        return self._vapid

    async def send(self, ctx: JobContext) -> Completion:
        payload: dict[str, Any] = ctx.job.payload
        tournament, subscription_id = payload["tournament"], payload["subscription"]
        expires = dt.datetime.fromisoformat(payload["expires"])
        if dt.datetime.now(dt.UTC) >= expires:
            return Completion()  # too late to be worth a buzz
        subscription = await read_subscription(self.events, self.codec, tournament, subscription_id)
        if subscription is None:
            return Completion()  # turned off (or expired) since it was queued
        message = msgspec.convert(payload["message"], PushMessage)
        body, headers = self.encrypt(subscription, message, expires, payload.get("urgency", "high"))
        async with self.outbound.session() as session:
            answer = await self.outbound.post(session, subscription.endpoint, body, headers)
        if answer.status in (404, 410):
            gone: list[Event] = [
                PushUnsubscribed(subscription_id=subscription_id, reason="expired")
            ]
            return Completion(
                [(push_stream(tournament, subscription_id), gone, ANY_VERSION)], tournament
            )
        if not 200 <= answer.status < 300:
            raise DeliveryFailed(f"the push service answered {answer.status} {answer.excerpt}")
        return Completion()

    def encrypt(
        self, subscription: Subscription, message: PushMessage, expires: dt.datetime, urgency: str
    ) -> tuple[bytes, dict[str, str]]:
        """The encrypted body (RFC 8291, aes128gcm) and the headers of one push."""
        from pywebpush import WebPusher  # with aiohttp: only where pushes are sent

        pusher = WebPusher(
            {
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            }
        )
        body: bytes = pusher.encode(msgspec.json.encode(message), "aes128gcm")["body"]
        parts = urlsplit(subscription.endpoint)
        claims = {
            "sub": self.subject,
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + TOKEN_SECONDS,
        }
        headers: dict[str, str] = dict(self.vapid.sign(claims))
        ttl = max(1, int((expires - dt.datetime.now(dt.UTC)).total_seconds()))
        headers.update(
            {
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "TTL": str(ttl),
                "Urgency": urgency,
            }
        )
        return body, headers
