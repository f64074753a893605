"""Live frames patch the leaderboard and the station board (docs/live-protocol.md, "Deltas"),
against a real server and real WebSocket clients.

The property: whatever happens (results, corrections, announcements, pauses that split the
frames) and wherever a client joins or resumes — fresh, from any earlier point with the states
it held, or from there without them — applying every frame it gets leaves it holding exactly
what a fresh read of the leaderboard and the station board says. A client of protocol 1 gets
the same states whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from beerolympics.live.connection import PROTOCOL
from beerolympics.live.deltas import apply, brief, denormalize, expand, resolve
from tests.factories import make_settings
from tests.integration.test_live import Server, receive, running, setup_tournament

KINDS = ("leaderboard", "stations")
#: What a client that keeps the patched states and holds none says it has.
NONE: dict[str, tuple[int, Any]] = dict.fromkeys(KINDS, (-1, None))


class Follower:
    """A client of the tournament channel that keeps the patched states as the protocol says."""

    def __init__(self, ws: ClientConnection, protocol: int | None) -> None:
        self.ws = ws
        self.protocol = protocol
        self.states: dict[str, tuple[int, Any]] = {}
        self.last: int | None = None
        self.said: list[str] = []
        self.resyncs = 0
        self.patches = 0
        #: The last view of each match it was told about, and how many came compact.
        self.matches: dict[str, Any] = {}
        self.compact = 0
        self.referred = 0
        #: Whether it keeps the patched states (says so with ``have``), and what it was told
        #: of them when it does not.
        self.keeps = True
        self.notices = 0
        self.history: list[tuple[int, dict[str, tuple[int, Any]]]] = []
        self.task: asyncio.Task[None] | None = None
        self.log: list[Any] = []

    async def join(self, since: int | None = None, have: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"type": "subscribe", "channel": "tournament"}
        if self.protocol is not None:
            message["protocol"] = self.protocol
        if since is not None:
            message["since"] = since
            self.last = since
        if have is not None:
            self.states = dict(have)  # (a client that keeps them, and holds these)
            message["have"] = {kind: at for kind, (at, _) in have.items()}
        self.keeps = have is not None or self.protocol != PROTOCOL
        welcome = await receive(self.ws, "welcome")
        if have is not None:
            message["build"] = welcome["build"]  # (one server: every state comes from its code)
        await self.ws.send(json.dumps(message))
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self.ws:
                self.on(json.loads(text))

    def on(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "snapshot":
            self.last = message["position"]
            # (Protocol 1 gets no labels: it never gets patches.)
            bases = message["state"].get("bases") or dict.fromkeys(KINDS, self.last)
            self.states = {k: (bases[k], message["state"][k]) for k in KINDS}
        elif kind == "state":
            self.log.append(("state", message["bases"]))
            self.states.update({k: (message["bases"][k], v) for k, v in message["state"].items()})
        elif kind == "frame":
            last = self.last
            assert last is not None
            assert message["from"] <= last, "no gap: frames continue where the last one ended"
            if message["to"] <= last:
                return
            self.last = message["to"]
            # What it had already is dropped by position; states go along whatever theirs.
            fresh = [m for m in message["messages"] if m["p"] > last or "at" in m]
            # A match may be said as the station board's, as it is at the start of the frame
            # or at its end.
            boards = [self.states.get("stations")]
            for m in fresh:
                if m["kind"] in KINDS:
                    self._state(m)
            boards.append(self.states.get("stations"))
            for m in fresh:
                self._message(m, [b for b in boards if b is not None])
            self.history.append((message["to"], dict(self.states)))

    def _message(self, m: dict[str, Any], boards: list[tuple[int, Any]]) -> None:
        kind = m["kind"]
        if kind == "announcement":
            self.said.append(m["announcement"]["message"])
        if kind != "match_updated":
            return
        if "base" in m:
            assert self.keeps, "matches are said as the board's to clients that keep it"
            key = m["match"]["$ref"]
            held = next((value for at, value in boards if at == m["base"]), None)
            assert held is not None, (key, m["base"], [at for at, _ in boards], self.log)
            view = held["$matches"][key]
            self.matches[key] = resolve(apply(view, m["delta"]) if "delta" in m else view, held)
            self.referred += 1
            return
        if self.protocol == PROTOCOL and not self.keeps:
            # Without the station board, a client of the protocol is told matches in brief.
            assert m["match"].keys() == {"id", "game_id", "status", "teams"}, m
            self.matches[m["match"]["id"]] = m["match"]
            return
        # (Compact for clients of the protocol: without the fields at their defaults.)
        compact = self.protocol == PROTOCOL
        self.compact += compact and m["match"] != expand(m["match"])
        self.matches[m["match"]["id"]] = expand(m["match"]) if compact else m["match"]

    def _state(self, m: dict[str, Any]) -> None:
        kind = m["kind"]
        if not self.keeps:
            # A client that keeps none is told they changed (as of when), and no more.
            assert m.keys() == {"p", "kind", "at"}, m
            self.notices += 1
            return
        if "delta" in m:
            assert self.protocol is not None, "patches go to clients that speak the protocol"
            held = self.states.get(kind)
            if held is None or held[0] != m["base"]:
                self.log.append(("cannot apply", kind, m["base"], held and held[0], self.last))
                self.resyncs += 1
                asyncio.get_running_loop().create_task(
                    self.ws.send(json.dumps({"type": "resync", "channel": "tournament"}))
                )
                return
            self.patches += 1
            self.log.append(("patch", kind, m["base"], m["at"], m["delta"]))
            self.states[kind] = (m["at"], apply(held[1], m["delta"]))
        else:
            self.log.append(("whole", kind, m["at"]))
            self.states[kind] = (m["at"], m[kind])


step = st.one_of(
    st.tuples(st.just("result"), st.integers(0, 10_000), st.integers(0, 1)),
    st.tuples(st.just("reopen"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("announce"), st.just(0), st.just(0)),
    st.tuples(st.just("pause"), st.just(0), st.just(0)),
    st.tuples(
        st.sampled_from(["fresh", "resume", "resume-bare", "notices", "protocol-1", "older"]),
        st.integers(0, 10_000),
        st.just(0),
    ),
)


async def scenario(tmp: Path, teams: int, auto_call: bool, steps: list[Any]) -> None:
    settings_ = make_settings(tmp, live_window_ms=50, live_replay_limit=10_000)
    async with running(settings_) as s:
        await setup_tournament(s, teams)
        game = await s.post(
            "/games",
            {
                "name": "Pong",
                "format": "round_robin",
                "auto_call": auto_call,
                "stations": ["A", "B"],
            },
        )
        await s.post(f"/games/{game['id']}/start", {})
        followers: list[Follower] = []
        sockets = []

        async def follower(protocol: int | None) -> Follower:
            # Every other one offers permessage-deflate: its frames come compressed against
            # the ones before them, whatever it resumed from.
            compression = "deflate" if len(sockets) % 2 else None
            ws = await s.socket(compression=compression).__aenter__()
            assert bool(ws.protocol.extensions) is (compression is not None)
            sockets.append(ws)
            found = Follower(ws, protocol)
            followers.append(found)
            return found

        first = await follower(PROTOCOL)
        await first.join(have=NONE)
        played: list[str] = []
        try:
            await _steps(s, steps, first, follower, played)
            await _check(s, steps, first, followers, played)
        finally:
            for ws in sockets:
                await ws.close()
            for found in followers:
                if found.task is not None:
                    await asyncio.gather(found.task, return_exceptions=True)


async def _steps(
    s: Server, steps: list[Any], first: Follower, follower: Any, played: list[str]
) -> None:
    for action, pick, side in steps:
        if action in ("result", "reopen"):
            await _play(s, action, pick, side, played)
        elif action == "announce":
            await s.post("/announcements", {"message": "news"})
        elif action == "pause":
            await asyncio.sleep(0.08)
        elif action == "fresh":
            await (await follower(PROTOCOL)).join(have=NONE)
        elif action == "notices":
            await (await follower(PROTOCOL)).join()
        elif action == "protocol-1":
            await (await follower(None)).join()
        elif action == "older":
            # A client of the protocol before this one gets the states whole, as protocol 1.
            await (await follower(PROTOCOL - 1)).join()
        elif first.history:
            # Resume from any point the first client passed, with or without its states.
            at, states = first.history[pick % len(first.history)]
            have = states if action == "resume" else NONE
            await (await follower(PROTOCOL)).join(since=at, have=have)


async def _check(
    s: Server, steps: list[Any], first: Follower, followers: list[Follower], played: list[str]
) -> None:
    await s.post("/announcements", {"message": "the end"})
    for _ in range(500):
        if all("the end" in f.said for f in followers):
            break
        await asyncio.sleep(0.02)
    for found in followers:
        assert "the end" in found.said, (
            found.protocol,
            found.last,
            found.task and found.task.done() and found.task.exception(),
            found.log,
            steps,
        )
    fresh = {
        "leaderboard": (await s.http.get(s.url("/leaderboard"))).json(),
        "stations": (await s.http.get(s.url("/stations"))).json(),
    }
    for found in followers:
        # Every match it was told about is, as it last heard, what a fresh read says.
        for key, view in found.matches.items():
            fresh_match = (await s.http.get(s.url(f"/matches/{key}"))).json()["match"]
            if found.protocol == PROTOCOL and not found.keeps:
                fresh_match = brief(fresh_match)
            assert view == fresh_match, (key, view, fresh_match, found.protocol, steps)
        if not found.keeps:
            continue  # (it holds what its snapshot said, and was told of every change since)
        # (Protocol 3 holds them normalized: each match view once.)
        held = {
            k: denormalize(v) if found.protocol == PROTOCOL else v
            for k, (_, v) in found.states.items()
        }
        assert held == fresh, _difference(held, fresh, found, steps)
        # The server sent every client patches it could apply: none had to ask again.
        assert found.resyncs == 0, (found.protocol, found.log, steps)
    assert first.patches > 0 or not played
    assert first.referred > 0 or not played
    notices = [f for f in followers if not f.keeps]
    assert all(f.referred == 0 for f in notices)


def _difference(held: Any, fresh: Any, found: Follower, steps: Any) -> str:
    """Where a client's states differ from a fresh read (for the failure message)."""
    lines = [f"protocol {found.protocol}, last {found.last}, steps {steps}", repr(found.log)[:3000]]
    for kind in KINDS:
        a, b = held.get(kind), fresh[kind]
        if a != b:
            keys = {*a, *b} if isinstance(a, dict) else set()
            differ = {k: (a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)}
            if "queue" in differ:
                lines.append(repr([(m["id"], m["status"]) for m in a["queue"]]))
                lines.append(repr([(m["id"], m["status"]) for m in b["queue"]]))
                lines.append(repr(found.log))
            lines.append(f"{kind}: {differ!r}"[:300])
    return "\n".join(lines)


