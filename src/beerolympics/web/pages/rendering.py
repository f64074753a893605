"""Rendering pages: the Jinja environment, who is looking, and the headers every page carries.

Templates autoescape everything; user text never reaches a page unescaped. Pages carry a strict
Content-Security-Policy (scripts and styles only from this site, no inline script at all), so a
team name that smuggles markup could not run even if it got through.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jinja2
from litestar import Request, Response

from beerolympics.domain.errors import Unauthenticated
from beerolympics.domain.identity import SPECTATOR, Actor
from beerolympics.domain.tournament import TournamentState
from beerolympics.projections.play_views import Views
from beerolympics.web.context import actor, cookie_name, runtime
from beerolympics.web.http import etag_matches
from beerolympics.web.pages.assets import assets
from beerolympics.web.pages.dictionaries import Dictionaries
from beerolympics.web.pages.gallery import Gallery
from beerolympics.web.pages.regions import HEADER, Page, Regions, answer, held, index

TEMPLATES: Final = Path(__file__).parents[1] / "templates"

CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

#: How a match's status reads to a party guest.
STATUS_TEXT: Final = {
    "pending": "waiting for earlier games",
    "ready": "ready to play",
    "called": "called to a table",
    "in_progress": "playing now",
    "submitted": "result waiting for OK",
    "disputed": "result disputed",
    "confirmed": "done",
    "reopened": "reopened: result to enter again",
    "flagged": "needs a check",
    "bye": "bye",
    "void": "not needed",
}
#: The same, in a word or two, for the small cards of a bracket.
STATUS_SHORT: Final = {
    "ready": "ready",
    "called": "called",
    "in_progress": "playing",
    "submitted": "to confirm",
    "disputed": "disputed",
    "reopened": "reopened",
    "flagged": "check",
    "void": "not needed",
}
FORMAT_TEXT: Final = {
    "round_robin": "Everyone plays everyone",
    "single_elimination": "Knockout",
    "double_elimination": "Double knockout",
    "swiss": "Swiss rounds",
    "groups_playoffs": "Groups, then playoffs",
    "heats": "Heats",
}
TOURNAMENT_TEXT: Final = {
    "draft": "getting ready",
    "registration": "teams joining",
    "live": "live now",
    "finished": "finished",
}
ROLE_TEXT: Final = {
    "organizer": "organizer",
    "referee": "referee",
    "captain": "captain",
    "player": "player",
    "spectator": "guest",
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at a page of one tournament."""

    actor: Actor
    #: The device had a credential that no longer works here (kicked, or from another server).
    signed_out: bool = False

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def team_id(self) -> str | None:
        return self.actor.team_id

    @property
    def organizer(self) -> bool:
        return self.actor.role == "organizer"

    @property
    def official(self) -> bool:
        return self.actor.role in ("organizer", "referee")

    @property
    def member(self) -> bool:
        return self.actor.role in ("captain", "player")

    @property
    def captain(self) -> bool:
        return self.actor.role == "captain"


def viewer(request: Request[Any, Any, Any], tournament_id: str) -> Viewer:
    """The viewer of a tournament's page: a revoked or foreign credential reads as a guest."""
    try:
        found = actor(request, tournament_id)
    except Unauthenticated:
        return Viewer(SPECTATOR, signed_out=True)
    if found.authenticated and found.tournament_id != tournament_id:
        return Viewer(SPECTATOR)
    return Viewer(found)


def views(request: Request[Any, Any, Any], tournament_id: str) -> Views:
    """The play read models of a tournament (404 when there is none)."""
    rt = runtime(request)
    return Views(rt.catalog.get(tournament_id), rt.play.get(tournament_id))


def points(value: float | None) -> str:
    """Points as people write them: 100, 37.5, 12.33."""
    if value is None:
        return "–"
    rounded = round(value, 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0")


def clock(value: dt.datetime | None) -> str:
    """A time of day, HH:MM, in the server's time zone — at a party, everyone's (scripts then
    show it in the phone's own)."""
    return value.astimezone().strftime("%H:%M") if value else ""


def iso(value: dt.datetime | None) -> str:
    """A time for ``<time datetime>``, which scripts turn into countdowns."""
    return value.astimezone(dt.UTC).isoformat() if value else ""


def ordinal(value: int | None) -> str:
    """1st, 2nd, 3rd, 11th…"""
    if value is None:
        return "–"
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


def sentence(text: str) -> str:
    """The first letter upper-cased, the rest as it is ("winner of W2-1" → "Winner of W2-1")."""
    return text[:1].upper() + text[1:]


class Pages:
    """What pages of one app share: the template environment."""

    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            points=points,
            clock=clock,
            iso=iso,
            ordinal=ordinal,
            sentence=sentence,
        )
        self.env.globals.update(
            STATUS_TEXT=STATUS_TEXT,
            STATUS_SHORT=STATUS_SHORT,
            FORMAT_TEXT=FORMAT_TEXT,
            ROLE_TEXT=ROLE_TEXT,
            TOURNAMENT_TEXT=TOURNAMENT_TEXT,
        )
        self.regions = Regions()


