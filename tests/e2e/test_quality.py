"""In a real browser: user text stays text, pages fit a 360 px phone, every field has a label,
the keyboard starts at "skip to the content", and the match page loads under 100 KB."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, phone

EVIL = "<img src=x onerror=alert(1)>"


def _scene(api: Api) -> tuple[dict[str, Any], Any, Any, str, str]:
    t = api.tournament(max_teams=16)
    tid = t["tournament"]["id"]
    evil = api.team(t, EVIL, "Mallory", motto="<script>alert(2)</script>")
    plain = api.team(t, "Hop Stars", "Aoife")
    for i in range(6):  # eight teams: no byes
        api.team(t, f"Crew {i}", f"Captain {i}")
    game = api.game(
        t, name="Beer Pong", format="double_elimination", stations=[EVIL[:40]], auto_call=False
    )
    api.start_game(t, game["id"])
    api.call("POST", f"/tournaments/{tid}/announcements", t["token"], {"message": EVIL})
    match = next(
        m
        for m in api.matches(tid, game_id=game["id"])
        if m["status"] == "ready" and any(s["team"]["name"] == EVIL for s in m["slots"])
    )
    return t, evil, plain, game["id"], match["id"]


def test_user_text_is_shown_as_text_and_never_runs(browser: Any, server: Server, api: Api) -> None:
    t, evil, _, game_id, match_id = _scene(api)
    tid = t["tournament"]["id"]
    context = phone(browser, server.url, token=evil["token"], tournament_id=tid)
    dialogs: list[str] = []
    violations: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for path in (
        f"/t/{tid}",
        f"/t/{tid}/leaderboard",
        f"/t/{tid}/schedule",
        f"/t/{tid}/teams/{evil['team']['id']}",
        f"/t/{tid}/games/{game_id}",
        f"/t/{tid}/matches/{match_id}",
        f"/t/{tid}/tv",
    ):
        page.goto(path)
        expect(page.get_by_text(EVIL).first).to_be_visible()
        assert page.locator("img[src='x']").count() == 0, path
    assert dialogs == []
    assert violations == []  # nothing on our own pages needs what the policy forbids
    context.close()


def test_pages_fit_a_360_px_phone_and_every_field_has_a_label(
    browser: Any, server: Server, api: Api, screenshots: Path
) -> None:
    t, _, plain, game_id, match_id = _scene(api)
    tid = t["tournament"]["id"]
    context = phone(
        browser,
        server.url,
        token=t["token"],
        tournament_id=tid,
        viewport={"width": 360, "height": 740},
        locale="en-US",  # a 12-hour locale: the pages still show one (24-hour) clock
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in (
        "/",
        "/new",
        f"/t/{tid}",
        f"/t/{tid}/join",
        f"/t/{tid}/schedule",
        f"/t/{tid}/leaderboard",
        f"/t/{tid}/games/{game_id}",
        f"/t/{tid}/matches/{match_id}",
        f"/t/{tid}/teams/{plain['team']['id']}",
        f"/t/{tid}/teams",
        f"/t/{tid}/signin",
        f"/t/{tid}/tv",
        f"/t/{tid}/admin",
        f"/t/{tid}/schedule?team={plain['team']['id']}&game={game_id}",
        f"/t/{tid}/photos",
        f"/t/{tid}/recap",
        f"/t/{tid}/reel",
        f"/t/{tid}/a-typo",
    ):
        page.goto(path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
        if path == f"/t/{tid}/games/{game_id}":  # a bracket on a phone: it scrolls in its box
            page.screenshot(path=screenshots / "bracket-phone-360.png", full_page=True)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter((el) => el.type !== 'hidden' && !el.closest('template'))
                .filter((el) => !el.labels.length && !el.getAttribute('aria-label'))
                .map((el) => el.outerHTML)"""
        )
        assert unlabelled == [], f"{path}: {unlabelled}"
        nameless = page.evaluate(
            """() => [...document.querySelectorAll('a[href], button')]
                .filter((el) => !el.closest('template') && !(el.textContent || '').trim()
                        && !el.getAttribute('aria-label'))
                .map((el) => el.outerHTML)"""
        )
        assert nameless == [], f"{path}: {nameless}"
    page.goto(f"/t/{tid}/a-typo")
    expect(page.locator("h1")).to_have_text("Can't find that")  # a page, not JSON
    page.goto(f"/t/{tid}")
    for time in page.locator("time").all():
        assert re.fullmatch(r"\d\d:\d\d", time.inner_text()), time.inner_text()
    page.goto(f"/t/{tid}/matches/{match_id}")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to the content")
    assert errors == []  # every page's scripts loaded and ran
    context.close()


def test_the_match_page_loads_under_100_kb_of_scripts_and_styles(
    browser: Any, server: Server, api: Api
) -> None:
    t, evil, _, _, match_id = _scene(api)
    tid = t["tournament"]["id"]
    context = phone(browser, server.url, token=evil["token"], tournament_id=tid)
    page = context.new_page()
    page.goto(f"/t/{tid}/matches/{match_id}")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    loaded = page.evaluate(
        """() => performance.getEntriesByType('resource')
            .filter((r) => /\\.(js|css)$/.test(new URL(r.name).pathname))
            .map((r) => [new URL(r.name).pathname, r.transferSize, r.decodedBodySize])"""
    )
    names = {path.split("/", 3)[3] for path, _, _ in loaded}
    assert {"css/app.css", "js/app.js", "js/pages/match.js", "js/live.js"} <= names
    transferred = sum(size for _, size, _ in loaded)
    assert 0 < transferred < 100_000, loaded
    context.close()


def test_without_javascript_pages_read_and_say_what_needs_it(
    browser: Any, server: Server, api: Api
) -> None:
    t, evil, _, game_id, match_id = _scene(api)
    tid = t["tournament"]["id"]
    context = phone(
        browser, server.url, token=evil["token"], tournament_id=tid, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"/t/{tid}/matches/{match_id}")
    expect(page.locator("h1")).to_contain_text(EVIL)
    expect(page.get_by_role("button", name="We won!")).to_be_hidden()
    expect(page.get_by_text("Reporting needs JavaScript")).to_be_visible()
    page.goto(f"/t/{tid}/leaderboard")
    expect(page.locator("#board")).to_contain_text("Hop Stars")
    expect(page.get_by_role("img", name="Points race")).to_be_visible()
    page.goto(f"/t/{tid}/games/{game_id}")
    expect(page.locator("#bracket")).to_contain_text("Winners bracket")
    context.close()
