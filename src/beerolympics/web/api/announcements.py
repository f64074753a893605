"""``/api/v1/tournaments/{id}/announcements``: what the organizers tell everyone (or some)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import JSONBody

from beerolympics.domain.commands import PostAnnouncement
from beerolympics.projections.play_views import AnnouncementView
from beerolympics.projections.views import Page
from beerolympics.web.api.games import views
from beerolympics.web.api.tournaments import (
    ERRORS,
    SECURITY,
    Cursor,
    IdempotencyHeader,
    Limit,
    TournamentId,
)
from beerolympics.web.context import actor, runtime
from beerolympics.web.http import (
    PRIVATE,
    decode_cursor,
    encode_cursor,
    idempotency_key,
    json_response,
)


@get("/", summary="Announcements", tags=["announcements"], responses={404: ERRORS[404]})
async def list_announcements(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[Page[AnnouncementView]]:
    """Newest first: everyone's, and — with a credential — your team's and the captains'."""
    shown = views(request, tournament_id).announcements(actor(request, tournament_id))
    before = decode_cursor(cursor)
    rest = [a for a in shown if before is None or a.position < before]
    page = rest[:limit]
    return json_response(
        Page(
            items=page,
            next_cursor=encode_cursor(page[-1].position) if len(rest) > limit else None,
            total=len(shown),
        ),
        cache_control=PRIVATE,
    )


@post(
    "/",
    summary="Post an announcement",
    tags=["announcements"],
    status_code=201,
    security=SECURITY,
    responses=ERRORS,
)
async def post_announcement(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[PostAnnouncement],
    idempotency: IdempotencyHeader = None,
) -> Response[AnnouncementView]:
    """Organizers only. It is delivered live to its audience and kept here."""
    rt = runtime(request)
    who = actor(request, tournament_id)
    outcome = await rt.tournaments.post_announcement(
        tournament_id, who, data, idempotency=idempotency_key(request, "announce", data)
    )
    posted = next(a for a in views(request, tournament_id).announcements(who) if a.id == outcome.id)
    return json_response(posted, status=201)


router = Router(
    path="/tournaments/{tournament_id:str}/announcements",
    route_handlers=[list_announcements, post_announcement],
)