def pages(request: Request[Any, Any, Any]) -> Pages:
    """The app's template environment, made on first use."""
    found: Pages | None = getattr(request.app.state, "pages", None)
    if found is None:
        found = Pages()
        request.app.state.pages = found
    return found


def page_tag(request: Request[Any, Any, Any], tournament_id: str, *extra: str) -> str:
    """A validator for a page of a tournament: the build, the tournament's position and who
    asks — a page changes only when one of them does."""
    rt = runtime(request)
    cookie = request.cookies.get(cookie_name(tournament_id), "")
    who = hashlib.sha256(cookie.encode()).hexdigest()[:10] if cookie else "anon"
    parts = [assets(request).build, str(rt.catalog.position_of(tournament_id)), who, *extra]
    return f'W/"{"-".join(parts)}"'


def _unplaced(tag: str | None) -> str | None:
    """``tag`` (see :func:`page_tag`) less the tournament's position: the same for every
    rendering of a page for one viewer under one build."""
    parts = (tag or "").removeprefix('W/"').removesuffix('"').split("-", 2)
    return f"{parts[0]}-{parts[2]}" if len(parts) == 3 else None


def cached_page(request: Request[Any, Any, Any], tag: str) -> Response[bytes] | None:
    """A 304 when the browser already has this version of the page; the page (or the regions
    of it the asking page lacks) when it was rendered already for someone else asking for the
    same version of it."""
    if etag_matches(request, tag.removeprefix("W/")):
        return Response(
            b"", status_code=304, headers={"ETag": tag, "Cache-Control": "private, no-cache"}
        )
    found = pages(request).regions.page(_key(request, tag))
    return None if found is None else _respond(request, found, tag, 200)


def _key(request: Request[Any, Any, Any], tag: str) -> tuple[str, str, str, str]:
    # The host too: pages name their own absolute address (share cards' links).
    return (request.url.netloc, request.url.path, request.url.query, tag)


def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    tag: str | None = None,
    tournament: TournamentState | None = None,
    who: Viewer | None = None,
    dictionary: bool = True,
    **context: Any,
) -> Response[bytes]:
    """A page: the template rendered with the common context, and the page headers. With a
    ``tag`` (its ETag), the page is kept for the next ones asking for the same version;
    ``dictionary=False`` for a page whose regions seldom need asking for (it links none)."""
    static = assets(request)
    position = runtime(request).catalog.position_of(tournament.id) if tournament else 0
    if tournament is not None:
        context.setdefault(
            "gallery", Gallery(runtime(request), tournament.id, (who or Viewer(SPECTATOR)).actor)
        )
    env = pages(request)
    page = index(
        env.env.get_template(template).render(
            asset=static.url,
            build=static.build,
            request_path=request.url.path,
            position=position,
            poll_seconds=runtime(request).settings.live_fallback_poll,
            tournament=tournament,
            viewer=who or Viewer(SPECTATOR),
            **context,
        )
    )
    page.dictionary = dictionary
    if tag is not None and status == 200:
        env.regions.keep(_key(request, tag), page)
    return _respond(request, page, tag, status)


def _respond(
    request: Request[Any, Any, Any], page: Page, tag: str | None, status: int
) -> Response[bytes]:
    """The page whole, or — to a page of the same build saying which versions of its regions
    it holds (``X-Regions``, see ``regions.py``) — only the regions that changed."""
    sent = request.headers.get(HEADER)
    holding = held(sent, assets(request).build) if sent and status == 200 else None
    if holding is not None and page.nodes:
        body = answer(page, holding, pages(request).regions)
        # Never stored, nor taken by a cache for the page: it is only what this page lacked.
        headers = {
            "Cache-Control": "no-store",
            "Vary": f"Cookie, {HEADER}",
            "X-Content-Type-Options": "nosniff",
        }
        if body is None:
            return Response(b"", status_code=204, headers=headers)
        return Response(body, media_type="application/json", headers=headers)
    headers = {
        **SECURITY_HEADERS,
        "Cache-Control": "private, no-cache",
        "Vary": f"Cookie, {HEADER}",
    }
    if tag is not None:
        headers["ETag"] = tag
    dictionaries: Dictionaries | None = request.app.state.get("dictionaries")
    unplaced = _unplaced(tag)
    linked = status == 200 and page.dictionary and bool(page.nodes) and unplaced is not None
    if linked and dictionaries is not None:
        # Its markup, for its region answers to be compressed against: one per page and
        # viewer, made anew now and then.
        page_key = (request.url.netloc, request.url.path, request.url.query, unplaced)
        link = dictionaries.link(page_key, request.url.path, page.html)
        if link is not None:
            headers["Link"] = link
    # The framework adds "; charset=utf-8" to a text media type itself.
    return Response(page.html.encode(), status_code=status, media_type="text/html", headers=headers)
