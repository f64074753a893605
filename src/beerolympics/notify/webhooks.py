"""Webhooks: the ``webhook.deliver`` job that POSTs one event to one organizer's receiver.

Deliveries follow Standard Webhooks (signed with the ``standardwebhooks`` library):

- the body is ``{"type": "match.confirmed", "timestamp": "<when it happened>", "data": {…}}``;
- ``webhook-id`` is the job's id: the same on every retry of a delivery, so a receiver that
  already has it can answer 2xx and ignore it;
- ``webhook-timestamp`` is when this attempt was sent (seconds since the epoch), and
  ``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`` keyed with
  the webhook's ``whsec_`` secret.

A 2xx answer delivers it. 410 Gone says the receiver wants no more: the webhook is removed
(``WebhookRemoved``), as the spec asks. Anything else — another status, a redirect, no
connection, no answer within ``notify_timeout`` — fails the attempt, and the job queue tries
again after ``notify_retry_seconds``, three times longer each time (at most an hour), 8
attempts in all; then the delivery waits in the dead-letter list, where an organizer can send
it again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import msgspec
from standardwebhooks.webhooks import Webhook

from beerolympics import __version__
from beerolympics.domain.events import EventCodec, WebhookRegistered, WebhookRemoved
from beerolympics.domain.notifications import webhook_stream
from beerolympics.jobs.kinds import Backoff, Completion, JobContext, JobKind
from beerolympics.notify.outbound import DeliveryFailed, Outbound
from beerolympics.ports.eventstore import ANY_VERSION, EventStore
from beerolympics.projections.notifications import WEBHOOK_DELIVER
from beerolympics.settings import Settings

USER_AGENT: Final = f"BeerOlympics-Webhooks/{__version__}"


class Receiver(msgspec.Struct, frozen=True):
    url: str
    secret: str
    events: list[str]


async def read_webhook(
    store: EventStore, codec: EventCodec, tournament_id: str, webhook_id: str
) -> Receiver | None:
    """The webhook as its stream says now; ``None`` once removed."""
    found: Receiver | None = None
    for recorded in await store.read_stream(webhook_stream(tournament_id, webhook_id)):
        event = codec.decode(recorded)
        if isinstance(event, WebhookRegistered):
            found = Receiver(event.url, event.secret, list(event.events))
        elif isinstance(event, WebhookRemoved):
            found = None
    return found


def signed_headers(secret: str, message_id: str, at: dt.datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of ``body`` sent at ``at`` (UTC)."""
    at = at.astimezone(dt.UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body.decode()),
    }


def body_of(payload: dict[str, Any]) -> bytes:
    """The JSON a delivery sends, the same bytes on every attempt."""
    return msgspec.json.encode(
        {"type": payload["type"], "timestamp": payload["timestamp"], "data": payload["data"]}
    )


class WebhookJobs:
    """The ``webhook.deliver`` job kind, bound to the event store."""

    def __init__(self, settings: Settings, events: EventStore, codec: EventCodec) -> None:
        self.events = events
        self.codec = codec
        self.outbound = Outbound(settings.notify_allow_private, settings.notify_timeout)
        self.retry = Backoff(settings.notify_retry_seconds, 3.0, 3600.0)

    def kinds(self) -> list[JobKind]:
        return [
            JobKind(
                WEBHOOK_DELIVER,
                self.deliver,
                max_attempts=8,
                backoff=self.retry,
                time_limit=self.outbound.timeout + 10,
            )
        ]

    async def deliver(self, ctx: JobContext) -> Completion:
        payload: dict[str, Any] = ctx.job.payload
        receiver = await read_webhook(
            self.events, self.codec, payload["tournament"], payload["webhook"]
        )
        if receiver is None:
            return Completion()  # removed since: nobody to tell
        body = body_of(payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signed_headers(receiver.secret, ctx.job.id, dt.datetime.now(dt.UTC), body),
        }
        async with self.outbound.session() as session:
            answer = await self.outbound.post(session, receiver.url, body, headers)
        if answer.status == 410:
            tournament, webhook_id = payload["tournament"], payload["webhook"]
            gone = WebhookRemoved(webhook_id=webhook_id, reason="the receiver answered 410 Gone")
            return Completion(
                [(webhook_stream(tournament, webhook_id), [gone], ANY_VERSION)], tournament
            )
        if not 200 <= answer.status < 300:
            raise DeliveryFailed(f"the receiver answered {answer.status}")
        return Completion()
