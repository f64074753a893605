"""A tournament's front page, joining it, signing a device in, and its QR codes."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect

from beerolympics.domain.errors import Forbidden, NotFound
from beerolympics.domain.identity import require_any
from beerolympics.projections.views import team_view, tournament_view
from beerolympics.web.context import runtime, set_credential_cookie
from beerolympics.web.pages.cards import tournament_share
from beerolympics.web.pages.qr import qr_response, site_url
from beerolympics.web.pages.rendering import cached_page, page_tag, render, viewer, views

TournamentId = Annotated[str, PathParameter(max_length=64)]
#: Rows of the leaderboard the front page shows.
TOP = 5


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], tournament_id: TournamentId) -> Response[bytes]:
    """The tournament at a glance: top of the leaderboard, the tables, the games, news."""
    tag = page_tag(request, tournament_id)
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    who = viewer(request, tournament_id)
    board = v.leaderboard()
    my_team = v.state.teams.get(who.team_id or "")
    return render(
        request,
        "home.html",
        tag=tag,
        tournament=v.state,
        info=tournament_view(v.state),
        who=who,
        leaders=board.rows[:TOP],
        games=board.games,
        stations=v.stations(),
        announcements=v.announcements(who.actor)[:3],
        my_team=my_team,
        share=tournament_share(request, v),
    )


@get("/join", include_in_schema=False)
async def join(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    code: Annotated[str | None, QueryParameter(max_length=16)] = None,
    invite: Annotated[str | None, QueryParameter(max_length=16)] = None,
) -> Response[bytes]:
    """Start a team (with the join code) or join one (with its invite code)."""
    state = runtime(request).catalog.get(tournament_id)
    who = viewer(request, tournament_id)
    invited = state.teams.get(state.invite_codes.get((invite or "").strip().upper(), ""))
    return render(
        request,
        "join.html",
        tournament=state,
        who=who,
        info=tournament_view(state),
        code=(code or "").strip().upper(),
        invite=(invite or "").strip().upper(),
        invited=team_view(invited) if invited else None,
        my_team=state.teams.get(who.team_id or ""),
    )


@get("/signin", include_in_schema=False)
async def signin_page(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[bytes]:
    """Organizer password sign-in, or a sign-in link handed over by an organizer."""
    state = runtime(request).catalog.get(tournament_id)
    return render(request, "signin.html", tournament=state, who=viewer(request, tournament_id))


@post("/signin", include_in_schema=False, status_code=303)
async def signin_with_token(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Keep a handed-over credential on this device (as the usual HttpOnly cookie).

    Only from this site's own pages: another site must not sign a phone into its credential.
    """
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise Forbidden("sign in from this site's own page", code="cross_site")
    rt = runtime(request)
    state = rt.catalog.get(tournament_id)
    token = data.get("token", "").strip()
    found = rt.authenticator.actor(token) if token else None
    if found is None or found.tournament_id != tournament_id:
        return render(
            request,
            "signin.html",
            status=401,
            tournament=state,
            who=viewer(request, tournament_id),
            bad_token=True,
        )
    target = "/admin" if found.role in ("organizer", "referee") else "/me"
    response: Response[Any] = Redirect(f"/t/{quote(tournament_id)}{target}", status_code=303)
    set_credential_cookie(request, response, tournament_id, token)
    return response


@get("/qr/follow.svg", include_in_schema=False)
async def follow_qr(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[bytes]:
    """Anyone may follow along: the tournament's public page."""
    state = runtime(request).catalog.get(tournament_id)
    return qr_response(
        site_url(request, f"/t/{quote(state.id)}"), f"Follow {state.name} on your phone"
    )


@get("/qr/join.svg", include_in_schema=False)
async def join_qr(request: Request[Any, Any, Any], tournament_id: TournamentId) -> Response[bytes]:
    """The join code as a QR code: for members and officials, like the code itself."""
    state = runtime(request).catalog.get(tournament_id)
    require_any(
        viewer(request, tournament_id).actor,
        tournament_id,
        "organizer",
        "referee",
        "captain",
        "player",
    )
    return qr_response(site_url(request, f"/join/{quote(state.join_code)}"), f"Join {state.name}")


@get("/qr/team/{team_id:str}", include_in_schema=False)
async def team_qr(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    team_id: Annotated[str, PathParameter(max_length=64)],
) -> Response[bytes]:
    """A team's invite link: for its members and the organizers."""
    state = runtime(request).catalog.get(tournament_id)
    team = state.team(team_id)
    who = viewer(request, tournament_id).actor
    require_any(who, tournament_id, "organizer", "captain", "player")
    if who.role != "organizer" and who.team_id != team.id:
        raise NotFound("no such team here", code="team_not_found")
    return qr_response(
        site_url(
            request,
            f"/t/{quote(state.id)}/join?invite={quote(team.invite_code)}",
        ),
        f"Join {team.name}",
    )


router = Router(
    path="/t/{tournament_id:str}",
    route_handlers=[home, join, signin_page, signin_with_token, follow_qr, join_qr, team_qr],
)
