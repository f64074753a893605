"""What a request handler needs from the app: the runtime, the caller and its cookies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response

from beerolympics.domain.errors import Unauthenticated
from beerolympics.domain.identity import Actor
from beerolympics.runtime import Runtime
from beerolympics.web.http import Representations, cached_json, public_cache_control

COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days


def runtime(request: Request[Any, Any, Any]) -> Runtime:
    value: Runtime = request.app.state.runtime
    return value


def representations(request: Request[Any, Any, Any]) -> Representations:
    value: Representations = request.app.state.representations
    return value


def cookie_name(tournament_id: str) -> str:
    """Credentials are per tournament, so a phone in two tournaments keeps two cookies."""
    return f"bo_{tournament_id}"


def credential_token(request: Request[Any, Any, Any], tournament_id: str | None) -> str | None:
    """The bearer token of the request, else the tournament's credential cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise Unauthenticated("use 'Authorization: Bearer <token>'", code="invalid_credential")
    if tournament_id is None:
        return None
    return request.cookies.get(cookie_name(tournament_id))


def actor(request: Request[Any, Any, Any], tournament_id: str | None) -> Actor:
    """The caller; a spectator without credential; 401 for a forged or revoked one."""
    found = runtime(request).authenticator.actor(credential_token(request, tournament_id))
    if found is None:
        raise Unauthenticated(
            "this credential is not valid here (revoked, or from another server)",
            code="invalid_credential",
        )
    return found


def set_credential_cookie(
    request: Request[Any, Any, Any], response: Response[Any], tournament_id: str, token: str
) -> None:
    response.set_cookie(
        key=cookie_name(tournament_id),
        value=token,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=runtime(request).settings.cookie_secure,
    )


def public_read(
    request: Request[Any, Any, Any],
    tournament_id: str,
    key: tuple[Any, ...],
    build: Callable[[], Any],
) -> Response[Any]:
    """A public read of a tournament, tagged with the tournament's newest position."""
    rt = runtime(request)
    position = rt.catalog.position_of(tournament_id)
    settings = rt.settings
    return cached_json(
        request,
        representations(request),
        (tournament_id, *key),
        f'"p{position}"',
        position,
        build,
        public_cache_control(settings.public_s_maxage, settings.stale_while_revalidate),
    )
