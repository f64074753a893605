"""Every HTTP request measured and named: its route, status and latency go to the metrics, and
it gets a request id — the ``X-Request-ID`` it came with (from the proxy), else a new one —
that every log line written while it runs carries and that goes back in the response.

This runs outside the framework, around everything, so a 404, a 429 and a cached answer are
measured like any other. It costs about a microsecond and a half a request.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Final

from litestar.types import HTTPScope, Message, Receive, Send

from beerolympics.logs import REQUEST_ID
from beerolympics.metrics import Metrics

log = logging.getLogger("beerolympics.access")

#: A request id a proxy may hand us (nginx's $request_id is 32 hex digits).
_GIVEN_ID: Final = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
#: Methods that get a label of their own; anything else counts as "other".
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

ASGICall = Callable[[HTTPScope, Receive, Send], Awaitable[None]]


class Observer:
    """Measures the requests of one app."""

    def __init__(self, metrics: Metrics, *, access_log: bool) -> None:
        self.metrics = metrics
        self.access_log = access_log
        # Request ids are unique per instance (a random prefix, then a counter): cheaper than
        # a UUID each.
        self._prefix = secrets.token_hex(4).encode()
        self._count = itertools.count(1)

    async def __call__(self, app: ASGICall, scope: HTTPScope, receive: Receive, send: Send) -> None:
        started = perf_counter()
        given = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value if _GIVEN_ID.match(value) else None
                break
        request_id = given or b"%s-%x" % (self._prefix, next(self._count))
        token = REQUEST_ID.set(request_id)
        field = (b"x-request-id", request_id)
        status = 500  # what the server answers when the app fails before responding

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message["headers"], field]
            await send(message)

        try:
            await app(scope, receive, send_observed)
        finally:
            seconds = perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "other"
            # The framework names the route it chose; a path nothing matched has none.
            route = scope.get("path_template") or "unmatched"
            self.metrics.observe_request(route, method, status, seconds)
            if self.access_log:
                client = scope.get("client")
                log.info(
                    "%s %s %d %.1fms",
                    scope["method"],
                    scope["path"],
                    status,
                    seconds * 1000,
                    extra={
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "client": client[0] if client else None,
                    },
                )
            REQUEST_ID.reset(token)
