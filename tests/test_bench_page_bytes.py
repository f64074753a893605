"""The page-bytes bench counts Chromium's network events the way its docstring says."""

from __future__ import annotations

import httpx
from bench.page_bytes import Tally, relayed
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve


def test_tally_counts_frames_and_finished_responses_by_url() -> None:
    tally = Tally()
    tally.frame({"response": {"payloadData": '{"type":"frame","é":1}'}})
    tally.sent({"requestId": "1", "request": {"url": "http://h/t/x/leaderboard"}})
    tally.sent({"requestId": "2", "request": {"url": "http://h/t/x/tv"}})
    tally.finished({"requestId": "2", "encodedDataLength": 700})
    assert tally.snapshot() == (len('{"type":"frame","é":1}'.encode()), 700, 1, 0)
    tally.finished({"requestId": "1", "encodedDataLength": 300.0})
    assert tally.snapshot()[1:3] == (1000, 2)
    assert tally.urls == ["http://h/t/x/tv", "http://h/t/x/leaderboard"]


async def test_the_relay_counts_what_the_server_sends_on_websockets_only() -> None:
    async def echo_twice(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)
            await ws.send(message)

    async with serve(echo_twice, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        with relayed(port) as relay:
            async with httpx.AsyncClient(base_url=relay.url) as http:
                # Not a WebSocket: its answer is not counted.
                assert (await http.get("/")).status_code == 426
            url = relay.url.replace("http://", "ws://")
            async with connect(url, compression=None) as ws:
                await ws.send("x" * 200)
                assert [await ws.recv(), await ws.recv()] == ["x" * 200] * 2
            # Two frames of 200 bytes, 4 bytes of header each, and the close frame (2 + 2).
            assert relay.ws == 2 * (200 + 4) + 4
