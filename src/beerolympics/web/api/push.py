"""``/api/v1/tournaments/{id}/push``: Web Push for a team's phones.

A member's phone fetches the server's public key, subscribes with its browser's push service
and posts the ``PushSubscription`` here. The team's phones are then told when the team is
called to a station, when a result waits for its confirmation, when its result was disputed,
and of urgent announcements.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.params import JSONBody, PathParameter

from beerolympics.domain.codes import ID_PATTERN
from beerolympics.domain.notifications import Subscribe
from beerolympics.projections.notifications import PushTarget
from beerolympics.web.api.tournaments import ERRORS, SECURITY, TournamentId
from beerolympics.web.context import actor, runtime
from beerolympics.web.http import json_response

SubscriptionId = Annotated[
    str, PathParameter(max_length=40, pattern=ID_PATTERN, description="The subscription's id.")
]


class PushKey(msgspec.Struct, frozen=True):
    """The server's VAPID public key: ``applicationServerKey`` for ``pushManager.subscribe``."""

    public_key: str


class SubscriptionView(msgspec.Struct, frozen=True):
    """A phone that gets its team's notifications (its endpoint's host only: the full
    endpoint is a capability to push to that phone)."""

    id: str
    team_id: str
    member_id: str | None
    push_service: str
    since: dt.datetime


class Subscriptions(msgspec.Struct, frozen=True):
    items: list[SubscriptionView]


def subscription_view(target: PushTarget) -> SubscriptionView:
    return SubscriptionView(
        id=target.id,
        team_id=target.team_id,
        member_id=target.member_id,
        push_service=urlsplit(target.endpoint).hostname or "",
        since=target.since,
    )


@get("/key", summary="The push public key", tags=["notifications"])
async def push_key(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[PushKey]:
    """The key a phone subscribes with; the same for every tournament of this server."""
    rt = runtime(request)
    rt.catalog.get(tournament_id)
    return json_response(PushKey(rt.push_public_key()))


@post(
    "/subscriptions",
    summary="Turn on notifications for this phone",
    tags=["notifications"],
    status_code=201,
    security=SECURITY,
    responses=ERRORS,
)
async def subscribe(
    request: Request[Any, Any, Any], tournament_id: TournamentId, data: JSONBody[Subscribe]
) -> Response[SubscriptionView]:
    """Members only: the body is the browser's ``PushSubscription.toJSON()``. The same
    endpoint again updates the stored subscription (new keys, or another team member)."""
    target = await runtime(request).notifications.subscribe(
        tournament_id, actor(request, tournament_id), data
    )
    return json_response(subscription_view(target), status=201)


@get(
    "/subscriptions",
    summary="Phones with notifications",
    tags=["notifications"],
    security=SECURITY,
    responses=ERRORS,
)
async def list_subscriptions(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[Subscriptions]:
    """Organizers see every phone; members their team's."""
    found = runtime(request).notifications.subscriptions(
        tournament_id, actor(request, tournament_id)
    )
    return json_response(Subscriptions([subscription_view(t) for t in found]))


@delete(
    "/subscriptions/{subscription_id:str}",
    summary="Turn off notifications for a phone",
    tags=["notifications"],
    status_code=204,
    security=SECURITY,
    responses=ERRORS,
)
async def unsubscribe(
    request: Request[Any, Any, Any], tournament_id: TournamentId, subscription_id: SubscriptionId
) -> None:
    """Its team's members and the organizers."""
    await runtime(request).notifications.unsubscribe(
        tournament_id, actor(request, tournament_id), subscription_id
    )


router = Router(
    path="/tournaments/{tournament_id:str}/push",
    route_handlers=[push_key, subscribe, list_subscriptions, unsubscribe],
)