async def _play(s: Server, action: str, pick: int, side: int, played: list[str]) -> None:
    if action == "reopen":
        if played:
            key = played.pop(pick % len(played))
            await s.post(f"/matches/{key}/reopen", {"reason": "miscounted"})
        return
    matches = (await s.http.get(s.url("/matches"), params={"limit": 200})).json()["items"]
    open_ = [
        m
        for m in matches
        if m["status"] in ("ready", "called", "in_progress")
        and all(slot["team"] for slot in m["slots"])
    ]
    if not open_:
        return
    match = open_[pick % len(open_)]
    winner = match["slots"][side % len(match["slots"])]["team"]["id"]
    await s.post(f"/matches/{match['id']}/result", {"winner": winner})
    played.append(match["id"])


@pytest.mark.slow
@pytest.mark.timeout(600)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    teams=st.integers(3, 7),
    auto_call=st.booleans(),
    steps=st.lists(step, min_size=1, max_size=14),
)
def test_every_client_ends_with_what_a_fresh_read_says(
    tmp_path: Path, teams: int, auto_call: bool, steps: list[Any]
) -> None:
    asyncio.run(scenario(tmp_path, teams, auto_call, steps))


async def test_a_result_reaches_the_protocol_as_a_patch_and_protocol_1_whole(
    tmp_path: Path,
) -> None:
    async with running(make_settings(tmp_path, live_window_ms=50)) as s:
        await setup_tournament(s, 8)
        game = await s.post("/games", {"name": "Pong", "format": "round_robin"})
        await s.post(f"/games/{game['id']}/start", {})
        match = (await s.http.get(s.url("/matches"))).json()["items"][0]
        async with s.socket() as new, s.socket() as old, s.socket() as page:
            welcome = await receive(new, "welcome")
            assert welcome["protocol"] == PROTOCOL
            await new.send(json.dumps({"type": "resync", "channel": "tournament"}))
            refused = await receive(new, "error")
            assert refused["code"] == "not_subscribed"
            await new.send(
                json.dumps(
                    {
                        "type": "subscribe",
                        "channel": "tournament",
                        "protocol": PROTOCOL,
                        "have": {"leaderboard": -1, "stations": -1},
                    }
                )
            )
            await old.send(json.dumps({"type": "subscribe", "channel": "tournament"}))
            # A page that keeps no state (it refreshes what changed): no `have`.
            await receive(page, "welcome")
            await page.send(
                json.dumps({"type": "subscribe", "channel": "tournament", "protocol": PROTOCOL})
            )
            snapshot = (await receive(new, "snapshot"))["state"]
            await receive(old, "snapshot")
            await receive(page, "snapshot")
            winner = match["slots"][0]["team"]["id"]
            await s.post(f"/matches/{match['id']}/result", {"winner": winner})

            async def board_frame(ws: ClientConnection) -> tuple[str, dict[str, Any]]:
                while True:
                    text = await asyncio.wait_for(ws.recv(), 5)
                    message = json.loads(text)
                    found = [m for m in message.get("messages", []) if m["kind"] == "leaderboard"]
                    if found:
                        return str(text), found[0]

            new_text, patched = await board_frame(new)
            old_text, whole = await board_frame(old)
            page_text, told = await board_frame(page)
            # Told that it changed, and as of when: not how.
            assert told == {"p": patched["p"], "kind": "leaderboard", "at": patched["at"]}
            assert len(page_text) < len(new_text)
            assert patched["base"] == snapshot["bases"]["leaderboard"]
            assert patched["at"] == whole["at"]
            after = denormalize(apply(snapshot["leaderboard"], patched["delta"]))
            assert after == whole["leaderboard"]
            row = next(r for r in whole["leaderboard"]["rows"] if r["team"]["id"] == winner)
            assert row["wins"] == 1
            assert len(new_text) * 3 < len(old_text)
            # Asked again, the states come whole, labelled as the last frame left them.
            await new.send(json.dumps({"type": "resync", "channel": "tournament"}))
            state = await receive(new, "state")
            assert state["bases"]["leaderboard"] == patched["at"]
            assert denormalize(state["state"]["leaderboard"]) == whole["leaderboard"]


