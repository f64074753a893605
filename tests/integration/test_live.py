"""The live protocol against a real server (uvicorn in the test's event loop) and a real
WebSocket client: snapshots, frames, batching, resume without gap or duplicate, private
channels, presence, limits and close codes, SSE."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import socket
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode

from beerolympics.app import create_app
from beerolympics.cli import server_config
from beerolympics.settings import Settings
from beerolympics.web.api.live import gzip_accepted
from tests.factories import eventually, make_settings
from tests.servers import free_port


class Server:
    def __init__(self, base: str, settings: Settings) -> None:
        self.base = base
        self.ws = base.replace("http://", "ws://")
        self.settings = settings
        self.http = httpx.AsyncClient(base_url=base, timeout=10)
        self.tid = ""
        self.org: dict[str, str] = {}
        self.teams: list[dict[str, Any]] = []
        self.app: Any = None
        self.uvicorn: Any = None

    def url(self, path: str) -> str:
        return f"/api/v1/tournaments/{self.tid}{path}"

    async def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        r = await self.http.post(
            self.url(path), json=body if body is not None else {}, headers=headers or self.org
        )
        assert r.status_code < 300, r.text
        return r.json()

    def socket(
        self, token: str | None = None, since_cookie: bool = False, compression: str | None = None
    ) -> Any:
        headers = {"Cookie": f"bo_{self.tid}={token}"} if token else {}
        return connect(
            f"{self.ws}{self.url('/live')}", additional_headers=headers, compression=compression
        )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Server]:
    port = free_port()
    app = create_app(settings)
    server = uvicorn.Server(
        server_config(app, settings, host="127.0.0.1", port=port, loop="asyncio")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn has no event for "started"
        await asyncio.sleep(0.01)
    s = Server(f"http://127.0.0.1:{port}", settings)
    s.app, s.uvicorn = app, server
    try:
        yield s
    finally:
        await s.http.aclose()
        server.should_exit = True
        await task


async def setup_tournament(s: Server, teams: int = 4) -> None:
    r = await s.http.post("/api/v1/tournaments", json={"name": "Live Cup"})
    body = r.json()
    s.tid, s.org = body["tournament"]["id"], {"Authorization": f"Bearer {body['token']}"}
    await s.http.patch(s.url(""), json={"rest_seconds": 0}, headers=s.org)
    for i in range(teams):
        team = await s.post(
            "/teams", {"name": f"Crew {i}", "colour": "#123456", "captain_name": f"Cap {i}"}
        )
        s.teams.append(team)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    settings = make_settings(tmp_path, live_window_ms=300, live_heartbeat=1, live_replay_limit=50)
    async with running(settings) as s:
        await setup_tournament(s)
        yield s


async def receive(
    ws: ClientConnection, kind: str | None = None, within: float = 5
) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if kind is None or message["type"] == kind:
                return message


async def frames(ws: ClientConnection, until: Any, within: float = 5) -> list[dict[str, Any]]:
    """Frames until ``until(frames)`` holds."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while not until(got):
            message = json.loads(await ws.recv())
            if message["type"] == "frame":
                got.append(message)
    return got


async def close_code(ws: ClientConnection) -> int:
    """Read until the server closes; the close code it sent."""
    received = None
    try:
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        received = closed.rcvd
    assert received is not None, "the server sent a close frame"
    return received.code


def kinds(frames_: list[dict[str, Any]]) -> list[str]:
    return [m["kind"] for f in frames_ for m in f["messages"]]


async def subscribe(ws: ClientConnection, channel: str, since: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "subscribe", "channel": channel}
    if since is not None:
        message["since"] = since
    await ws.send(json.dumps(message))
    return await receive(ws, "subscribed")


