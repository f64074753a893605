"""A page keeps the leaderboard live from patches (protocol 2, docs/live-protocol.md "Deltas"):
a result and a bonus reach the phone as a few hundred bytes, the board redraws from them without
a reload, and the service worker's saved board follows."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, eventually, phone, wait_for_service_worker, wait_live

SAVED_BOARD = """
async (url) => {
  const cache = await caches.open("bo-boards-v1");
  const found = await cache.match(url);
  return found ? await found.json() : null;
}
"""


def test_the_leaderboard_page_applies_patches(browser: Any, server: Server, api: Api) -> None:
    t = api.tournament(max_teams=16)
    tid = t["tournament"]["id"]
    teams = [api.team(t, f"Crew {i:02}", f"Cap {i}") for i in range(12)]
    game = api.game(t, name="Pong", format="round_robin", auto_call=False)
    api.start_game(t, game["id"])
    bonus = api.call(
        "POST",
        f"/tournaments/{tid}/bonuses",
        t["token"],
        {"name": "Best costume", "points": 30, "needs_approval": False},
    )["items"][0]
    last = teams[-1]["team"]

    fan = phone(browser, server.url)
    try:
        page = fan.new_page()
        received: list[dict[str, Any]] = []
        page.on(
            "websocket",
            lambda ws: ws.on("framereceived", lambda payload: received.append(json.loads(payload))),
        )
        page.goto(f"/t/{tid}/leaderboard")
        wait_for_service_worker(page)
        wait_live(page)
        page.evaluate("() => { window.__noReload = true; }")
        # The page keeps the leaderboard: it was sent the board it lacked, whole, once.
        eventually(lambda: any(m["type"] == "state" for m in received))

        match = api.matches(tid, game_id=game["id"])[0]
        winner = match["slots"][0]["team"]["id"]
        api.call(
            "POST",
            f"/tournaments/{tid}/matches/{match['id']}/result",
            t["token"],
            {"winner": winner},
        )
        api.call(
            "POST",
            f"/tournaments/{tid}/bonuses/{bonus['id']}/claims",
            t["token"],
            {"team_id": last["id"]},
        )

        first = page.locator("#board tbody tr").first
        expect(first).to_contain_text(last["name"])
        board = api.leaderboard(tid)
        top = board["rows"][0]
        assert top["team"]["id"] == last["id"]
        expect(first.locator(".pts")).to_contain_text(re.compile(rf"^{top['points']:g}\b"))
        eventually(
            lambda: (
                page.evaluate(
                    "() => [...document.querySelectorAll('#board tbody tr')]"
                    ".map((tr) => [tr.dataset.key, tr.dataset.rank])"
                )
                == [[r["team"]["id"], str(r["rank"]) if r["rank"] else ""] for r in board["rows"]]
            )
        )
        assert page.evaluate("() => window.__noReload === true"), "patched, not reloaded"

        said = [
            m
            for frame in received
            if frame["type"] == "frame"
            for m in frame["messages"]
            if m["kind"] == "leaderboard"
        ]
        assert said
        assert all("delta" in m for m in said), "the board came as patches"
        whole = len(json.dumps(board, separators=(",", ":")))
        patches = [len(json.dumps(m["delta"], separators=(",", ":"))) for m in said]
        assert max(patches) * 4 < whole, (patches, whole)

        # The service worker's saved board is the one the last patch made.
        url = f"/api/v1/tournaments/{tid}/leaderboard"
        saved = eventually(
            lambda: (
                (found := page.evaluate(SAVED_BOARD, url))
                and found["rows"][0]["team"]["id"] == last["id"]
                and found
            )
        )
        assert saved == board
    finally:
        fan.close()
