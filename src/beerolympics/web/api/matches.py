"""``/api/v1/tournaments/{id}/matches``: the schedule, match pages and everything done to a
match — call, start, report, confirm, dispute, resolve, override, forfeit, reopen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from litestar import Request, Response, Router, get, post
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from beerolympics.domain.codes import MATCH_PATTERN
from beerolympics.domain.commands import (
    CallMatch,
    DisputeResult,
    Forfeit,
    OverrideResult,
    Reopen,
    ReportResult,
    ResolveDispute,
)
from beerolympics.domain.errors import NotFound
from beerolympics.domain.identity import Actor
from beerolympics.projections.play_views import MatchDetailView, MatchView
from beerolympics.projections.views import Page
from beerolympics.services.matches import split_key
from beerolympics.services.runner import IdempotencyKey
from beerolympics.web.api.games import started_run, views
from beerolympics.web.api.tournaments import (
    ERRORS,
    SECURITY,
    Cursor,
    IdempotencyHeader,
    Limit,
    TournamentId,
)
from beerolympics.web.context import actor, public_read, runtime
from beerolympics.web.http import (
    decode_cursor,
    encode_cursor,
    idempotency_key,
    if_match_version,
    json_response,
)

MatchId = Annotated[
    str,
    PathParameter(
        max_length=140,
        pattern=MATCH_PATTERN,
        description="`{game_id}.{short}`: the game's id, a dot, and the match's short id in the"
        " game's plan, e.g. `gm_k2x9a1b3.W1-3`. Short ids: `R<round>-<n>` (knockout),"
        " `W<round>-<n>`, `L<round>-<n>`, `GF1`, `GF2` (double elimination: winners, losers,"
        " grand final and its reset), `3P` / `P-3P` (third place), `<group>-R<round>-<n>` and"
        " `P<round>-<n>` (groups, playoff), `R<round>-<n>` (round robin), `S<round>-<n>`"
        " (Swiss), `H<round>-<n>` (heats).",
    ),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", max_length=64, description='The match ETag ("v<n>").'),
]
MatchStatus = Literal[
    "pending",
    "ready",
    "called",
    "in_progress",
    "submitted",
    "disputed",
    "confirmed",
    "reopened",
    "flagged",
    "bye",
    "void",
]


def _detail(
    request: Request[Any, Any, Any], tournament_id: str, match: str
) -> tuple[MatchDetailView, int]:
    game_id, spec_id = split_key(match)
    run = started_run(request, tournament_id, game_id)
    if spec_id not in run.specs:
        raise NotFound(f"no match {match!r}", code="match_not_found")
    detail = views(request, tournament_id).match_detail(run, spec_id)
    return detail, detail.version


@get("/", summary="Schedule", tags=["matches"], responses={404: ERRORS[404]})
async def schedule(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    game_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    team_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    status: Annotated[MatchStatus | None, QueryParameter()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[Page[MatchView]]:
    """Every match of every started game in plan order; filter by game, team or status."""
    after = decode_cursor(cursor)

    def build() -> Page[MatchView]:
        matches = [
            m
            for m in views(request, tournament_id).all_matches()
            if (game_id is None or m.game_id == game_id)
            and (status is None or m.status == status)
            and (
                team_id is None or any(s.team is not None and s.team.id == team_id for s in m.slots)
            )
        ]
        rest = [(i, m) for i, m in enumerate(matches) if after is None or i > after]
        page = rest[:limit]
        return Page(
            items=[m for _, m in page],
            next_cursor=encode_cursor(page[-1][0]) if len(rest) > limit else None,
            total=len(matches),
        )

    return public_read(
        request, tournament_id, ("schedule", game_id, team_id, status, cursor, limit), build
    )


@get(
    "/{match:str}",
    summary="A match and its history",
    tags=["matches"],
    responses={404: ERRORS[404]},
)
async def get_match(
    request: Request[Any, Any, Any], tournament_id: TournamentId, match: MatchId
) -> Response[MatchDetailView]:
    """The ETag is the match's version: send it as ``If-Match`` with a command."""
    detail, version = _detail(request, tournament_id, match)
    return json_response(
        detail, etag=f'"v{version}"', cache_control="public, max-age=0, must-revalidate"
    )


