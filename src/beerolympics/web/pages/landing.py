"""The front door: the landing page, the create-a-tournament wizard, join by code, offline."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, Router, get
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect

from beerolympics.domain.codes import normalize_code
from beerolympics.projections.views import tournament_view
from beerolympics.web.context import runtime
from beerolympics.web.pages.rendering import render

#: How many tournaments the landing page lists.
LISTED = 20


@get("/", include_in_schema=False)
async def landing(request: Request[Any, Any, Any]) -> Response[bytes]:
    """What this server runs, newest first, and the two ways in: join or create."""
    catalog = runtime(request).catalog
    newest = [tournament_view(catalog.tournaments[t]) for t in reversed(catalog.order[-LISTED:])]
    return render(request, "landing.html", tournaments=newest)


@get("/new", include_in_schema=False)
async def new_tournament(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The wizard: basics, games (formats, points, stations), bonus challenges, review."""
    return render(request, "new.html")


def _lookup(request: Request[Any, Any, Any], code: str) -> str | None:
    return runtime(request).catalog.join_codes.get(normalize_code(code))


def _join_page(tournament_id: str, code: str) -> str:
    return f"/t/{quote(tournament_id)}/join?code={quote(normalize_code(code))}"


@get("/join", include_in_schema=False)
async def join_by_code(
    request: Request[Any, Any, Any],
    code: Annotated[str | None, QueryParameter(max_length=16)] = None,
) -> Response[Any]:
    """Type a code (works without JavaScript: a plain GET form)."""
    if code:
        tournament_id = _lookup(request, code)
        if tournament_id is not None:
            return Redirect(_join_page(tournament_id, code), status_code=303)
        return render(request, "join_code.html", code=code, unknown=True, status=404)
    return render(request, "join_code.html", code="", unknown=False)


@get("/join/{code:str}", include_in_schema=False)
async def join_link(
    request: Request[Any, Any, Any], code: Annotated[str, PathParameter(max_length=16)]
) -> Response[Any]:
    """Where a tournament's QR code points."""
    tournament_id = _lookup(request, code)
    if tournament_id is None:
        return render(request, "join_code.html", code=code, unknown=True, status=404)
    return Redirect(_join_page(tournament_id, code), status_code=303)


@get("/offline", include_in_schema=False)
async def offline(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Shown by the service worker for a page it has never seen while there is no network."""
    return render(request, "offline.html")


router = Router(
    path="/", route_handlers=[landing, new_tournament, join_by_code, join_link, offline]
)
