"""A whole small tournament, played through the pages by an organizer and two captains, each on
their own phone (browser context). Every change shows up on the other phones without a reload."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, phone, wait_live


def _create_with_the_wizard(page: Any, screenshots: Path) -> tuple[str, str]:
    """The organizer's first minute: name, two games, a bonus challenge. → (id, join code)"""
    page.goto("/new")
    expect(page.locator("#t-date")).not_to_have_value("")  # today, unless changed
    page.locator("#t-name").fill("Garden Games")
    page.locator("#t-venue").fill("Behind the shed")
    page.get_by_role("button", name="Next: games").click()

    page.get_by_role("button", name="Other game").click()
    pong = page.locator("#games .editor").nth(0)
    pong.get_by_label("Name").fill("Beer Pong")
    pong.get_by_label("Format").select_option("single_elimination")
    # A game's options are folded away until asked for.
    expect(pong.locator("details.more")).not_to_have_attribute("open", "")
    expect(pong.get_by_label("Tables or lanes")).to_be_hidden()
    pong.get_by_text("Tables, points and options").click()
    pong.get_by_label("Tables or lanes").fill("Table 1")

    page.get_by_role("button", name="Flip cup").click()
    flip = page.locator("#games .editor").nth(1)
    expect(flip.get_by_label("Name")).to_have_value("Flip Cup")
    expect(flip.locator("[data-recap]")).to_contain_text("Lane A")
    flip.get_by_text("Tables, points and options").click()
    flip.get_by_label("Call matches to free tables by itself").uncheck()
    opened = page.locator("#games details.more[open] > summary")
    while opened.count():
        opened.first.click()  # folded again, as they start
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=screenshots / "wizard-games-folded.png")
    page.get_by_role("button", name="Next: bonuses").click()

    page.get_by_role("button", name="Add a challenge").click()
    page.locator("#bonuses .editor").get_by_label("Name").fill("Best costume")
    page.get_by_role("button", name="Next: check").click()
    expect(page.locator("#review")).to_contain_text("Beer Pong")
    page.get_by_role("button", name="Create the tournament").click()

    expect(page.locator("#created")).to_be_visible()
    expect(page.locator("#created-link")).to_have_value(re.compile(r"/signin#token=."))
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied ✔")).to_be_visible()
    expect(page.get_by_label("Better still, set a password")).to_be_visible()
    code = page.locator("#created-code").inner_text()
    page.get_by_role("link", name="Open the control room").click()
    page.wait_for_url("**/admin")
    tournament_id = page.url.split("/t/")[1].split("/")[0]
    return tournament_id, code


def _start_a_team(page: Any, code: str, team: str, captain: str) -> None:
    page.goto(f"/join/{code}")  # where the tournament's QR code points
    page.get_by_label("Team name").fill(team)
    page.get_by_label("Your name (you'll be captain)").fill(captain)
    page.get_by_role("button", name="Start the team").click()
    page.wait_for_url("**/teams/tm_*")
    expect(page.locator("h1")).to_contain_text(team)


