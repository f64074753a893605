"""What a request handler needs from the app: the runtime, the caller and its cookies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.types import Scope

from beerolympics.domain.errors import Unauthenticated
from beerolympics.domain.identity import Actor
from beerolympics.runtime import Runtime
from beerolympics.web.fastpath import PublicReads
from beerolympics.web.http import JSON, Representations, etag_matches, public_cache_control

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


def credential_token(scope: Scope, tournament_id: str | None) -> str | None:
    """The bearer token of the request, else the tournament's credential cookie.

    Read straight from the ASGI scope: a live socket stays open for hours, and the framework's
    parsed copy of every header and cookie would stay with it.
    """
    headers = scope["headers"]  # a list, as ASGI servers pass it
    header = next((v for k, v in headers if k == b"authorization"), None)
    if header:
        scheme, _, token = header.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise Unauthenticated("use 'Authorization: Bearer <token>'", code="invalid_credential")
    if tournament_id is None:
        return None
    wanted = cookie_name(tournament_id)
    for key, value in headers:
        if key == b"cookie":
            for pair in value.decode("latin-1").split(";"):
                name, _, token = pair.partition("=")
                if name.strip() == wanted:
                    return token.strip()
    return None


def scope_actor(rt: Runtime, scope: Scope, tournament_id: str | None) -> Actor:
    """The caller; a spectator without credential; 401 for a forged or revoked one."""
    found = rt.authenticator.actor(credential_token(scope, tournament_id))
    if found is None:
        raise Unauthenticated(
            "this credential is not valid here (revoked, or from another server)",
            code="invalid_credential",
        )
    return found


def actor(request: ASGIConnection[Any, Any, Any, Any], tournament_id: str | None) -> Actor:
    """The caller of a request (see :func:`scope_actor`)."""
    return scope_actor(request.app.state.runtime, request.scope, tournament_id)


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
    *,
    etag: str | None = None,
) -> Response[Any]:
    """A public read of a tournament: encoded once per tournament position, answered 304 when
    the client has it, and remembered for :mod:`~beerolympics.web.fastpath`.

    ``etag`` defaults to the tournament's newest position (``"p<n>"``).
    """
    rt = runtime(request)
    position = rt.catalog.position_of(tournament_id)
    tag = etag or f'"p{position}"'
    settings = rt.settings
    headers = {
        "ETag": tag,
        "Cache-Control": public_cache_control(
            settings.public_s_maxage, settings.stale_while_revalidate
        ),
    }
    if etag_matches(request, tag):
        return Response(content=b"", status_code=304, headers=headers)
    body = representations(request).get((tournament_id, *key), position, build)
    reads: PublicReads = request.app.state.public_reads
    reads.store(
        request.scope, tournament_id, position, tag, body, {**headers, "Content-Type": JSON}
    )
    return Response(content=body, media_type=JSON, headers=headers)
