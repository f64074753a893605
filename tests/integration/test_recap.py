"""The recap page and the reel, in-process: podiums, records and links, during the tournament
and once it is finished."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from beerolympics.testing import samples
from beerolympics.web.pages import recap as recap_pages
from tests.factories import (
    FakeClock,
    api_client,
    bearer,
    eventually,
    make_settings,
    new_team,
    new_tournament,
)
from tests.integration.test_api_games import World
from tests.integration.test_api_play import make_world, official
from tests.integration.test_pages import EVIL, EVIL_ESCAPED, assert_no_inline_script, page


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    async with api_client(make_settings(tmp_path), clock) as client:
        yield await make_world(client, clock, 4)


async def play_knockout(w: World, big: str) -> tuple[str, str]:
    """A knockout of the four teams with a match for third, played by an official: the first
    team of every match wins 10–4, except ``big``'s first match, won 12–3. Returns the game
    and the match won 12–3."""
    r = await w.client.post(
        w.url("/games"),
        json={
            "name": "Beer Pong",
            "format": "single_elimination",
            "options": {"third_place": True},
        },
        headers=w.org,
    )
    assert r.status_code == 201, r.text
    game = str(r.json()["id"])
    await w.start(game)
    big_match = ""
    while ready := [m for m in await w.matches(game_id=game) if m["status"] in ("ready", "called")]:
        for m in ready:
            first, second = (s["team"]["id"] for s in m["slots"])
            score = {first: 10, second: 4}
            if big in (first, second) and not big_match:
                score = {big: 12, (second if big == first else first): 3}
                big_match = m["id"]
                first = big
            await official(w, m["id"], {"winner": first, "score": score})
    return game, big_match


async def highlights(w: World, at_least: int = 1) -> list[dict[str, Any]]:
    """The tournament's highlights, once the recorder has put at least ``at_least`` in the
    log (it records them just after the result that made them)."""
    url = w.url("/highlights")

    async def recorded() -> bool:
        return len((await w.client.get(url)).json()["items"]) >= at_least

    await eventually(recorded, within=10)
    items: list[dict[str, Any]] = (await w.client.get(url)).json()["items"]
    return items


def text_of(html: str, region: str) -> str:
    """The text of the element with ``id=region``, tags stripped, spaces squeezed."""
    found = re.search(rf'id="{region}"[^>]*>(.*?)</section>', html, re.S)
    assert found is not None, region
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


async def test_the_recap_tells_the_podium_the_records_and_links_back(world: World) -> None:
    w = world
    names = {t["team"]["id"]: t["team"]["name"] for t in w.teams}
    base = f"/t/{w.tid}"
    html = await page(w.client, f"{base}/recap")
    assert_no_inline_script(html, "recap")
    assert "No places yet" in html
    assert "Records are set with the first results" in html
    # Linked from the front page and the leaderboard.
    assert f'href="{base}/recap"' in await page(w.client, base)
    assert f'href="{base}/recap"' in await page(w.client, f"{base}/leaderboard")

    big = w.teams[3]["team"]["id"]
    r = await w.client.post(w.url("/start"), headers=w.org)
    assert r.status_code == 200, r.text
    game, _ = await play_knockout(w, big)
    board = (await w.client.get(w.url("/leaderboard"))).json()["rows"]
    top = [row["team"]["id"] for row in board[:3]]
    html = await page(w.client, f"{base}/recap")
    assert "The podium so far" in html  # still live
    r = await w.client.post(w.url("/finish"), headers=w.org)
    assert r.status_code == 200, r.text
    html = await page(w.client, f"{base}/recap")
    assert_no_inline_script(html, "recap")
    podium = text_of(html, "recap-podium")
    assert podium.startswith("🏆 Champions")
    at = [podium.index(names[t]) for t in top]
    assert at == sorted(at), podium  # first, second, third, in that order
    assert "1st:" in podium
    assert "3rd:" in podium

    # The champion won both its matches in a row; the most of anyone.
    champion = names[top[0]]
    records = text_of(html, "recap-records")
    assert f"Most wins 2 wins 🍺 {champion}" in records, records
    assert f"Longest winning streak 2 in a row 🍺 {champion}" in records, records
    assert f"Best score in one game 12 points 🍺 {names[big]} v " in records, records
    assert "Most photos" not in records  # nobody took one

    # The highlights, oldest first: the first result drew first blood, the champion's second
    # win clinched the game.
    told = await highlights(w, 3)
    timeline = text_of(html, "recap-highlights")
    assert told[0]["kind"] == "first_blood"
    at = [timeline.index(h["text"]) for h in told]
    assert at == sorted(at), timeline
    assert any(h["kind"] == "clincher" and champion in h["text"] for h in told), told
    # An organizer hides one: gone from the recap.
    hidden = told[0]
    r = await w.client.post(w.url(f"/highlights/{hidden['id']}/hide"), headers=w.org)
    assert r.status_code == 200, r.text
    html = await page(w.client, f"{base}/recap")
    assert hidden["text"] not in text_of(html, "recap-highlights")
    assert told[1]["text"] in text_of(html, "recap-highlights")

    games = text_of(html, "recap-games")
    assert "Beer Pong final" in games
    assert games.index(champion) < games.index(names[top[1]])
    assert f'href="{base}/games/{game}"' in html
    assert "<polyline" in html  # the points race, drawn on the server
    assert f'href="{base}/reel"' in html


async def test_names_are_escaped_and_an_unknown_tournament_is_a_404_page(
    tmp_path: Path,
) -> None:
    async with api_client(make_settings(tmp_path), FakeClock()) as client:
        w = World(client, FakeClock())
        t = await new_tournament(client, name="Evil Cup")
        w.tid, w.org = t["tournament"]["id"], bearer(t["token"])
        for name in (EVIL, "Hop Stars", "Lager Legends", "Tap Dancers"):
            w.teams.append(await new_team(client, t, name=name))
        await client.post(w.url("/start"), headers=w.org)
        await play_knockout(w, w.teams[0]["team"]["id"])
        html = await page(client, f"/t/{w.tid}/recap")
        assert EVIL not in html
        assert EVIL_ESCAPED in html
        for path in ("/t/no-such-cup/recap", "/t/no-such-cup/reel"):
            missing = await client.get(path)
            assert missing.status_code == 404
            assert missing.headers["content-type"].startswith("text/html")


async def test_the_reel_plays_its_frames_from_the_title_to_the_podium(world: World) -> None:
    w = world
    await w.client.post(w.url("/start"), headers=w.org)
    await play_knockout(w, w.teams[0]["team"]["id"])
    assert 'data-slide="reel"' not in await page(w.client, f"/t/{w.tid}/tv")
    await w.client.post(w.url("/finish"), headers=w.org)
    await highlights(w, 3)
    # Finished, the TV's last slide is the reel: the same frames, after the points race.
    tv = await page(w.client, f"/t/{w.tid}/tv")
    slides = re.findall(r'data-slide="([a-z-]+)"', tv)
    assert slides[-2:] == ["race", "reel"]
    assert "The story of the night" in tv
    first = await w.client.get(f"/t/{w.tid}/reel")
    assert first.status_code == 200
    html = first.text
    assert_no_inline_script(html, "reel")
    told = await highlights(w, 3)
    html = (await w.client.get(f"/t/{w.tid}/reel")).text
    frames = re.findall(r'class="frame ([a-z-]+)[^"]*" data-frame', html)
    assert frames == [
        "title-frame",
        *["moment-frame"] * len(told),
        "records-frame",
        "podium-frame",
    ]
    for h in told:
        assert h["text"] in unescape(html)
    assert "The story of the night" in html
    assert 'data-page="reel"' in html
    again = await w.client.get(f"/t/{w.tid}/reel", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_a_moments_photos_show_on_the_timeline_and_in_the_reel(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, job_processes=1, rate_limit_api="100000/minute")
    async with api_client(settings, FakeClock()) as client:
        w = await make_world(client, FakeClock(), 4)
        await client.post(w.url("/start"), headers=w.org)
        await play_knockout(w, w.teams[0]["team"]["id"])
        first = (await highlights(w))[0]
        team = next(t for t in w.teams if t["team"]["id"] == first["teams"][0]["id"])
        r = await client.post(
            w.url("/media"),
            content=samples.photo(1200, 800),
            headers=bearer(team["token"]),
            params={"subject": f"match:{first['match']}"},
        )
        assert r.status_code == 202, r.text
        media_url = w.url(f"/media/{r.json()['id']}")

        async def ready() -> bool:
            return (await client.get(media_url)).json()["status"] == "ready"

        await eventually(ready, within=60)
        variants = (await client.get(media_url)).json()["variants"]
        html = await page(client, f"/t/{w.tid}/recap")
        moment = re.search(rf'data-key="{first["id"]}".*?</li>\s*</ul>', html, re.S)
        assert moment is not None
        assert variants["thumb"]["url"] in moment.group(0)
        records = text_of(html, "recap-records")
        assert f"Most photos 1 photo 🍺 {team['team']['name']}" in records, records
        reel = await page(client, f"/t/{w.tid}/reel")
        frame = re.search(
            r'class="frame moment-frame with-photo" data-frame>\s*<img src="([^"]+)"', reel
        )
        assert frame is not None
        assert frame.group(1) == variants["large"]["url"]
        # Shown with its moment, the photo is not played a second time on its own.
        assert "photo-frame" not in reel


async def test_a_long_timeline_shows_the_latest_highlights(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    await w.client.post(w.url("/start"), headers=w.org)
    await play_knockout(w, w.teams[0]["team"]["id"])
    told = await highlights(w, 3)
    monkeypatch.setattr(recap_pages, "TIMELINE", 2)
    html = await page(w.client, f"/t/{w.tid}/recap")
    assert f"The latest 2 of {len(told)}." in html
    shown = re.findall(r'class="moment kind-[a-z_]+" data-key="([^"]+)"', html)
    assert shown == [h["id"] for h in told[-2:]]
