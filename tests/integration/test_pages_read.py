"""What the pages say, in-process: which game and match a card is, who a placeholder is, what
a reported result claims, why a free table waits, what each free table offers, brackets drawn
as brackets, a 404 that is a page, and pages and API JSON sent compressed."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import brotli
import pytest
from litestar.testing import AsyncTestClient

from beerolympics.demo import DEMO_SLUG
from tests.factories import (
    api_client,
    bearer,
    eventually,
    make_settings,
    new_team,
    new_tournament,
)
from tests.integration.test_pages import page

Client = AsyncTestClient[Any]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with api_client(make_settings(tmp_path, demo=True)) as c:
        yield c


class Party:
    def __init__(self, client: Client, t: dict[str, Any], teams: list[dict[str, Any]]) -> None:
        self.client = client
        self.tid = t["tournament"]["id"]
        self.org = bearer(t["token"])
        self.teams = teams
        self.join_code = t["join_code"]

    def api(self, path: str) -> str:
        return f"/api/v1/tournaments/{self.tid}{path}"

    async def post(self, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = bearer(token) if token else self.org
        r = await self.client.post(self.api(path), json=body or {}, headers=headers)
        assert r.status_code < 300, r.text
        return r.json()

    async def matches(self, **params: str) -> list[dict[str, Any]]:
        r = await self.client.get(self.api("/matches"), params={"limit": "200", **params})
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    def page(self, path: str, token: str | None = None) -> Any:
        headers = {"Cookie": f"bo_{self.tid}={token}"} if token else {}
        return page(self.client, f"/t/{self.tid}{path}", headers=headers)


async def _party(client: Client, teams: int = 4) -> Party:
    t = await new_tournament(client, name="Reading Cup")
    await client.patch(
        f"/api/v1/tournaments/{t['tournament']['id']}",
        json={"rest_seconds": 600},
        headers=bearer(t["token"]),
    )
    made = [
        await new_team(client, t, name=name)
        for name in ("Hop Stars", "Tap Dancers", "Ale Mary", "Brew Crew")[:teams]
    ]
    return Party(client, t, made)


def _ids(match: dict[str, Any]) -> list[str]:
    return [s["team"]["id"] for s in match["slots"]]


async def test_cards_name_their_game_and_placeholders_name_the_match(client: Client) -> None:
    p = await _party(client)
    game = await p.post(
        "/games", {"name": "Beer Pong", "format": "single_elimination", "auto_call": False}
    )
    await p.post(f"/games/{game['id']}/start")
    semis = await p.matches(status="ready")
    final = next(m for m in await p.matches() if m["round"] == 2)
    names = [" v ".join(s["team"]["name"] for s in semi["slots"]) for semi in semis]
    assert [s["placeholder"] for s in final["slots"]] == [f"Winner of {n}" for n in names]
    html = await p.page(f"/teams/{p.teams[0]['team']['id']}")
    assert re.search(r'<strong class="game">Beer Pong</strong> · Semifinal', html)
    bracket = await p.page(f"/games/{game['id']}")
    assert f"Winner of {names[0]}" in bracket
    # The bracket: a column per round titled once, lines between (the tree's CSS), codes shown.
    assert bracket.count('class="round-title"') == 2
    assert re.search(r'<span class="code">R1-1</span>', bracket)


async def test_a_reported_result_says_who_claims_what_and_we_won_comes_first(
    client: Client,
) -> None:
    p = await _party(client, teams=2)
    game = await p.post(
        "/games", {"name": "Beer Pong", "format": "single_elimination", "auto_call": False}
    )
    await p.post(f"/games/{game['id']}/start")
    [match] = await p.matches(status="ready")
    first, second = _ids(match)
    by_team = {t["team"]["id"]: t for t in p.teams}
    # The captain of the second slot sees "We won!" first all the same.
    html = await p.page(f"/matches/{match['id']}", by_team[second]["token"])
    buttons = re.findall(r"🏆 (We won!|They won)", html)
    assert buttons == ["We won!", "They won"]
    await p.post(f"/matches/{match['id']}/start", token=by_team[first]["token"])
    await p.post(
        f"/matches/{match['id']}/result",
        {"winner": first, "score": {first: 10, second: 4}},
        token=by_team[first]["token"],
    )
    name = by_team[first]["team"]["name"]
    html = await p.page(f"/matches/{match['id']}", by_team[second]["token"])
    assert f"{name} say they won 10–4 — is that right?" in html
    # The organizer's "Set the result" starts on the reported winner.
    html = await p.page(f"/matches/{match['id']}", p.org["Authorization"].split()[1])
    assert re.search(rf'<option value="{first}" selected>{name} \(reported winner\)</option>', html)


async def test_an_empty_history_is_a_sentence_not_a_numbered_list(client: Client) -> None:
    p = await _party(client, teams=2)
    game = await p.post(
        "/games", {"name": "Darts", "format": "single_elimination", "auto_call": False}
    )
    await p.post(f"/games/{game['id']}/start")
    [match] = await p.matches(status="ready")
    html = await p.page(f"/matches/{match['id']}")
    assert '<p class="muted">Nothing yet.</p>' in html
    assert '<li class="muted">Nothing yet.</li>' not in html


async def _both_boards_called(p: Party) -> dict[str, Any]:
    """A round robin on two boards, started; once the queue has called a match to each."""
    game: dict[str, Any] = await p.post(
        "/games",
        {"name": "Cornhole", "format": "round_robin", "stations": ["Board 1", "Board 2"]},
    )
    await p.post(f"/games/{game['id']}/start")

    async def both_called() -> bool:
        return len(await p.matches(game_id=game["id"], status="called")) == 2

    await eventually(both_called)
    return game


async def test_a_free_table_says_why_its_next_match_waits_and_tables_offer_their_own(
    client: Client,
) -> None:
    p = await _party(client)  # teams rest 10 minutes between matches
    game = await _both_boards_called(p)
    for match in await p.matches(game_id=game["id"], status="called"):
        await p.post(f"/matches/{match['id']}/result", {"winner": _ids(match)[0]})
    # Both boards are free; every match left has a team that has just played.
    boards = (await client.get(p.api("/stations"))).json()["stations"]
    assert all(b["now_playing"] is None and b["up_next"] for b in boards)
    assert all(b["ready_at"] is not None for b in boards)
    html = await p.page("/schedule")
    assert html.count("Waits while its teams rest: from <time") == 2
    admin = await p.page("/admin", p.org["Authorization"].split()[1])
    assert "Two steps: <strong>Go live</strong> closes registration" in admin
    offered = [
        set(re.findall(r'<option value="([^"]+)"', select))
        for select in re.findall(r'name="@match">(.*?)</select>', admin)
    ]
    assert len(offered) == 2
    assert offered[0]
    assert offered[1]
    assert not offered[0] & offered[1]  # two free tables never offer the same match


async def test_a_busy_table_claims_no_next_match_and_the_queue_says_the_order(
    client: Client,
) -> None:
    """Which busy table frees first is not known: the queue's front goes to whichever does."""
    p = await _party(client)
    await _both_boards_called(p)
    stations = (await client.get(p.api("/stations"))).json()
    assert all(b["now_playing"] and b["up_next"] is None for b in stations["stations"])
    waiting = [m["id"] for m in stations["queue"]]
    assert len(waiting) == stations["queued"] == 4
    for path in ("", "/tv"):
        html = await p.page(path)
        assert 'class="next"' not in html, path
        assert re.findall(r'<li data-region id="q-([^"]+)"', html) == waiting, path
        assert "4 waiting, each for the first free table" in html, path


