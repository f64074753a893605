"""A live connection keeps frames in order, cuts overlaps, and drops a client that lags."""

from __future__ import annotations

import asyncio
import json

import pytest

from beerolympics.domain.identity import SPECTATOR
from beerolympics.live.connection import (
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_SLOW,
    Connection,
    Frame,
    Subscription,
    json_text,
)
from beerolympics.live.hub import FANOUT_SHARE, next_flush


def frame(start: int, end: int, *positions: int) -> Frame:
    messages = [{"p": p, "kind": "k"} for p in positions]
    body = {
        "type": "frame",
        "channel": "tournament",
        "from": start,
        "to": end,
        "messages": messages,
    }
    return Frame("tournament", start, end, json.dumps(body), messages)


def queued(conn: Connection) -> list[dict[str, object]]:
    return [json.loads(text) for text in conn._queue or ()]


def test_frames_held_during_catch_up_are_cut_to_what_is_new() -> None:
    conn = Connection("t", SPECTATOR, "1.2.3.4", buffer=10, per_minute=100)
    conn.subscriptions["tournament"] = Subscription()
    assert conn.deliver(frame(10, 14, 12, 14)) == 0  # held: nothing sent yet
    conn.deliver(frame(14, 16, 15))
    assert queued(conn) == []
    conn.caught_up("tournament", 12)
    sent = queued(conn)
    assert [(f["from"], f["to"]) for f in sent] == [(12, 14), (14, 16)]
    assert [[m["p"] for m in f["messages"]] for f in sent] == [[14], [15]]  # type: ignore[union-attr]
    assert conn.deliver(frame(10, 16, 16)) == 0
    assert len(queued(conn)) == 2, "nothing already covered is sent again"
    # What deliver says it sent (the hub's delivered bytes) is what was queued: the cut frame.
    assert conn.deliver(frame(15, 18, 16, 18)) == len(conn._queue[-1])  # type: ignore[index]
    assert queued(conn)[-1]["from"] == 16
    whole = frame(18, 19, 19)
    assert conn.deliver(whole) == len(whole.text)


def test_a_client_that_does_not_keep_up_is_dropped() -> None:
    conn = Connection("t", SPECTATOR, "1.2.3.4", buffer=3, per_minute=100)
    for i in range(3):
        conn.enqueue(f"frame {i}")
    assert conn.close_code is None
    conn.enqueue("one too many")
    assert conn.close_code == CLOSE_TOO_SLOW


def test_too_many_messages_close_the_connection() -> None:
    conn = Connection("t", SPECTATOR, "1.2.3.4", buffer=3, per_minute=2)
    assert conn.count_message()
    assert conn.count_message()
    assert not conn.count_message()
    assert conn.close_code == CLOSE_RATE_LIMITED


async def test_direct_sends_complete_at_once_and_a_blocked_socket_queues_in_order() -> None:
    conn = Connection("t", SPECTATOR, "1.2.3.4", buffer=10, per_minute=100)
    sent: list[str] = []
    writable = asyncio.Event()
    writable.set()

    async def send(text: str) -> None:
        await writable.wait()  # what a transport's flow control does
        sent.append(text)

    async def hang_up(code: int, reason: str) -> None:
        sent.append(f"closed {code}")

    conn.attach(send, hang_up)
    conn.enqueue("a")
    assert sent == ["a"], "an idle socket is written at once, without a task"
    writable.clear()
    for text in ("b", "c", "d"):
        conn.enqueue(text)
    assert sent == ["a"]
    writable.set()
    await eventually_sent(sent, 4)
    assert sent == ["a", "b", "c", "d"]
    conn.enqueue("e")
    assert sent[-1] == "e"
    conn.close(1000, "bye")
    await eventually_sent(sent, 6)
    assert sent[-1] == "closed 1000"


async def test_a_blocked_socket_that_never_drains_gets_the_connection_dropped() -> None:
    conn = Connection("t", SPECTATOR, "1.2.3.4", buffer=2, per_minute=100)
    never = asyncio.Event()

    async def send(text: str) -> None:
        await never.wait()

    async def hang_up(code: int, reason: str) -> None:
        return None

    conn.attach(send, hang_up)
    for text in ("a", "b", "c", "d"):
        conn.enqueue(text)
    assert conn.close_code == CLOSE_TOO_SLOW


async def eventually_sent(sent: list[str], count: int) -> None:
    async with asyncio.timeout(2):
        while len(sent) < count:  # noqa: ASYNC110 - the send list is what we watch
            await asyncio.sleep(0)


def test_frame_text_is_ascii_json_with_the_same_content() -> None:
    message = {"team": "Die Bären 🍺", "flag": "\U0001f1e9\U0001f1ea", "motto": '漢字 "quoted"'}
    text = json_text(message)
    assert text.isascii()
    assert json.loads(text) == message


def test_an_idle_channel_flushes_at_once_and_a_costly_fan_out_stretches_the_window() -> None:
    window = 0.1
    assert next_flush(10.0, last_flush=5.0, window=window, last_cost=0.01) == 10.0
    assert next_flush(10.0, last_flush=9.95, window=window, last_cost=0.01) == pytest.approx(10.05)
    # A frame that took 80 ms to send everywhere: the next one waits until fan-out would have
    # taken at most its share of the time since.
    stretched = next_flush(10.0, last_flush=10.0, window=window, last_cost=0.08)
    assert stretched == pytest.approx(10.0 + 0.08 / FANOUT_SHARE)
    assert stretched > 10.0 + window
