"""The scaled shape for real: two ``beerolympics serve`` processes sharing PostgreSQL and Redis.

A result confirmed through one instance reaches a WebSocket client of the other; that client,
disconnected and reconnected to the first instance, resumes without a gap; presence is shared.
The instances poll only once a minute, so what crosses between them goes over Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import fresh_postgres_schema, service_url
from tests.factories import eventually
from tests.servers import ServeProcess


@contextlib.contextmanager
def instance(tmp: Path, database: str, redis: str, name: str) -> Iterator[str]:
    options = ["--database-url", database, "--pubsub-url", redis]
    options += ["--secret-key", "shared-by-every-instance", "--poll-interval", "60"]
    with ServeProcess(tmp / name, *options) as served:
        yield served.url


@pytest.fixture
async def database() -> AsyncIterator[str]:
    async with fresh_postgres_schema() as url:
        yield url


async def next_of(ws: ClientConnection, kind: str, within: float = 10) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def test_two_instances_share_live_updates_and_resume(tmp_path: Path, database: str) -> None:
    redis = service_url("redis")
    with (
        instance(tmp_path, database, redis, "a") as a,
        instance(tmp_path, database, redis, "b") as b,
    ):
        async with (
            httpx.AsyncClient(base_url=a, timeout=10) as http_a,
            httpx.AsyncClient(base_url=b, timeout=10) as http_b,
        ):
            created = (await http_a.post("/api/v1/tournaments", json={"name": "Two Halls"})).json()
            tid, auth = created["tournament"]["id"], {"Authorization": f"Bearer {created['token']}"}
            api = f"/api/v1/tournaments/{tid}"
            teams = []
            for name in ("Hop Stars", "Lager Legends"):
                body = {"name": name, "colour": "#123456", "captain_name": f"{name} captain"}
                teams.append((await http_a.post(f"{api}/teams", json=body, headers=auth)).json())
            game = (
                await http_a.post(
                    f"{api}/games",
                    json={"name": "Pong", "format": "round_robin", "auto_call": False},
                    headers=auth,
                )
            ).json()
            await http_a.post(f"{api}/games/{game['id']}/start", json={}, headers=auth)

            # Instance B learns about all this through the backplane.
            async def b_knows() -> bool:
                found = await http_b.get(f"{api}/matches")
                return found.status_code == 200 and bool(found.json()["items"])

            await eventually(b_knows, within=10)
            [match] = (await http_b.get(f"{api}/matches")).json()["items"]
            key, winner = match["id"], match["slots"][0]["team"]["id"]

            ws_b = b.replace("http", "ws") + f"{api}/live"
            async with connect(ws_b, compression=None) as ws:
                await ws.send(json.dumps({"type": "subscribe", "channel": "tournament"}))
                await next_of(ws, "snapshot")
                await http_a.post(f"{api}/matches/{key}/start", headers=auth)
                await http_a.post(
                    f"{api}/matches/{key}/result", json={"winner": winner}, headers=auth
                )
                cursor = 0
                async with asyncio.timeout(10):
                    while True:
                        frame = await next_of(ws, "frame")
                        cursor = frame["to"]
                        done = [
                            m
                            for m in frame["messages"]
                            if m["kind"] == "match_updated" and m["match"]["status"] == "confirmed"
                        ]
                        if done:
                            break

            for text in ("first missed", "second missed"):
                await http_b.post(f"{api}/announcements", json={"message": text}, headers=auth)

            # Resume on A once A has caught up with both (through the backplane), so the whole
            # gap is in the replay; before that the rest would follow in the next live frame.
            async def a_has_both() -> bool:
                page = (await http_a.get(f"{api}/announcements")).json()
                return [m["message"] for m in page["items"]][:2] == [
                    "second missed",
                    "first missed",
                ]

            await eventually(a_has_both, within=10)
            ws_a = a.replace("http", "ws") + f"{api}/live"
            async with connect(ws_a, compression=None) as ws:
                await ws.send(
                    json.dumps({"type": "subscribe", "channel": "tournament", "since": cursor})
                )
                subscribed = await next_of(ws, "subscribed")
                replay = await next_of(ws, "frame")
                assert (replay["from"], replay["to"]) == (cursor, subscribed["position"])
                missed = [
                    m["announcement"]["message"]
                    for m in replay["messages"]
                    if m["kind"] == "announcement"
                ]
                assert missed == ["first missed", "second missed"]
                await http_b.post(
                    f"{api}/announcements", json={"message": "live again"}, headers=auth
                )
                live = await next_of(ws, "frame")
                assert live["from"] == replay["to"]
                assert [m["announcement"]["message"] for m in live["messages"]] == ["live again"]

            # Presence adds up both instances: a captain on each.
            cookie_a = {"Cookie": f"bo_{tid}={teams[0]['token']}"}
            cookie_b = {"Cookie": f"bo_{tid}={teams[1]['token']}"}
            async with (
                connect(ws_a, additional_headers=cookie_a, compression=None) as on_a,
                connect(ws_b, additional_headers=cookie_b, compression=None),
            ):
                await on_a.send(json.dumps({"type": "subscribe", "channel": "presence"}))
                players = (await next_of(on_a, "snapshot"))["state"]["presence"]["players"]
                async with asyncio.timeout(10):
                    while len(players) < 2:
                        frame = await next_of(on_a, "frame")
                        players = frame["messages"][-1]["presence"]["players"]
                assert sorted(p["name"] for p in players) == [
                    "Hop Stars captain",
                    "Lager Legends captain",
                ]


async def test_rate_limits_hold_across_instances(tmp_path: Path, database: str) -> None:
    redis = service_url("redis")
    limits = ["--rate-limit-url", redis, "--rate-limit-anonymous", "6/minute"]
    limits += ["--rate-limit-api", "4/minute", "--live-max-anonymous", "2"]
    options = ["--database-url", database, "--pubsub-url", redis, *limits]
    options += ["--secret-key", "shared-by-every-instance"]
    with (
        ServeProcess(tmp_path / "a", *options) as a,
        ServeProcess(tmp_path / "b", *options) as b,
    ):
        # Instances trust the proxy on 127.0.0.1 to name the client: a phone of its own.
        phone = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}
        async with (
            httpx.AsyncClient(base_url=a.url, timeout=10) as on_a,
            httpx.AsyncClient(base_url=b.url, timeout=10) as on_b,
        ):
            answers = [
                await client.get("/api/v1/tournaments?limit=1", headers=phone)
                for client in [on_a, on_b] * 4
            ]
            assert [r.status_code for r in answers] == [200] * 6 + [429] * 2
            assert answers[5].headers["ratelimit"].startswith('"anonymous";r=0;')
            assert int(answers[7].headers["retry-after"]) >= 1

            other = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}:1"}
            created = await on_a.post("/api/v1/tournaments", json={"name": "Hall"}, headers=other)
            tid = created.json()["tournament"]["id"]
            auth = {"Authorization": f"Bearer {created.json()['token']}", **phone}
            me = f"/api/v1/tournaments/{tid}/me"
            # B learns about the tournament through the backplane.
            await eventually(lambda: _ok(on_b.get(f"/api/v1/tournaments/{tid}")), within=10)
            statuses = [(await c.get(me, headers=auth)).status_code for c in [on_a, on_b] * 3]
            assert statuses == [200] * 4 + [429] * 2

            # Live connections of one address: one budget over both instances.
            venue = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}:2"}
            path = f"/api/v1/tournaments/{tid}/live"
            sockets = [ws_of(a.url, path, venue), ws_of(b.url, path, venue)]
            async with sockets[0] as first, sockets[1] as second:
                await next_of(first, "welcome")
                await next_of(second, "welcome")  # both admitted before the third asks
                async with ws_of(a.url, path, venue) as third:
                    with pytest.raises(ConnectionClosed) as refused:
                        await third.recv()
                    assert refused.value.rcvd is not None
                    assert refused.value.rcvd.code == 4009
            # Closed, they give their leases back: the address may connect again.
            async with ws_of(b.url, path, venue) as again:
                assert (await next_of(again, "welcome"))["type"] == "welcome"


def ws_of(base: str, path: str, headers: dict[str, str]) -> Any:
    return connect(base.replace("http", "ws") + path, additional_headers=headers, compression=None)


async def _ok(response: Awaitable[httpx.Response]) -> bool:
    return (await response).status_code == 200