async def test_a_long_round_robin_shows_the_rounds_around_the_one_being_played(
    client: Client,
) -> None:
    t = await new_tournament(client, name="Long Cup")
    p = Party(client, t, [await new_team(client, t) for _ in range(18)])
    game = await p.post(
        "/games", {"name": "Pong", "format": "round_robin", "auto_call": False}
    )  # 17 rounds of 9 matches: more than the page shows whole
    await p.post(f"/games/{game['id']}/start")
    path = f"/games/{game['id']}"

    def rounds(html: str) -> list[int]:
        return [int(n) for n in re.findall(r'id="rd-round_robin-(\d+)"', html)]

    html = await p.page(path)
    assert rounds(html) == [1, 2, 3]
    assert 'href="?round=4">Later rounds' in html
    assert "Earlier rounds" not in html
    assert rounds(await p.page(f"{path}?round=9")) == [9, 10, 11]
    late = await p.page(f"{path}?round=17")
    assert rounds(late) == [15, 16, 17]
    assert 'href="?round=12">← Earlier rounds' in late
    assert "Later rounds" not in late
    # Rounds 1 and 2 played: the page follows, from the round before the one being played.
    for match in await p.matches(game_id=game["id"]):
        if match["round"] <= 2:
            await p.post(f"/matches/{match['id']}/result", {"winner": _ids(match)[0]})
    assert rounds(await p.page(path)) == [2, 3, 4]
    bad = await client.get(f"/t/{p.tid}{path}?round=nope")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"message": "Expected `int | null`, got `str`", "field": "round", "source": "query"}
    ]