async def _command(
    request: Request[Any, Any, Any],
    tournament_id: str,
    match: str,
    run: Callable[[Actor, IdempotencyKey | None, int | None], Awaitable[object]],
    name: str,
    payload: object = None,
) -> Response[Any]:
    await run(
        actor(request, tournament_id),
        idempotency_key(request, name, [match, payload]),
        if_match_version(request),
    )
    detail, version = _detail(request, tournament_id, match)
    return json_response(detail, etag=f'"v{version}"')


_MATCH_ERRORS = {**ERRORS}


@post(
    "/{match:str}/call",
    summary="Call to a station",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def call_match(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    data: JSONBody[CallMatch],
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    """Organizers and referees (the queue does this by itself for games with auto-calling)."""
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.call_match(
            tournament_id, who, match, data, idempotency=key, if_match=version
        ),
        "call",
        data,
    )


@post(
    "/{match:str}/start",
    summary="Start playing",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def start_match(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    """A captain of either side, or an official."""
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.start_match(
            tournament_id, who, match, idempotency=key, if_match=version
        ),
        "start",
    )


@post(
    "/{match:str}/result",
    summary="Report the result",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def report(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    data: JSONBody[ReportResult],
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    """A captain reports and the other side confirms (or it counts after the deadline); an
    official's report counts at once. A called match needs no start first; an official may
    report any ready match, a captain only one that was called or started."""
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.report(
            tournament_id, who, match, data, idempotency=key, if_match=version
        ),
        "report",
        data,
    )


@post(
    "/{match:str}/confirm",
    summary="Confirm the reported result",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def confirm(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    """The other side's captain (or an official)."""
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.confirm(
            tournament_id, who, match, idempotency=key, if_match=version
        ),
        "confirm",
    )


@post(
    "/{match:str}/dispute",
    summary="Dispute the reported result",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def dispute(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    data: JSONBody[DisputeResult],
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.dispute(
            tournament_id, who, match, data, idempotency=key, if_match=version
        ),
        "dispute",
        data,
    )


@post(
    "/{match:str}/resolution",
    summary="Resolve a dispute",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def resolve_dispute(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    data: JSONBody[ResolveDispute],
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    """Organizers: accept the report, override it with ``result``, or order a replay."""
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.resolve_dispute(
            tournament_id, who, match, data, idempotency=key, if_match=version
        ),
        "resolve",
        data,
    )


@post(
    "/{match:str}/override",
    summary="Set the result",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def override(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    data: JSONBody[OverrideResult],
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    """Officials, with a reason. Dependent matches are reset (not played yet) or flagged."""
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.override(
            tournament_id, who, match, data, idempotency=key, if_match=version
        ),
        "override",
        data,
    )


@post(
    "/{match:str}/forfeit",
    summary="Record a forfeit",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def forfeit(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    data: JSONBody[Forfeit],
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    """Officials. Both teams of a match: a double forfeit."""
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.forfeit(
            tournament_id, who, match, data, idempotency=key, if_match=version
        ),
        "forfeit",
        data,
    )


@post(
    "/{match:str}/reopen",
    summary="Reopen a confirmed result",
    tags=["matches"],
    status_code=200,
    security=SECURITY,
    responses=_MATCH_ERRORS,
)
async def reopen(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: MatchId,
    data: JSONBody[Reopen],
    idempotency: IdempotencyHeader = None,
    if_match: IfMatch = None,
) -> Response[MatchDetailView]:
    """Organizers, with a reason. Matches that depended on it are reset or flagged."""
    games = runtime(request).matches
    return await _command(
        request,
        tournament_id,
        match,
        lambda who, key, version: games.reopen(
            tournament_id, who, match, data, idempotency=key, if_match=version
        ),
        "reopen",
        data,
    )


router = Router(
    path="/tournaments/{tournament_id:str}/matches",
    route_handlers=[
        schedule,
        get_match,
        call_match,
        start_match,
        report,
        confirm,
        dispute,
        resolve_dispute,
        override,
        forfeit,
        reopen,
    ],
)
