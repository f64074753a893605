"""Highlights through the HTTP API: listed with their teams, match and photos; hidden and
shown by organizers only (problem+json for everyone else); and sent to webhooks as
``highlight.created``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from beerolympics.testing import samples
from tests.factories import FakeClock, api_client, eventually, make_settings
from tests.integration.test_api_games import World
from tests.integration.test_api_play import make_world, official
from tests.receivers import Receiver


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = make_settings(tmp_path, job_processes=1, notify_allow_private=True)
    async with api_client(settings, FakeClock()) as client:
        yield await make_world(client, FakeClock(), 2)


async def play_close_one(w: World) -> str:
    """The only match of a round robin of two, won 10–9 by the first team; its id."""
    game = await w.add_game(format="round_robin", auto_call=False)
    await w.start(game)
    [match] = await w.matches(game_id=game)
    first, second = (t["team"]["id"] for t in w.teams)
    await official(w, match["id"], {"score": {first: 10, second: 9}})
    return str(match["id"])


async def listed(w: World, **params: Any) -> list[dict[str, Any]]:
    r = await w.client.get(w.url("/highlights"), params=params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


async def test_listed_with_teams_match_and_photos_and_hidden_by_organizers_only(
    world: World,
) -> None:
    w = world
    match_id = await play_close_one(w)

    async def recorded() -> bool:
        return len(await listed(w)) == 4

    await eventually(recorded)
    found = await listed(w)
    assert [h["kind"] for h in found] == ["first_blood", "nail_biter", "clincher", "clincher"]
    assert [h["position"] for h in found] == sorted(h["position"] for h in found)
    first = found[0]
    assert first["text"] == "First blood: Crew 01 beat Crew 02 at Beer Pong."
    assert [t["name"] for t in first["teams"]] == ["Crew 01", "Crew 02"]
    assert first["game"]["name"] == "Beer Pong"
    assert first["match"] == match_id
    assert first["photos"] == []
    assert {h["detail"].get("scope") for h in found[2:]} == {"game", "title"}
    assert [h["kind"] for h in await listed(w, kind="nail_biter")] == ["nail_biter"]

    # A photo of the match is a photo of its highlights.
    captain = w.captain(w.teams[0]["team"]["id"])
    r = await w.client.post(
        w.url("/media"),
        content=samples.photo(320, 240, seed=5),
        headers=captain,
        params={"subject": f"match:{match_id}"},
    )
    assert r.status_code == 202, r.text
    photo_id = r.json()["id"]
    assert [p["id"] for p in (await listed(w))[0]["photos"]] == [photo_id]

    # Only organizers hide one; everyone else gets the one error shape.
    nail = found[1]["id"]
    problem(await w.client.post(w.url(f"/highlights/{nail}/hide")), 401)
    refused = problem(await w.client.post(w.url(f"/highlights/{nail}/hide"), headers=captain), 403)
    assert refused["status"] == 403
    missing = problem(
        await w.client.post(w.url("/highlights/hl_nosuchthing/hide"), headers=w.org), 404
    )
    assert missing["code"] == "highlight_not_found"
    problem(await w.client.get(w.url("/highlights"), params={"kind": "epic"}), 422)
    problem(await w.client.get(w.url("/highlights"), params={"all": "true"}, headers=captain), 403)

    r = await w.client.post(w.url(f"/highlights/{nail}/hide"), headers=w.org)
    assert r.status_code == 200, r.text
    assert r.json()["hidden"] is True
    assert nail not in [h["id"] for h in await listed(w)]
    problem(await w.client.get(w.url(f"/highlights/{nail}")), 404)
    everything = await w.client.get(w.url("/highlights"), params={"all": "true"}, headers=w.org)
    assert everything.status_code == 200
    assert [h["hidden"] for h in everything.json()["items"] if h["id"] == nail] == [True]
    r = await w.client.get(w.url(f"/highlights/{nail}"), headers=w.org)
    assert r.status_code == 200
    assert r.json()["hidden"] is True
    # Hiding twice changes nothing; showing brings it back for everyone.
    r = await w.client.post(w.url(f"/highlights/{nail}/hide"), headers=w.org)
    assert r.status_code == 200
    r = await w.client.post(w.url(f"/highlights/{nail}/show"), headers=w.org)
    assert r.status_code == 200
    assert r.json()["hidden"] is False
    assert nail in [h["id"] for h in await listed(w)]

    # A reopened result takes its highlights with it.
    r = await w.client.post(
        w.url(f"/matches/{match_id}/reopen"), json={"reason": "Wrong sheet"}, headers=w.org
    )
    assert r.status_code == 200, r.text

    async def gone() -> bool:
        return await listed(w) == []

    await eventually(gone)


async def test_a_webhook_hears_of_each_highlight(world: World) -> None:
    w = world
    receiver = Receiver()
    await receiver.start()
    try:
        r = await w.client.post(
            w.url("/webhooks"),
            json={"url": f"{receiver.url}/hl", "events": ["highlight.created"]},
            headers=w.org,
        )
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        match_id = await play_close_one(w)

        async def four() -> bool:
            return len(receiver.received) == 4

        await eventually(four, within=15)
    finally:
        await receiver.stop()
    verifier = Webhook(secret)
    payloads = [verifier.verify(got.body, got.headers) for got in receiver.received]
    assert {p["type"] for p in payloads} == {"highlight.created"}
    kinds = sorted(p["data"]["highlight"]["kind"] for p in payloads)
    assert kinds == ["clincher", "clincher", "first_blood", "nail_biter"]
    ids = {h["id"] for h in await listed(w)}
    assert {p["data"]["highlight"]["id"] for p in payloads} == ids
    first = next(p["data"] for p in payloads if p["data"]["highlight"]["kind"] == "first_blood")
    assert first["match_id"] == match_id
    assert first["game"]["name"] == "Beer Pong"
    assert [t["name"] for t in first["highlight"]["teams"]] == ["Crew 01", "Crew 02"]
    assert first["highlight"]["text"] == "First blood: Crew 01 beat Crew 02 at Beer Pong."