async def test_spectator_gets_a_snapshot_then_frames(server: Server) -> None:
    async with server.socket() as ws:
        welcome = await receive(ws, "welcome")
        assert welcome["role"] == "spectator"
        subscribed = await subscribe(ws, "tournament")
        snapshot = await receive(ws, "snapshot")
        assert snapshot["position"] == subscribed["position"]
        assert [r["team"]["name"] for r in snapshot["state"]["leaderboard"]["rows"]] == [
            "Crew 0",
            "Crew 1",
            "Crew 2",
            "Crew 3",
        ]
        await server.post("/announcements", {"message": "Pizza is here!"})
        [frame] = await frames(ws, lambda f: len(f) == 1)
        assert frame["from"] == snapshot["position"]
        assert frame["to"] > frame["from"]
        assert [m["kind"] for m in frame["messages"]] == ["announcement"]
        assert frame["messages"][0]["announcement"]["message"] == "Pizza is here!"


async def test_updates_within_the_window_go_out_together(server: Server) -> None:
    async with server.socket() as ws:
        await subscribe(ws, "tournament")
        await receive(ws, "snapshot")
        for text in ("one", "two", "three"):
            await server.post("/announcements", {"message": text})
        got = await frames(ws, lambda f: sum(len(x["messages"]) for x in f) == 3)
        # The first goes out at once; the two that follow within the window share a frame.
        assert [len(f["messages"]) for f in got] == [1, 2]
        assert got[1]["from"] == got[0]["to"]
        assert [m["announcement"]["message"] for f in got for m in f["messages"]] == [
            "one",
            "two",
            "three",
        ]


async def test_a_result_updates_match_leaderboard_and_stations_coalesced(server: Server) -> None:
    game = await server.post(
        "/games", {"name": "Pong", "format": "round_robin", "auto_call": False}
    )
    await server.post(f"/games/{game['id']}/start", {})
    schedule = (await server.http.get(server.url("/matches"))).json()["items"]
    key = schedule[0]["id"]
    a, b = (s["team"]["id"] for s in schedule[0]["slots"])
    async with server.socket() as ws:
        await subscribe(ws, "tournament")
        await receive(ws, "snapshot")
        await server.post(f"/matches/{key}/start")
        await server.post(f"/matches/{key}/result", {"winner": a, "score": {a: 10, b: 3}})
        got = await frames(
            ws, lambda f: any(m["kind"] == "leaderboard" for x in f for m in x["messages"])
        )
        messages = [m for f in got for m in f["messages"]]
        updates = [m for m in messages if m["kind"] == "match_updated" and m["match"]["id"] == key]
        assert updates[-1]["match"]["status"] == "confirmed"
        board = next(m for m in messages if m["kind"] == "leaderboard")["leaderboard"]
        winner = next(r for r in board["rows"] if r["team"]["id"] == a)
        assert winner["wins"] == 1
        for frame in got:
            assert len(
                {
                    m.get("kind")
                    for m in frame["messages"]
                    if m["kind"] in ("leaderboard", "stations")
                }
            ) == len([m for m in frame["messages"] if m["kind"] in ("leaderboard", "stations")]), (
                "state messages are coalesced within a frame"
            )


async def test_resume_sends_exactly_what_was_missed(server: Server) -> None:
    async with server.socket() as ws:
        await subscribe(ws, "tournament")
        snapshot = await receive(ws, "snapshot")
        await server.post("/announcements", {"message": "before"})
        [first] = await frames(ws, lambda f: len(f) == 1)
        cursor = first["to"]
    for text in ("missed 1", "missed 2"):
        await server.post("/announcements", {"message": text})
    async with server.socket() as ws:
        subscribed = await subscribe(ws, "tournament", since=cursor)
        replay = await receive(ws, "frame")
        assert (replay["from"], replay["to"]) == (cursor, subscribed["position"])
        said = [
            m["announcement"]["message"] for m in replay["messages"] if m["kind"] == "announcement"
        ]
        assert said == ["missed 1", "missed 2"]
        await server.post("/announcements", {"message": "after"})
        [live] = await frames(ws, lambda f: len(f) == 1)
        assert live["from"] == replay["to"]
        assert [m["announcement"]["message"] for m in live["messages"]] == ["after"]
    assert snapshot["position"] < cursor


async def test_far_behind_gets_a_snapshot(server: Server) -> None:
    for i in range(60):
        await server.post("/announcements", {"message": f"spam {i}"})
    async with server.socket() as ws:
        subscribed = await subscribe(ws, "tournament", since=1)
        snapshot = await receive(ws, "snapshot")
        assert snapshot["position"] == subscribed["position"]


