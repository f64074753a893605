"""Highlights in Chromium: a result confirmed through the API pops up as a toast on a fan's phone
and becomes the TV's highlights slide, live; a highlight the organizer hides leaves the phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, phone, wait_live


def test_a_highlight_is_a_toast_on_phones_and_a_slide_on_the_tv(
    browser: Any, server: Server, api: Api, screenshots: Path
) -> None:
    t = api.tournament(name="Highlight Cup")
    tid, org = t["tournament"]["id"], t["token"]
    a = api.team(t, "Hop Stars", "Aoife")
    b = api.team(t, "Lager Legends", "Jonas")
    game = api.game(t, name="Beer Pong", format="single_elimination", auto_call=False)
    api.start_game(t, game["id"])
    match = api.matches(tid, game_id=game["id"])[0]

    fan = phone(browser, server.url)
    tv = phone(browser, server.url, viewport={"width": 1920, "height": 1080})
    try:
        page = fan.new_page()
        page.goto(f"/t/{tid}")
        screen = tv.new_page()
        screen.goto(f"/t/{tid}/tv?every=60")
        wait_live(page)
        wait_live(screen)
        assert screen.locator("section[data-slide=highlights]").count() == 0

        api.call("POST", f"/tournaments/{tid}/matches/{match['id']}/start", org)
        api.call(
            "POST",
            f"/tournaments/{tid}/matches/{match['id']}/result",
            org,
            {"score": {a["team"]["id"]: 10, b["team"]["id"]: 9}},
        )

        toast = page.locator("#flash .banner.hl", has_text="First blood")
        expect(toast).to_have_text("✨ First blood: Hop Stars beat Lager Legends at Beer Pong.")
        expect(toast).to_have_attribute("href", f"/t/{tid}/matches/{match['id']}")
        page.screenshot(path=str(screenshots / "highlight-toast-390.png"))
        # One toast at a time: the next one follows.
        nail = page.locator("#flash .banner.hl", has_text="Nail-biter")
        expect(nail).to_be_visible(timeout=15_000)
        expect(toast).to_have_count(0)

        slide = screen.locator("section[data-slide=highlights]")
        expect(slide).to_be_visible()  # the rotation jumped to it
        expect(slide).to_contain_text("First blood: Hop Stars beat Lager Legends at Beer Pong.")
        expect(slide).to_contain_text("Hop Stars clinched Beer Pong.")
        screen.screenshot(path=str(screenshots / "tv-highlights-1920.png"))

        # The organizer hides the nail-biter: it leaves the phone at once.
        listed = api.call("GET", f"/tournaments/{tid}/highlights")["items"]
        nail_id = next(h["id"] for h in listed if h["kind"] == "nail_biter")
        api.call("POST", f"/tournaments/{tid}/highlights/{nail_id}/hide", org)
        expect(nail).to_have_count(0)
        expect(slide).not_to_contain_text("Nail-biter")
    finally:
        fan.close()
        tv.close()
