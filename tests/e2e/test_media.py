"""Photos from phones: a captain uploads from the match page and the photo appears live on
another phone and on the TV; a photo taken without signal is uploaded exactly once when the
phone is back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from beerolympics.testing import samples
from tests.e2e.conftest import Server
from tests.e2e.helpers import (
    Api,
    eventually,
    go_offline,
    go_online,
    outbox_size,
    phone,
    wait_for_service_worker,
    wait_live,
)


def _media(api: Api, tid: str) -> list[Any]:
    items: list[Any] = api.call("GET", f"/tournaments/{tid}/media")["items"]
    return items


def test_a_photo_from_the_match_page_shows_live_elsewhere_and_on_the_tv(
    browser: Any, server: Server, api: Api, tmp_path: Path, screenshots: Path
) -> None:
    t = api.tournament()
    tid = t["tournament"]["id"]
    a = api.team(t, "Hop Stars", "Aoife")
    api.team(t, "Lager Legends", "Jonas")
    game = api.game(t, name="Beer Pong", format="single_elimination", auto_call=False)
    api.start_game(t, game["id"])
    match = api.matches(tid, game_id=game["id"])[0]
    path = f"/t/{tid}/matches/{match['id']}"

    friend = phone(browser, server.url).new_page()
    friend.goto(path)
    wait_live(friend)
    tv_context = phone(browser, server.url, viewport={"width": 1920, "height": 1080})
    tv = tv_context.new_page()
    tv.goto(f"/t/{tid}/tv?slide=photos")
    wait_live(tv)

    captain = phone(browser, server.url, token=a["token"], tournament_id=tid).new_page()
    captain.goto(path)
    photo = tmp_path / "pong.jpg"
    photo.write_bytes(samples.photo(1600, 1200, orientation=6))
    captain.locator("form[data-upload] input[data-pick]:not([capture])").set_input_files(photo)
    expect(captain.locator(".upload-status")).to_contain_text("Uploaded", timeout=30_000)

    # The other phone and the TV get it live: no reload.
    tile = friend.locator("#match-photos a.tile")
    expect(tile).to_have_count(1, timeout=30_000)
    expect(tv.locator("#tv-photos .tv-photos img")).to_have_count(1, timeout=30_000)
    friend.locator("#match-photos").scroll_into_view_if_needed()
    friend.locator("#match-photos img.pic").evaluate("img => img.decode()")
    friend.screenshot(path=screenshots / "match-photos.png")
    expect(tv.locator('.slide[data-slide="photos"]')).to_have_class(re.compile("active"))
    tv.locator("#tv-photos img").evaluate("img => img.decode()")
    tv.screenshot(path=screenshots / "tv-photos.png")
    [media] = _media(api, tid)
    assert media["subject"] == f"match:{match['id']}"
    assert (media["width"], media["height"]) == (1200, 1600)  # upright
    # The viewer: full screen, the large photo.
    tile.click()
    expect(friend.locator("dialog.viewer .stage img")).to_have_attribute(
        "src", media["variants"]["large"]["url"]
    )
    friend.keyboard.press("Escape")
    expect(friend.locator("dialog.viewer")).not_to_be_visible()
    for page in (friend, tv, captain):
        page.context.close()


def test_a_photo_taken_offline_is_uploaded_once_when_back_online(
    browser: Any, server: Server, api: Api, tmp_path: Path
) -> None:
    t = api.tournament()
    tid = t["tournament"]["id"]
    a = api.team(t, "Hop Stars", "Aoife")
    context = phone(browser, server.url, token=a["token"], tournament_id=tid)
    page = context.new_page()
    team_page = f"/t/{tid}/teams/{a['team']['id']}"
    page.goto(team_page)
    wait_for_service_worker(page)
    page.reload()

    go_offline(context)
    photo = tmp_path / "cheers.jpg"
    photo.write_bytes(samples.photo(800, 600, seed=9))
    page.locator("form[data-upload] input[data-pick]:not([capture])").set_input_files(photo)
    expect(page.locator(".upload-status")).to_contain_text("No signal")
    expect(page.locator("#outbox .item.pending")).to_have_count(1)
    page.reload()  # the photo waits in IndexedDB, not in the page
    assert outbox_size(page) == 1
    # Picking the same photo again while offline: still one upload (its key is its hash).
    page.locator("form[data-upload] input[data-pick]:not([capture])").set_input_files(photo)
    eventually(lambda: outbox_size(page) == 2)
    assert _media(api, tid) == []

    go_online(context)
    eventually(lambda: outbox_size(page) == 0, within=30)
    eventually(lambda: len(_media(api, tid)) == 1 and _media(api, tid)[0]["status"] == "ready", 30)
    assert len(_media(api, tid)) == 1
    expect(page.locator("#team-photos a.tile")).to_have_count(1, timeout=30_000)
    context.close()