async def test_a_resume_with_states_made_by_other_code_gets_them_again(tmp_path: Path) -> None:
    """Labels are positions: after a deploy the same label may stand for another value, so
    states held from another build are sent again even where their labels match."""
    async with running(make_settings(tmp_path, live_window_ms=50)) as s:
        await setup_tournament(s, 6)
        game = await s.post("/games", {"name": "Pong", "format": "round_robin"})
        await s.post(f"/games/{game['id']}/start", {})
        match = (await s.http.get(s.url("/matches"))).json()["items"][0]
        async with s.socket() as first:
            build = (await receive(first, "welcome"))["build"]
            subscribe = {"type": "subscribe", "channel": "tournament", "protocol": PROTOCOL}
            await first.send(json.dumps({**subscribe, "have": {"leaderboard": -1, "stations": -1}}))
            await receive(first, "snapshot")
            await s.post(
                f"/matches/{match['id']}/result", {"winner": match["slots"][0]["team"]["id"]}
            )
            frame = await receive(first, "frame")
            await first.send(json.dumps({"type": "resync", "channel": "tournament"}))
            held = await receive(first, "state")
        resume = {**subscribe, "since": frame["to"], "have": held["bases"]}
        for said, sent_again in ((build, False), ("0123456789ab", True), (None, True)):
            async with s.socket() as ws:
                await receive(ws, "welcome")
                await ws.send(json.dumps({**resume, "build": said} if said else resume))
                # Answered in turn: what the subscribe sends comes before the pong.
                await ws.send(json.dumps({"type": "ping", "id": 1}))
                got = []
                while not got or got[-1]["type"] != "pong":
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
                states = [m for m in got if m["type"] == "state"]
                if sent_again:
                    assert [m["bases"] for m in states] == [held["bases"]]
                    assert states[0]["state"] == held["state"]
                else:
                    assert states == []
                    assert [m["type"] for m in got] == ["subscribed", "pong"]
