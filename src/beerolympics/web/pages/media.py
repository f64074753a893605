"""``/t/{id}/photos``: every photo and clip of a tournament, or of one team or match.

Galleries read fine without JavaScript (tiles are links to the large photo); ``js/media.js``
adds the camera and upload buttons, the progress, the full-screen viewer with swipe, and the
offline outbox for photos.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.params import PathParameter, QueryParameter

from beerolympics.web.pages.rendering import cached_page, page_tag, render, viewer, views

TournamentId = Annotated[str, PathParameter(max_length=64)]


@get("/photos", include_in_schema=False)
async def photos_page(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    subject: Annotated[str | None, QueryParameter(max_length=120)] = None,
) -> Response[bytes]:
    """Every photo and clip of the tournament (or of one team or match), newest first."""
    tag = page_tag(request, tournament_id, "photos", subject or "")
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    return render(
        request,
        "photos.html",
        tag=tag,
        tournament=v.state,
        who=viewer(request, tournament_id),
        subject=subject,
    )


router = Router(path="/t/{tournament_id:str}", route_handlers=[photos_page])
