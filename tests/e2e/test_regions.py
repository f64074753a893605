"""Pages refresh only the regions that changed (``web/pages/regions.py``, ``dom.js``), in Chromium.

A result makes the front page ask for itself saying which versions of its regions it holds; the
answer carries the table where the result was (and the regions a result changes: the top of the
leaderboard, the games' counts) and the matches new to the front of the queue, while the other
tables keep their elements and the matches still in the front keep theirs. Nothing changed: an
empty answer. A region with a field someone is typing in waits; a page of another build reloads.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, eventually, phone, wait_for_service_worker, wait_live

pytestmark = pytest.mark.e2e

MARK = "() => { for (const el of document.querySelectorAll('[data-region][id]')) el.__was = true; }"
NEW = (
    "() => [...document.querySelectorAll('[data-region][id]')].filter(e => !e.__was).map(e => e.id)"
)
REFRESH = """async () => {
  const src = document.querySelector('script[src$="/js/app.js"]').src;
  await (await import(src.replace(/app\\.js$/, "dom.js"))).refreshRegions();
}"""


@contextlib.contextmanager
def _phone_page(browser: Any, server: Server) -> Iterator[Any]:
    """A page on a phone of its own, closed afterwards."""
    fan = phone(browser, server.url)
    try:
        yield fan.new_page()
    finally:
        fan.close()


def _round_robin(
    api: Api, teams: int = 8, tables: int = 3
) -> tuple[str, str, list[dict[str, Any]]]:
    t = api.tournament(max_teams=teams)
    tid = t["tournament"]["id"]
    api.call("PATCH", f"/tournaments/{tid}", t["token"], {"rest_seconds": 0})
    for i in range(teams):
        api.team(t, f"Crew {i}", f"Captain {i}")
    api.round_robin(t, tables)
    boards = eventually(
        lambda: (
            all(b["now_playing"] for b in found["stations"]) and found["stations"]
            if (found := api.call("GET", f"/tournaments/{tid}/stations"))
            else None
        )
    )
    return tid, t["token"], boards


def _answer(page: Any, status: int) -> Any:
    """Wait for the page's next refresh of its regions answered with ``status``."""
    return page.expect_response(
        lambda r: bool(r.request.headers.get("x-regions")) and r.status == status
    )


def _report(api: Api, tid: str, org: str, board: dict[str, Any]) -> None:
    match = board["now_playing"]
    winner = match["slots"][0]["team"]["id"]
    api.call("POST", f"/tournaments/{tid}/matches/{match['id']}/result", org, {"winner": winner})


def test_a_result_sends_only_the_regions_it_changed(browser: Any, server: Server, api: Api) -> None:
    tid, org, boards = _round_robin(api)
    with _phone_page(browser, server) as page:
        page.goto(f"/t/{tid}")
        wait_live(page)
        whole = len(page.content().encode())
        page.evaluate(MARK)
        tables = [f"st-{i + 1}" for i in range(len(boards))]  # in the board's order
        before = page.evaluate("() => document.getElementById('stations').dataset.v")
        front = {m["id"] for m in api.call("GET", f"/tournaments/{tid}/stations")["queue"][:5]}

        with _answer(page, 200) as info:
            _report(api, tid, org, boards[0])
        answer = info.value
        assert answer.headers["content-type"].startswith("application/json")
        assert "no-store" in answer.headers["cache-control"]
        # What the page's script does not read is not sent: no rate limit fields, no server.
        assert not {"ratelimit", "ratelimit-policy", "server"} & answer.headers.keys()
        body = json.loads(answer.text())
        assert "news" not in body
        assert "photos" not in body
        version, patches = body["stations"]
        eventually(
            lambda: page.evaluate("() => document.getElementById('stations').dataset.v") == version
        )
        assert version != before
        replaced = set(page.evaluate(NEW))
        # The table where the result was has a match of the queue now (the only markup sent
        # for the tables); the other tables keep their elements and what they play; of the
        # queue's front under them, only the matches new to it are sent.
        playing = {f"np-{b['now_playing']['id']}" for b in boards}
        finished = f"np-{boards[0]['now_playing']['id']}"
        assert page.locator(f'[id="{finished}"]').count() == 0
        assert not replaced & (
            set(tables) | playing | {"stations", "news", "photos", "status-text"}
        )
        assert len([r for r in replaced if r.startswith("np-")]) == 1
        markup = [
            x
            for _, body, *_ in patches
            for x in (body if isinstance(body, list) else [body])
            if isinstance(x, str) and x.startswith("<")
        ]
        assert len([x for x in markup if 'id="np-' in x]) == 1
        queue = api.call("GET", f"/tournaments/{tid}/stations")["queue"][:5]
        joined = {m["id"] for m in queue} - front
        assert joined
        sent = [x for x in markup if 'id="np-' not in x]
        assert {x.partition('id="q-')[2].partition('"')[0] for x in sent} == joined
        assert len(sent) == len(joined)
        assert len(answer.body()) < whole
        now = api.call("GET", f"/tournaments/{tid}/stations")["stations"][0]["now_playing"]
        assert (
            page.locator(f"#{tables[0]} .now a")
            .get_attribute("href", timeout=5000)
            .endswith(now["id"])
        )
        assert page.evaluate("() => window.performance.getEntriesByType('navigation').length") == 1

        # Nothing changed since: the answer is empty.
        with _answer(page, 204):
            page.evaluate(REFRESH)


