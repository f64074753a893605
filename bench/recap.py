"""What the recap costs: the recap page and the reel rendered, and share cards drawn, for the
demo tournament and for a 128-team one played out and finished — next to the leaderboard page
in the same run.

Pages are asked for through the whole app in-process (routing, views, templates, headers; no
socket), each time in full (no ``If-None-Match``: a 304 costs nothing). Cards are timed twice:
drawn (libvips and Pango, PNG encoding included: what a card costs the first time its content
is asked for) and served from the in-memory cache by key (every later request).

    python -m bench.recap [--teams 128] [--seed 7] [--repeat 40]

Run it under ``flock /tmp/bo-bench.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.testing import AsyncTestClient

from beerolympics.app import create_app
from beerolympics.demo import DEMO_SLUG
from beerolympics.projections.play_views import Views
from beerolympics.runtime import Runtime
from beerolympics.settings import Settings
from beerolympics.web.pages import card_art
from beerolympics.web.pages.cards import team_card, tournament_card
from bench import tournament
from bench.common import summary_ms, table


async def timed(repeat: int, step: Callable[[], Awaitable[Any]]) -> list[float]:
    await step()  # warm-up: templates compiled, fonts loaded
    costs = []
    for _ in range(repeat):
        started = time.perf_counter()
        await step()
        costs.append(time.perf_counter() - started)
    return costs


def drawn(repeat: int, draw: Callable[[], bytes]) -> list[float]:
    draw()
    costs = []
    for _ in range(repeat):
        started = time.perf_counter()
        draw()
        costs.append(time.perf_counter() - started)
    return costs


async def measure(client: AsyncTestClient[Any], tid: str, repeat: int) -> list[list[Any]]:
    rt: Runtime = client.app.state.runtime
    views = Views(rt.catalog.get(tid), rt.play.get(tid))
    team = next(iter(views.state.teams))
    rows: list[list[Any]] = []
    for name, path in (
        ("leaderboard page (for scale)", f"/t/{tid}/leaderboard"),
        ("recap page", f"/t/{tid}/recap"),
        ("reel page", f"/t/{tid}/reel"),
        ("TV page (with the reel)", f"/t/{tid}/tv"),
    ):
        size = len((await client.get(path)).content)

        async def get(path: str = path) -> None:
            response = await client.get(path)
            assert response.status_code == 200, response.text[:200]

        rows.append([name, repeat, summary_ms(await timed(repeat, get)), f"{size / 1024:.0f} KB"])
    for name, draw, path in (
        (
            "tournament card",
            lambda: card_art.draw_tournament(tournament_card(views)),
            f"/t/{tid}/card.png",
        ),
        (
            "team card",
            lambda: card_art.draw_team(team_card(views, team)),
            f"/t/{tid}/teams/{team}/card.png",
        ),
    ):
        png = (await client.get(path)).content
        rows.append(
            [f"{name}: drawn", repeat, summary_ms(drawn(repeat, draw)), f"{len(png) / 1024:.0f} KB"]
        )

        async def cached(path: str = path) -> None:
            response = await client.get(path)
            assert response.headers["content-type"] == "image/png"

        rows.append([f"{name}: cached GET", repeat, summary_ms(await timed(repeat, cached)), ""])
    return rows


async def played_out(folder: str, teams: int, seed: int) -> str:
    """A tournament of ``teams`` teams played out and finished, with its highlights recorded,
    in the SQLite store in ``folder``; returns its id."""
    rt = await Runtime.open(settings(folder, demo=False))
    await rt.start()
    try:
        organizer, game_ids = await tournament.setup(rt, teams)
        tid = organizer.tournament_id or ""
        await rt.tournaments.start_tournament(tid, organizer)
        await tournament.play_out(rt, organizer, game_ids, random.Random(seed))
        await rt.tournaments.finish_tournament(tid, organizer)
        deadline = time.monotonic() + 120
        # The recorder puts what it found in the log in the background: nothing to wait on
        # but that.
        while rt.highlight_states.of(tid).owing and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    finally:
        await rt.close()
    return tid


def settings(folder: str, *, demo: bool) -> Settings:
    values = {
        "data_dir": folder,
        # The demo lives in memory; a played-out tournament in SQLite, filled beforehand.
        "database_url": "memory://" if demo else f"sqlite:///{folder}/bench.db",
        "jobs_url": "memory://",
        "job_processes": 0,
        "secret_key": "bench",
        "demo": demo,
        "rate_limit_api": "10000000/minute",
        "rate_limit_anonymous": "10000000/minute",
    }
    return Settings.load(values, environ={})


async def main(teams: int, seed: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with AsyncTestClient(create_app(settings(folder, demo=True)), timeout=120) as client:
            rt: Runtime = client.app.state.runtime
            state = rt.catalog.get(DEMO_SLUG)
            print(
                f"demo tournament: {len(state.teams)} teams, {len(state.games)} games,"
                f" {len(rt.play.get(DEMO_SLUG).ratings.results)} results,"
                f" {len(rt.highlight_states.highlights(DEMO_SLUG))} highlights"
            )
            print(
                table(["render", "count", "time", "size"], await measure(client, DEMO_SLUG, repeat))
            )
    print()
    with tempfile.TemporaryDirectory() as folder:
        tid = await played_out(folder, teams, seed)
        app = create_app(settings(folder, demo=False))
        async with AsyncTestClient(app, timeout=600) as client:
            rt = client.app.state.runtime
            state = rt.catalog.get(tid)
            print(
                f"{teams} teams, {len(state.games)} games, finished:"
                f" {len(rt.play.get(tid).ratings.results)} results,"
                f" {len(rt.highlight_states.highlights(tid))} highlights"
            )
            print(table(["render", "count", "time", "size"], await measure(client, tid, repeat)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=128)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(main(args.teams, args.seed, args.repeat))