def test_a_small_tournament_played_through_the_pages(
    browser: Any, server: Server, api: Api, screenshots: Path
) -> None:
    organizer = phone(browser, server.url, viewport={"width": 1280, "height": 900})
    hop = phone(browser, server.url)
    lager = phone(browser, server.url)
    try:
        admin = organizer.new_page()
        tid, code = _create_with_the_wizard(admin, screenshots)

        aoife, jonas = hop.new_page(), lager.new_page()
        _start_a_team(aoife, code, "Hop Stars", "Aoife")
        _start_a_team(jonas, code, "Lager Legends", "Jonas")
        expect(admin.locator("#admin-top")).to_contain_text("2 teams")  # live, no reload
        wait_live(aoife)
        wait_live(jonas)
        admin.once("dialog", lambda dialog: dialog.accept())
        admin.get_by_role("button", name="Go live").click()
        expect(admin.locator("#admin-top")).to_contain_text("registration closed")

        # The organizer starts Beer Pong; the queue calls the final to Table 1 and both
        # captains' phones say so at once.
        admin.get_by_role("button", name="Start").first.click()
        expect(aoife.locator(".banner.up")).to_contain_text("Table 1")
        expect(jonas.locator(".banner.up")).to_contain_text("Table 1")

        # Aoife reports a win; Jonas sees it without reloading and says it is wrong.
        aoife.locator(".banner.up").first.click()
        jonas.locator(".banner.up").first.click()
        wait_live(jonas)
        aoife.screenshot(path=screenshots / "match-report-phone.png")
        aoife.get_by_role("button", name="We won!").click()
        expect(aoife.locator("[data-match-id]")).to_contain_text("Waiting for the other team")
        expect(jonas.locator("#confirm-title")).to_have_text(
            "Hop Stars say they won — is that right?"
        )
        jonas.screenshot(path=screenshots / "match-confirm-phone.png")
        jonas.get_by_label("What's wrong?").fill("We won 10-8")
        jonas.get_by_role("button", name="No, that's wrong").click()
        expect(aoife.locator(".chip").first).to_have_text("result disputed")

        # The control room flags it; the organizer sets the result.
        expect(admin.locator("#admin-work")).to_contain_text("result disputed")
        admin.locator("#admin-work .match.st-disputed .cover").click()
        admin.get_by_label("Winner").select_option(label="Lager Legends")
        admin.get_by_label("Why").last.fill("Checked the cups")
        admin.get_by_role("button", name="Set the result").click()
        expect(jonas.locator(".chip").first).to_have_text("done")
        expect(aoife.locator(".slot.won")).to_contain_text("Lager Legends")

        # Flip Cup: the organizer calls the heat to the lane from the control room; Jonas
        # enters the times, Aoife confirms them.
        admin.goto(f"/t/{tid}/admin")
        admin.get_by_role("button", name="Start").first.click()
        expect(admin.locator("#admin-tables")).to_contain_text("Lane A (Flip Cup) is free")
        admin.locator("#admin-tables form.call").get_by_role("button", name="Call").click()
        expect(jonas.locator(".banner.up")).to_contain_text("Lane A")
        jonas.locator(".banner.up").first.click()
        aoife.goto(jonas.url)
        wait_live(aoife)
        jonas.get_by_label("Time of Lager Legends").fill("7.9")
        jonas.get_by_label("Time of Hop Stars").fill("9.4")
        jonas.get_by_role("button", name="Send the result").click()
        expect(aoife.get_by_role("button", name="Yes, that's right")).to_be_visible()
        aoife.get_by_role("button", name="Yes, that's right").click()
        expect(jonas.locator(".chip").first).to_have_text("done")
        # The stopwatch was off: the organizer sets the heat's times again, with a reason.
        admin.goto(jonas.url)
        admin.get_by_label("New time of Lager Legends").fill("7.5")
        admin.get_by_label("New time of Hop Stars").fill("9.4")
        override = admin.locator("form.override")
        override.get_by_label("Why").fill("Stopwatch check")
        override.get_by_role("button", name="Set the result").click()
        expect(jonas.locator("[data-match-id]")).to_contain_text(
            "result set by an organizer: Stopwatch check"
        )
        admin.goto(f"/t/{tid}/admin")

        # A bonus: Aoife claims it, the organizer approves it from the control room.
        aoife.goto(f"/t/{tid}/me")
        aoife.get_by_role("button", name="We did it!").click()
        expect(admin.locator("#admin-work")).to_contain_text("Best costume")
        admin.get_by_role("button", name="Approve").click()
        expect(aoife.locator("#team-main")).to_contain_text("approved")

        # Everyone's leaderboard agrees, live: 100 + 100 for Lager Legends, 75 + 75 + 25.
        board = lager.new_page()
        board.goto(f"/t/{tid}/leaderboard")
        rows = board.locator("#board tbody tr")
        expect(rows.nth(0)).to_contain_text("Lager Legends")
        expect(rows.nth(0).locator(".pts")).to_have_text("200")
        expect(rows.nth(1).locator(".pts")).to_have_text("175")
        assert api.leaderboard(tid)["rows"][0]["points"] == 200
        board.screenshot(path=screenshots / "leaderboard-phone.png")

        admin.goto(f"/t/{tid}/admin")
        admin.screenshot(path=screenshots / "control-room-desktop.png", full_page=True)
        admin.get_by_label("Set the organizer password").fill("correct horse")
        admin.get_by_role("button", name="Save").click()
        expect(admin.get_by_text("Saved.")).to_be_visible()

        # Jonas lost his phone: the organizer kicks that device.
        devices = admin.locator("#admin-devices li")
        expect(devices).to_have_count(3)
        admin.once("dialog", lambda dialog: dialog.accept())
        devices.filter(has_text="Jonas").get_by_role("button", name="Kick").click()
        expect(devices).to_have_count(2)
        jonas.goto(f"/t/{tid}")
        expect(jonas.get_by_text("This phone was signed out")).to_be_visible()

        admin.once("dialog", lambda dialog: dialog.accept())
        admin.get_by_role("button", name="Finish").click()
        expect(admin.locator("#admin-top")).to_contain_text("finished")
    finally:
        for context in (organizer, hop, lager):
            context.close()