async def test_private_channels_need_the_right_credential(server: Server) -> None:
    team = server.teams[0]
    async with server.socket() as ws:
        await receive(ws, "welcome")
        await ws.send(json.dumps({"type": "subscribe", "channel": f"team:{team['team']['id']}"}))
        error = await receive(ws, "error")
        assert error["code"] == "forbidden_channel"
        await ws.send(json.dumps({"type": "subscribe", "channel": "presence"}))
        assert (await receive(ws, "error"))["code"] == "forbidden_channel"
        await ws.send(json.dumps({"type": "subscribe", "channel": "nonsense"}))
        assert (await receive(ws, "error"))["code"] == "unknown_channel"
        await ws.send(json.dumps({"type": "auth", "token": team["token"]}))
        welcome = await receive(ws, "welcome")
        assert welcome["role"] == "captain"
        await subscribe(ws, f"team:{team['team']['id']}")
        await receive(ws, "snapshot")


async def test_captain_hears_youre_up(server: Server) -> None:
    game = await server.post(
        "/games",
        {"name": "Pong", "format": "round_robin", "auto_call": False, "stations": ["Table 3"]},
    )
    await server.post(f"/games/{game['id']}/start", {})
    station = game["stations"][0]["id"]
    schedule = (await server.http.get(server.url("/matches"))).json()["items"]
    match = schedule[0]
    team_id = match["slots"][0]["team"]["id"]
    team = next(t for t in server.teams if t["team"]["id"] == team_id)
    async with server.socket(team["token"]) as ws:
        await subscribe(ws, f"team:{team_id}")
        await receive(ws, "snapshot")
        await server.post(f"/matches/{match['id']}/call", {"station_id": station})
        [frame] = await frames(ws, lambda f: len(f) == 1)
        [message] = frame["messages"]
        assert message["kind"] == "you_are_up"
        assert message["station"]["name"] == "Table 3"


async def test_presence_names_members_and_counts_spectators(server: Server) -> None:
    captain = server.teams[0]
    async with server.socket(captain["token"]) as ws, server.socket() as _spectator:
        await subscribe(ws, "presence")
        snapshot = await receive(ws, "snapshot")
        presence = snapshot["state"]["presence"]
        assert [p["name"] for p in presence["players"]] == ["Cap 0"]
        assert presence["captains"] == 1
        assert presence["spectators"] == 1


async def test_heartbeats_flow(server: Server) -> None:
    async with server.socket() as ws:
        beat = await receive(ws, "heartbeat", within=3)
        assert beat["position"] >= 1


async def test_close_codes(server: Server) -> None:
    async def closed_with(ws: ClientConnection) -> int:
        return await close_code(ws)

    async with server.socket() as ws:
        await ws.send("not json")
        assert await closed_with(ws) == 4000
    async with server.socket() as ws:
        await ws.send(json.dumps({"type": "auth", "token": "forged.token"}))
        assert await closed_with(ws) == 4001
    async with server.socket() as ws:
        await ws.send(json.dumps({"type": "ping", "id": "x" * 5000}))
        assert await closed_with(ws) == 1009
    async with connect(f"{server.ws}/api/v1/tournaments/nope/live") as ws:
        assert await closed_with(ws) == 4004
    token = server.teams[1]["token"]
    budget = server.settings.live_max_connections
    sockets = [await server.socket(token).__aenter__() for _ in range(budget)]
    try:
        async with server.socket(token) as one_more:
            assert await closed_with(one_more) == 4009
    finally:
        for ws in sockets:
            await ws.close()