async def test_standings_say_a_shared_rank_once(client: Client) -> None:
    p = await _party(client)
    game = await p.post("/games", {"name": "Pong", "format": "round_robin", "auto_call": False})
    await p.post(f"/games/{game['id']}/start")
    for match in await p.matches(game_id=game["id"]):
        if match["round"] == 1:
            await p.post(f"/matches/{match['id']}/result", {"winner": _ids(match)[0]})
    html = await p.page(f"/games/{game['id']}")
    ranks = re.findall(r'<td data-region id="rk-round_robin-[^"]+">(.*?)</td>', html)
    shared = '<abbr title="the same place as the team above">=</abbr>'
    assert ranks == ["1", shared, "3", shared]  # two winners level, two losers level


async def test_the_schedule_filters_by_team_and_game(client: Client) -> None:
    p = await _party(client)
    pong = await p.post(
        "/games", {"name": "Beer Pong", "format": "round_robin", "auto_call": False}
    )
    darts = await p.post("/games", {"name": "Darts", "format": "round_robin", "auto_call": False})
    for game in (pong, darts):
        await p.post(f"/games/{game['id']}/start")
    hop = p.teams[0]["team"]
    html = await p.page(f"/schedule?team={hop['id']}&game={darts['id']}")
    cards = re.findall(r'<article class="match[^"]*" data-match="([^"]+)"', html)
    assert cards
    assert all(card.startswith(darts["id"]) for card in cards)
    darts_matches = {m["id"]: m for m in await p.matches(game_id=darts["id"])}
    assert all(hop["id"] in _ids(darts_matches[card]) for card in cards)
    assert f'<option value="{hop["id"]}" selected>' in html


async def test_the_join_page_puts_first_what_the_visitor_came_for(client: Client) -> None:
    p = await _party(client, teams=2)
    with_code = await p.page(f"/join?code={p.join_code}")
    assert with_code.index('id="new-team-title"') < with_code.index('id="join-team-title"')
    invite = p.teams[0]["invite_code"]
    with_invite = await p.page(f"/join?invite={invite}")
    assert with_invite.index('id="join-team-title"') < with_invite.index('id="new-team-title"')


async def test_a_mistyped_page_address_is_a_page(client: Client) -> None:
    for path in (f"/t/{DEMO_SLUG}/nonsense", "/t/nope/also/not", "/nothing-here"):
        html = await page(client, path, status=404)
        assert "Can&#39;t find that" in html
    r = await client.get("/api/v1/nothing-here")
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_pages_and_api_json_are_compressed_and_small_bodies_are_not(
    client: Client,
) -> None:
    base = f"/t/{DEMO_SLUG}"
    api = f"/api/v1/tournaments/{DEMO_SLUG}"

    async def get(path: str, encoding: str) -> tuple[dict[str, str], bytes]:
        """The headers and the bytes as sent, not decoded."""
        headers = {"Accept-Encoding": encoding}
        async with client.stream("GET", path, headers=headers) as response:
            sent = b"".join([chunk async for chunk in response.aiter_raw()])
            return dict(response.headers), sent

    for path in (base, f"{base}/leaderboard", f"{api}/leaderboard", f"{api}/leaderboard"):
        # The second leaderboard read comes from the fast path's compressed copy.
        headers, body = await get(path, "gzip, deflate, br")
        assert headers["content-encoding"] == "br", path
        assert "Accept-Encoding" in headers["vary"], path
        plain = brotli.decompress(body)
        assert len(plain) > 1024
        assert len(body) < len(plain) / 2
        headers, body = await get(path, "gzip")
        assert headers["content-encoding"] == "gzip", path
        assert gzip.decompress(body) == plain
    headers, body = await get(f"{api}/teams?limit=1", "gzip, br")
    assert len(body) < 1024
    assert "content-encoding" not in headers


