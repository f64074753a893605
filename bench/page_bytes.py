"""What one phone's page really transfers per result: WebSocket frames plus HTTP refreshes.

``python -m bench.page_bytes [--teams 128] [--tables 48] [--results 40]`` starts the real server
(``beerolympics serve``) and Debian's Chromium (as the browser tests do), opens the pages a party
has open, each in its own browser context (one phone each): the tournament home page as a
spectator, a team page as its captain, the leaderboard, the game page (the round robin: its
standings and every round's matches) and the TV. It sets up ``teams`` teams in a round robin on
``tables`` tables with ``auto_call``, lets the pages settle, then reports ``results`` results one
at a time as the organizer, each given ~1 s for the frames and the debounced refreshes. Per page
it counts, from Chromium's own network events (CDP), the WebSocket payload received
(``Network.webSocketFrameReceived``: the messages as the page reads them, decompressed) and the
HTTP responses (``encodedDataLength`` of ``Network.responseReceived`` and
``Network.loadingFinished``: bytes on the wire, compressed, headers included), only during the
results, and the status of each answer (a page refreshing its regions gets 200 with the regions
that changed, or 204); and, through a TCP relay in front of the server (one per page), the
WebSocket's bytes on the wire (frames as compressed by what Chromium and the server agreed,
headers included). Service workers are blocked, so every fetch a page makes is seen by the
page's own session (with a service worker the network fetch happens in its target). Apart, what
each page's compression dictionary cost, fetched once when the page was idle (see
``web/pages/dictionaries.py``). Without ``--teams`` it runs 12x3 and 128x48 side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server
from tests.e2e.helpers import Api, wait_live

from bench.common import percentile, table


@dataclass
class Tally:
    """Bytes a page received, from its CDP ``Network`` events."""

    ws: int = 0
    http: int = 0
    #: The relay the page reaches the server through (its WebSocket's bytes on the wire).
    relay: Relay | None = None
    requests: int = 0
    urls: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    #: Of ``http``, the page's compression dictionary (fetched once, when the page is idle).
    dictionary: int = 0
    _pending: dict[str, str] = field(default_factory=dict)
    _counted: dict[str, int] = field(default_factory=dict)
    _dictionaries: set[str] = field(default_factory=set)

    def frame(self, params: dict[str, Any]) -> None:
        self.ws += len(params["response"]["payloadData"].encode())

    def sent(self, params: dict[str, Any]) -> None:
        self._pending[params["requestId"]] = params["request"]["url"]

    def received(self, params: dict[str, Any]) -> None:
        # Counted when its headers arrive: an answer without a body (204) that the page never
        # reads has no loadingFinished.
        rid = params["requestId"]
        self._counted[rid] = int(params["response"].get("encodedDataLength") or 0)
        self.http += self._counted[rid]
        self.requests += 1
        self.urls.append(self._pending.pop(rid, "?"))
        if "/dictionaries/" in self.urls[-1]:
            self._dictionaries.add(rid)
            self.dictionary += self._counted[rid]
        self.statuses.append(int(params["response"]["status"]))

    def finished(self, params: dict[str, Any]) -> None:
        rid = params["requestId"]
        if rid not in self._counted:
            self.requests += 1
            self.urls.append(self._pending.pop(rid, "?"))
            self.statuses.append(0)
        rest = int(params["encodedDataLength"]) - self._counted.pop(rid, 0)
        self.http += rest
        if rid in self._dictionaries:
            self.dictionary += rest

    def snapshot(self) -> tuple[int, int, int, int]:
        return self.ws, self.http, self.requests, self.relay.ws if self.relay else 0


class Relay:
    """A TCP relay to the server on a port of its own, in a thread: counts the bytes the server
    sends on WebSockets once they are upgraded (after the ``101`` answer), as on the wire."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.ws = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        started = asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(started, self.loop).result(10)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        async def down() -> None:
            head, upgraded = b"", None
            with contextlib.suppress(ConnectionError):
                while data := await up_reader.read(65536):
                    if upgraded:
                        self.ws += len(data)
                    elif upgraded is None:
                        # Chromium opens a socket of its own for a WebSocket: its first answer.
                        head += data
                        end = head.find(b"\r\n\r\n")
                        if end >= 0:
                            upgraded = head.startswith(b"HTTP/1.1 101")
                            if upgraded:
                                self.ws += len(head) - end - 4
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(pump(reader, up_writer), down(), return_exceptions=True)

    def close(self) -> None:
        async def shut() -> None:
            self.server.close()
            relaying = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in relaying:
                task.cancel()
            await asyncio.gather(*relaying, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shut(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextlib.contextmanager
def relayed(port: int) -> Iterator[Relay]:
    relay = Relay(port)
    try:
        yield relay
    finally:
        relay.close()


def watch(context: Any, page: Any, relay: Relay) -> Tally:
    tally = Tally(relay=relay)
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.on("Network.webSocketFrameReceived", tally.frame)
    session.on("Network.requestWillBeSent", tally.sent)
    session.on("Network.responseReceived", tally.received)
    session.on("Network.loadingFinished", tally.finished)
    return tally


def run(browser: Any, teams: int, tables: int, results: int) -> list[list[object]]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        Server(Path(tmp)) as server,
        Api(server.url) as api,
        contextlib.ExitStack() as relays,
    ):
        t = api.tournament()
        tid, org = t["tournament"]["id"], t["token"]
        api.call("PATCH", f"/tournaments/{tid}", org, {"max_teams": teams})
        made = [api.team(t, f"Team {i}", f"Captain {i}") for i in range(teams)]
        game = api.round_robin(t, tables)
        matches = api.matches(tid)
        matches.sort(key=lambda m: m["round"])
        captain = made[0]
        pages = {
            "home (spectator)": (f"/t/{tid}", None),
            "team (captain)": (f"/t/{tid}/teams/{captain['team']['id']}", captain["token"]),
            "leaderboard": (f"/t/{tid}/leaderboard", None),
            "game (round robin)": (f"/t/{tid}/games/{game['id']}", None),
            "tv": (f"/t/{tid}/tv", None),
        }
        tallies: dict[str, Tally] = {}
        opened = []
        for name, (path, token) in pages.items():
            relay = relays.enter_context(relayed(server.port))
            context = browser.new_context(  # one phone; service workers blocked (see above)
                viewport={"width": 390, "height": 844},
                base_url=relay.url,
                service_workers="block",
                reduced_motion="reduce",
            )
            if token:
                context.add_cookies(
                    [{"name": f"bo_{tid}", "value": token, "url": relay.url, "httpOnly": True}]
                )
            page = context.new_page()
            tallies[name] = watch(context, page, relay)
            page.goto(path)
            wait_live(page)
            opened.append((context, page))
        pump = opened[0][1]
        pump.wait_for_timeout(3000)  # the first calls and refreshes are not counted
        per: dict[str, list[tuple[int, ...]]] = {name: [] for name in tallies}
        marks = {name: len(tally.urls) for name, tally in tallies.items()}
        for match in matches[:results]:
            before = {name: tally.snapshot() for name, tally in tallies.items()}
            winner = match["slots"][0]["team"]["id"]
            api.call(
                "POST", f"/tournaments/{tid}/matches/{match['id']}/result", org, {"winner": winner}
            )
            pump.wait_for_timeout(1000)  # CDP events are delivered while Playwright waits
            for name, tally in tallies.items():
                now = tally.snapshot()
                was = before[name]
                per[name].append(tuple(n - w for n, w in zip(now, was, strict=True)))
        for context, _page in opened:
            context.close()
    for name, tally in tallies.items():
        fetched = Counter(urlsplit(u).path.replace(tid, "{t}") for u in tally.urls[marks[name] :])
        shown = ", ".join(f"{path} x{n}" for path, n in fetched.most_common(4))
        answers = Counter(tally.statuses[marks[name] :])
        said = ", ".join(f"{status} x{n}" for status, n in sorted(answers.items()))
        print(f"{teams}x{tables} {name}: fetched {shown or 'nothing'} ({said or '-'})")
    rows: list[list[object]] = []
    for name, samples in per.items():
        ws = [s[0] for s in samples]
        http = [s[1] for s in samples]
        reqs = [s[2] for s in samples]
        wire = [s[3] for s in samples]
        total = [s[3] + s[1] for s in samples]
        rows.append(
            [
                f"{teams}x{tables}",
                name,
                f"{statistics.fmean(ws) / 1024:.2f} / {percentile(ws, 99) / 1024:.2f}",
                f"{statistics.fmean(wire) / 1024:.2f} / {percentile(wire, 99) / 1024:.2f}",
                f"{statistics.fmean(http) / 1024:.2f} / {percentile(http, 99) / 1024:.2f}",
                f"{statistics.fmean(total) / 1024:.2f} / {percentile(total, 99) / 1024:.2f}",
                f"{statistics.fmean(reqs):.2f}",
                f"{tallies[name].dictionary / 1024:.1f}",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int)
    parser.add_argument("--tables", type=int)
    parser.add_argument("--results", type=int, default=40)
    args = parser.parse_args()
    sizes = [(12, 3), (128, 48)]
    if args.teams:
        sizes = [(args.teams, args.tables or max(1, args.teams // 3))]
    from playwright.sync_api import sync_playwright

    rows: list[list[object]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for teams, tables in sizes:
                rows += run(browser, teams, tables, args.results)
        finally:
            browser.close()
    headers = [
        "size",
        "page",
        "WS messages KB mean/p99",
        "WS on the wire KB",
        "HTTP KB mean/p99",
        "total KB (wire WS + HTTP)",
        "req",
        "dictionary KB (once)",
    ]
    print(f"bytes one phone's page receives per result ({args.results} results, ~1 s each)")
    print(table(headers, rows))


if __name__ == "__main__":
    main()