def test_a_region_being_typed_in_waits_and_another_build_reloads(
    browser: Any, server: Server, api: Api
) -> None:
    tid, org, boards = _round_robin(api)
    with _phone_page(browser, server) as page:
        page.goto(f"/t/{tid}")
        wait_live(page)
        table = "st-1"  # the first table
        now = f"np-{boards[0]['now_playing']['id']}"
        page.evaluate(
            f"""() => {{
              const input = document.createElement('input');
              input.id = 'typed';
              input.setAttribute('aria-label', 'note');
              document.getElementById('{now}').append(input);
            }}"""
        )
        page.locator("#typed").fill("half a sentence")
        page.evaluate(MARK)
        held = page.evaluate("() => document.getElementById('stations').dataset.v")

        with _answer(page, 200):
            _report(api, tid, org, boards[0])
        page.wait_for_timeout(300)
        assert page.locator("#typed").input_value() == "half a sentence"
        assert page.locator(f'#{table} [id="{now}"] #typed').count() == 1
        # The page still holds the old table, and says so the next time.
        assert page.evaluate("() => document.getElementById('stations').dataset.v") == held

        page.locator("#typed").fill("")
        page.evaluate("() => document.activeElement.blur()")
        page.evaluate(REFRESH)
        eventually(lambda: page.locator(f'[id="{now}"]').count() == 0)
        assert page.locator("#typed").count() == 0
        assert table not in page.evaluate(NEW)

        # A server of another build answers with the whole page: the page loads itself again.
        page.evaluate("() => { window.__before = 1; document.body.dataset.build = 'older'; }")
        with page.expect_navigation():
            page.evaluate(REFRESH)
        assert page.evaluate("() => window.__before === undefined")
        wait_live(page)


def test_the_saved_copy_of_a_page_follows_its_regions(
    browser: Any, server: Server, api: Api
) -> None:
    tid, org, boards = _round_robin(api)
    with _phone_page(browser, server) as page:
        page.goto(f"/t/{tid}")
        wait_for_service_worker(page)
        page.reload()  # through the service worker, which saves the page
        wait_live(page)
        saved = """async () => {
          const pages = await caches.open("bo-pages-v1");
          const copy = await pages.match(location.href, { ignoreVary: true });
          return copy ? await copy.text() : "";
        }"""
        eventually(lambda: 'id="stations"' in page.evaluate(saved))
        finished = f'id="np-{boards[0]["now_playing"]["id"]}"'
        assert finished in page.evaluate(saved)

        with _answer(page, 200):
            _report(api, tid, org, boards[0])

        # Offline, the page shown is the one the refreshes made, not the one first loaded.
        eventually(lambda: finished not in page.evaluate(saved))
        copy = page.evaluate(saved)
        shown = page.evaluate("() => document.getElementById('stations').outerHTML")
        assert shown in copy


