"""The recap in Chromium: on a 360 px phone (nothing wider than the screen, the podium, the
highlights with their photo) and on a 1080p TV (the reel as the last slide once the tournament
is finished, fitting the screen with no text under 24 px, playing by itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from beerolympics.testing import samples
from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, eventually, phone, wait_live
from tests.e2e.test_live import TV_CHECK

#: The frame the TV's reel shows.
SHOWN = "() => document.querySelector('.slide.active .frames').dataset.at"
TEAMS = (
    ("Hop Stars", "#E63946", "🇮🇪"),
    ("Lager Legends", "#2A9D8F", "🇩🇪"),
    ("Tap Dancers", "#F4A261", "🇧🇪"),
    ("The Flip Side", "#264653", "🇨🇦"),
)


def _finished_party(api: Api, *, photo: bool = True) -> tuple[str, list[Any]]:
    """A knockout of four teams played to the end by the organizer, with a photo of the final
    (unless ``photo`` is false); the tournament finished once the highlights are in."""
    t = api.tournament(name="Garage Games")
    tid, token = t["tournament"]["id"], t["token"]
    teams = [
        api.team(t, name, f"Captain {i}", colour=colour, flag=flag)
        for i, (name, colour, flag) in enumerate(TEAMS)
    ]
    api.call("POST", f"/tournaments/{tid}/start", token)
    game = api.game(t, name="Beer Pong", format="single_elimination", auto_call=False)
    api.start_game(t, game["id"])
    final = None
    while ready := [m for m in api.matches(tid, game_id=game["id"]) if m["status"] == "ready"]:
        for m in ready:
            first, second = (s["team"]["id"] for s in m["slots"])
            api.call("POST", f"/tournaments/{tid}/matches/{m['id']}/start", token)
            api.call(
                "POST",
                f"/tournaments/{tid}/matches/{m['id']}/result",
                token,
                {"winner": first, "score": {first: 10, second: 9}},
            )
            final = m
    assert final is not None
    if photo:
        champion = final["slots"][0]["team"]["id"]
        captain = next(team for team in teams if team["team"]["id"] == champion)
        uploaded = api.http.post(
            f"/tournaments/{tid}/media",
            content=samples.photo(1600, 1200),
            params={"subject": f"match:{final['id']}"},
            headers={"Authorization": f"Bearer {captain['token']}"},
        )
        assert uploaded.status_code == 202, uploaded.text
        media = f"/tournaments/{tid}/media/{uploaded.json()['id']}"
        eventually(lambda: api.call("GET", media)["status"] == "ready", 60)
    url = f"/tournaments/{tid}/highlights"
    # Recorded in the order of the results: once the final's are in, all of them are.
    eventually(lambda: any(h["match"] == final["id"] for h in api.call("GET", url)["items"]))
    told: list[Any] = api.call("GET", url)["items"]
    api.call("POST", f"/tournaments/{tid}/finish", token)
    return tid, told


def test_the_recap_on_a_phone_and_the_reel_on_the_tv(
    browser: Any, server: Server, api: Api, screenshots: Path
) -> None:
    tid, told = _finished_party(api)
    small = phone(browser, server.url, viewport={"width": 360, "height": 740})
    tv = phone(browser, server.url, viewport={"width": 1920, "height": 1080})
    try:
        page = small.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"/t/{tid}")
        page.get_by_role("link", name="The recap: champions, records, photos").click()
        expect(page.locator("h1")).to_have_text("Garage Games: the recap")
        # No match for third: the two losing semi-finalists share it.
        expect(page.locator("#recap-podium .step")).to_have_count(4)
        expect(page.locator("#recap-podium .step").first).to_contain_text("1st")
        expect(page.locator("#recap-podium .p3")).to_have_count(2)
        expect(page.locator("#recap-highlights .moment")).to_have_count(len(told))
        expect(page.locator("#recap-highlights .moment-photos img.pic")).not_to_have_count(0)
        expect(page.locator('#recap-records [data-record="most_photos"]')).to_contain_text(
            "1 photo"
        )
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"the recap is {width} px wide"
        thumb = page.locator("#recap-highlights img.pic").first
        thumb.scroll_into_view_if_needed()  # it loads lazily
        thumb.evaluate("img => img.decode()")
        page.screenshot(path=screenshots / "recap-phone-360.png", full_page=True)
        # The link previews' cards, as a chat app would fetch them.
        url = page.locator('meta[property="og:image"]').get_attribute("content")
        assert url is not None
        card = httpx.get(url, timeout=30)
        assert card.headers["content-type"] == "image/png"
        (screenshots / "share-card-tournament.png").write_bytes(card.content)
        team = page.locator("#recap-podium .p1 a.name").get_attribute("href")
        page.goto(str(team))
        url = page.locator('meta[property="og:image"]').get_attribute("content")
        assert url is not None
        assert "/teams/" in url
        (screenshots / "share-card-team.png").write_bytes(httpx.get(url, timeout=30).content)
        page.goto(f"/t/{tid}/recap")
        # Without a share sheet (headless Chromium has none), the link is copied.
        small.grant_permissions(["clipboard-read", "clipboard-write"])
        wait_live(page)  # the page's script is running
        page.get_by_role("button", name="Share the recap").click()
        expect(page.locator("[data-share-status]")).to_have_text("Link copied: paste it anywhere.")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == f"{server.url}/t/{tid}/recap"
        assert errors == []

        screen = tv.new_page()
        screen.goto(f"/t/{tid}/recap")
        expect(screen.locator("#recap-podium .p1")).to_be_visible()
        # The winner stands in the middle, higher than the others.
        first, second = (screen.locator(f"#recap-podium .p{n}").bounding_box() for n in (1, 2))
        assert first is not None
        assert second is not None
        assert first["x"] > second["x"]
        assert first["height"] > second["height"]
        screen.screenshot(path=screenshots / "recap-1080.png")

        # Finished: the TV's last slide is the reel. Held, it plays frame after frame.
        screen.goto(f"/t/{tid}/tv?slide=reel&every=4")
        slide = screen.locator('.slide.active[data-slide="reel"]')
        expect(slide).to_be_visible()
        expect(slide.locator(".frame.active")).to_have_count(1)
        frames = slide.locator("[data-frame]").count()
        seen = []
        for _ in range(frames):
            shown = screen.evaluate(SHOWN)
            screen.wait_for_timeout(100)  # laid out
            beyond, tiny = screen.evaluate(TV_CHECK)
            assert beyond == [], (shown, beyond)
            assert tiny == [], (shown, tiny)
            seen.append(shown)
            eventually(lambda n=shown: screen.evaluate(SHOWN) != n, 5)
        assert seen == [str(n) for n in range(frames)], seen
        # A highlight over its match's photo, held for the picture.
        screen.goto(f"/t/{tid}/tv?slide=reel&every=600")
        with_photo = screen.locator(".slide.active .moment-frame.with-photo")
        expect(screen.locator('.slide.active[data-slide="reel"]')).to_be_visible()  # script ran
        index = screen.evaluate(
            "() => [...document.querySelectorAll('.slide.active [data-frame]')]"
            ".findIndex((f) => f.classList.contains('with-photo'))"
        )
        assert index > 0
        screen.evaluate(
            "(i) => { const frames = [...document.querySelectorAll('.slide.active [data-frame]')];"
            " frames.forEach((f, n) => f.classList.toggle('active', n === i)); }",
            index,
        )
        with_photo.first.locator("img").evaluate("img => img.decode()")
        screen.screenshot(path=screenshots / "tv-1080-reel.png", animations="disabled")

        # The reel on its own page plays by itself, round and round.
        screen.goto(f"/t/{tid}/reel?every=2")
        frames = screen.locator("#reel [data-frame]")
        count = frames.count()
        assert count == 3 + len(told)
        expect(screen.locator("#reel .frame.active")).to_have_count(1)
        eventually(
            lambda: screen.evaluate("() => document.getElementById('reel').dataset.at") == "1", 5
        )
    finally:
        small.close()
        tv.close()


def test_the_recap_follows_the_tournament_live(browser: Any, server: Server, api: Api) -> None:
    t = api.tournament(name="Live Games")
    tid, token = t["tournament"]["id"], t["token"]
    teams = [api.team(t, name, f"Captain {i}") for i, (name, _, _) in enumerate(TEAMS)]
    api.call("POST", f"/tournaments/{tid}/start", token)
    game = api.game(t, name="Beer Pong", format="round_robin", auto_call=False)
    api.start_game(t, game["id"])
    context = phone(browser, server.url, viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.goto(f"/t/{tid}/recap")
        wait_live(page)
        expect(page.locator("#recap-records")).to_contain_text("Records are set with the first")
        match = api.matches(tid, game_id=game["id"])[0]
        winner = match["slots"][0]["team"]["id"]
        url = f"/tournaments/{tid}/matches/{match['id']}"
        api.call("POST", f"{url}/start", token)
        api.call("POST", f"{url}/result", token, {"winner": winner})
        name = next(team["team"]["name"] for team in teams if team["team"]["id"] == winner)
        # No reload: the records, the podium and the highlights come by themselves.
        expect(page.locator('#recap-records [data-record="most_wins"]')).to_contain_text(name)
        expect(page.locator("#recap-highlights .moment")).not_to_have_count(0)
        expect(page.locator("#recap-highlights")).to_contain_text("First blood")
    finally:
        context.close()


def test_the_tv_holds_the_reel_until_it_has_played_it(
    browser: Any, server: Server, api: Api
) -> None:
    tid, told = _finished_party(api, photo=False)
    tv = phone(browser, server.url, viewport={"width": 1920, "height": 1080})
    try:
        screen = tv.new_page()
        screen.goto(f"/t/{tid}/tv?every=2")
        slide = "() => document.body.dataset.slide"
        eventually(lambda: screen.evaluate(slide) == "reel", 40)
        frames = 3 + len(told)  # title, the highlights, records, podium: a second each
        seen = set()
        for _ in range(frames - 1):
            seen.add(screen.evaluate(SHOWN))
            assert screen.evaluate(slide) == "reel"
            screen.wait_for_timeout(1000)
        assert len(seen) >= frames - 2, seen  # it played them, and the rotation waited
        # Then the rotation goes on, from the leaderboard.
        eventually(lambda: screen.evaluate(slide) == "leaderboard", 10)
    finally:
        tv.close()
