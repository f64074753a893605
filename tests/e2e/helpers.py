"""Helpers for the browser tests: the API as a test's backstage, phones, and the network."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.receivers import Receiver

_names = itertools.count(1)


def eventually(condition: Callable[[], Any], within: float = 10.0, step: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy (never a fixed sleep)."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        time.sleep(step)


class Api:
    """The JSON API, for setting a scene up and for checking what the server holds."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=f"{base}/api/v1", timeout=10)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def call(
        self, method: str, path: str, token: str | None = None, body: Any = None, **headers: str
    ) -> Any:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        response = self.http.request(method, path, json=body, headers=sent)
        assert response.status_code < 400, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def tournament(self, **body: Any) -> dict[str, Any]:
        """A new tournament; the answer has the organizer ``token`` and the ``join_code``."""
        created: dict[str, Any] = self.call(
            "POST", "/tournaments", body={"name": f"E2E Cup {next(_names)}", **body}
        )
        return created

    def team(self, tournament: dict[str, Any], name: str, captain: str, **body: Any) -> Any:
        tid = tournament["tournament"]["id"]
        return self.call(
            "POST",
            f"/tournaments/{tid}/teams",
            body={
                "name": name,
                "colour": "#2A9D8F",
                "captain_name": captain,
                "join_code": tournament["join_code"],
                **body,
            },
        )

    def game(self, tournament: dict[str, Any], **body: Any) -> Any:
        tid = tournament["tournament"]["id"]
        return self.call("POST", f"/tournaments/{tid}/games", tournament["token"], body)

    def start_game(self, tournament: dict[str, Any], game_id: str, **body: Any) -> Any:
        tid = tournament["tournament"]["id"]
        return self.call(
            "POST", f"/tournaments/{tid}/games/{game_id}/start", tournament["token"], body
        )

    def match(self, tournament_id: str, match_id: str) -> Any:
        return self.call("GET", f"/tournaments/{tournament_id}/matches/{match_id}")

    def round_robin(self, tournament: dict[str, Any], tables: int) -> Any:
        """A round robin of the tournament's teams on ``tables`` tables, started, the station
        queue calling its matches."""
        game = self.game(
            tournament,
            name="Pong",
            format="round_robin",
            auto_call=True,
            stations=[f"Table {i + 1}" for i in range(tables)],
        )
        self.start_game(tournament, game["id"])
        return game

    def matches(self, tournament_id: str, **query: str) -> list[Any]:
        """Every match ``query`` selects, page after page."""
        found: list[Any] = []
        cursor = ""
        while True:
            params = "&".join(f"{k}={v}" for k, v in {**query, "cursor": cursor}.items() if v)
            page = self.call("GET", f"/tournaments/{tournament_id}/matches?limit=200&{params}")
            found += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return found

    def leaderboard(self, tournament_id: str) -> Any:
        return self.call("GET", f"/tournaments/{tournament_id}/leaderboard")


def phone(
    browser: Any, base: str, *, token: str | None = None, tournament_id: str = "", **options: Any
) -> Any:
    """A new browser context — one person's phone — signed in with ``token`` when given."""
    # Reduced motion: the pages then skip their animations, so clicks need not wait for a
    # pulsing banner to hold still.
    context = browser.new_context(
        viewport=options.pop("viewport", {"width": 390, "height": 844}),
        base_url=base,
        service_workers="allow",
        reduced_motion=options.pop("reduced_motion", "reduce"),
        **options,
    )
    if token:
        context.add_cookies(
            [{"name": f"bo_{tournament_id}", "value": token, "url": base, "httpOnly": True}]
        )
    context.set_default_timeout(15_000)
    return context


def _cut_service_worker(route: Any) -> None:
    if route.request.service_worker is not None:
        route.abort("internetdisconnected")
    else:
        route.fallback()


def go_offline(context: Any) -> None:
    """No network for this phone: its pages and its service worker both lose it."""
    context.route("**/*", _cut_service_worker)
    context.set_offline(True)


def go_online(context: Any) -> None:
    context.unroute("**/*", _cut_service_worker)
    context.set_offline(False)


def wait_for_service_worker(page: Any) -> None:
    """Wait until the page is controlled by the service worker (it then works offline)."""
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
        timeout=15_000,
    )


def wait_live(page: Any) -> None:
    """Wait until the page's live connection is up."""
    page.wait_for_function("() => document.body.dataset.live === 'live'", timeout=15_000)


def outbox_size(page: Any) -> int:
    """How many writes wait in the phone's outbox (IndexedDB)."""
    size: int = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("beerolympics", 1);
            open.onsuccess = () => {
                const count = open.result.transaction("outbox").objectStore("outbox").count();
                count.onsuccess = () => { resolve(count.result); open.result.close(); };
                count.onerror = () => reject(count.error);
            };
            open.onerror = () => reject(open.error);
        })"""
    )
    return size


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    """Run a local receiver (webhooks, a push service) on its own event loop in a thread, next
    to Playwright's synchronous API."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="receiver", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(receiver.start(), loop).result(10)
        yield receiver
    finally:
        asyncio.run_coroutine_threadsafe(receiver.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
