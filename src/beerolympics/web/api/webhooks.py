"""``/api/v1/tournaments/{id}/webhooks``: organizers' receivers for tournament events.

Deliveries are signed the Standard Webhooks way (see ``docs/notifications.md``) and retried
with backoff; each webhook shows its last delivery and when the next retry goes, and
``…/webhooks/{id}/deliveries`` is its delivery log. A dead delivery is sent again through the
jobs API (``POST …/jobs/{id}/retry``: the delivery's id is its job's).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.params import JSONBody, PathParameter

from beerolympics.domain.codes import ID_PATTERN
from beerolympics.domain.jobs import JobState
from beerolympics.domain.notifications import RegisterWebhook
from beerolympics.projections.notifications import WebhookTarget
from beerolympics.projections.views import Page
from beerolympics.services.notifications import next_retry
from beerolympics.web.api.tournaments import ERRORS, SECURITY, Cursor, Limit, TournamentId
from beerolympics.web.context import actor, runtime
from beerolympics.web.http import decode_cursor, encode_cursor, json_response

WebhookId = Annotated[
    str, PathParameter(max_length=40, pattern=ID_PATTERN, description="The webhook's id.")
]


class DeliveryView(msgspec.Struct, frozen=True):
    """One event sent (or being sent) to a webhook. ``id`` is its ``webhook-id`` header and
    its job's id; ``error`` is the last failed attempt's, ``retry_at`` the next attempt's."""

    id: str
    type: str
    status: str
    attempts: int
    error: str
    queued_at: dt.datetime | None
    finished_at: dt.datetime | None
    retry_at: dt.datetime | None


class WebhookView(msgspec.Struct, frozen=True):
    id: str
    url: str
    events: list[str]
    since: dt.datetime
    last_delivery: DeliveryView | None
    next_retry: dt.datetime | None
    #: Deliveries that used up their attempts (see the dead-letter list).
    dead: int


class CreatedWebhook(msgspec.Struct, frozen=True):
    """A new webhook and its signing secret — shown this once."""

    webhook: WebhookView
    secret: str


def delivery_view(job: JobState) -> DeliveryView:
    return DeliveryView(
        id=job.id,
        type=str(job.payload.get("type", "")),
        status=job.status,
        attempts=job.attempt,
        error=job.error,
        queued_at=job.queued_at,
        finished_at=job.finished_at,
        retry_at=job.retry_at,
    )


def webhook_view(hook: WebhookTarget, deliveries: list[JobState]) -> WebhookView:
    return WebhookView(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        since=hook.since,
        last_delivery=delivery_view(deliveries[0]) if deliveries else None,
        next_retry=next_retry(deliveries),
        dead=sum(1 for j in deliveries if j.status == "dead"),
    )


@get("/", summary="Webhooks", tags=["webhooks"], security=SECURITY, responses=ERRORS)
async def list_webhooks(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[list[WebhookView]]:
    """Organizers only; oldest first, each with its last delivery and next retry."""
    service = runtime(request).notifications
    hooks = service.webhooks(tournament_id, actor(request, tournament_id))
    return json_response([webhook_view(h, service.deliveries(tournament_id, h.id)) for h in hooks])


@post(
    "/",
    summary="Add a webhook",
    tags=["webhooks"],
    status_code=201,
    security=SECURITY,
    responses=ERRORS,
)
async def add_webhook(
    request: Request[Any, Any, Any], tournament_id: TournamentId, data: JSONBody[RegisterWebhook]
) -> Response[CreatedWebhook]:
    """Organizers only. The answer holds the ``whsec_`` secret deliveries are signed with;
    it is not shown again."""
    hook, secret = await runtime(request).notifications.register_webhook(
        tournament_id, actor(request, tournament_id), data
    )
    return json_response(CreatedWebhook(webhook_view(hook, []), secret), status=201)


@delete(
    "/{webhook_id:str}",
    summary="Remove a webhook",
    tags=["webhooks"],
    status_code=204,
    security=SECURITY,
    responses=ERRORS,
)
async def remove_webhook(
    request: Request[Any, Any, Any], tournament_id: TournamentId, webhook_id: WebhookId
) -> None:
    """Organizers only; deliveries still waiting are dropped."""
    await runtime(request).notifications.remove_webhook(
        tournament_id, actor(request, tournament_id), webhook_id
    )


@get(
    "/{webhook_id:str}/deliveries",
    summary="A webhook's delivery log",
    tags=["webhooks"],
    security=SECURITY,
    responses=ERRORS,
)
async def list_deliveries(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    webhook_id: WebhookId,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[Page[DeliveryView]]:
    """Organizers only; newest first."""
    service = runtime(request).notifications
    service.webhook(tournament_id, actor(request, tournament_id), webhook_id)
    found = service.deliveries(tournament_id, webhook_id)
    before = decode_cursor(cursor)
    rest = [j for j in found if before is None or j.position < before]
    page = rest[:limit]
    return json_response(
        Page(
            items=[delivery_view(j) for j in page],
            next_cursor=encode_cursor(page[-1].position) if len(rest) > limit else None,
            total=len(found),
        )
    )


router = Router(
    path="/tournaments/{tournament_id:str}/webhooks",
    route_handlers=[list_webhooks, add_webhook, remove_webhook, list_deliveries],
)