SAME_AS_SERVED = """async () => {
  const served = await (await fetch(location.href, { cache: "no-store" })).text();
  const doc = new DOMParser().parseFromString(served, "text/html");
  return [...doc.querySelectorAll("[data-v]")].filter(
    (el) => el.innerHTML !== document.getElementById(el.id).innerHTML
      || el.dataset.v !== document.getElementById(el.id).dataset.v
  ).map((el) => el.id);
}"""


def test_results_in_a_row_leave_the_page_as_served(browser: Any, server: Server, api: Api) -> None:
    """Next matches move from table to table, new ones come in, tables are played: after each
    refresh the page shows exactly what the server serves now, at the same versions."""
    tid, org, _ = _round_robin(api, teams=16, tables=4)
    with _phone_page(browser, server) as page:
        page.goto(f"/t/{tid}")
        wait_live(page)
        for _ in range(4):
            boards = api.call("GET", f"/tournaments/{tid}/stations")["stations"]
            busy = [b for b in boards if b["now_playing"]]
            with _answer(page, 200):
                _report(api, tid, org, busy[0])
            page.wait_for_timeout(200)
            # Whatever is left of the calls that follow a result, then the page as served.
            eventually(lambda: page.evaluate(SAME_AS_SERVED) == [], within=10)


def test_the_leaderboard_asks_for_its_race_only_when_points_moved(
    browser: Any, server: Server, api: Api
) -> None:
    """The page redraws its board from `leaderboard` messages itself; its other region, the
    points race, draws overall points, so a result that moved nobody's points asks for nothing."""
    tid, org, boards = _round_robin(api, tables=1)
    crew = api.leaderboard(tid)["rows"][3]["team"]["id"]
    with _phone_page(browser, server) as page:
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if r.headers.get("x-regions") else None)
        page.goto(f"/t/{tid}/leaderboard")
        wait_live(page)
        page.wait_for_timeout(1000)
        before = len(asked)
        played = page.locator("#board tbody tr").first.get_attribute("class")
        # Two results: a round robin's places are far from certain, nobody's points move.
        _report(api, tid, org, boards[0])
        page.wait_for_timeout(1500)
        table = eventually(
            lambda: (
                (b := api.call("GET", f"/tournaments/{tid}/stations")["stations"][0])["now_playing"]
                and b
            )
        )
        _report(api, tid, org, table)
        page.wait_for_timeout(1500)
        assert len(asked) <= before + 1  # at most once, for the first message it saw
        assert page.locator("#board tbody tr").first.get_attribute("class") is not None
        assert played is not None
        settled = len(asked)
        race = page.locator("#race figcaption").inner_text()
        bonus = api.call(
            "POST",
            f"/tournaments/{tid}/bonuses",
            org,
            {"name": "Costume", "points": 40, "needs_approval": False},
        )["items"][-1]
        with _answer(page, 200):
            api.call(
                "POST",
                f"/tournaments/{tid}/bonuses/{bonus['id']}/claims",
                org,
                {"team_id": crew},
            )
        assert len(asked) > settled
        expect(page.locator("#race figcaption")).not_to_have_text(race)


def test_refreshes_come_compressed_against_the_page_as_their_dictionary(
    browser: Any, server: Server, api: Api
) -> None:
    """Chromium fetches the page's compression dictionary (its ``Link``) when idle; the page's
    refreshes then say they hold it and come as ``dcz``, which it decodes: the page ends as
    served, in fewer bytes than brotli alone sends."""
    tid, org, _ = _round_robin(api, teams=16, tables=4)
    with _phone_page(browser, server) as page:
        with page.expect_response(lambda r: "/dictionaries/" in r.url) as fetched:
            page.goto(f"/t/{tid}")
        assert fetched.value.status == 200
        wait_live(page)
        page.wait_for_timeout(300)  # (stored once its response is complete)
        for _ in range(3):
            busy = [
                b
                for b in api.call("GET", f"/tournaments/{tid}/stations")["stations"]
                if b["now_playing"]
            ]
            with _answer(page, 200) as info:
                _report(api, tid, org, busy[0])
            answer = info.value
            said = answer.request.all_headers()
            assert said["available-dictionary"].strip(":")
            assert answer.headers["content-encoding"] == "dcz"
            assert json.loads(answer.text())
            eventually(lambda: page.evaluate(SAME_AS_SERVED) == [], within=10)
