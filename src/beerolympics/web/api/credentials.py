"""``/api/v1/tournaments/{id}/credentials``: the devices that may act, and kicking one."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from beerolympics.domain.codes import ID_PATTERN
from beerolympics.domain.commands import AddReferee
from beerolympics.domain.events import Role
from beerolympics.domain.identity import require_organizer
from beerolympics.projections.views import CredentialView, Page, credential_view
from beerolympics.web.api.tournaments import (
    ERRORS,
    SECURITY,
    Cursor,
    IdempotencyHeader,
    Limit,
    TournamentId,
)
from beerolympics.web.context import actor, runtime
from beerolympics.web.http import (
    PRIVATE,
    decode_cursor,
    encode_cursor,
    idempotency_key,
    json_response,
)


@get("/", summary="List devices", tags=["organizers"], security=SECURITY, responses=ERRORS)
async def list_credentials(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    role: Annotated[Role | None, QueryParameter()] = None,
    revoked: Annotated[bool | None, QueryParameter()] = None,
    team_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[Page[CredentialView]]:
    """Organizers only; in issue order."""
    state = runtime(request).catalog.get(tournament_id)
    require_organizer(actor(request, tournament_id), tournament_id)
    after = decode_cursor(cursor)
    matches = [
        (i, c)
        for i, c in enumerate(state.credentials.values())
        if (role is None or c.role == role)
        and (revoked is None or c.revoked == revoked)
        and (team_id is None or c.team_id == team_id)
    ]
    rest = [(i, c) for i, c in matches if after is None or i > after]
    page = rest[:limit]
    return json_response(
        Page(
            items=[credential_view(c) for _, c in page],
            next_cursor=encode_cursor(page[-1][0]) if len(rest) > limit else None,
            total=len(matches),
        ),
        etag=f'"v{state.version}"',
        cache_control=PRIVATE,
    )


@delete(
    "/{credential_id:str}",
    summary="Revoke a device",
    tags=["organizers"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def revoke_credential(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    credential_id: Annotated[str, PathParameter(max_length=64, pattern=ID_PATTERN)],
    idempotency: IdempotencyHeader = None,
) -> Response[CredentialView]:
    """Kick a device: its token stops working at once, everywhere."""
    rt = runtime(request)
    await rt.tournaments.revoke_credential(
        tournament_id,
        actor(request, tournament_id),
        credential_id,
        idempotency=idempotency_key(request, "revoke_credential", credential_id),
    )
    state = rt.catalog.get(tournament_id)
    return json_response(credential_view(state.credentials[credential_id]), cache_control=PRIVATE)


class RefereeCredential(msgspec.Struct, frozen=True):
    """A referee's credential, shown this once: hand it over as a link or QR code."""

    credential_id: str
    token: str


@post(
    "/referees",
    summary="Add a referee device",
    tags=["organizers"],
    status_code=201,
    security=SECURITY,
    responses=ERRORS,
)
async def add_referee(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[AddReferee],
    idempotency: IdempotencyHeader = None,
) -> Response[RefereeCredential]:
    """Referees call matches, record results and review bonus claims, but cannot change the
    tournament."""
    rt = runtime(request)
    outcome = await rt.games.add_referee(
        tournament_id,
        actor(request, tournament_id),
        data,
        idempotency=idempotency_key(request, "add_referee", data),
    )
    token = rt.signer.sign(tournament_id, outcome.credential_id)
    return json_response(
        RefereeCredential(outcome.credential_id, token), status=201, cache_control="no-store"
    )


router = Router(
    path="/tournaments/{tournament_id:str}/credentials",
    route_handlers=[list_credentials, revoke_credential, add_referee],
)
