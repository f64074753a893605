"""``/api/v1/tournaments/{id}/teams`` and members: register, join, rosters, captaincy."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import HeaderParameter, JSONBody, PathParameter

from beerolympics.domain.codes import ID_PATTERN
from beerolympics.domain.commands import (
    AppointCaptain,
    JoinTeam,
    RegisterTeam,
    UpdateTeam,
    WithdrawTeam,
)
from beerolympics.projections.views import Page, TeamView, team_view
from beerolympics.web.api.tournaments import (
    ERRORS,
    SECURITY,
    Cursor,
    IdempotencyHeader,
    Limit,
    Query,
    TournamentId,
)
from beerolympics.web.context import actor, public_read, runtime, set_credential_cookie
from beerolympics.web.http import (
    decode_cursor,
    encode_cursor,
    idempotency_key,
    if_match_version,
    json_response,
)

TeamId = Annotated[
    str, PathParameter(max_length=64, pattern=ID_PATTERN, description="The team's id (`tm_…`).")
]
MemberId = Annotated[
    str, PathParameter(max_length=64, pattern=ID_PATTERN, description="The member's id (`mb_…`).")
]


class RegisteredTeam(msgspec.Struct, frozen=True):
    """A new team; its captain's credential and the code to invite teammates."""

    team: TeamView
    member_id: str
    credential_id: str
    token: str
    invite_code: str


class JoinedTeam(msgspec.Struct, frozen=True):
    team: TeamView
    member_id: str
    credential_id: str
    token: str


def _team_response(
    request: Request[Any, Any, Any], tournament_id: str, team_id: str
) -> Response[Any]:
    state = runtime(request).catalog.get(tournament_id)
    return json_response(team_view(state.team(team_id)), etag=f'"v{state.version}"')


@get("/", summary="List teams", tags=["teams"], responses={404: ERRORS[404]})
async def list_teams(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    q: Query = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[Page[TeamView]]:
    """In registration order; ``q`` filters by part of the name."""
    rt = runtime(request)
    state = rt.catalog.get(tournament_id)
    after = decode_cursor(cursor)

    def build() -> Page[TeamView]:
        needle = q.casefold() if q else None
        indexed = [
            (i, team)
            for i, team in enumerate(state.teams.values())
            if needle is None or needle in team.name.casefold()
        ]
        rest = [(i, t) for i, t in indexed if after is None or i > after]
        page = rest[:limit]
        return Page(
            items=[team_view(t) for _, t in page],
            next_cursor=encode_cursor(page[-1][0]) if len(rest) > limit else None,
            total=len(indexed),
        )

    return public_read(request, tournament_id, ("teams", q, cursor, limit), build)


@post(
    "/",
    summary="Register a team",
    tags=["teams"],
    status_code=201,
    responses={403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409], 422: ERRORS[422]},
)
async def register_team(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[RegisterTeam],
    idempotency: IdempotencyHeader = None,
) -> Response[RegisteredTeam]:
    """Needs the tournament's join code (organizers may leave it out). The caller becomes
    captain and gets a credential, also set as a cookie."""
    rt = runtime(request)
    caller = actor(request, tournament_id)
    outcome = await rt.tournaments.register_team(
        tournament_id,
        caller,
        data,
        idempotency=idempotency_key(request, "register_team", data),
    )
    state = rt.catalog.get(tournament_id)
    team = state.team(outcome.team_id or "")
    token = rt.signer.sign(tournament_id, outcome.credential_id)
    response = json_response(
        RegisteredTeam(
            team_view(team), outcome.member_id or "", outcome.credential_id, token, team.invite_code
        ),
        status=201,
        etag=f'"v{state.version}"',
    )
    response.headers["Location"] = f"/api/v1/tournaments/{tournament_id}/teams/{team.id}"
    if not caller.in_tournament(tournament_id):
        # An organizer registering a team for someone else keeps their own cookie.
        set_credential_cookie(request, response, tournament_id, token)
    return response


