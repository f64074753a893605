"""Rate limits on HTTP requests: who is counted, against which limit, and the 429.

A request with a valid credential (bearer token, or the tournament's cookie) counts against
that credential's budget (``rate_limit_api``), wherever it comes from. Without one it counts
against its address (``rate_limit_anonymous``): at a party a hundred phones share the venue's
one public address, so that budget is large. Password sign-ins have a small budget of their own
per address (``rate_limit_signin``): each one costs an argon2 hash.

Not counted: public reads answered from the cache (:mod:`~beerolympics.web.fastpath` answers
them before this layer, for less than a check would cost), static assets, health and metrics.

Every counted response carries the IETF ``RateLimit-Policy`` and ``RateLimit`` fields
(draft-ietf-httpapi-ratelimit-headers), except the answers to a page refreshing its regions
(``X-Regions``: the page's own script, which reads none of them, asks after every result); a
refused one is a 429 problem document with ``Retry-After`` and the fields.
"""

from __future__ import annotations

import re
from typing import Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from beerolympics.domain.errors import RateLimited, Unauthenticated
from beerolympics.ports.ratelimiter import Rate, Verdict
from beerolympics.runtime import Runtime
from beerolympics.web.context import credential_token
from beerolympics.web.problems import PROBLEM_JSON, problem_body

_EXEMPT: Final = frozenset({"/healthz", "/readyz", "/metrics", "/sw.js", "/manifest.webmanifest"})
_EXEMPT_PREFIXES: Final = ("/static/", "/api/v1/docs", "/media/")
_TOURNAMENT: Final = re.compile(r"^/(?:api/v1/tournaments|t)/([^/]+)")
_SIGNIN: Final = re.compile(r"^/(?:api/v1/tournaments/[^/]+/sessions|t/[^/]+/signin)$")


class Policies:
    """The limits of one instance, parsed once from its settings."""

    def __init__(self, rt: Runtime) -> None:
        settings = rt.settings
        self.api = Rate.parse(settings.rate_limit_api)
        self.anonymous = Rate.parse(settings.rate_limit_anonymous)
        self.signin = Rate.parse(settings.rate_limit_signin)
        self.verify = rt.signer.verify

    def choose(self, scope: HTTPScope) -> tuple[str, Rate, str] | None:
        """``(limit name, rate, key)`` for a request, or None when it is not counted."""
        path: str = scope["path"]
        if path in _EXEMPT or path.startswith(_EXEMPT_PREFIXES):
            return None
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if scope["method"] == "POST" and _SIGNIN.match(path):
            return "signin", self.signin, address
        found = _TOURNAMENT.match(path)
        try:
            token = credential_token(scope, found.group(1) if found else None)
        except Unauthenticated:  # a malformed Authorization header: refused later anyway
            token = None
        ids = self.verify(token) if token else None
        if ids is not None:
            return "api", self.api, ids[1]
        return "anonymous", self.anonymous, address


def rate_limit_fields(name: str, verdict: Verdict) -> list[tuple[bytes, bytes]]:
    rate = verdict.rate
    return [
        (b"ratelimit-policy", f'"{name}";q={rate.amount};w={rate.seconds}'.encode()),
        (b"ratelimit", f'"{name}";r={verdict.remaining};t={round(verdict.reset)}'.encode()),
    ]


class RateLimit:
    """ASGI middleware: count the request, refuse it with 429 beyond the limit, and say where
    the client stands in the ``RateLimit`` fields of the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        policies: Policies = state.rate_limit_policies
        chosen = policies.choose(scope)
        if chosen is None:
            await self.app(scope, receive, send)
            return
        name, rate, key = chosen
        rt: Runtime = state.runtime
        verdict = await rt.throttle.hit(name, rate, key)
        fields = rate_limit_fields(name, verdict)
        if not verdict.allowed:
            await _refuse(scope, send, verdict, fields)
            return
        if any(field == b"x-regions" for field, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *fields]
            await send(message)

        await self.app(scope, receive, send_with_fields)


async def check(rt: Runtime, name: str, rate: Rate, key: str, cost: int = 1) -> None:
    """Count a hit against a limit of a handler's own (uploads per credential, say); raises
    :class:`RateLimited`, answered as the same 429 with the same fields, beyond it."""
    verdict = await rt.throttle.hit(name, rate, key, cost)
    if not verdict.allowed:
        retry_after = round(verdict.reset)
        fields = {k.decode(): v.decode() for k, v in rate_limit_fields(name, verdict)}
        raise RateLimited(
            f"too many requests: at most {rate}; try again in {retry_after} s",
            details={"retry_after": retry_after, "headers": fields},
        )


async def _refuse(
    scope: Scope, send: Send, verdict: Verdict, fields: list[tuple[bytes, bytes]]
) -> None:
    retry_after = round(verdict.reset)
    body = problem_body(
        429,
        "rate_limited",
        f"too many requests: at most {verdict.rate}; try again in {retry_after} s",
        instance=scope["path"],
        retry_after=retry_after,
    )
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"retry-after", str(retry_after).encode()),
        *fields,
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