async def test_limits_count_credentials_and_give_one_address_a_party_budget(
    tmp_path: Path,
) -> None:
    """Six guests and a TV behind one router are all live; a credential has a budget of its
    own, not the address's; past a budget the socket closes with 4009 and says which one, and
    Server-Sent Events answer 429 (not an error page)."""
    settings = make_settings(tmp_path, live_max_anonymous=7, live_max_connections=2)
    async with running(settings) as s:
        await setup_tournament(s, teams=1)
        guests = [await s.socket().__aenter__() for _ in range(7)]
        try:
            for ws in guests:
                assert (await receive(ws, "welcome"))["role"] == "spectator"
            async with s.socket() as eighth:
                assert await close_code(eighth) == 4009
                assert "from this address" in (eighth.close_reason or "")
            async with httpx.AsyncClient(base_url=s.base) as guest:  # no credential cookie
                events = await guest.get(s.url("/live/events"), params={"channel": "tournament"})
            assert events.status_code == 429
            assert events.json()["code"] == "too_many_connections"
            assert events.headers["Retry-After"] == "60"
            token = s.teams[0]["token"]
            async with s.socket(token) as captain, s.socket(token) as again:
                assert (await receive(captain, "welcome"))["role"] == "captain"
                assert (await receive(again, "welcome"))["role"] == "captain"
                async with s.socket(token) as third:
                    assert await close_code(third) == 4009
                    assert "for this sign-in" in (third.close_reason or "")
                # A guest that signs in on the way counts against the credential.
                await guests[0].send(json.dumps({"type": "auth", "token": token}))
                assert await close_code(guests[0]) == 4009
        finally:
            for ws in guests:
                await ws.close()


async def test_a_phone_that_stops_reading_is_dropped_and_the_others_keep_up(
    tmp_path: Path,
) -> None:
    """Frames go to the socket as ready-made bytes while it takes them; once it pushes back
    they queue, and a full queue drops the connection with 4008 — never the other sockets."""
    # The organizer posts hundreds of announcements, far beyond a person's request budget.
    settings = make_settings(
        tmp_path, live_window_ms=20, live_send_buffer=4, rate_limit_api="100000/minute"
    )
    async with running(settings) as s:
        await setup_tournament(s, teams=0)
        # A socket that stops reading after it subscribed; its receive buffer is tiny.
        loop = asyncio.get_running_loop()
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.setblocking(False)
        await loop.sock_connect(stuck, ("127.0.0.1", int(s.base.rsplit(":", 1)[1])))
        handshake = (
            f"GET {s.url('/live')} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: YmVlcm9seW1waWNzLWJjaA==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(stuck, handshake.encode())
        assert (await loop.sock_recv(stuck, 1024)).startswith(b"HTTP/1.1 101")
        hello = b'{"type":"subscribe","channel":"tournament"}'
        await loop.sock_sendall(stuck, Frame(Opcode.TEXT, hello).serialize(mask=True))
        # The kernel would take megabytes for it before the socket pushes back: keep the
        # server's send buffer for this socket small, as on a congested phone link.
        [held] = [c for c in s.uvicorn.server_state.connections if c.client == stuck.getsockname()]
        held.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
        )
        hub = s.app.state.hub

        async def stuck_subscribed() -> bool:
            return any(c.subscriptions for c in hub.connections)

        await eventually(stuck_subscribed)
        [stuck_conn] = hub.connections
        async with s.socket() as reader:
            await subscribe(reader, "tournament")
            [reader_conn] = [c for c in hub.connections if c is not stuck_conn]
            assert reader_conn.writes_frames
            assert stuck_conn.writes_frames
            sent = 0
            while stuck_conn.close_code is None:
                await s.post("/announcements", {"message": f"{sent} " + "Pizza " * 80})
                sent += 1
                if sent % 20 == 0:
                    await asyncio.sleep(0.05)
                assert sent < 1000, "the stuck socket was never dropped"
            assert stuck_conn.close_code == 4008
            assert reader_conn.close_code is None
            # The reader got every announcement, in order.
            got: list[int] = []
            while len(got) < sent:
                frame = await receive(reader, "frame")
                got += [int(m["announcement"]["message"].split()[0]) for m in frame["messages"]]
            assert got == list(range(sent))
        stuck.close()


async def test_too_many_messages_closes_with_4029(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, live_messages_per_minute=5)
    async with running(settings) as s:
        await setup_tournament(s, teams=0)
        async with s.socket() as ws:
            for i in range(7):
                await ws.send(json.dumps({"type": "ping", "id": i}))
            assert await close_code(ws) == 4029


