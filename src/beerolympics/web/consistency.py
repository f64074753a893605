"""A tournament made a moment ago through another instance is found here too.

Instances learn of each other's writes within milliseconds (the backplane) or, failing that, at
their next poll. A phone that creates a tournament through one instance and whose next request
lands on another must not be told the tournament does not exist, nor that its fresh credential
is invalid: a request about a tournament this instance has not heard of first catches up with
the log (one read, only in that case), then goes on.
"""

from __future__ import annotations

import re
from typing import Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from beerolympics.runtime import Runtime

#: A tournament's pages, API, and Pusher app (``/app/{key}``, the key being its id).
_TOURNAMENT: Final = re.compile(r"^/(?:api/v1/tournaments|t|app)/([^/]+)")


async def catch_up_for(rt: Runtime, path: str) -> None:
    """Catch up when ``path`` is about a tournament this instance does not know."""
    found = _TOURNAMENT.match(path)
    if found is not None and found.group(1) not in rt.catalog.tournaments:
        await rt.projector.catch_up()


class CatchUp:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            await catch_up_for(scope["app"].state.runtime, scope["path"])
        await self.app(scope, receive, send)