async def test_a_free_table_offers_first_what_can_be_called_and_says_who_is_playing(
    client: Client,
) -> None:
    """Two games of the same four teams, tables called by hand: while two teams play one
    game, a free table of the other offers the match of the two others first, and its
    matches with a team at the first table last, named, and not to be chosen; its second
    free table, with nothing else to call, says so. The station board agrees."""
    p = await _party(client)
    games = [
        await p.post(
            "/games",
            {"name": name, "format": "round_robin", "stations": table, "auto_call": False},
        )
        for name, table in (("Cornhole", ["Board 1"]), ("Darts", ["Oche 1", "Oche 2"]))
    ]
    for game in games:
        await p.post(f"/games/{game['id']}/start")
    boards = (await client.get(p.api("/stations"))).json()["stations"]
    board, oche, _ = (b["station"]["id"] for b in boards)
    playing = (await p.matches(game_id=games[0]["id"], status="ready"))[0]
    await p.post(f"/matches/{playing['id']}/call", {"station_id": board})
    busy = set(_ids(playing))
    names = {t["team"]["id"]: t["team"]["name"] for t in p.teams}

    admin = await p.page("/admin", p.org["Authorization"].split()[1])
    [select] = re.findall(rf'id="call-{oche}" name="@match">(.*?)</select>', admin)
    options = re.findall(r'<option value="([^"]+)"( disabled)?>([^<]*)</option>', select)
    ready = {m["id"]: m for m in await p.matches(game_id=games[1]["id"], status="ready")}
    assert {value for value, _, _ in options} <= set(ready)
    free = [value for value, disabled, _ in options if not disabled]
    # The one match of the two teams not playing: every other has a team at Board 1.
    assert free == [m for m in ready if not busy & set(_ids(ready[m]))]
    assert len(free) == 1
    # Those that can be called come first; the others say who is playing now.
    assert [bool(disabled) for _, disabled, _ in options] == sorted(
        bool(disabled) for _, disabled, _ in options
    )
    for value, disabled, text in options:
        if disabled:
            at_a_table = [names[t] for t in _ids(ready[value]) if t in busy]
            assert at_a_table
            assert text.endswith(f"— {' and '.join(at_a_table)} playing now")
    assert 'id="call-' not in admin.split(f'id="call-{oche}"')[1]
    assert "Oche 2 (Darts) is free; no other match can go there yet" in admin
    # The station board names the same match next at Oche 1 (not the front of the queue,
    # which waits for Board 1), and at Oche 2 the front, saying who it waits for.
    darts = (await client.get(p.api("/stations"))).json()["stations"][1:]
    assert darts[0]["up_next"]["id"] == free[0]
    assert darts[0]["waits_for"] == []
    blocked = darts[1]["up_next"]["id"]
    assert blocked not in free
    assert {t["id"] for t in darts[1]["waits_for"]} == busy & set(_ids(ready[blocked]))
    html = await p.page("/schedule")
    assert html.index(f'id="nx-{free[0]}"') < html.index(f'id="nx-{blocked}"')
    waits = html.split(f'id="nx-{blocked}"')[1].split("</p>", 2)[1]
    assert "playing, or up next, at another table" in waits
    # What it offers first can be called.
    await p.post(f"/matches/{free[0]}/call", {"station_id": oche})
