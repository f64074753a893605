"""My team and team pages: roster, where the team plays now and next, results, bonuses."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, Router, get
from litestar.params import PathParameter
from litestar.response import Redirect

from beerolympics.projections.views import team_view
from beerolympics.web.pages.cards import team_share
from beerolympics.web.pages.rendering import cached_page, page_tag, render, viewer, views

TournamentId = Annotated[str, PathParameter(max_length=64)]


@get("/me", include_in_schema=False)
async def my_team(request: Request[Any, Any, Any], tournament_id: TournamentId) -> Response[Any]:
    """This device's team, or how to get one."""
    v = views(request, tournament_id)
    who = viewer(request, tournament_id)
    if who.team_id is not None and who.team_id in v.state.teams:
        return Redirect(f"/t/{quote(tournament_id)}/teams/{quote(who.team_id)}", status_code=303)
    return render(request, "no_team.html", tournament=v.state, who=who)


@get("/teams", include_in_schema=False)
async def team_list(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[bytes]:
    """Every team with its flag, colour and roster size."""
    tag = page_tag(request, tournament_id)
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    return render(
        request,
        "teams.html",
        tag=tag,
        tournament=v.state,
        who=viewer(request, tournament_id),
        teams=[team_view(t) for t in v.state.teams.values()],
    )


@get("/teams/{team_id:str}", include_in_schema=False)
async def team_page(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    team_id: Annotated[str, PathParameter(max_length=64)],
) -> Response[bytes]:
    """A team's page; its members also see the invite code, bonus challenges and the
    "you're up" banner."""
    tag = page_tag(request, tournament_id, team_id)
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    team = v.state.team(team_id)
    who = viewer(request, tournament_id)
    mine = who.team_id == team.id
    insider = mine or who.organizer
    play = v.team_play(team.id)
    bonuses = [
        (
            bonus,
            [c for c in v.state.claims.values() if c.bonus_id == bonus.id and c.team_id == team.id],
        )
        for bonus in v.state.bonuses.values()
    ]
    return render(
        request,
        "team.html",
        tag=tag,
        tournament=v.state,
        who=who,
        team=team_view(team),
        play=play,
        mine=mine,
        insider=insider,
        invite_code=team.invite_code if insider else None,
        bonuses=bonuses,
        rating=next((r for r in v.ratings().rows if r.team.id == team.id), None),
        share=team_share(request, v, team.id),
    )


router = Router(path="/t/{tournament_id:str}", route_handlers=[my_team, team_list, team_page])