@get("/{team_id:str}", summary="A team", tags=["teams"], responses={404: ERRORS[404]})
async def get_team(
    request: Request[Any, Any, Any], tournament_id: TournamentId, team_id: TeamId
) -> Response[TeamView]:
    state = runtime(request).catalog.get(tournament_id)
    team = state.team(team_id)
    return public_read(
        request,
        tournament_id,
        ("team", team_id),
        lambda: team_view(team),
        etag=f'"v{state.version}"',
    )


@patch(
    "/{team_id:str}",
    summary="Change a team's name, colour, flag or motto",
    tags=["teams"],
    security=SECURITY,
    responses=ERRORS,
)
async def update_team(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    team_id: TeamId,
    data: JSONBody[UpdateTeam],
    idempotency: IdempotencyHeader = None,
    if_match: Annotated[str | None, HeaderParameter(name="If-Match", max_length=64)] = None,
) -> Response[TeamView]:
    """The team's captain or an organizer."""
    await runtime(request).tournaments.update_team(
        tournament_id,
        actor(request, tournament_id),
        team_id,
        data,
        if_match=if_match_version(request),
        idempotency=idempotency_key(request, "update_team", data),
    )
    return _team_response(request, tournament_id, team_id)


@post(
    "/{team_id:str}/captain",
    summary="Hand over the captaincy",
    tags=["teams"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def appoint_captain(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    team_id: TeamId,
    data: JSONBody[AppointCaptain],
    idempotency: IdempotencyHeader = None,
) -> Response[TeamView]:
    await runtime(request).tournaments.appoint_captain(
        tournament_id,
        actor(request, tournament_id),
        team_id,
        data,
        idempotency=idempotency_key(request, "appoint_captain", data),
    )
    return _team_response(request, tournament_id, team_id)


@delete(
    "/{team_id:str}/members/{member_id:str}",
    summary="Remove a member, or leave",
    tags=["teams"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def remove_member(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    team_id: TeamId,
    member_id: MemberId,
    idempotency: IdempotencyHeader = None,
) -> Response[TeamView]:
    """Organizers and the captain remove members; members remove themselves. Their devices'
    credentials are revoked."""
    await runtime(request).tournaments.remove_member(
        tournament_id,
        actor(request, tournament_id),
        team_id,
        member_id,
        idempotency=idempotency_key(request, "remove_member", [team_id, member_id]),
    )
    return _team_response(request, tournament_id, team_id)


@post(
    "/members",
    summary="Join a team with its invite code",
    tags=["teams"],
    status_code=201,
    responses={403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409], 422: ERRORS[422]},
)
async def join_team(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[JoinTeam],
    idempotency: IdempotencyHeader = None,
) -> Response[JoinedTeam]:
    rt = runtime(request)
    outcome = await rt.tournaments.join_team(
        tournament_id,
        actor(request, tournament_id),
        data,
        idempotency=idempotency_key(request, "join_team", data),
    )
    state = rt.catalog.get(tournament_id)
    team = state.team(outcome.team_id or "")
    token = rt.signer.sign(tournament_id, outcome.credential_id)
    response = json_response(
        JoinedTeam(team_view(team), outcome.member_id or "", outcome.credential_id, token),
        status=201,
        etag=f'"v{state.version}"',
    )
    set_credential_cookie(request, response, tournament_id, token)
    return response


@post(
    "/{team_id:str}/withdrawal",
    summary="Withdraw or disqualify a team",
    tags=["teams"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def withdraw_team(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    team_id: TeamId,
    data: JSONBody[WithdrawTeam],
    idempotency: IdempotencyHeader = None,
) -> Response[TeamView]:
    """Its captain or an organizer withdraws a team; only organizers disqualify. Its remaining
    matches are forfeited; a disqualified team also leaves the leaderboard."""
    await runtime(request).games.withdraw_team(
        tournament_id,
        actor(request, tournament_id),
        team_id,
        data,
        idempotency=idempotency_key(request, "withdraw_team", [team_id, data]),
    )
    return _team_response(request, tournament_id, team_id)


teams_router = Router(
    path="/tournaments/{tournament_id:str}/teams",
    route_handlers=[
        list_teams,
        register_team,
        get_team,
        update_team,
        appoint_captain,
        remove_member,
        withdraw_team,
    ],
)
members_router = Router(path="/tournaments/{tournament_id:str}", route_handlers=[join_team])
