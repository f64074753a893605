"""``/api/v1/tournaments/{id}/highlights``: the moments of the tournament worth telling.

Public, in time order (oldest first), each with its teams, its match and that match's photos;
hidden ones are left out, and organizers see them too with ``all=true`` (a different URL, so a
cache in front never mixes the two). Organizers hide and show one; retracted highlights (their
result stopped counting) are gone for everyone. Kinds and rules: ``docs/highlights.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import PathParameter, QueryParameter

from beerolympics.domain.codes import ID_PATTERN
from beerolympics.domain.errors import Forbidden
from beerolympics.domain.highlights import Kind
from beerolympics.projections.highlights import HighlightRecord
from beerolympics.projections.media import MediaItem, MediaView
from beerolympics.projections.play_views import TeamRef
from beerolympics.projections.views import Page
from beerolympics.runtime import Runtime
from beerolympics.web.api.media import view as media_view
from beerolympics.web.api.tournaments import ERRORS, SECURITY, Cursor, TournamentId
from beerolympics.web.context import actor, public_read, runtime
from beerolympics.web.http import decode_cursor, encode_cursor, json_response

HighlightId = Annotated[
    str, PathParameter(max_length=40, pattern=ID_PATTERN, description="The highlight's id.")
]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Items per page.")]


class GameRef(msgspec.Struct, frozen=True):
    id: str
    name: str


class HighlightView(msgspec.Struct, frozen=True):
    """One highlight. ``kind`` is one of ``first_blood``, ``upset``, ``nail_biter``,
    ``streak``, ``clincher``, ``perfect_run``, ``comeback``, ``lead_change``; ``detail``
    holds its numbers (an upset's ``chance``, a streak's ``wins``, a clincher's ``scope``:
    ``game`` or ``title``…). ``match`` is the match it was found in (``GET …/matches/{match}``),
    ``photos`` that match's photos and clips; ``at`` when it was recorded."""

    id: str
    kind: str
    text: str
    teams: list[TeamRef]
    game: GameRef
    match: str
    detail: dict[str, float | int | str]
    photos: list[MediaView]
    at: dt.datetime
    position: int
    hidden: bool = False


def highlight_view(
    rt: Runtime, tournament_id: str, record: HighlightRecord, photos: list[MediaItem]
) -> HighlightView:
    state = rt.catalog.get(tournament_id)
    teams = []
    for team_id in record.teams:
        team = state.teams.get(team_id)
        teams.append(
            TeamRef(team.id, team.name, team.colour, team.flag)
            if team is not None
            else TeamRef(team_id, team_id, "", "")
        )
    game = state.games.get(record.game_id)
    return HighlightView(
        id=record.id,
        kind=record.kind,
        text=record.text,
        teams=teams,
        game=GameRef(record.game_id, game.name if game is not None else ""),
        match=record.match,
        detail=record.detail,
        photos=[media_view(rt, item) for item in photos],
        at=record.at,
        position=record.position,
        hidden=record.hidden,
    )


def live_view(rt: Runtime) -> Callable[[str, HighlightRecord], HighlightView]:
    """How live frames render a highlight: as the API does, photos as they are now."""

    def build(tournament_id: str, record: HighlightRecord) -> HighlightView:
        photos = rt.highlight_states.photos(tournament_id).get(record.match, [])
        return highlight_view(rt, tournament_id, record, photos)

    return build


@get("/", summary="Highlights", tags=["highlights"], responses={403: ERRORS[403], 404: ERRORS[404]})
async def list_highlights(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    kind: Annotated[Kind | None, QueryParameter(description="Only those of this kind.")] = None,
    everything: Annotated[
        bool, QueryParameter(name="all", description="Organizers: hidden ones too.")
    ] = False,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Response[Page[HighlightView]]:
    """Oldest first. Without ``all`` hidden ones are left out (and the answer is public)."""
    rt = runtime(request)
    rt.catalog.get(tournament_id)
    if everything:
        who = actor(request, tournament_id)
        if not (who.in_tournament(tournament_id) and who.role == "organizer"):
            raise Forbidden("only organizers see hidden highlights")

    def build() -> Page[HighlightView]:
        found = [
            r
            for r in rt.highlight_states.highlights(tournament_id, hidden=everything)
            if kind is None or r.kind == kind
        ]
        after = decode_cursor(cursor)
        rest = [r for r in found if after is None or r.position > after]
        page = rest[:limit]
        photos = rt.highlight_states.photos(tournament_id)
        return Page(
            items=[highlight_view(rt, tournament_id, r, photos.get(r.match, [])) for r in page],
            next_cursor=encode_cursor(page[-1].position) if len(rest) > limit else None,
            total=len(found),
        )

    if everything:
        return json_response(build())
    return public_read(request, tournament_id, ("highlights", kind, cursor, limit), build)


@get(
    "/{highlight_id:str}",
    summary="A highlight",
    tags=["highlights"],
    responses={404: ERRORS[404]},
)
async def get_highlight(
    request: Request[Any, Any, Any], tournament_id: TournamentId, highlight_id: HighlightId
) -> Response[HighlightView]:
    """Hidden ones for organizers only."""
    rt = runtime(request)
    record = rt.highlights.get(tournament_id, actor(request, tournament_id), highlight_id)
    photos = rt.highlight_states.photos(tournament_id).get(record.match, [])
    return json_response(highlight_view(rt, tournament_id, record, photos))


async def _set_hidden(
    request: Request[Any, Any, Any], tournament_id: str, highlight_id: str, hidden: bool
) -> Response[HighlightView]:
    rt = runtime(request)
    record = await rt.highlights.set_hidden(
        tournament_id, actor(request, tournament_id), highlight_id, hidden
    )
    photos = rt.highlight_states.photos(tournament_id).get(record.match, [])
    return json_response(highlight_view(rt, tournament_id, record, photos))


@post(
    "/{highlight_id:str}/hide",
    summary="Hide a highlight",
    tags=["highlights"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def hide_highlight(
    request: Request[Any, Any, Any], tournament_id: TournamentId, highlight_id: HighlightId
) -> Response[HighlightView]:
    """Organizers: gone from phones, the TV and the public list, live; kept, and can be shown
    again. (A ``highlight.created`` webhook already sent stays sent.)"""
    return await _set_hidden(request, tournament_id, highlight_id, True)


@post(
    "/{highlight_id:str}/show",
    summary="Show a hidden highlight again",
    tags=["highlights"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def show_highlight(
    request: Request[Any, Any, Any], tournament_id: TournamentId, highlight_id: HighlightId
) -> Response[HighlightView]:
    return await _set_hidden(request, tournament_id, highlight_id, False)


router = Router(
    path="/tournaments/{tournament_id:str}/highlights",
    route_handlers=[list_highlights, get_highlight, hide_highlight, show_highlight],
)
