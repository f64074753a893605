"""Live: a change made on one phone shows on the others without a reload; the TV rotates by
itself at 1920×1080 and is back on its own within 10 s of a server restart."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from beerolympics.live.connection import PROTOCOL as LIVE_PROTOCOL
from beerolympics.live.deltas import MATCH_DEFAULTS, SLOT_DEFAULTS, compact, diff, normalize
from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, eventually, phone, wait_live


def _mark(page: Any) -> None:
    """A flag that only a reload would clear."""
    page.evaluate("() => { window.__noReload = true; }")


def _not_reloaded(page: Any) -> bool:
    return bool(page.evaluate("() => window.__noReload === true"))


def test_a_result_confirmed_on_one_phone_appears_on_the_others(
    browser: Any, server: Server, api: Api
) -> None:
    t = api.tournament()
    tid = t["tournament"]["id"]
    a = api.team(t, "Hop Stars", "Aoife")
    b = api.team(t, "Lager Legends", "Jonas")
    game = api.game(t, name="Beer Pong", format="single_elimination", auto_call=False)
    api.start_game(t, game["id"])
    match = api.matches(tid, game_id=game["id"])[0]
    api.call("POST", f"/tournaments/{tid}/matches/{match['id']}/start", a["token"])
    api.call(
        "POST",
        f"/tournaments/{tid}/matches/{match['id']}/result",
        a["token"],
        {"winner": a["team"]["id"], "score": {a["team"]["id"]: 10, b["team"]["id"]: 7}},
    )

    jonas = phone(browser, server.url, token=b["token"], tournament_id=tid)
    fan = phone(browser, server.url)
    try:
        confirm = jonas.new_page()
        confirm.goto(f"/t/{tid}/matches/{match['id']}")
        watching = fan.new_page()
        watching.goto(f"/t/{tid}/matches/{match['id']}")
        board = fan.new_page()
        board.goto(f"/t/{tid}/leaderboard")
        for page in (confirm, watching, board):
            wait_live(page)
        assert board.evaluate("() => document.body.dataset.transport") == "ws"
        _mark(watching)
        _mark(board)
        # Both finalists are sure of 2nd (75) and may still win (100).
        pts = board.locator("#board tbody tr").first.locator(".pts")
        expect(pts).to_have_text(re.compile(r"^75\b.*100$"))

        confirm.get_by_role("button", name="Yes, that's right").click()

        expect(watching.locator(".chip").first).to_have_text("done")
        expect(watching.locator(".slot.won")).to_contain_text("Hop Stars")
        expect(board.locator("#board tbody tr").first).to_contain_text("Hop Stars")
        expect(board.locator("#board tbody tr").first.locator(".pts")).to_have_text("100")
        expect(board.locator("#race .race-phone polyline")).to_have_count(2)  # the race, redrawn
        assert _not_reloaded(watching)
        assert _not_reloaded(board)
    finally:
        jonas.close()
        fan.close()


def _party(api: Api) -> tuple[dict[str, Any], list[Any], dict[str, str]]:
    """Eight teams part-way through two games, with news: something to show on a TV."""
    t = api.tournament(name="Backyard Olympics", max_teams=16)
    tid = t["tournament"]["id"]
    api.call("PATCH", f"/tournaments/{tid}", t["token"], {"rest_seconds": 0})
    names = [
        ("Hop Stars", "#E4572E", "🇮🇪"),
        ("Lager Legends", "#29335C", "🇩🇪"),
        ("Pong Dynasty", "#F3A712", "🇺🇸"),
        ("The Flip Side", "#A8C686", "🇨🇦"),
        ("Ale Mary", "#669BBC", "🇬🇧"),
        ("Stout Hearts", "#7B2D26", "🇦🇺"),
        ("Brew Crew", "#2A9D8F", "🇳🇿"),
        ("Tap Dancers", "#FF006E", "🇧🇷"),
    ]
    teams = [
        api.team(t, name, f"Captain {i}", colour=colour, flag=flag)
        for i, (name, colour, flag) in enumerate(names)
    ]
    pong = api.game(
        t,
        name="Beer Pong",
        format="double_elimination",
        stations=["Table 1", "Table 2"],
        auto_call=False,
    )
    flip = api.game(
        t,
        name="Flip Cup",
        format="heats",
        options={"heat_size": 4},
        heat_scoring="lower",
        stations=["Lane A"],
        auto_call=False,
    )
    quarters = api.game(t, name="Quarters", format="swiss", stations=["Table 3"], auto_call=False)
    games = {"pong": pong["id"], "flip": flip["id"], "quarters": quarters["id"]}
    for game_id in games.values():
        api.start_game(t, game_id)
    org = t["token"]
    for round_ in range(2):
        ready = [m for m in api.matches(tid, game_id=pong["id"]) if m["status"] == "ready"]
        for m in ready[: 4 - round_]:
            ids = [s["team"]["id"] for s in m["slots"]]
            api.call("POST", f"/tournaments/{tid}/matches/{m['id']}/start", org)
            api.call(
                "POST",
                f"/tournaments/{tid}/matches/{m['id']}/result",
                org,
                {"winner": ids[0], "score": {ids[0]: 10, ids[1]: 4 + round_}},
            )
    for i, m in enumerate(api.matches(tid, game_id=flip["id"])):
        ids = [s["team"]["id"] for s in m["slots"]]
        api.call("POST", f"/tournaments/{tid}/matches/{m['id']}/start", org)
        api.call(
            "POST",
            f"/tournaments/{tid}/matches/{m['id']}/result",
            org,
            {"values": {team: 8.0 + j * 1.5 + i for j, team in enumerate(ids)}},
        )
    first = api.matches(tid, game_id=quarters["id"], status="ready")[0]
    ids = [s["team"]["id"] for s in first["slots"]]
    api.call("POST", f"/tournaments/{tid}/matches/{first['id']}/start", org)
    api.call("POST", f"/tournaments/{tid}/matches/{first['id']}/result", org, {"winner": ids[0]})
    stations = api.call("GET", f"/tournaments/{tid}/games/{pong['id']}")["stations"]
    ready = [m for m in api.matches(tid, game_id=pong["id"]) if m["status"] == "ready"]
    for m, station in zip(ready, stations, strict=False):
        api.call(
            "POST", f"/tournaments/{tid}/matches/{m['id']}/call", org, {"station_id": station["id"]}
        )
    api.call(
        "POST",
        f"/tournaments/{tid}/announcements",
        org,
        {"message": "Pizza is here! Grab a slice before the semis 🍕", "priority": "important"},
    )
    return t, teams, games


#: On the TV's active slide: what sticks out of the screen (or out of the main area, between
#: header and footer), and text under 24 px as it shows (after a slide was scaled to fit).
TV_CHECK = """
() => {
  const main = document.getElementById("main").getBoundingClientRect();
  const beyond = [];
  const small = [];
  const slide = document.querySelector(".slide.active");
  for (const el of slide.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") continue;
    if (r.right > innerWidth + 1 || r.bottom > main.bottom + 1 || r.left < -1) {
      const what = `${el.tagName}.${el.className.baseVal ?? el.className}`;
      beyond.push(`${what} ${Math.round(r.right)}x${Math.round(r.bottom)}`);
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || el.closest(".vh, noscript, title")) continue;
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!r.width || style.visibility === "hidden") continue;
    let size = parseFloat(style.fontSize);
    const fit = el.closest("[data-fit]");
    if (fit && fit.offsetWidth) size *= fit.getBoundingClientRect().width / fit.offsetWidth;
    const svg = el.closest("svg");
    if (svg && svg.viewBox.baseVal.width) {
      const box = svg.getBoundingClientRect();
      const view = svg.viewBox.baseVal;
      size *= Math.min(box.width / view.width, box.height / view.height);
    }
    if (size < 23.5) small.push(`${Math.round(size)}px "${node.textContent.trim().slice(0, 30)}"`);
  }
  return [beyond, small];
}
"""


@pytest.fixture
def own_server(tmp_path: Path, browser: Any) -> Any:
    """A server of this test's own: it gets restarted."""
    running = Server(tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_the_tv_rotates_at_1080p_and_recovers_after_a_restart(
    browser: Any, own_server: Server, screenshots: Path
) -> None:
    with Api(own_server.url) as api:
        t, teams, games = _party(api)
    tid = t["tournament"]["id"]
    tv = phone(browser, own_server.url, viewport={"width": 1920, "height": 1080})
    try:
        page = tv.new_page()
        slides = {
            "leaderboard": "leaderboard",
            "now": "now",
            "bracket": f"bracket-{games['pong']}-winners",
            "swiss": f"bracket-{games['quarters']}-swiss",
            "news": "news",
            "race": "race",
        }
        for name, slide in slides.items():
            page.goto(f"/t/{tid}/tv?slide={slide}")
            expect(page.locator(f'.slide.active[data-slide^="{slide}"]')).to_be_visible()
            page.wait_for_timeout(100)  # the slide is fitted once its fonts are laid out
            # It fits the screen, and reads from across a garage.
            beyond, small = page.evaluate(TV_CHECK)
            assert beyond == [], (name, beyond)
            assert small == [], (name, small)
            page.screenshot(path=screenshots / f"tv-1080-{name}.png", animations="disabled")
        page.goto(f"/t/{tid}/tv?slide={slides['swiss']}")
        expect(page.locator(".slide.active .tie-legend")).to_contain_text("Buchholz")

        page.goto(f"/t/{tid}/tv?every=3")
        wait_live(page)
        first = page.evaluate("() => document.body.dataset.slide")
        assert first == "leaderboard"
        expect(page.locator("#tv-ticker")).to_contain_text("Pizza")

        own_server.stop()
        expect(page.locator("#net")).to_contain_text("Reconnecting")
        own_server.start()
        back = time.monotonic()
        with Api(own_server.url) as api:
            bonus = api.call(
                "POST",
                f"/tournaments/{tid}/bonuses",
                t["token"],
                {"name": "Best costume", "points": 500, "needs_approval": False},
            )["items"][0]
            api.call(
                "POST",
                f"/tournaments/{tid}/bonuses/{bonus['id']}/claims",
                t["token"],
                {"team_id": teams[7]["team"]["id"]},
            )
        leader = page.locator("#tv-leaders tbody tr").first
        expect(leader).to_contain_text("Tap Dancers", timeout=10_000)
        assert time.monotonic() - back < 10
        expect(page.locator("#net")).to_be_hidden()
        # It keeps rotating by itself.
        eventually(lambda: page.evaluate("() => document.body.dataset.slide") != "leaderboard", 15)
    finally:
        tv.close()


def test_where_websockets_are_blocked_pages_follow_over_server_sent_events(
    browser: Any, server: Server, api: Api
) -> None:
    t = api.tournament()
    tid = t["tournament"]["id"]
    team = api.team(t, "Hop Stars", "Aoife")
    api.team(t, "Lager Legends", "Jonas")
    bonus = api.call(
        "POST",
        f"/tournaments/{tid}/bonuses",
        t["token"],
        {"name": "Best costume", "points": 30, "needs_approval": False},
    )["items"][0]
    context = phone(browser, server.url)
    try:
        page = context.new_page()
        # A venue proxy that lets the upgrade through and then drops every WebSocket.
        page.route_web_socket("**/live", lambda ws: ws.close())
        encodings: list[str | None] = []
        page.on(
            "response",
            lambda r: (
                encodings.append(r.headers.get("content-encoding"))
                if "/live/events" in r.url
                else None
            ),
        )
        page.goto(f"/t/{tid}/leaderboard")
        wait_live(page)
        assert page.evaluate("() => document.body.dataset.transport") == "sse"
        # The events come gzipped, and the browser reads each as it comes (below).
        assert encodings
        assert set(encodings) == {"gzip"}
        api.call(
            "POST",
            f"/tournaments/{tid}/bonuses/{bonus['id']}/claims",
            t["token"],
            {"team_id": team["team"]["id"]},
        )
        first = page.locator("#board tbody tr").first
        expect(first).to_contain_text("Hop Stars")
        expect(first.locator(".pts")).to_have_text("30")
    finally:
        context.close()


FAKE_SOCKET = """
async () => {
  class FakeSocket {
    constructor(url) {
      this.url = url; this.sent = []; this.readyState = 0;
      FakeSocket.all.push(this);
      setTimeout(() => { this.readyState = 1; this.onopen && this.onopen(); }, 0);
    }
    send(text) { this.sent.push(JSON.parse(text)); }
    close(code) { this.readyState = 3; this.onclose && this.onclose({ code: code || 1000 }); }
    serve(message) { this.onmessage({ data: JSON.stringify(message) }); }
  }
  FakeSocket.OPEN = 1;
  FakeSocket.all = [];
  window.WebSocket = FakeSocket;
  const build = document.body.dataset.build;
  const { Live } = await import(`/static/${build}/js/live.js`);
  window.FakeSocket = FakeSocket;
  window.Live = Live;
  window.patches = await import(`/static/${build}/js/deltas.js`);
}
"""

PROTOCOL = """
async () => {
  const until = async (check) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error("timed out");
  };
  const got = [];
  const statuses = [];
  const live = new Live({
    tournament: "cup", channels: ["tournament", "match:gm_a.W1-1"], maxDelay: 40,
    onMessage: (channel, m) => got.push([channel, m.p]),
    onStatus: (s) => statuses.push(s),
  }).start();
  const one = FakeSocket.all[0];
  const url = one.url;
  await until(() => one.readyState === 1);
  one.serve({ type: "welcome", heartbeat: 15, position: 10 });
  const firstSubscribe = one.sent.slice();
  one.serve({ type: "subscribed", channel: "tournament", position: 10 });
  one.serve({ type: "subscribed", channel: "match:gm_a.W1-1", position: 10 });
  one.serve({ type: "frame", channel: "tournament", from: 10, to: 12,
              messages: [{ p: 11, kind: "a" }, { p: 12, kind: "b" }] });
  one.serve({ type: "frame", channel: "tournament", from: 15, to: 16,
              messages: [{ p: 16, kind: "after-a-gap" }] });
  await until(() => FakeSocket.all.length === 2);
  const two = FakeSocket.all[1];
  await until(() => two.readyState === 1);
  two.serve({ type: "welcome", heartbeat: 15, position: 16 });
  const resubscribe = two.sent.slice();
  two.serve({ type: "frame", channel: "tournament", from: 12, to: 16,
              messages: [{ p: 13, kind: "c" }, { p: 16, kind: "d" }] });
  two.serve({ type: "frame", channel: "tournament", from: 12, to: 16,
              messages: [{ p: 16, kind: "duplicate" }] });
  two.close(4004);
  await new Promise((r) => setTimeout(r, 200));
  const sockets = FakeSocket.all.length;
  Math.random = () => 0;
  const waits = [];
  const backoff = new Live({
    tournament: "cup", channels: [],
    onStatus: (s, d) => d && d.wait !== undefined && waits.push(d.wait),
  });
  for (let i = 0; i < 8; i++) backoff.retry();
  backoff.stop();
  return { url, firstSubscribe, resubscribe, got, sockets, statuses, waits };
}
"""


def test_live_js_follows_the_protocol(browser: Any, server: Server) -> None:
    """live.js against a scripted server: subscribe, resume with `since` after a gap, drop
    duplicates, stop on 4004, back off as the protocol says."""
    context = phone(browser, server.url)
    try:
        page = context.new_page()
        page.goto("/offline")
        page.evaluate(FAKE_SOCKET)
        result = page.evaluate(PROTOCOL)
    finally:
        context.close()
    assert result["url"].endswith("/api/v1/tournaments/cup/live")
    assert result["firstSubscribe"] == [
        {"type": "subscribe", "channel": "tournament", "protocol": LIVE_PROTOCOL},
        {"type": "subscribe", "channel": "match:gm_a.W1-1", "protocol": LIVE_PROTOCOL},
    ]
    assert result["resubscribe"] == [
        {"type": "subscribe", "channel": "tournament", "protocol": LIVE_PROTOCOL, "since": 12},
        {"type": "subscribe", "channel": "match:gm_a.W1-1", "protocol": LIVE_PROTOCOL, "since": 10},
    ]
    assert result["got"] == [
        ["tournament", 11],
        ["tournament", 12],
        ["tournament", 13],
        ["tournament", 16],
    ]
    assert result["sockets"] == 2  # 4004: no such tournament, no more tries
    assert result["statuses"][-1] == "stopped"
    assert result["waits"] == [250, 500, 1000, 2000, 4000, 8000, 15000, 15000]


BOARD_MATCH = """
async ([snapshot, frame]) => {
  const got = [];
  const live = new Live({
    tournament: "cup", channels: ["tournament"], keep: ["stations"], patches: window.patches,
    onMessage: (channel, m) => got.push(m),
  }).start();
  const socket = FakeSocket.all[FakeSocket.all.length - 1];
  for (let i = 0; i < 200 && socket.readyState !== 1; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  socket.serve({ type: "welcome", heartbeat: 15, position: 10, protocol: %d });
  socket.serve({ type: "subscribed", channel: "tournament", position: 10 });
  socket.serve(snapshot);
  socket.serve(frame);
  live.stop();
  return { got, sent: socket.sent };
}
"""


def test_a_page_keeping_the_station_board_gets_its_matches_whole(
    browser: Any, server: Server
) -> None:
    """Said as the board's (as it is after the frame, or before it with a patch), a match
    reaches the page whole, as a fresh read has it."""
    team = {"id": "tm_1", "name": "Hop Stars", "colour": "#123456", "flag": "🍺"}
    other = team | {"id": "tm_2", "name": "Tap Dancers"}

    def view(key: str, status: str, station: Any = None) -> dict[str, Any]:
        slots = [{**SLOT_DEFAULTS, "team": t} for t in (team, other)]
        return {
            **MATCH_DEFAULTS,
            "id": key,
            "game_id": "gm_a",
            "game": "Pong",
            "round": 1,
            "label": "Round 1",
            "section": "round_robin",
            "status": status,
            "slots": slots,
            "station": station,
        }

    def board(now: Any, nxt: Any) -> dict[str, Any]:
        """T1 playing ``now``; T2 free, ``nxt`` its next match (the free tables' next matches
        are held once per game, ``$next``: the page gives them back to the tables)."""
        tables = [
            {
                "game_id": "gm_a",
                "game": "Pong",
                "station": {"id": f"st_{i}", "name": f"T{i}"},
                "now_playing": now if i == 1 else None,
                "up_next": nxt if i == 2 else None,
                "waits_for": [team] if i == 2 and nxt else [],
                "ready_at": None,
                "auto_call": True,
            }
            for i in (1, 2)
        ]
        return {"stations": tables, "queue": [], "queued": 0}

    at_table = {"id": "st_1", "name": "T1", "match": "gm_a.R1-1"}
    before = normalize(board(view("gm_a.R1-1", "called", at_table), view("gm_a.R1-2", "ready")))
    assert before["$next"] == {"gm_a": [{"$ref": "gm_a.R1-2", "waits_for": [{"$team": "tm_1"}]}]}
    played = view("gm_a.R1-1", "confirmed", at_table)
    played["slots"][0]["winner"] = True
    called = view("gm_a.R1-2", "called", at_table | {"match": "gm_a.R1-2"})
    after = normalize(board(called, None))
    flat_played = compact(played)
    flat_played["slots"] = [{**s, "team": {"$team": s["team"]["id"]}} for s in flat_played["slots"]]
    snapshot = {
        "type": "snapshot",
        "channel": "tournament",
        "position": 10,
        "state": {"stations": before, "bases": {"stations": 10}},
    }
    frame = {
        "type": "frame",
        "channel": "tournament",
        "from": 10,
        "to": 12,
        "messages": [
            {
                "p": 11,
                "kind": "match_updated",
                "event": "ResultConfirmed",
                "match": {"$ref": "gm_a.R1-1"},
                "base": 10,
                "delta": diff(before["$matches"]["gm_a.R1-1"], flat_played),
            },
            {
                "p": 12,
                "kind": "match_updated",
                "event": "MatchCalled",
                "match": {"$ref": "gm_a.R1-2"},
                "base": 12,
            },
            {"p": 12, "kind": "stations", "base": 10, "at": 12, "delta": diff(before, after)},
        ],
    }
    context = phone(browser, server.url)
    try:
        page = context.new_page()
        page.goto("/offline")
        page.evaluate(FAKE_SOCKET)
        result = page.evaluate(BOARD_MATCH % LIVE_PROTOCOL, [snapshot, frame])
        # The free table's next match, held in $next, is the table's again on the page.
        whole = page.evaluate("(state) => window.patches.denormalize(state)", before)
    finally:
        context.close()
    matches = [m for m in result["got"] if m["kind"] == "match_updated"]
    assert [m["match"] for m in matches] == [played, called]
    assert all("base" not in m and "delta" not in m for m in matches)
    shown = next(m for m in result["got"] if m["kind"] == "stations")
    assert shown["stations"] == board(called, None)
    assert whole == board(view("gm_a.R1-1", "called", at_table), view("gm_a.R1-2", "ready"))
    assert not any(s["type"] == "resync" for s in result["sent"])


REDEPLOY = """
async () => {
  const until = async (check) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error("timed out");
  };
  const board = { stations: [], queue: [], queued: 0 };
  const live = new Live({
    tournament: "cup", channels: ["tournament"], keep: ["stations"], patches: window.patches,
    maxDelay: 40,
  }).start();
  const subscribes = [];
  const serve = async (build, then) => {
    const socket = FakeSocket.all[FakeSocket.all.length - 1];
    await until(() => socket.readyState === 1);
    socket.serve({ type: "welcome", heartbeat: 15, position: 10, protocol: %d, build });
    subscribes.push(socket.sent[0]);
    socket.serve({ type: "subscribed", channel: "tournament", position: 10 });
    if (then) socket.serve(then);
    const sockets = FakeSocket.all.length;
    socket.close(1012);
    await until(() => FakeSocket.all.length > sockets);
  };
  const snapshot = { type: "snapshot", channel: "tournament", position: 10,
                     state: { stations: board, bases: { stations: 10 } } };
  await serve("old", snapshot);
  // The new code's instance: the states come again, under its build.
  await serve("new", null);
  await serve("new", { type: "state", channel: "tournament", state: { stations: board },
                       bases: { stations: 10 } });
  await serve("new", null);
  live.stop();
  return subscribes;
}
"""


def test_a_page_says_which_build_made_the_states_it_resumes_with(
    browser: Any, server: Server
) -> None:
    """Labels are positions of one build's code: a page resuming after a deploy says which
    build its states came from (the server sends states of another build again), and takes
    the new build's once they come."""
    context = phone(browser, server.url)
    try:
        page = context.new_page()
        page.goto("/offline")
        page.evaluate(FAKE_SOCKET)
        subscribes = page.evaluate(REDEPLOY % LIVE_PROTOCOL)
    finally:
        context.close()
    said = [(s.get("have"), s.get("build")) for s in subscribes]
    assert said == [
        ({"stations": -1}, None),
        ({"stations": 10}, "old"),
        ({"stations": 10}, "old"),
        ({"stations": 10}, "new"),
    ]
