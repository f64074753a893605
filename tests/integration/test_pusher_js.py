"""The real pusher-js client (npm, run by Node) against a real server: public, private and
presence channels fed by the hub, refusals as pusher-js reports them, and a reconnect when
the server goes away. The client is ``tests/pusher/follow.js``; it prints what it sees."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import pusher_js
from tests.factories import make_settings
from tests.integration.test_live import Server, running, setup_tournament

Line = dict[str, Any]


class Follower:
    """One pusher-js client in a Node process, and the lines it printed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[Line] = []

    async def wait(
        self, wanted: Callable[[Line], bool], within: float = 10, after: int = 0
    ) -> Line:
        """The first line (seen already from the ``after``-th on, or to come) ``wanted``
        holds for."""
        for line in self.seen[after:]:
            if wanted(line):
                return line
        assert self.process.stdout is not None
        async with asyncio.timeout(within):
            while True:
                raw = await self.process.stdout.readline()
                assert raw, f"pusher-js exited; it printed {self.seen}"
                line: Line = json.loads(raw)
                self.seen.append(line)
                if wanted(line):
                    return line

    async def event(self, channel: str, name: str, within: float = 10) -> Line:
        return await self.wait(
            lambda line: line.get("channel") == channel and line.get("event") == name, within
        )

    async def command(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    pusher_js()
    settings = make_settings(tmp_path, live_window_ms=50, live_heartbeat=5)
    async with running(settings) as s:
        await setup_tournament(s, teams=3)
        yield s


@contextlib.asynccontextmanager
async def follow(
    s: Server, channels: list[str], token: str | None = None, key: str | None = None
) -> AsyncIterator[Follower]:
    node, folder = pusher_js()
    host, port = s.base.removeprefix("http://").split(":")
    options = {
        "host": host,
        "port": int(port),
        "key": key or s.tid,
        "authEndpoint": f"{s.base}{s.url('/pusher/auth')}",
        "token": token,
        "channels": channels,
    }
    process = await asyncio.create_subprocess_exec(
        node,
        str(folder / "follow.js"),
        json.dumps(options),
        cwd=folder,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield Follower(process)
    finally:
        if process.returncode is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_pusher_js_follows_the_tournament_channel(server: Server) -> None:
    async with follow(server, ["tournament"]) as js:
        connected = await js.wait(lambda line: line["type"] == "connected")
        assert connected["socket_id"]
        await js.event("tournament", "pusher:subscription_succeeded")
        snapshot = await js.event("tournament", "snapshot")
        # pusher-js decoded the data: the hub's snapshot, as the native protocol sends it.
        rows = snapshot["data"]["state"]["leaderboard"]["rows"]
        assert [r["team"]["name"] for r in rows] == ["Crew 0", "Crew 1", "Crew 2"]
        await server.post("/announcements", {"message": "Pizza is here!"})
        frame = await js.event("tournament", "frame")
        assert frame["data"]["from"] == snapshot["data"]["position"]
        assert frame["data"]["messages"][0]["announcement"]["message"] == "Pizza is here!"


async def test_pusher_js_authorizes_its_private_channel_and_is_refused_another(
    server: Server,
) -> None:
    captain, rival = server.teams[0], server.teams[1]
    own = f"private-team-{captain['team']['id']}"
    theirs = f"private-team-{rival['team']['id']}"
    async with follow(server, [own, theirs, "private-captains"], token=captain["token"]) as js:
        await js.event(own, "pusher:subscription_succeeded")
        await js.event("private-captains", "pusher:subscription_succeeded")
        error = await js.event(theirs, "pusher:subscription_error")
        assert error["data"]["status"] == 403
        assert error["data"]["type"] == "AuthError"
        said = {"message": "Captains, to the bar", "audience": "captains"}
        await server.post("/announcements", said)
        frame = await js.event("private-captains", "frame")
        assert frame["data"]["messages"][0]["announcement"]["message"] == said["message"]


async def test_pusher_js_without_a_credential_gets_the_auth_endpoints_401(server: Server) -> None:
    async with follow(server, ["private-captains", "tournament"]) as js:
        error = await js.event("private-captains", "pusher:subscription_error")
        assert error["data"]["status"] == 401
        # The public channel is followed all the same.
        await js.event("tournament", "snapshot")


async def test_pusher_js_sees_presence_members_come_and_go(server: Server) -> None:
    first, second = server.teams[0], server.teams[1]
    name = "presence-tournament"
    async with follow(server, [name], token=first["token"]) as one:
        succeeded = await one.event(name, "pusher:subscription_succeeded")
        me = succeeded["members"]["me"]
        assert me["info"]["name"] == "Cap 0"
        assert succeeded["members"]["count"] == 1
        async with follow(server, [name], token=second["token"]) as two:
            added = await one.event(name, "pusher:member_added")
            assert added["data"]["info"]["name"] == "Cap 1"
            theirs = await two.event(name, "pusher:subscription_succeeded")
            assert theirs["members"]["count"] == 2
            assert theirs["members"]["me"]["id"] == added["data"]["id"]
        removed = await one.event(name, "pusher:member_removed")
        assert removed["data"]["id"] == added["data"]["id"]
        assert removed["members"]["count"] == 1


async def test_pusher_js_is_told_an_unknown_app_key(server: Server) -> None:
    async with follow(server, ["tournament"], key="no-such-cup") as js:
        error = await js.wait(lambda line: line["type"] == "error")
        assert error["error"]["error"]["data"]["code"] == 4001
        # Refused: pusher-js stops instead of retrying.
        await js.wait(lambda line: line.get("current") == "disconnected")


async def test_pusher_js_reconnects_when_the_server_goes_away(server: Server) -> None:
    async with follow(server, ["tournament"]) as js:
        first = await js.wait(lambda line: line["type"] == "connected")
        await js.event("tournament", "snapshot")
        await server.app.state.hub.drain()
        await js.wait(
            lambda line: line["type"] == "connected" and line["socket_id"] != first["socket_id"]
        )
        # Subscribed again on the new connection, with a fresh snapshot.
        await js.wait(lambda line: line.get("event") == "snapshot", after=len(js.seen))
