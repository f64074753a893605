"""Pusher protocol 7 against a real server and a real WebSocket client: the handshake and its
refusals, public, private and presence channels fed by the hub, the auth endpoint and its
signature, and what is refused (client events, bad signatures, other people's channels)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from beerolympics.live import pusher
from tests.factories import make_settings
from tests.integration.test_live import Server, close_code, running, setup_tournament


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    settings = make_settings(tmp_path, live_window_ms=50, live_heartbeat=5)
    async with running(settings) as s:
        await setup_tournament(s, teams=3)
        # Credentials go as Bearer headers only: not the cookies setting up left behind.
        s.http.cookies.clear()
        yield s


def app_url(s: Server, key: str | None = None, query: str = "?protocol=7&client=py") -> str:
    return f"{s.ws}/app/{s.tid if key is None else key}{query}"


async def event(ws: ClientConnection, name: str | None = None, within: float = 5) -> dict[str, Any]:
    """The next Pusher event (named ``name``), its ``data`` decoded when it is a string."""
    async with asyncio.timeout(within):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if isinstance(message.get("data"), str):
                message["data"] = json.loads(message["data"])
            if name is None or message["event"] == name:
                return message


async def refused(url: str) -> tuple[dict[str, Any], int]:
    """The ``pusher:error`` a refused connection gets, and the code it is closed with."""
    async with connect(url, compression=None) as ws:
        error = await event(ws)
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                await ws.recv()
    assert closed.value.rcvd is not None, "the server sent a close frame"
    return error, closed.value.rcvd.code


async def established(ws: ClientConnection) -> str:
    hello = await event(ws)
    assert hello["event"] == "pusher:connection_established"
    socket_id: str = hello["data"]["socket_id"]
    return socket_id


async def send(ws: ClientConnection, name: str, data: Any, channel: str | None = None) -> None:
    message = {"event": name, "data": data} | ({"channel": channel} if channel else {})
    await ws.send(json.dumps(message))


async def authorize(s: Server, token: str | None, socket_id: str, channel: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await s.http.post(
        s.url("/pusher/auth"),
        data={"socket_id": socket_id, "channel_name": channel},
        headers=headers,
    )


async def subscribe_signed(s: Server, ws: ClientConnection, token: str, channel: str) -> None:
    socket_id = await established(ws)
    r = await authorize(s, token, socket_id, channel)
    assert r.status_code == 200, r.text
    await send(ws, "pusher:subscribe", {"channel": channel, **r.json()})


def test_the_signature_is_the_one_pusher_documents() -> None:
    # The worked example of Pusher's "auth signatures" reference.
    secret = b"7ad3773142a6692b25b8"
    auth = pusher.sign("278d425bdf160c739803", secret, "1234.1234", "private-foobar", None)
    assert auth == (
        "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    )


def test_channel_names_map_both_ways() -> None:
    for hub, name in (
        ("tournament", "tournament"),
        ("match:gm_k2x9a1b3.W1-3", "match-gm_k2x9a1b3.W1-3"),
        ("team:tm_abc", "private-team-tm_abc"),
        ("captains", "private-captains"),
        ("presence", "presence-tournament"),
    ):
        assert pusher.pusher_name(hub) == name
        assert pusher.hub_channel(name).name == hub
    for bad in ("match-", "private-team-", "private-tournament", "team:tm_abc", "x" * 200):
        with pytest.raises(pusher.Invalid):
            pusher.hub_channel(bad)


async def test_a_public_channel_gets_the_hubs_snapshot_then_its_frames(server: Server) -> None:
    async with connect(app_url(server), compression=None) as ws:
        hello = await event(ws, "pusher:connection_established")
        assert set(hello["data"]) == {"socket_id", "activity_timeout"}
        assert pusher.valid_socket_id(hello["data"]["socket_id"])
        assert hello["data"]["activity_timeout"] == 10
        await send(ws, "pusher:subscribe", {"channel": "tournament"})
        succeeded = await event(ws)
        assert succeeded["event"] == "pusher_internal:subscription_succeeded"
        assert succeeded["channel"] == "tournament"
        snapshot = await event(ws)
        assert (snapshot["event"], snapshot["channel"]) == ("snapshot", "tournament")
        rows = snapshot["data"]["state"]["leaderboard"]["rows"]
        assert [r["team"]["name"] for r in rows] == ["Crew 0", "Crew 1", "Crew 2"]
        await server.post("/announcements", {"message": "Pizza is here!"})
        frame = await event(ws, "frame")
        assert frame["channel"] == "tournament"
        # The data is the hub's frame as it is, positions included.
        assert frame["data"]["type"] == "frame"
        assert frame["data"]["channel"] == "tournament"
        assert frame["data"]["from"] == snapshot["data"]["position"]
        [said] = frame["data"]["messages"]
        assert said["announcement"]["message"] == "Pizza is here!"
        await send(ws, "pusher:ping", {})
        assert (await event(ws, "pusher:pong"))["data"] == {}
        metrics = (await server.http.get("/metrics")).text
        assert "\nbeerolympics_live_pusher_connections 1.0\n" in metrics
        await send(ws, "pusher:unsubscribe", {"channel": "tournament"})
        await server.post("/announcements", {"message": "not for you"})
        await send(ws, "pusher:ping", {})
        assert (await event(ws))["event"] == "pusher:pong"


@pytest.mark.parametrize(
    ("query", "code"),
    [("", pusher.NO_PROTOCOL), ("?protocol=6", pusher.UNSUPPORTED_PROTOCOL), ("?protocol=x", 4006)],
)
async def test_a_bad_protocol_version_is_refused(server: Server, query: str, code: int) -> None:
    error, closed_with = await refused(app_url(server, query=query))
    assert error["event"] == "pusher:error"
    assert error["data"]["code"] == code
    assert error["data"]["message"]
    assert closed_with == code


async def test_an_unknown_app_key_is_refused(server: Server) -> None:
    error, closed_with = await refused(app_url(server, key="no-such-cup"))
    assert error["data"]["code"] == closed_with == pusher.APP_NOT_FOUND == 4001


async def test_a_private_channel_needs_a_signature_of_this_socket(server: Server) -> None:
    captain = server.teams[0]
    team_id = captain["team"]["id"]
    channel = f"private-team-{team_id}"
    async with (
        connect(app_url(server), compression=None) as ws,
        connect(app_url(server), compression=None) as other,
    ):
        socket_id = await established(ws)
        other_id = await established(other)
        # No auth at all, then a made-up one.
        for auth in (None, f"{server.tid}:{'0' * 64}"):
            await send(ws, "pusher:subscribe", {"channel": channel, "auth": auth})
            error = await event(ws)
            assert error["event"] == "pusher:subscription_error"
            assert error["channel"] == channel
            assert error["data"]["status"] == 401
        # A genuine one, for another socket.
        r = await authorize(server, captain["token"], other_id, channel)
        await send(ws, "pusher:subscribe", {"channel": channel, **r.json()})
        assert (await event(ws))["data"]["status"] == 401
        # Its channel_data changed (someone else's credential): no longer what was signed.
        r = await authorize(server, captain["token"], socket_id, channel)
        body = r.json()
        forged = json.loads(body["channel_data"]) | {"credential": "cr_someone_else"}
        await send(
            ws,
            "pusher:subscribe",
            {"channel": channel, "auth": body["auth"], "channel_data": json.dumps(forged)},
        )
        assert (await event(ws))["data"]["status"] == 401
        # As signed: the team's channel, with what the hub says to it.
        await send(ws, "pusher:subscribe", {"channel": channel, **body})
        assert (await event(ws))["event"] == "pusher_internal:subscription_succeeded"
        snapshot = await event(ws)
        assert snapshot["event"] == "snapshot"
        assert snapshot["data"]["state"]["team"]["team"]["id"] == team_id
        said = {"message": "Crew 0, you're up", "audience": "teams", "team_ids": [team_id]}
        await server.post("/announcements", said)
        frame = await event(ws, "frame")
        assert frame["channel"] == channel
        assert frame["data"]["messages"][0]["announcement"]["message"] == said["message"]


async def test_the_auth_endpoint_authorizes_from_the_tournaments_credentials(
    server: Server,
) -> None:
    captain, rival = server.teams[0], server.teams[1]
    own = f"private-team-{captain['team']['id']}"
    theirs = f"private-team-{rival['team']['id']}"

    async def status(token: str | None, channel: str, socket_id: str = "1234.5678") -> Any:
        r = await authorize(server, token, socket_id, channel)
        if r.status_code != 200:
            assert r.headers["content-type"] == "application/problem+json"
        return r.status_code, r.json()

    organizer = server.org["Authorization"].removeprefix("Bearer ")
    assert (await status(None, own))[0] == 401
    assert (await status("forged.token", own))[0] == 401
    code, problem = await status(captain["token"], theirs)
    assert (code, problem["code"]) == (403, "forbidden_channel")
    assert (await status(captain["token"], own))[0] == 200
    assert (await status(captain["token"], "private-captains"))[0] == 200
    assert (await status(captain["token"], "presence-tournament"))[0] == 200
    assert (await status(organizer, theirs))[0] == 200
    assert (await status(organizer, "private-team-tm_nobody"))[0] == 422
    assert (await status(captain["token"], "tournament"))[0] == 422
    assert (await status(captain["token"], "private-nonsense"))[0] == 422
    assert (await status(captain["token"], own, socket_id="nope"))[0] == 422
    r = await server.http.post(server.url("/pusher/auth"), data={"socket_id": "1.2"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "validation_failed"
    code, body = await status(captain["token"], own)
    assert body["auth"].startswith(f"{server.tid}:")
    data = json.loads(body["channel_data"])
    assert data["user_info"] == {
        "role": "captain",
        "name": "Cap 0",
        "team_id": captain["team"]["id"],
    }


async def test_presence_lists_members_and_says_who_comes_and_goes(server: Server) -> None:
    first, second = server.teams[0], server.teams[1]
    name = "presence-tournament"
    async with connect(app_url(server), compression=None) as ws:
        await subscribe_signed(server, ws, first["token"], name)
        succeeded = await event(ws)
        assert succeeded["event"] == "pusher_internal:subscription_succeeded"
        presence = succeeded["data"]["presence"]
        assert presence["count"] == 1
        [me] = presence["ids"]
        assert presence["hash"][me] == {
            "name": "Cap 0",
            "team_id": first["team"]["id"],
            "role": "captain",
        }
        assert (await event(ws))["event"] == "snapshot"
        async with connect(app_url(server), compression=None) as other:
            await subscribe_signed(server, other, second["token"], name)
            added = await event(ws, "pusher_internal:member_added")
            assert added["channel"] == name
            assert added["data"]["user_info"]["name"] == "Cap 1"
            joined = added["data"]["user_id"]
            theirs = await event(other, "pusher_internal:subscription_succeeded")
            assert theirs["data"]["presence"]["count"] == 2
        removed = await event(ws, "pusher_internal:member_removed")
        assert removed["data"] == {"user_id": joined}


async def test_a_spectator_cannot_follow_private_channels_and_client_events_are_refused(
    server: Server,
) -> None:
    async with connect(app_url(server), compression=None) as ws:
        await established(ws)
        await send(ws, "pusher:subscribe", {"channel": "private-captains"})
        assert (await event(ws))["data"]["status"] == 401
        await send(ws, "pusher:subscribe", {"channel": "nonsense"})
        error = await event(ws)
        assert (error["event"], error["data"]["status"]) == ("pusher:subscription_error", 404)
        await send(ws, "client-cheer", {"loud": True}, channel="tournament")
        error = await event(ws)
        assert error["event"] == "pusher:error"
        assert error["data"]["code"] is None
        assert "client events" in error["data"]["message"]
        await ws.send("not json")
        assert (await event(ws))["event"] == "pusher:error"
        # Still connected.
        await send(ws, "pusher:ping", {})
        assert (await event(ws))["event"] == "pusher:pong"


async def test_the_server_going_away_says_reconnect(server: Server) -> None:
    async with connect(app_url(server), compression=None) as ws:
        await established(ws)
        await server.app.state.hub.drain()
        error = await event(ws)
        assert error["data"]["code"] == pusher.RECONNECT == 4200
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4200


async def test_pusher_sockets_count_against_the_live_connection_budgets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, live_max_anonymous=2, live_max_connections=1)
    async with running(settings) as s:
        await setup_tournament(s, teams=1)
        s.http.cookies.clear()
        captain = s.teams[0]["token"]
        # A native socket and a Pusher one share the address's budget of two.
        async with s.socket(), connect(app_url(s), compression=None) as ws:
            error, code = await refused(app_url(s))
            assert error["data"]["code"] == code == pusher.OVER_QUOTA == 4004
            assert "too many live connections" in error["data"]["message"]
            # Signed for the captain, the Pusher socket counts against the captain's budget
            # (one) from then on — and a second socket of the captain's is one too many.
            await subscribe_signed(s, ws, captain, "private-captains")
            assert (await event(ws))["event"] == "pusher_internal:subscription_succeeded"
            async with connect(app_url(s), compression=None) as again:
                await subscribe_signed(s, again, captain, "private-captains")
                error = await event(again)
                assert error["event"] == "pusher:subscription_error"
                assert error["data"]["status"] == 429


async def test_a_pusher_client_sending_too_much_is_told_to_back_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, live_messages_per_minute=5)
    async with running(settings) as s:
        await setup_tournament(s, teams=1)
        async with connect(app_url(s), compression=None) as ws:
            await established(ws)
            for _ in range(6):
                await send(ws, "pusher:ping", {})
            error = await event(ws, "pusher:error")
            assert error["data"]["code"] == pusher.OVER_CAPACITY == 4100
            assert await close_code(ws) == 4100


async def test_native_and_pusher_sockets_get_the_same_frame_from_one_fan_out(
    server: Server,
) -> None:
    hub = server.app.state.hub
    async with server.socket() as native, connect(app_url(server), compression=None) as ws:
        await native.send(json.dumps({"type": "subscribe", "channel": "tournament"}))
        await established(ws)
        await send(ws, "pusher:subscribe", {"channel": "tournament"})
        await event(ws, "snapshot")
        while json.loads(await native.recv())["type"] != "snapshot":
            pass
        frames_before = hub.frames_sent
        await server.post("/announcements", {"message": "Same for all"})
        wrapped = json.loads(await ws.recv())
        text = await native.recv()
        while json.loads(text)["type"] == "heartbeat":
            text = await native.recv()
        # The Pusher event carries the very text the native socket got.
        assert wrapped["data"] == text
        assert hub.frames_sent == frames_before + 1
