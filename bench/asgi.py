"""Drive an ASGI app in-process, without a socket or an HTTP client in the way."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar

from beerolympics.app import create_app
from beerolympics.projections.play import GameRun
from beerolympics.runtime import Runtime
from beerolympics.settings import Settings


class Reply:
    __slots__ = ("body", "headers", "status")

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""


async def call(
    app: Litestar,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    query: bytes = b"",
) -> Reply:
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if body:
        raw_headers.append((b"content-type", b"application/json"))
        raw_headers.append((b"content-length", str(len(body)).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    reply = Reply()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status = message["status"]
            reply.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            reply.body += message.get("body", b"")

    await app(scope, receive, send)  # type: ignore[arg-type]
    return reply


@dataclass(frozen=True, slots=True)
class Organizer:
    """A tournament's organizer making requests to the app."""

    app: Litestar
    api: str
    auth: dict[str, str]

    async def send(
        self, method: str, path: str, payload: Any = None, *, key: str | None = None
    ) -> dict[str, Any]:
        """A request to the tournament's ``path`` (with ``key`` as its ``Idempotency-Key``);
        fails unless it succeeds."""
        headers = self.auth if key is None else {**self.auth, "Idempotency-Key": key}
        reply = await call(
            self.app, method, self.api + path, body=msgspec.json.encode(payload), headers=headers
        )
        assert reply.status in (200, 201), reply.body
        decoded: dict[str, Any] = msgspec.json.decode(reply.body)
        return decoded


@dataclass(frozen=True, slots=True)
class RoundRobin:
    """A tournament of one game, a home-and-away round robin called by hand, started."""

    organizer: Organizer
    runtime: Runtime
    tournament_id: str
    game_id: str
    run: GameRun

    def in_rounds(self) -> list[str]:
        """The game's matches (spec ids), round by round."""
        assert self.run.plan is not None
        return [s.id for s in sorted(self.run.plan.matches, key=lambda spec: spec.round)]

    def teams(self, spec_id: str) -> tuple[str, ...]:
        assert self.run.resolution is not None
        return self.run.resolution[spec_id].teams


@asynccontextmanager
async def round_robin(store: str, teams: int, tables: int) -> AsyncIterator[RoundRobin]:
    """``teams`` teams in a round robin on ``tables`` tables, on the ``memory`` or ``sqlite``
    store of a fresh app (one organizer makes every request: no rate limit in the way)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(
            {
                "data_dir": tmp,
                "database_url": "memory://" if store == "memory" else f"sqlite:///{tmp}/bench.db",
                "secret_key": "b",
                "rate_limit_api": "100000000/minute",
                "log_level": "warning",
            },
            environ={},
        )
        app = create_app(settings)
        async with app.lifespan():
            created = await call(app, "POST", "/api/v1/tournaments", body=b'{"name": "Bench"}')
            body = msgspec.json.decode(created.body)
            tid = body["tournament"]["id"]
            organizer = Organizer(
                app, f"/api/v1/tournaments/{tid}", {"authorization": f"Bearer {body['token']}"}
            )
            await organizer.send("PATCH", "", {"max_teams": teams})
            for i in range(teams):
                team = {"name": f"T{i}", "colour": "#123456", "captain_name": "C"}
                await organizer.send("POST", "/teams", team)
            game = await organizer.send(
                "POST",
                "/games",
                {
                    "name": "Pong",
                    "format": "round_robin",
                    "options": {"double": True},
                    "auto_call": False,
                    "stations": [f"Table {i + 1}" for i in range(tables)],
                },
            )
            await organizer.send("POST", f"/games/{game['id']}/start", {})
            runtime: Runtime = app.state.runtime
            run = runtime.play.get(tid).games[game["id"]]
            yield RoundRobin(organizer, runtime, tid, game["id"], run)
