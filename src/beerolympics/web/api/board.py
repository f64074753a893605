"""The big screens: overall leaderboard, stations (now playing / up next), a team's page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.params import PathParameter

from beerolympics.domain import stations
from beerolympics.projections.play_views import (
    LeaderboardView,
    MatchView,
    StationBoard,
    StationsView,
    StationView,
    TeamPlayView,
)
from beerolympics.web.api.games import views
from beerolympics.web.api.tournaments import ERRORS, TournamentId
from beerolympics.web.context import public_read, runtime

TeamId = Annotated[str, PathParameter(max_length=64)]


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


@get("/stations", summary="Now playing and up next", tags=["matches"], responses={404: ERRORS[404]})
async def station_board(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[StationsView]:
    """Per station: the match there now and the one the queue will send next; then the queue."""
    runtime(request).play.get(tournament_id)

    def build() -> StationsView:
        v = views(request, tournament_id)
        play, state = v.play, v.state
        queued = stations.queue(
            list(play.waiting()),
            busy=play.busy,
            last_finished=play.last_finished,
            rest=dt.timedelta(seconds=state.rest_seconds),
        )
        queue = [_match(v, q.match.key) for q in queued]
        next_by_game: dict[str, list[MatchView]] = {}
        for view in queue:
            next_by_game.setdefault(view.game_id, []).append(view)
        boards = []
        for game in state.games.values():
            upcoming = list(next_by_game.get(game.id, []))
            for station in game.stations:
                current = play.stations.get((game.id, station.id))
                boards.append(
                    StationBoard(
                        game_id=game.id,
                        game=game.name,
                        station=StationView(station.id, station.name, current),
                        now_playing=_match(v, current) if current else None,
                        up_next=upcoming.pop(0) if upcoming else None,
                    )
                )
        return StationsView(stations=boards, queue=queue)

    return public_read(request, tournament_id, ("stations",), build)


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

    def build() -> TeamPlayView:
        v = views(request, tournament_id)
        mine = [
            m
            for m in v.all_matches()
            if any(s.team is not None and s.team.id == team_id for s in m.slots)
        ]
        now = next((m for m in mine if m.status in ("called", "in_progress")), None)
        row = next((r for r in v.play.leaderboard.rows() if r.team == team_id), None)
        return TeamPlayView(
            team=v.team(team_id),
            status=v.state.teams[team_id].status,
            rank=row.rank if row else None,
            points=row.points if row else 0.0,
            now=now,
            upcoming=[m for m in mine if m.status in ("ready", "pending") and m is not now],
            results=[
                m for m in mine if m.status in ("confirmed", "submitted", "disputed", "flagged")
            ],
        )

    return public_read(request, tournament_id, ("team-play", team_id), build)


def _match(v: Any, key: str) -> MatchView:
    game_id, _, spec_id = key.partition(".")
    return v.match(v.play.games[game_id], spec_id)  # type: ignore[no-any-return]


router = Router(
    path="/tournaments/{tournament_id:str}",
    route_handlers=[leaderboard, station_board, team_play],
)
