"""Real-browser tests: Debian's Chromium driven by Playwright against a real server process.

Without Chromium (or Playwright) the tests are skipped on a laptop; with ``CI=true`` that is a
failure, like the other backing services (see ``tests/conftest.py``). The server is started once
per session on a free port of 127.0.0.1; every test makes its own tournament through the API.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import Api
from tests.servers import ServeProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).parents[2]
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
E2E_ENV = {
    "BEEROLYMPICS_SECRET_KEY": "e2e-secret-key",
    # Every browser context connects from 127.0.0.1, like the phones of a party behind one
    # router: the default live limits are meant to fit that.
    "BEEROLYMPICS_LIVE_MESSAGES_PER_MINUTE": "10000",
    "BEEROLYMPICS_LIVE_HEARTBEAT": "5",
    # Pages whose live updates are off check every 2 s instead of 10 (tests wait less).
    "BEEROLYMPICS_LIVE_FALLBACK_POLL": "2",
    # The tests drive the organizer through the API far faster than a person would.
    "BEEROLYMPICS_RATE_LIMIT_API": "100000/minute",
    "BEEROLYMPICS_RATE_LIMIT_ANONYMOUS": "100000/minute",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: drives a real browser (needs /usr/bin/chromium)")


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}, and CI=true requires the browser tests", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, or a skip (a failure under CI) when it or Playwright is missing."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    """One Chromium per test module; each test opens its own contexts (separate phones).

    Not per session: Playwright's sync API keeps an event loop running in this thread while
    it is open, and the asyncio tests that follow need the thread to themselves.
    """
    from playwright.sync_api import sync_playwright

    # Lets a test cut the service worker's own requests when it takes a phone offline
    # (Playwright's offline mode alone does not reach service workers).
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Server(ServeProcess):
    """The browser tests' server: it can be stopped and started again on its port."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__(data_dir, env=E2E_ENV, port=port)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[Server]:
    """The session's server (started after the browser check, so a skip starts nothing)."""
    running = Server(tmp_path_factory.mktemp("e2e-server"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    with Api(server.url) as client:
        yield client


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the run saves its screenshots: the ones docs/pages.md shows when
    ``BEEROLYMPICS_SCREENSHOTS=docs`` (``make screenshots``), else a temporary folder, so a test
    run leaves the checkout as it found it."""
    if os.environ.get("BEEROLYMPICS_SCREENSHOTS") == "docs":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
