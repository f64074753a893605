"""Offline: writes wait in the outbox, survive a reload, go out once, and refusals are shown."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import (
    Api,
    eventually,
    go_offline,
    go_online,
    outbox_size,
    phone,
    wait_for_service_worker,
)


def _duel(api: Api, **game: Any) -> tuple[dict[str, Any], Any, Any, dict[str, Any]]:
    """A tournament with two teams and one knockout match between them, not yet called."""
    t = api.tournament()
    a = api.team(t, "Hop Stars", "Aoife")
    b = api.team(t, "Lager Legends", "Jonas")
    created = api.game(t, name="Beer Pong", format="single_elimination", auto_call=False, **game)
    api.start_game(t, created["id"])
    match = api.matches(t["tournament"]["id"], game_id=created["id"])[0]
    return t, a, b, match


def _types(history: list[dict[str, Any]]) -> list[str]:
    return [h["type"] for h in history]


def _open_cached(context: Any, path: str) -> Any:
    """Open a page and wait until the service worker controls it and has it cached."""
    page = context.new_page()
    page.goto(path)
    wait_for_service_worker(page)
    page.reload()  # now through the service worker, which keeps a copy
    return page


def test_a_result_reported_offline_is_sent_exactly_once(
    browser: Any, server: Server, api: Api
) -> None:
    t, a, _, match = _duel(api)
    tid = t["tournament"]["id"]
    context = phone(browser, server.url, token=a["token"], tournament_id=tid)
    page = _open_cached(context, f"/t/{tid}/matches/{match['id']}")

    go_offline(context)
    page.get_by_role("button", name="We won!").click()
    waiting = page.locator("#outbox .item.pending").first
    expect(waiting).to_be_visible()
    # It says which match and what was pressed.
    expect(waiting).to_contain_text(
        "Report the result (Hop Stars won) — Beer Pong · Final: Hop Stars v Lager Legends"
    )
    expect(page.locator("#net")).to_contain_text("Offline")

    page.reload()  # no network: the page comes from the service worker's cache
    expect(page.locator("h1")).to_contain_text("Hop Stars")
    expect(page.locator("#outbox .item.pending")).to_have_count(1)
    assert outbox_size(page) == 2  # start the match, then its result
    assert api.match(tid, match["id"])["match"]["status"] == "ready"

    go_online(context)
    eventually(lambda: api.match(tid, match["id"])["match"]["status"] == "submitted")
    expect(page.locator("#outbox .item")).to_have_count(0)
    history = _types(api.match(tid, match["id"])["history"])
    assert history.count("MatchStarted") == 1
    assert history.count("ResultSubmitted") == 1
    expect(page.locator("[data-match-id]")).to_contain_text("Waiting for the other team")
    context.close()


def test_a_result_waiting_to_be_sent_can_be_cancelled(
    browser: Any, server: Server, api: Api
) -> None:
    t, a, _, match = _duel(api)
    tid = t["tournament"]["id"]
    context = phone(browser, server.url, token=a["token"], tournament_id=tid)
    page = _open_cached(context, f"/t/{tid}/matches/{match['id']}")
    go_offline(context)
    page.get_by_role("button", name="We won!").click()
    expect(page.locator("#outbox .item.pending")).to_have_count(1)
    page.get_by_role("button", name="Cancel").click()  # pressed the wrong button
    expect(page.locator("#outbox .item")).to_have_count(0)
    assert outbox_size(page) == 0
    go_online(context)
    page.reload()
    expect(page.get_by_role("button", name="We won!")).to_be_visible()
    assert api.match(tid, match["id"])["history"] == []  # nothing was sent
    context.close()


def test_fifty_actions_queued_offline_go_out_in_order_once_each(
    browser: Any, server: Server, api: Api
) -> None:
    t = api.tournament(max_teams=16)
    tid = t["tournament"]["id"]
    for i in range(11):
        api.team(t, f"Team {i + 1}", f"Captain {i + 1}")
    created = api.game(t, name="Flip Cup", format="round_robin", auto_call=False)
    api.start_game(t, created["id"])
    matches = [m for m in api.matches(tid, game_id=created["id"]) if m["status"] == "ready"][:50]
    assert len(matches) == 50
    context = phone(browser, server.url, token=t["token"], tournament_id=tid)
    page = _open_cached(context, f"/t/{tid}/matches/{matches[0]['id']}")
    for m in matches[1:]:
        page.goto(f"/t/{tid}/matches/{m['id']}")  # visited once online: cached
    go_offline(context)
    for done, m in enumerate(matches, start=1):
        page.goto(f"/t/{tid}/matches/{m['id']}")
        winner = m["slots"][0]["team"]["name"]
        page.get_by_role("button", name=f"{winner} won").click()
        expect(page.locator("#outbox .item.pending")).to_have_count(done)
    expect(page.locator("#outbox .item.pending")).to_have_count(50)  # one line per button press
    assert outbox_size(page) == 50  # an official's report needs no start
    assert all(api.match(tid, m["id"])["match"]["status"] == "ready" for m in matches)

    go_online(context)
    expect(page.locator("#outbox .item")).to_have_count(0, timeout=30_000)
    for m in matches:
        detail = api.match(tid, m["id"])
        assert detail["match"]["status"] == "confirmed"
        assert _types(detail["history"]) == ["ResultConfirmed"]
        assert detail["match"]["slots"][0]["winner"]
    context.close()


def test_a_conflict_while_offline_is_shown_with_the_current_state(
    browser: Any, server: Server, api: Api
) -> None:
    t, a, b, match = _duel(api)
    tid = t["tournament"]["id"]
    context = phone(browser, server.url, token=b["token"], tournament_id=tid)
    page = _open_cached(context, f"/t/{tid}/matches/{match['id']}")

    go_offline(context)
    page.get_by_role("button", name="We won!").click()
    expect(page.locator("#outbox .item.pending").first).to_be_visible()
    # Meanwhile, at the table, the organizer records that the other team won.
    api.call("POST", f"/tournaments/{tid}/matches/{match['id']}/start", t["token"])
    api.call(
        "POST",
        f"/tournaments/{tid}/matches/{match['id']}/result",
        t["token"],
        {"winner": a["team"]["id"]},
    )

    go_online(context)
    conflict = page.locator("#outbox .item.conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Not sent")
    expect(conflict).to_contain_text("Hop Stars won")
    # Nothing of the refused change reached the server, and it stays until the user says OK.
    history = _types(api.match(tid, match["id"])["history"])
    assert history == ["MatchStarted", "ResultConfirmed"]
    conflict.get_by_role("button", name="OK, got it").click()
    expect(page.locator("#outbox .item")).to_have_count(0)
    assert outbox_size(page) == 0
    context.close()
