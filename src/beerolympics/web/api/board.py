"""The big screens: overall leaderboard, stations (now playing / up next), a team's page."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.params import PathParameter

from beerolympics.domain.codes import ID_PATTERN
from beerolympics.projections.play_views import (
    LeaderboardView,
    RaceView,
    RatingsView,
    StationsView,
    TeamPlayView,
)
from beerolympics.web.api.games import views
from beerolympics.web.api.tournaments import ERRORS, TournamentId
from beerolympics.web.context import public_read, runtime

TeamId = Annotated[
    str, PathParameter(max_length=64, pattern=ID_PATTERN, description="The team's id (`tm_…`).")
]


@get(
    "/leaderboard", summary="Overall leaderboard", tags=["standings"], responses={404: ERRORS[404]}
)
async def leaderboard(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[LeaderboardView]:
    """Every team ranked by points across games, then the tournament's tie-breaks; teams still
    tied share a rank. ``decided_by`` names the tie-break that separated a team."""
    runtime(request).play.get(tournament_id)
    return public_read(
        request,
        tournament_id,
        ("leaderboard",),
        lambda: views(request, tournament_id).leaderboard(),
    )


@get(
    "/leaderboard/history",
    summary="The points race",
    tags=["standings"],
    responses={404: ERRORS[404]},
)
async def leaderboard_history(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[RaceView]:
    """Every team's overall points after each change of them, oldest first."""
    runtime(request).play.get(tournament_id)
    return public_read(
        request, tournament_id, ("race",), lambda: views(request, tournament_id).race()
    )


@get("/ratings", summary="Team ratings", tags=["standings"], responses={404: ERRORS[404]})
async def ratings(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[RatingsView]:
    """Every team's rating across all games, best first: openskill's Plackett-Luce model over
    every result that counts (heats by their places; forfeits and byes do not count), in the
    order results were confirmed. ``rating`` is ``mu - 3·sigma``: 0 before a team's first
    result. A game can be seeded by it (``"seeding": "rating"``)."""
    runtime(request).play.get(tournament_id)
    return public_read(
        request, tournament_id, ("ratings",), lambda: views(request, tournament_id).ratings()
    )


@get("/stations", summary="Now playing and up next", tags=["matches"], responses={404: ERRORS[404]})
async def station_board(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[StationsView]:
    """Per station: the match there now or, free, the one it takes next; then the queue."""
    runtime(request).play.get(tournament_id)
    return public_read(
        request, tournament_id, ("stations",), lambda: views(request, tournament_id).stations()
    )


@get(
    "/teams/{team_id:str}/play",
    summary="A team's matches and standing",
    tags=["teams"],
    responses={404: ERRORS[404]},
)
async def team_play(
    request: Request[Any, Any, Any], tournament_id: TournamentId, team_id: TeamId
) -> Response[TeamPlayView]:
    """Where the team is now, what is next, and its results."""
    runtime(request).catalog.get(tournament_id).team(team_id)
    return public_read(
        request,
        tournament_id,
        ("team-play", team_id),
        lambda: views(request, tournament_id).team_play(team_id),
    )


router = Router(
    path="/tournaments/{tournament_id:str}",
    route_handlers=[leaderboard, leaderboard_history, ratings, station_board, team_play],
)
