"""The one error shape: RFC 9457 problem details with a stable machine ``code``.

Every failure of the HTTP API — a refused command, bad input, an unknown route, a crash — is
turned into a response here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
    TooManyRequestsException,
    ValidationException,
)

from beerolympics.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from beerolympics.web.http import API

log = logging.getLogger("beerolympics.web")

PROBLEM_JSON = "application/problem+json"

_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (Unavailable, 503),
    (Invalid, 422),
)

_HTTP_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class FieldError(msgspec.Struct, frozen=True, omit_defaults=True):
    """One invalid input: where (``source`` body, query, path or header; ``field``) and why."""

    message: str
    field: str | None = None
    source: str | None = None


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """RFC 9457 problem details. ``code`` is stable and what clients should switch on."""

    status: int
    code: str
    title: str
    detail: str
    type: str = "about:blank"
    instance: str | None = None
    errors: list[FieldError] | None = None
    current: Any | None = None
    version: int | None = None
    retry_after: int | None = None


def problem_body(
    status: int, code: str, detail: str, *, instance: str | None = None, **extra: Any
) -> bytes:
    """The encoded problem document (for the ASGI layers that answer before the framework)."""
    body = Problem(
        status=status,
        code=code,
        title=HTTPStatus(status).phrase,
        detail=detail,
        instance=instance,
        **extra,
    )
    return msgspec.json.encode(body)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response[bytes]:
    return Response(
        content=problem_body(status, code, detail, instance=instance, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def status_of(exc: DomainError) -> int:
    """The HTTP status a refusal is answered with."""
    return next(code for kind, code in _DOMAIN_STATUS if isinstance(exc, kind))


def _domain_problem(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    status = status_of(exc)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if "current" in exc.details:
        extra["current"] = exc.details["current"]
        extra["version"] = exc.details.get("version")
        if extra["version"] is not None:
            headers["ETag"] = f'"v{extra["version"]}"'
    if "retry_after" in exc.details:
        extra["retry_after"] = int(exc.details["retry_after"])
        headers["Retry-After"] = str(extra["retry_after"])
        headers.update(exc.details.get("headers", {}))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="beerolympics"'
    return problem(
        status, exc.code, exc.message, instance=request.url.path, headers=headers, **extra
    )


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    items = exc.extra if isinstance(exc.extra, list) else []
    return [_field_error(item) for item in items if isinstance(item, Mapping)]


def _field_error(item: Mapping[str, Any]) -> FieldError:
    key, source = item.get("key"), item.get("source")
    message = str(item.get("message", "invalid"))
    if key is not None and message == repr(key):
        # The framework names a missing value by its key alone.
        if key == "data" and source == "body":
            return FieldError("a JSON body is required", source="body")
        message = "is required"
    return FieldError(message=message, field=key, source=source)


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The app's single exception handler."""
    path = request.url.path
    if isinstance(exc, DomainError):
        return _domain_problem(request, exc)
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        detail = (
            "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
            or "the request is not valid"
        )
        return problem(422, "validation_failed", detail, instance=path, errors=errors)
    if isinstance(exc, ClientException) and isinstance(exc.__cause__, SerializationException):
        return problem(400, "malformed_json", "the body is not valid JSON", instance=path)
    if isinstance(exc, NotFoundException):
        if not path.startswith(f"{API}/"):
            # A mistyped page address: a page that says so, not a JSON document.
            from beerolympics.web.pages import page_not_found  # the pages use this module

            return page_not_found(request)
        return problem(404, "not_found", "nothing here", instance=path)
    if isinstance(exc, MethodNotAllowedException):
        allow = exc.headers.get("allow", "") if exc.headers else ""
        return problem(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here",
            instance=path,
            headers={"Allow": allow} if allow else None,
        )
    if isinstance(exc, NotAuthorizedException):
        return problem(401, "unauthenticated", exc.detail, instance=path)
    if isinstance(exc, PermissionDeniedException):
        return problem(403, "forbidden", exc.detail, instance=path)
    if isinstance(exc, TooManyRequestsException):
        return problem(429, "rate_limited", exc.detail, instance=path, headers=exc.headers)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        code = _HTTP_CODES.get(exc.status_code, "bad_request")
        return problem(exc.status_code, code, exc.detail, instance=path, headers=exc.headers)
    log.exception("unhandled error on %s %s", request.method, path, exc_info=exc)
    return problem(500, "internal_error", "something went wrong on our side", instance=path)
