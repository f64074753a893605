"""A party behind one router: every guest's phone and the TV are live at once (they all come from
127.0.0.1 here, as a venue's phones come from its one public address); a page that connects does
not download itself again; and a page whose live updates are refused says so and keeps up by
polling, with ETags."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, eventually, phone, wait_live


def _bonus_for(api: Api, t: dict[str, Any], team: dict[str, Any], points: int) -> None:
    tid = t["tournament"]["id"]
    bonus = api.call(
        "POST",
        f"/tournaments/{tid}/bonuses",
        t["token"],
        {"name": f"Costume {points}", "points": points, "needs_approval": False},
    )["items"][-1]
    api.call(
        "POST",
        f"/tournaments/{tid}/bonuses/{bonus['id']}/claims",
        t["token"],
        {"team_id": team["team"]["id"]},
    )


def test_six_guests_and_the_tv_behind_one_router_are_all_live(
    browser: Any, server: Server, api: Api
) -> None:
    t = api.tournament()
    tid = t["tournament"]["id"]
    hop = api.team(t, "Hop Stars", "Aoife")
    api.team(t, "Lager Legends", "Jonas")
    guests = [phone(browser, server.url) for _ in range(6)]
    tv = phone(browser, server.url, viewport={"width": 1920, "height": 1080})
    try:
        pages = [guest.new_page() for guest in guests]
        loads: list[list[str]] = [[] for _ in pages]
        for page, seen in zip(pages, loads, strict=True):
            url = f"{server.url}/t/{tid}"
            page.on(
                "request",
                lambda r, seen=seen, url=url: seen.append(r.url) if r.url == url else None,
            )
            page.goto(f"/t/{tid}")
        screen = tv.new_page()
        screen.goto(f"/t/{tid}/tv")
        for page in [*pages, screen]:
            wait_live(page)
        expect(screen.locator("[data-live-label]")).to_have_text("live")
        expect(pages[0].locator("#net")).to_be_hidden()
        pages[-1].wait_for_load_state("networkidle")
        assert [len(seen) for seen in loads] == [1] * 6  # going live fetched nothing again

        _bonus_for(api, t, hop, 30)
        for page in pages:
            first = page.locator("#leaders tbody tr").first
            expect(first.locator(".pts")).to_have_text("30")
            expect(first).to_contain_text("Hop Stars")
        expect(screen.locator("#tv-leaders tbody tr").first.locator(".pts")).to_have_text("30")
        assert all(len(seen) == 2 for seen in loads), loads  # one refresh for the change
    finally:
        for context in [*guests, tv]:
            context.close()


def _unchanged(server: Server) -> int:
    """How many page reads the server answered with nothing so far: 304 (the page's ETag) or
    204 (no region changed)."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    pattern = r'_http_requests_total\{method="GET",route="/t/[^"]*",status="(?:304|204)"\} ([\d.]+)'
    return sum(int(float(n)) for n in re.findall(pattern, text))


def test_when_live_updates_are_refused_the_page_says_so_and_polls_for_what_changed(
    browser: Any, server: Server, api: Api
) -> None:
    t = api.tournament()
    tid = t["tournament"]["id"]
    hop = api.team(t, "Hop Stars", "Aoife")
    api.team(t, "Lager Legends", "Jonas")
    guest = phone(browser, server.url)
    tv = phone(browser, server.url, viewport={"width": 1920, "height": 1080})
    try:
        pages = [guest.new_page(), tv.new_page()]
        for page, path in zip(pages, (f"/t/{tid}/leaderboard", f"/t/{tid}/tv"), strict=True):
            # The server refuses the socket: too many live connections on this network.
            page.route_web_socket(
                "**/live", lambda ws: ws.close(code=4009, reason="too many live connections")
            )
            page.goto(path)
        board, screen = pages
        expect(board.locator("#net")).to_have_text("Live updates off — refreshing every 2 s")
        expect(screen.locator("#net")).to_have_text("Live updates off — refreshing every 2 s")
        expect(screen.locator("[data-live-label]")).to_have_text("not live · refreshing every 2 s")
        # On a phone the pill goes below the name rather than breaking it mid-word.
        name = board.locator(".brand span")
        assert len(name.evaluate("(el) => [...el.getClientRects()].map((r) => r.top)")) == 1
        pill, brand = board.locator("#net").bounding_box(), board.locator(".brand").bounding_box()
        assert pill is not None
        assert brand is not None
        assert pill["y"] >= brand["y"] + brand["height"] - 1
        before = _unchanged(server)

        _bonus_for(api, t, hop, 40)
        expect(board.locator("#board tbody tr").first).to_contain_text("Hop Stars", timeout=8000)
        expect(board.locator("#board tbody tr").first.locator(".pts")).to_have_text("40")
        expect(screen.locator("#tv-leaders tbody tr").first).to_contain_text(
            "Hop Stars", timeout=8000
        )
        # Polling a page that did not change costs an empty answer, not the page.
        eventually(lambda: _unchanged(server) >= before + 2, within=10)
    finally:
        guest.close()
        tv.close()
