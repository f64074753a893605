"""``/api/v1/tournaments``: create, read, configure and run tournaments; organizer sign-in."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from beerolympics.domain.codes import SLUG_PATTERN
from beerolympics.domain.commands import (
    CreateTournament,
    LogIn,
    SetPassword,
    SetRegistration,
    UpdateTournament,
)
from beerolympics.domain.errors import NotFound
from beerolympics.domain.events import TournamentStatus
from beerolympics.domain.identity import SPECTATOR, ActorRole, require_any
from beerolympics.projections.views import (
    AccessView,
    MeView,
    Page,
    TournamentView,
    access_view,
    me_view,
    tournament_view,
)
from beerolympics.web.context import (
    actor,
    cookie_name,
    public_read,
    representations,
    runtime,
    set_credential_cookie,
)
from beerolympics.web.http import (
    PRIVATE,
    cached_json,
    decode_cursor,
    encode_cursor,
    idempotency_key,
    if_match_version,
    json_response,
    public_cache_control,
)
from beerolympics.web.problems import Problem

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page.")]
Cursor = Annotated[
    str | None, QueryParameter(max_length=64, description="`next_cursor` of the previous page.")
]
Query = Annotated[
    str | None, QueryParameter(max_length=60, description="Case-insensitive part of the name.")
]
TournamentId = Annotated[
    str,
    PathParameter(
        max_length=64,
        pattern=SLUG_PATTERN,
        description="The tournament's slug: lower-case letters, digits and dashes.",
    ),
]
IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=255,
        description="Repeat a request with the same key to get the first outcome again.",
    ),
]

ERRORS = {
    401: ResponseSpec(Problem, description="No valid credential."),
    403: ResponseSpec(Problem, description="The credential's role does not allow this."),
    404: ResponseSpec(Problem, description="No such tournament."),
    409: ResponseSpec(Problem, description="Conflicts with the current state."),
    422: ResponseSpec(Problem, description="Invalid input."),
}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]


class CreatedTournament(msgspec.Struct, frozen=True):
    """A new tournament and the organizer credential — shown this once."""

    tournament: TournamentView
    credential_id: str
    token: str
    join_code: str


class Session(msgspec.Struct, frozen=True):
    """A credential issued to this device."""

    tournament_id: str
    credential_id: str
    role: ActorRole
    token: str


class JoinTarget(msgspec.Struct, frozen=True):
    tournament_id: str
    name: str
    status: TournamentStatus
    registration_open: bool


def _tournament_response(request: Request[Any, Any, Any], tournament_id: str) -> Response[Any]:
    state = runtime(request).catalog.get(tournament_id)
    return json_response(tournament_view(state), etag=f'"v{state.version}"')


@get("/", summary="List tournaments", tags=["tournaments"])
async def list_tournaments(
    request: Request[Any, Any, Any],
    status: Annotated[TournamentStatus | None, QueryParameter()] = None,
    q: Query = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[Page[TournamentView]]:
    """Newest first. Filter by ``status`` and by ``q`` (part of the name)."""
    rt = runtime(request)
    before = decode_cursor(cursor)
    position = rt.projector.position

    def build() -> Page[TournamentView]:
        catalog = rt.catalog
        needle = q.casefold() if q else None
        matches = [
            (catalog.created_at_position[t], catalog.tournaments[t])
            for t in reversed(catalog.order)
            if (status is None or catalog.tournaments[t].status == status)
            and (needle is None or needle in catalog.tournaments[t].name.casefold())
        ]
        after = [m for m in matches if before is None or m[0] < before]
        page = after[:limit]
        more = len(after) > limit
        return Page(
            items=[tournament_view(s) for _, s in page],
            next_cursor=encode_cursor(page[-1][0]) if more else None,
            total=len(matches),
        )

    settings = rt.settings
    return cached_json(
        request,
        representations(request),
        ("tournaments", status, q, cursor, limit),
        f'"g{position}"',
        position,
        build,
        public_cache_control(settings.public_s_maxage, settings.stale_while_revalidate),
    )


@post(
    "/",
    summary="Create a tournament",
    tags=["tournaments"],
    status_code=201,
    responses={422: ERRORS[422], 409: ERRORS[409]},
)
async def create_tournament(
    request: Request[Any, Any, Any],
    data: JSONBody[CreateTournament],
    idempotency: IdempotencyHeader = None,
) -> Response[CreatedTournament]:
    """Returns the organizer credential once; it is also set as an HttpOnly cookie."""
    rt = runtime(request)
    outcome = await rt.tournaments.create_tournament(
        data, idempotency=idempotency_key(request, "create_tournament", data)
    )
    state = rt.catalog.get(outcome.tournament_id)
    token = rt.signer.sign(state.id, outcome.credential_id)
    response = json_response(
        CreatedTournament(tournament_view(state), outcome.credential_id, token, state.join_code),
        status=201,
        etag=f'"v{state.version}"',
    )
    response.headers["Location"] = f"/api/v1/tournaments/{state.id}"
    set_credential_cookie(request, response, state.id, token)
    return response


@get(
    "/{tournament_id:str}",
    summary="A tournament",
    tags=["tournaments"],
    responses={404: ERRORS[404]},
)
async def get_tournament(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[TournamentView]:
    state = runtime(request).catalog.get(tournament_id)
    return public_read(
        request,
        tournament_id,
        ("tournament",),
        lambda: tournament_view(state),
        etag=f'"v{state.version}"',
    )


@patch(
    "/{tournament_id:str}",
    summary="Change a tournament's settings",
    tags=["tournaments"],
    security=SECURITY,
    responses=ERRORS,
)
async def update_tournament(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[UpdateTournament],
    idempotency: IdempotencyHeader = None,
    if_match: Annotated[
        str | None,
        HeaderParameter(name="If-Match", max_length=64, description='The ETag you read ("v<n>").'),
    ] = None,
) -> Response[TournamentView]:
    """Organizers only. Send ``If-Match`` to refuse the change if someone else changed it."""
    await runtime(request).tournaments.update_tournament(
        tournament_id,
        actor(request, tournament_id),
        data,
        if_match=if_match_version(request),
        idempotency=idempotency_key(request, "update_tournament", data),
    )
    return _tournament_response(request, tournament_id)


@post(
    "/{tournament_id:str}/registration",
    summary="Open or close registration",
    tags=["tournaments"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def set_registration(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[SetRegistration],
    idempotency: IdempotencyHeader = None,
) -> Response[TournamentView]:
    await runtime(request).tournaments.set_registration(
        tournament_id,
        actor(request, tournament_id),
        open_=data.open,
        idempotency=idempotency_key(request, "set_registration", data),
    )
    return _tournament_response(request, tournament_id)


@post(
    "/{tournament_id:str}/start",
    summary="Go live",
    tags=["tournaments"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def start_tournament(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    idempotency: IdempotencyHeader = None,
) -> Response[TournamentView]:
    """Closes registration; needs at least two teams."""
    await runtime(request).tournaments.start_tournament(
        tournament_id,
        actor(request, tournament_id),
        idempotency=idempotency_key(request, "start_tournament"),
    )
    return _tournament_response(request, tournament_id)


@post(
    "/{tournament_id:str}/finish",
    summary="Finish a live tournament",
    tags=["tournaments"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def finish_tournament(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    idempotency: IdempotencyHeader = None,
) -> Response[TournamentView]:
    await runtime(request).tournaments.finish_tournament(
        tournament_id,
        actor(request, tournament_id),
        idempotency=idempotency_key(request, "finish_tournament"),
    )
    return _tournament_response(request, tournament_id)


@put(
    "/{tournament_id:str}/password",
    summary="Set the organizer password",
    tags=["organizers"],
    security=SECURITY,
    responses=ERRORS,
)
async def set_password(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[SetPassword],
    idempotency: IdempotencyHeader = None,
) -> Response[TournamentView]:
    """With a password, organizers can sign in on more devices."""
    await runtime(request).tournaments.set_password(
        tournament_id,
        actor(request, tournament_id),
        data,
        idempotency=idempotency_key(request, "set_password", data),
    )
    return _tournament_response(request, tournament_id)


@post(
    "/{tournament_id:str}/sessions",
    summary="Organizer sign-in",
    tags=["organizers"],
    status_code=201,
    responses={401: ERRORS[401], 404: ERRORS[404], 422: ERRORS[422]},
)
async def log_in(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[LogIn],
    idempotency: IdempotencyHeader = None,
) -> Response[Session]:
    """Exchange the organizer password for an organizer credential on this device."""
    rt = runtime(request)
    outcome = await rt.tournaments.log_in(
        tournament_id, data, idempotency=idempotency_key(request, "log_in", data)
    )
    token = rt.signer.sign(tournament_id, outcome.credential_id)
    response = json_response(
        Session(tournament_id, outcome.credential_id, "organizer", token), status=201
    )
    set_credential_cookie(request, response, tournament_id, token)
    return response


@delete(
    "/{tournament_id:str}/sessions/current",
    summary="Sign out this device",
    tags=["organizers", "teams"],
    status_code=204,
    responses={404: ERRORS[404]},
)
async def log_out(request: Request[Any, Any, Any], tournament_id: TournamentId) -> Response[None]:
    """Forgets the cookie. The credential itself stays valid until an organizer revokes it."""
    runtime(request).catalog.get(tournament_id)
    response: Response[None] = Response(content=None, status_code=204)
    response.delete_cookie(cookie_name(tournament_id), path="/")
    return response


@get(
    "/{tournament_id:str}/me",
    summary="Who this credential is",
    tags=["organizers", "teams"],
    security=SECURITY,
    responses={401: ERRORS[401], 404: ERRORS[404]},
)
async def me(request: Request[Any, Any, Any], tournament_id: TournamentId) -> Response[MeView]:
    runtime(request).catalog.get(tournament_id)
    who = actor(request, tournament_id)
    return json_response(me_view(who if who.tournament_id == tournament_id else SPECTATOR))


@get(
    "/{tournament_id:str}/access",
    summary="Join and invite codes",
    tags=["organizers", "teams"],
    security=SECURITY,
    responses=ERRORS,
)
async def access(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[AccessView]:
    """Members see the join code and their team's invite code, to bring others in."""
    state = runtime(request).catalog.get(tournament_id)
    who = actor(request, tournament_id)
    require_any(who, tournament_id, "organizer", "referee", "captain", "player")
    return json_response(access_view(state, who), cache_control=PRIVATE)


@get(
    "/join/{code:str}",
    summary="Find a tournament by join code",
    tags=["tournaments"],
    responses={404: ERRORS[404]},
)
async def find_by_code(
    request: Request[Any, Any, Any],
    code: Annotated[str, PathParameter(max_length=16)],
) -> Response[JoinTarget]:
    """What a phone asks after scanning or typing a join code."""
    rt = runtime(request)
    tournament_id = rt.catalog.join_codes.get(code.strip().upper())
    if tournament_id is None:
        raise NotFound("no tournament has this join code", code="invalid_join_code")
    state = rt.catalog.get(tournament_id)
    return json_response(
        JoinTarget(state.id, state.name, state.status, state.registration_open),
        cache_control="no-store",
    )


router = Router(
    path="/tournaments",
    route_handlers=[
        list_tournaments,
        create_tournament,
        get_tournament,
        update_tournament,
        set_registration,
        start_tournament,
        finish_tournament,
        set_password,
        log_in,
        log_out,
        me,
        access,
    ],
)
join_router = Router(path="/", route_handlers=[find_by_code])
