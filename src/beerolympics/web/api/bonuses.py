"""``/api/v1/tournaments/{id}/bonuses``: bonus challenges, claims and their review."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import JSONBody, PathParameter

from beerolympics.domain.codes import ID_PATTERN
from beerolympics.domain.commands import AddBonus, ClaimBonus, RejectClaim
from beerolympics.domain.tournament import TournamentState
from beerolympics.projections.views import View
from beerolympics.web.api.tournaments import ERRORS, SECURITY, IdempotencyHeader, TournamentId
from beerolympics.web.context import actor, public_read, runtime
from beerolympics.web.http import idempotency_key, json_response

BonusId = Annotated[
    str, PathParameter(max_length=64, pattern=ID_PATTERN, description="The challenge's id.")
]
ClaimId = Annotated[
    str, PathParameter(max_length=64, pattern=ID_PATTERN, description="The claim's id.")
]


class ClaimView(View, frozen=True):
    id: str
    team_id: str
    member_id: str | None
    note: str
    at: dt.datetime
    status: str
    reason: str


class BonusView(View, frozen=True):
    id: str
    name: str
    description: str
    points: float
    per: str
    max_completions: int | None
    needs_approval: bool
    claims: list[ClaimView]


class BonusList(View, frozen=True):
    items: list[BonusView]


def _bonuses(state: TournamentState) -> BonusList:
    return BonusList(
        items=[
            BonusView(
                id=b.id,
                name=b.name,
                description=b.description,
                points=b.points,
                per=b.per,
                max_completions=b.max_completions,
                needs_approval=b.needs_approval,
                claims=[
                    ClaimView(c.id, c.team_id, c.member_id, c.note, c.at, c.status, c.reason)
                    for c in state.claims.values()
                    if c.bonus_id == b.id
                ],
            )
            for b in state.bonuses.values()
        ]
    )


@get(
    "/", summary="Bonus challenges and their claims", tags=["bonuses"], responses={404: ERRORS[404]}
)
async def list_bonuses(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[BonusList]:
    state = runtime(request).catalog.get(tournament_id)
    return public_read(request, tournament_id, ("bonuses",), lambda: _bonuses(state))


@post(
    "/",
    summary="Add a bonus challenge",
    tags=["bonuses"],
    status_code=201,
    security=SECURITY,
    responses=ERRORS,
)
async def add_bonus(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    data: JSONBody[AddBonus],
    idempotency: IdempotencyHeader = None,
) -> Response[BonusList]:
    rt = runtime(request)
    await rt.games.add_bonus(
        tournament_id,
        actor(request, tournament_id),
        data,
        idempotency=idempotency_key(request, "add_bonus", data),
    )
    return json_response(_bonuses(rt.catalog.get(tournament_id)), status=201)


class Claimed(msgspec.Struct, frozen=True):
    claim_id: str
    status: str


@post(
    "/{bonus_id:str}/claims",
    summary="Claim a bonus",
    tags=["bonuses"],
    status_code=201,
    security=SECURITY,
    responses=ERRORS,
)
async def claim_bonus(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    bonus_id: BonusId,
    data: JSONBody[ClaimBonus],
    idempotency: IdempotencyHeader = None,
) -> Response[Claimed]:
    """Members claim for their team (individual challenges: for themselves or a teammate);
    officials for anyone. Challenges that need approval wait for an official."""
    rt = runtime(request)
    outcome = await rt.games.claim_bonus(
        tournament_id,
        actor(request, tournament_id),
        bonus_id,
        data,
        idempotency=idempotency_key(request, "claim_bonus", [bonus_id, data]),
    )
    claim = rt.catalog.get(tournament_id).claims[outcome.id]
    return json_response(Claimed(claim.id, claim.status), status=201)


@post(
    "/{bonus_id:str}/claims/{claim_id:str}/approve",
    summary="Approve a claim",
    tags=["bonuses"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def approve_claim(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    bonus_id: BonusId,
    claim_id: ClaimId,
    idempotency: IdempotencyHeader = None,
) -> Response[BonusList]:
    rt = runtime(request)
    await rt.games.review_claim(
        tournament_id,
        actor(request, tournament_id),
        claim_id,
        approve=True,
        idempotency=idempotency_key(request, "approve_claim", claim_id),
    )
    return json_response(_bonuses(rt.catalog.get(tournament_id)))


@post(
    "/{bonus_id:str}/claims/{claim_id:str}/reject",
    summary="Reject a claim",
    tags=["bonuses"],
    status_code=200,
    security=SECURITY,
    responses=ERRORS,
)
async def reject_claim(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    bonus_id: BonusId,
    claim_id: ClaimId,
    data: JSONBody[RejectClaim],
    idempotency: IdempotencyHeader = None,
) -> Response[BonusList]:
    rt = runtime(request)
    await rt.games.review_claim(
        tournament_id,
        actor(request, tournament_id),
        claim_id,
        approve=False,
        reason=data.reason,
        idempotency=idempotency_key(request, "reject_claim", [claim_id, data]),
    )
    return json_response(_bonuses(rt.catalog.get(tournament_id)))


router = Router(
    path="/tournaments/{tournament_id:str}/bonuses",
    route_handlers=[list_bonuses, add_bonus, claim_bonus, approve_claim, reject_claim],
)
