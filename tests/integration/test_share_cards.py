"""Share cards, in-process: pages point link previews at them, they decode as 1200 × 630 PNG
images showing the teams' colours, they are cached by what they show, and an unknown
tournament or team is a problem document."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pyvips  # type: ignore[import-untyped]

from beerolympics.web.pages import card_art
from tests.factories import FakeClock, api_client, bearer, make_settings, new_team, new_tournament
from tests.integration.test_api_games import World
from tests.integration.test_pages import EVIL, page
from tests.integration.test_recap import play_knockout

COLOURS = ("#E63946", "#2A9D8F", "#F4A261", "#264653")
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with api_client(make_settings(tmp_path), FakeClock()) as client:
        w = World(client, FakeClock())
        t = await new_tournament(client, name="Garage Games")
        w.tid, w.org = t["tournament"]["id"], bearer(t["token"])
        for name, colour, flag in zip(
            ("Hop Stars", "Lager Legends", EVIL, "Tap Dancers"),
            COLOURS,
            ("🇮🇪", "🇩🇪", "🍺", "🇧🇪"),
            strict=True,
        ):
            w.teams.append(await new_team(client, t, name=name, colour=colour, flag=flag))
        yield w


def meta(html: str, name: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)"', html)
    assert found is not None, f"no {name}"
    return unescape(found.group(1))


def decode(data: bytes) -> Any:
    image = pyvips.Image.new_from_buffer(data, "")
    assert image.get("vips-loader") == "pngload_buffer"
    assert (image.width, image.height) == (1200, 630)
    return image


def pixel(image: Any, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in image(x, y)[:3])


async def test_pages_point_link_previews_at_cards_cached_by_what_they_show(world: World) -> None:
    w = world
    base = f"/t/{w.tid}"
    recap = await page(w.client, f"{base}/recap")
    assert meta(recap, "twitter:card") == "summary_large_image"
    assert meta(recap, "og:image:width") == "1200"
    assert meta(recap, "og:image:height") == "630"
    assert meta(recap, "og:url") == f"http://testserver.local{base}/recap"
    image = urlsplit(meta(recap, "og:image"))
    assert image.scheme == "http"
    assert image.netloc == "testserver.local"  # absolute: a preview fetches it from elsewhere
    assert meta(recap, "twitter:image") == meta(recap, "og:image")
    assert image.path == f"{base}/card.png"
    assert meta(await page(w.client, base), "og:image") == meta(recap, "og:image")

    url = f"{image.path}?{image.query}"
    r = await w.client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["etag"] == f'"{image.query.removeprefix("v=")}"'
    decode(r.content)
    again = await w.client.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    # Without the version (or an old one), the current card, to be revalidated.
    plain = await w.client.get(image.path)
    assert plain.headers["cache-control"] == "public, no-cache"
    assert plain.content == r.content
    old = await w.client.get(f"{image.path}?v=0123456789abcdef0123")
    assert old.headers["cache-control"] == "public, no-cache"

    # An announcement does not change the card (nor its URL); results do.
    announced = await w.client.post(
        w.url("/announcements"), json={"message": "Pizza is here"}, headers=w.org
    )
    assert announced.status_code == 201, announced.text
    assert meta(await page(w.client, f"{base}/recap"), "og:image") == meta(recap, "og:image")
    await w.client.post(w.url("/start"), headers=w.org)
    await play_knockout(w, w.teams[0]["team"]["id"])
    await w.client.post(w.url("/finish"), headers=w.org)
    finished = await page(w.client, f"{base}/recap")
    assert meta(finished, "og:image") != meta(recap, "og:image")
    assert meta(finished, "og:description").endswith("Podiums, records and photos of the night.")
    card = urlsplit(meta(finished, "og:image"))
    drawn = decode((await w.client.get(f"{card.path}?{card.query}")).content)
    # The podium's colour bars, first to third, in the teams' colours.
    board = (await w.client.get(w.url("/leaderboard"))).json()["rows"]
    inner = (1200 - 2 * card_art.MARGIN) // 3
    for i, row in enumerate(board[:3]):
        x = card_art.MARGIN + i * inner + 20
        assert pixel(drawn, x, 388) == card_art.rgb(row["team"]["colour"]), row["team"]["name"]


async def test_a_team_card_in_the_team_colour(world: World) -> None:
    w = world
    for team, colour in zip(w.teams, COLOURS, strict=True):
        team_id = team["team"]["id"]
        html = await page(w.client, f"/t/{w.tid}/teams/{team_id}")
        assert meta(html, "og:title").startswith(f"{team['team']['name']} · Garage Games")
        card = urlsplit(meta(html, "og:image"))
        assert card.path == f"/t/{w.tid}/teams/{team_id}/card.png"
        r = await w.client.get(f"{card.path}?{card.query}")
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/png"
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        drawn = decode(r.content)
        assert pixel(drawn, 5, 300) == card_art.rgb(colour)  # the bar down the left side


async def test_unknown_tournaments_and_teams_are_problems(world: World) -> None:
    w = world
    for path, code in (
        ("/t/no-such-cup/card.png", "tournament_not_found"),
        (f"/t/{w.tid}/teams/tm_nobody/card.png", "team_not_found"),
        ("/t/no-such-cup/teams/tm_nobody/card.png", "tournament_not_found"),
    ):
        r = await w.client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["status"] == 404
        assert problem["code"] == code, problem
    too_long = await w.client.get(f"/t/{w.tid}/card.png?v={'a' * 200}")
    assert too_long.status_code == 422
    assert too_long.headers["content-type"] == "application/problem+json"


def test_flags_are_drawn_in_colour_where_the_emoji_font_is_installed() -> None:
    if not EMOJI_FONT.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{EMOJI_FONT} is missing (apt-get install fonts-noto-color-emoji)")
        pytest.skip("the Noto Color Emoji font is not installed")
    assert card_art.emoji_in_colour()
    flag = card_art.line("🇮🇪", 60, 400)
    assert flag.bands == 4
    # Ireland's green, white and orange: not a grey box.
    assert (flag[1] - flag[0]).max() > 60
