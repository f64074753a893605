"""The pages people use at the party: server-rendered HTML with small JavaScript modules.

One module per group of pages, each with its own Router; :data:`router` gathers them with the
static assets, the service worker and the manifest. Pages read the projections in-process
(``Views``); their scripts talk to the JSON API and the live channels.

A refused page request (no such tournament, not an organizer…) is answered here as an HTML page
with the API's problem code in it; the API keeps its one JSON error shape.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router

from beerolympics.domain.errors import DomainError, Forbidden, NotFound, Unauthenticated
from beerolympics.web.pages import (
    assets,
    board,
    cards,
    control,
    dictionaries,
    landing,
    media,
    play,
    recap,
    teams,
    tournament,
)
from beerolympics.web.pages.rendering import render

_STATUS = ((NotFound, 404), (Unauthenticated, 401), (Forbidden, 403))


def html_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    """A friendly page for a refused page request."""
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    return render(
        request, "error.html", status=status, http_status=status, message=exc.message, code=exc.code
    )


def page_not_found(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The page for an address that names no page (a typo, an old link)."""
    return render(
        request,
        "error.html",
        status=404,
        http_status=404,
        message=f"There is no page at {request.url.path}. Check the address, or start over.",
        code="not_found",
    )


router = Router(
    path="/",
    route_handlers=[
        landing.router,
        tournament.router,
        teams.router,
        play.router,
        board.router,
        control.router,
        media.router,
        recap.router,
        cards.router,
        assets.static_file,
        assets.service_worker,
        assets.manifest,
        dictionaries.dictionary,
    ],
    exception_handlers={DomainError: html_error},
    include_in_schema=False,
)

__all__ = ["page_not_found", "router"]