async def test_server_sent_events(server: Server) -> None:
    async with server.http.stream(
        "GET", server.url("/live/events"), params={"channel": "tournament"}
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.aiter_lines()
        seen: list[tuple[str, str]] = []

        async def read_until(event: str) -> dict[str, Any]:
            current = ""
            async with asyncio.timeout(5):
                async for line in lines:
                    if line.startswith("event: "):
                        current = line[7:]
                    elif line.startswith("data: ") and current == event:
                        data: dict[str, Any] = json.loads(line[6:])
                        return data
                    elif line.startswith("id: "):
                        seen.append((current, line[4:]))
            raise AssertionError("stream ended")

        await read_until("snapshot")
        await server.post("/announcements", {"message": "via sse"})
        frame = await read_until("frame")
        assert frame["messages"][0]["announcement"]["message"] == "via sse"


async def events_until(
    chunks: AsyncIterator[bytes], decode: Callable[[bytes], bytes], seen: bytearray, text: bytes
) -> None:
    """Read the stream until what it decoded to so far holds a whole event with ``text``."""
    whole = re.compile(re.escape(text) + rb".*?\r?\n\r?\n", re.DOTALL)
    async with asyncio.timeout(5):
        while not whole.search(seen):
            seen += decode(await anext(chunks))


async def test_server_sent_events_go_gzipped_each_event_whole_as_it_comes(
    server: Server,
) -> None:
    params = {"channel": "tournament"}
    decoded: dict[str, bytearray] = {}
    async with (
        server.http.stream(
            "GET", server.url("/live/events"), params=params, headers={"Accept-Encoding": "gzip"}
        ) as zipped,
        server.http.stream(
            "GET",
            server.url("/live/events"),
            params=params,
            headers={"Accept-Encoding": "identity"},
        ) as raw,
    ):
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["vary"] == "Accept-Encoding"
        assert zipped.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in raw.headers
        assert raw.headers["vary"] == "Accept-Encoding"
        # The bytes as they came, inflated here: each event can be read as soon as it is
        # sent, while the stream goes on (nothing is held back for a later flush).
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        streams = {
            "gzip": (zipped.aiter_raw(), inflate.decompress, bytearray()),
            "identity": (raw.aiter_raw(), bytes, bytearray()),
        }
        for chunks, decode, seen in streams.values():
            await events_until(chunks, decode, seen, b"event: snapshot")
        await server.post("/announcements", {"message": "via gzip"})
        for name, (chunks, decode, seen) in streams.items():
            await events_until(chunks, decode, seen, b"via gzip")
            decoded[name] = seen
        assert not inflate.eof  # the stream is still open
        # The same frame, byte for byte, whichever way it went.
        [frame] = {
            event
            for seen in decoded.values()
            for event in re.split(rb"\r?\n\r?\n", bytes(seen))
            if b"via gzip" in event
        }
        assert b"event: frame" in frame


@pytest.mark.parametrize(
    ("header", "taken"),
    [
        ("gzip, deflate, br, zstd", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip; q=0.0, br", False),
        ("", False),
        ("gzip;q=x", False),
        ("*, gzip;q=0", False),
        ("br, *;q=0.1", True),
    ],
)
def test_which_clients_take_gzip(header: str, taken: bool) -> None:
    assert gzip_accepted(header) is taken


async def test_a_silent_client_is_dropped_within_two_heartbeats(server: Server) -> None:
    hub = server.app.state.hub
    reader, writer = await asyncio.open_connection("127.0.0.1", int(server.base.rsplit(":", 1)[1]))
    writer.write(
        (
            f"GET {server.url('/live')} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    assert b"101" in await reader.readline()

    async def connected(n: int) -> bool:
        return len(hub.connections) == n

    await eventually(lambda: connected(1), within=2)
    # The client answers no ping: with a 1 s heartbeat it is gone within 2 s (plus slack).
    started = asyncio.get_running_loop().time()
    await eventually(lambda: connected(0), within=4)
    assert asyncio.get_running_loop().time() - started <= 3
    writer.close()


async def test_announcements_reach_their_audience_only(server: Server) -> None:
    team = server.teams[0]
    team_id = team["team"]["id"]
    async with server.socket(team["token"]) as captain, server.socket() as spectator:
        for ws, channels in (
            (captain, ["captains", f"team:{team_id}", "tournament"]),
            (spectator, ["tournament"]),
        ):
            for channel in channels:
                await subscribe(ws, channel)
                await receive(ws, "snapshot")
        await server.post(
            "/announcements", {"message": "captains, to the bar", "audience": "captains"}
        )
        await server.post(
            "/announcements",
            {"message": "your table is ready", "audience": "teams", "team_ids": [team_id]},
        )
        await server.post("/announcements", {"message": "for everyone"})
        heard: dict[str, list[str]] = {}
        async with asyncio.timeout(5):
            while sum(len(v) for v in heard.values()) < 3:
                frame = await receive(captain, "frame")
                for m in frame["messages"]:
                    heard.setdefault(frame["channel"], []).append(m["announcement"]["message"])
        assert heard == {
            "captains": ["captains, to the bar"],
            f"team:{team_id}": ["your table is ready"],
            "tournament": ["for everyone"],
        }
        frame = await receive(spectator, "frame")
        assert [m["announcement"]["message"] for m in frame["messages"]] == ["for everyone"]
    async with httpx.AsyncClient(base_url=server.base) as anonymous:  # no organizer cookie
        public = (await anonymous.get(server.url("/announcements"))).json()["items"]
    assert [a["message"] for a in public] == ["for everyone"]
    mine = (
        await server.http.get(
            server.url("/announcements"), headers={"Authorization": f"Bearer {team['token']}"}
        )
    ).json()["items"]
    assert [a["message"] for a in mine] == [
        "for everyone",
        "your table is ready",
        "captains, to the bar",
    ]


class Counted(ClientConnection):
    """A client connection that counts the bytes its socket receives."""

    received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)


async def test_frames_come_compressed_against_the_frames_before_them(server: Server) -> None:
    """A client offering permessage-deflate keeps its window from message to message, and a
    frame is compressed against the messages the window ends with: the client decodes exactly
    the frames an uncompressed client gets, in fewer bytes than compressing each frame alone
    could give — after a snapshot longer than the ending kept of it, and with messages of its
    own (a state, answers to pings, heartbeats) between."""
    for i in range(4, 24):  # a snapshot of more than a few KB
        await server.post("/teams", {"name": f"Crew {i}", "colour": "#123456", "captain_name": "C"})
    url = f"{server.ws}{server.url('/live')}"
    captain = {"Cookie": f"bo_{server.tid}={server.teams[0]['token']}"}
    async with (
        connect(url, compression=None, create_connection=Counted) as plain,
        connect(url, additional_headers=captain, create_connection=Counted) as packed,
    ):
        [extension] = packed.protocol.extensions
        assert isinstance(extension, PerMessageDeflate)
        assert not extension.remote_no_context_takeover  # the client keeps its window
        for ws in (plain, packed):
            await subscribe(ws, "tournament")
            await receive(ws, "snapshot")
        assert isinstance(plain, Counted)
        assert isinstance(packed, Counted)
        plain_before, packed_before = plain.received, packed.received
        got: dict[ClientConnection, list[dict[str, Any]]] = {plain: [], packed: []}
        for i in range(12):
            if i == 6:
                # Messages of the socket's own, compressed for it alone, between frames.
                await packed.send(json.dumps({"type": "ping", "id": "p" * 200}))
                await receive(packed, "pong")
                await subscribe(packed, "presence")
                await receive(packed, "snapshot")
                await receive(packed, "heartbeat", within=3)
            await server.post("/announcements", {"message": f"Round {i}: pizza at the bar"})
            for ws, frames_ in got.items():
                frames_ += await frames(ws, lambda f: len(f) == 1)
        assert got[packed] == got[plain]
        assert [m["announcement"]["message"] for f in got[plain] for m in f["messages"]] == [
            f"Round {i}: pizza at the bar" for i in range(12)
        ]
        texts = [json.dumps(f, separators=(",", ":")).encode() for f in got[plain]]

        def alone(text: bytes) -> int:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            return len(compressor.compress(text) + compressor.flush(zlib.Z_SYNC_FLUSH)) - 4

        # The frames alone, compressed one by one, before the other messages are counted.
        packed_bytes, plain_bytes = packed.received - packed_before, plain.received - plain_before
        assert packed_bytes < sum(map(alone, texts)) < plain_bytes


async def test_a_compressing_socket_that_pushes_back_gets_every_frame(tmp_path: Path) -> None:
    """While a socket pushes back, frames wait and then go through the websockets library,
    which compresses each alone; after it, frames are compressed against the window's ending
    again. The client decodes every frame, in order."""
    settings = make_settings(
        tmp_path, live_window_ms=20, live_send_buffer=1000, rate_limit_api="100000/minute"
    )
    async with running(settings) as s:
        await setup_tournament(s, teams=0)
        # A small receive buffer, and a client library that stops reading from the socket
        # once one message waits.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(s.base.rsplit(":", 1)[1])))
        async with connect(f"{s.ws}{s.url('/live')}", sock=sock, max_queue=1) as ws:
            await subscribe(ws, "tournament")
            await receive(ws, "snapshot")
            [held] = [c for c in s.uvicorn.server_state.connections if c.client == ws.local_address]
            held.transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
            )
            nachos = "Nachos are ready in the kitchen"
            sent = 0
            while held.writable.is_set():
                text = f"{sent} {nachos} {secrets.token_urlsafe(200)}"
                await s.post("/announcements", {"message": text})
                sent += 1
                assert sent < 500, "the socket never pushed back"
            for size in range(20):  # more while it is paused, none like the ones before
                await s.post("/announcements", {"message": f"{sent} {secrets.token_urlsafe(size)}"})
                sent += 1
            got: list[int] = []
            while len(got) < sent:
                frame = await receive(ws, "frame")
                got += [int(m["announcement"]["message"].split()[0]) for m in frame["messages"]]
            # Then frames written by the server itself again, one at a time, like the ones
            # before the pause (which the client's window no longer ends with).
            for _ in range(5):
                await s.post("/announcements", {"message": f"{sent} {nachos}"})
                sent += 1
                frame = await receive(ws, "frame")
                got += [int(m["announcement"]["message"].split()[0]) for m in frame["messages"]]
            assert got == list(range(sent))


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "compressed"),
    [
        (IPHONE_SAFARI, False),
        (IPHONE_SAFARI.replace("Version/18.1", "CriOS/131.0"), False),  # Chrome on iOS
        (ANDROID_CHROME, True),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", True),
    ],
)
async def test_apples_browsers_are_not_offered_compression(
    server: Server, user_agent: str, compressed: bool
) -> None:
    """Safari, and every browser on iOS (Apple's WebSocket stack), get frames uncompressed;
    the others get permessage-deflate when they offer it."""
    url = f"{server.ws}{server.url('/live')}"
    async with connect(url, user_agent_header=user_agent) as ws:
        assert bool(ws.protocol.extensions) is compressed
        await subscribe(ws, "tournament")
        await receive(ws, "snapshot")
        text = "Pizza is here, at the bar. " * 10
        await server.post("/announcements", {"message": text})
        [frame] = await frames(ws, lambda f: len(f) == 1)
        assert frame["messages"][0]["announcement"]["message"] == text.strip()


async def test_compression_can_be_turned_off(tmp_path: Path) -> None:
    """With ``live_compression`` off, a client offering permessage-deflate gets none, and one
    taking gzip gets its Server-Sent Events plain."""
    async with running(make_settings(tmp_path, live_compression=False)) as s:
        await setup_tournament(s, teams=0)
        async with connect(f"{s.ws}{s.url('/live')}", user_agent_header=ANDROID_CHROME) as ws:
            assert ws.protocol.extensions == []
            await subscribe(ws, "tournament")
            await receive(ws, "snapshot")
            await s.post("/announcements", {"message": "Pizza is here, at the bar."})
            [frame] = await frames(ws, lambda f: len(f) == 1)
            assert frame["messages"][0]["announcement"]["message"] == "Pizza is here, at the bar."
        # Nor do Server-Sent Events go gzipped.
        gzip = {"Accept-Encoding": "gzip"}
        async with s.http.stream(
            "GET", s.url("/live/events"), params={"channel": "tournament"}, headers=gzip
        ) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in events.headers
