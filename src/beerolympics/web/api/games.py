"""``/api/v1/tournaments/{id}/games``: set up games, start them, their brackets and tables."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from beerolympics.domain.codes import ID_PATTERN
from beerolympics.domain.commands import AddGame, StartGame, UpdateGame
from beerolympics.domain.errors import NotFound
from beerolympics.projections.play import GameRun
from beerolympics.projections.play_views import BracketView, GameView, StandingsView, Views
from beerolympics.projections.views import Page
from beerolympics.web.api.tournaments import ERRORS, SECURITY, IdempotencyHeader, TournamentId
from beerolympics.web.context import actor, public_read, runtime
from beerolympics.web.http import idempotency_key, json_response

GameId = Annotated[
    str, PathParameter(max_length=64, pattern=ID_PATTERN, description="The game's id (`gm_…`).")
]


def views(request: Request[Any, Any, Any], tournament_id: str) -> Views:
    rt = runtime(request)
    return Views(rt.catalog.get(tournament_id), rt.play.get(tournament_id))


def started_run(request: Request[Any, Any, Any], tournament_id: str, game_id: str) -> GameRun:
    rt = runtime(request)
    rt.catalog.get(tournament_id).game(game_id)
    run = rt.play.get(tournament_id).games.get(game_id)
    if run is None or run.resolution is None:
        raise NotFound("this game has not started", code="game_not_started")
    return run


def _game_response(
    request: Request[Any, Any, Any], tournament_id: str, game_id: str
) -> Response[Any]:
    v = views(request, tournament_id)
    return json_response(v.game(v.state.game(game_id)), etag=f'"v{v.state.version}"')


@get("/", summary="List games", tags=["games"], responses={404: ERRORS[404]})
async def list_games(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[Page[GameView]]:
    def build() -> Page[GameView]:
        v = views(request, tournament_id)
        items = [v.game(g) for g in v.state.games.values()]
        return Page(items=items, next_cursor=None, total=len(items))

    return public_read(request, tournament_id, ("games",), build)


@post(
    "/", summary="Add a game", tags=["games"], status_code=201, security=SECURITY, responses=ERRORS
)
async def add_game(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[AddGame],
    idempotency: IdempotencyHeader = None,
) -> Response[GameView]:
    """Organizers only. ``options`` depend on the format (see the format's documentation)."""
    outcome = await runtime(request).games.add_game(
        tournament_id,
        actor(request, tournament_id),
        data,
        idempotency=idempotency_key(request, "add_game", data),
    )
    response = _game_response(request, tournament_id, outcome.id)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/tournaments/{tournament_id}/games/{outcome.id}"
    return response


@get("/{game_id:str}", summary="A game", tags=["games"], responses={404: ERRORS[404]})
async def get_game(
    request: Request[Any, Any, Any], tournament_id: TournamentId, game_id: GameId
) -> Response[GameView]:
    views(request, tournament_id).state.game(game_id)

    def build() -> GameView:
        v = views(request, tournament_id)
        return v.game(v.state.game(game_id))

    return public_read(request, tournament_id, ("game", game_id), build)


@patch(
    "/{game_id:str}", summary="Change a game", tags=["games"], security=SECURITY, responses=ERRORS
)
async def update_game(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    game_id: GameId,
    data: JSONBody[UpdateGame],
    idempotency: IdempotencyHeader = None,
) -> Response[GameView]:
    """Format options are fixed once the game started; points and stations may change."""
    await runtime(request).games.update_game(
        tournament_id,
        actor(request, tournament_id),
        game_id,
        data,
        idempotency=idempotency_key(request, "update_game", data),
    )
    return _game_response(request, tournament_id, game_id)


@delete(
    "/{game_id:str}",
    summary="Remove a game",
    tags=["games"],
    status_code=204,
    security=SECURITY,
    responses=ERRORS,
)
async def remove_game(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    game_id: GameId,
    idempotency: IdempotencyHeader = None,
) -> None:
    """Only before it started."""
    await runtime(request).games.remove_game(
        tournament_id,
        actor(request, tournament_id),
        game_id,
        idempotency=idempotency_key(request, "remove_game", game_id),
    )


@post(
    "/{game_id:str}/start",
    summary="Start a game",
    tags=["games"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def start_game(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    game_id: GameId,
    data: JSONBody[StartGame],
    idempotency: IdempotencyHeader = None,
) -> Response[GameView]:
    """Builds the bracket or schedule from the active teams (or ``teams``, in seed order)."""
    await runtime(request).games.start_game(
        tournament_id,
        actor(request, tournament_id),
        game_id,
        data,
        idempotency=idempotency_key(request, "start_game", data),
    )
    return _game_response(request, tournament_id, game_id)


@get("/{game_id:str}/bracket", summary="Bracket", tags=["games"], responses={404: ERRORS[404]})
async def bracket(
    request: Request[Any, Any, Any], tournament_id: TournamentId, game_id: GameId
) -> Response[BracketView]:
    """Every match by section and round, who feeds whom, byes, and final placements so far."""
    run = started_run(request, tournament_id, game_id)
    return public_read(
        request,
        tournament_id,
        ("bracket", game_id),
        lambda: views(request, tournament_id).bracket(run),
    )


@get("/{game_id:str}/standings", summary="Standings", tags=["games"], responses={404: ERRORS[404]})
async def standings(
    request: Request[Any, Any, Any], tournament_id: TournamentId, game_id: GameId
) -> Response[StandingsView]:
    """League tables (round robin, Swiss, groups) with their tie-breaks, and placements."""
    run = started_run(request, tournament_id, game_id)
    return public_read(
        request,
        tournament_id,
        ("standings", game_id),
        lambda: views(request, tournament_id).standings(run),
    )


router = Router(
    path="/tournaments/{tournament_id:str}/games",
    route_handlers=[
        list_games,
        add_game,
        get_game,
        update_game,
        remove_game,
        start_game,
        bracket,
        standings,
    ],
)
