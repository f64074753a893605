"""Webhooks against real local receivers: signed deliveries (Standard Webhooks), a receiver
that is down for a while and then comes back, the delivery log, and who may do what."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.factories import FakeClock, api_client, bearer, eventually, make_settings
from tests.integration.test_api_games import World
from tests.integration.test_api_play import make_world
from tests.receivers import Receiver


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = make_settings(
        tmp_path, job_processes=1, notify_allow_private=True, notify_retry_seconds=0.2
    )
    clock = FakeClock()
    async with api_client(settings, clock) as client:
        yield await make_world(client, clock, 2)


async def add_webhook(w: World, url: str, **body: Any) -> dict[str, Any]:
    r = await w.client.post(w.url("/webhooks"), json={"url": url, **body}, headers=w.org)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def deliveries(w: World, webhook_id: str) -> list[dict[str, Any]]:
    r = await w.client.get(w.url(f"/webhooks/{webhook_id}/deliveries"), headers=w.org)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def play_the_only_match(w: World) -> str:
    game = await w.add_game(format="round_robin", stations=["Table 3"])
    await w.start(game)

    async def called() -> bool:
        return len(await w.matches(status="called")) == 1

    await eventually(called)
    [match] = await w.matches(status="called")
    await w.play(match["id"])
    return str(match["id"])


async def test_a_receiver_down_for_a_while_gets_each_event_once_with_the_same_id(
    world: World,
) -> None:
    receiver = Receiver()  # not started: nothing listens on its port yet
    # Highlights have their own test (test_api_highlights); here, results only.
    topics = ["match.confirmed", "game.finished", "tournament.finished"]
    created = await add_webhook(world, f"{receiver.url}/hooks/cup", events=topics)
    hook, secret = created["webhook"], created["secret"]
    assert secret.startswith("whsec_")
    assert hook["events"] == topics
    match_id = await play_the_only_match(world)

    async def failing() -> bool:
        found = await deliveries(world, hook["id"])
        return len(found) == 2 and all(d["status"] == "retrying" for d in found)

    await eventually(failing, within=10)
    [listed] = (await world.client.get(world.url("/webhooks"), headers=world.org)).json()
    assert listed["last_delivery"]["status"] == "retrying"
    assert "no connection" in listed["last_delivery"]["error"]
    assert listed["next_retry"] is not None
    failed_ids = {d["id"] for d in await deliveries(world, hook["id"])}

    await receiver.start()
    try:

        async def delivered() -> bool:
            found = await deliveries(world, hook["id"])
            return all(d["status"] == "succeeded" for d in found)

        await eventually(delivered, within=15)
        for step in ("/start", "/finish"):
            r = await world.client.post(world.url(step), headers=world.org)
            assert r.status_code == 200, r.text

        async def three() -> bool:
            found = await deliveries(world, hook["id"])
            return len(found) == 3 and all(d["status"] == "succeeded" for d in found)

        await eventually(three, within=10)
    finally:
        await receiver.stop()

    verifier = Webhook(secret)
    by_type: dict[str, Any] = {}
    for got in receiver.received:
        assert got.path == "/hooks/cup"
        assert got.headers["Content-Type"] == "application/json"
        payload = verifier.verify(got.body, got.headers)
        by_type[payload["type"]] = (got.headers["webhook-id"], payload)
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43).verify(got.body, got.headers)
    # Each delivery arrived once, under the id its failed attempts had.
    assert len(receiver.received) == 3
    assert {by_type["match.confirmed"][0], by_type["game.finished"][0]} == failed_ids
    confirmed = by_type["match.confirmed"][1]
    assert confirmed["data"]["match_id"] == match_id
    assert confirmed["data"]["confirmed_by"] == "opponent"
    assert {t["name"] for t in confirmed["data"]["teams"]} == {"Crew 01", "Crew 02"}
    finished = by_type["game.finished"][1]["data"]
    assert [p["place"] for p in finished["placements"]] == [1, 2]
    assert finished["game"]["name"] == "Beer Pong"
    board = by_type["tournament.finished"][1]["data"]["leaderboard"]
    assert [row["rank"] for row in board] == [1, 2]
    log = await deliveries(world, hook["id"])
    assert {d["type"] for d in log} == {"match.confirmed", "game.finished", "tournament.finished"}
    assert all(d["attempts"] >= 2 for d in log if d["id"] in failed_ids)


async def test_an_error_answer_is_retried_and_only_chosen_topics_are_sent(world: World) -> None:
    receiver = Receiver(answer=lambda n: 503 if n == 1 else 200)
    await receiver.start()
    try:
        created = await add_webhook(world, f"{receiver.url}/only", events=["game.finished"])
        await play_the_only_match(world)

        async def delivered() -> bool:
            found = await deliveries(world, created["webhook"]["id"])
            return [d["status"] for d in found] == ["succeeded"]

        await eventually(delivered, within=10)
    finally:
        await receiver.stop()
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert json.loads(second.body)["type"] == "game.finished"
    [log] = await deliveries(world, created["webhook"]["id"])
    assert log["attempts"] == 2


async def test_organizers_manage_webhooks_and_bad_input_is_refused(world: World) -> None:
    captain = world.captain(world.teams[0]["team"]["id"])
    body = {"url": "https://hooks.example.org/cup"}
    r = await world.client.post(world.url("/webhooks"), json=body, headers=captain)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await world.client.post(world.url("/webhooks"), json=body)
    assert r.status_code == 401
    r = await world.client.get(world.url("/webhooks"), headers=captain)
    assert r.status_code == 403
    for bad, code in [
        ({"url": "ftp://hooks.example.org/x"}, "invalid_webhook_url"),
        ({"url": "https://user:pw@hooks.example.org/x"}, "invalid_webhook_url"),
        ({"url": "https:///nohost"}, "invalid_webhook_url"),
        ({"url": "https://hooks.example.org:99999/x"}, "invalid_webhook_url"),
        ({"url": "https://hooks.example.org/x", "events": ["match.played"]}, "validation_failed"),
        ({"url": "https://hooks.example.org/x", "events": []}, "validation_failed"),
        ({"url": "https://hooks.example.org/x", "secret": "mine"}, "validation_failed"),
    ]:
        r = await world.client.post(world.url("/webhooks"), json=bad, headers=world.org)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] == code, (bad, r.json())
    created = await add_webhook(world, "https://hooks.example.org/cup", events=["match.confirmed"])
    hook_id = created["webhook"]["id"]
    r = await world.client.get(world.url("/webhooks"), headers=world.org)
    [listed] = r.json()
    assert listed["url"] == "https://hooks.example.org/cup"
    assert "secret" not in listed
    assert listed["last_delivery"] is None
    r = await world.client.delete(world.url(f"/webhooks/{hook_id}"), headers=captain)
    assert r.status_code == 403
    r = await world.client.delete(world.url(f"/webhooks/{hook_id}"), headers=world.org)
    assert r.status_code == 204
    r = await world.client.delete(world.url(f"/webhooks/{hook_id}"), headers=world.org)
    assert (r.status_code, r.json()["code"]) == (404, "webhook_not_found")
    r = await world.client.get(world.url(f"/webhooks/{hook_id}/deliveries"), headers=world.org)
    assert r.status_code == 404
    assert (await world.client.get(world.url("/webhooks"), headers=world.org)).json() == []


async def test_private_addresses_are_refused_unless_allowed(tmp_path: Path) -> None:
    receiver = Receiver()
    await receiver.start()
    settings = make_settings(tmp_path, job_processes=1, notify_retry_seconds=60)
    try:
        async with api_client(settings, FakeClock()) as client:
            w = await make_world(client, FakeClock(), 2)
            # An address in the URL itself is refused when the webhook is added: its
            # deliveries could never go there.
            refused_now = {}
            for name, url in [
                ("ip", f"{receiver.url}/x"),
                ("lan", "http://192.168.1.20:5000/hook"),
                ("meta", "http://169.254.169.254/latest/meta-data/"),
                ("mapped", "http://[::ffff:169.254.169.254]/"),
            ]:
                r = await client.post(w.url("/webhooks"), json={"url": url}, headers=w.org)
                assert r.status_code == 422, r.text
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.json()["code"] == "invalid_webhook_url"
                refused_now[name] = r.json()["detail"]
            assert (await client.get(w.url("/webhooks"), headers=w.org)).json() == []
            # A name is checked where it resolves, at each delivery.
            named = await add_webhook(
                w,
                f"http://localhost:{receiver.port}/x",
                events=["match.confirmed", "game.finished"],
            )
            await play_the_only_match(w)

            async def refused() -> bool:
                found = await deliveries(w, named["webhook"]["id"])
                return len(found) == 2 and all(d["status"] == "retrying" for d in found)

            await eventually(refused, within=10)
            error = (await deliveries(w, named["webhook"]["id"]))[0]["error"]
    finally:
        await receiver.stop()
    assert receiver.received == []
    assert "private address" in refused_now["ip"]
    assert "notify_allow_private" in refused_now["lan"]
    assert "link-local" in refused_now["meta"]
    assert "link-local" in refused_now["mapped"]
    assert "private address" in error


async def test_the_control_room_shows_webhooks_to_organizers_only_and_never_their_secret(
    world: World,
) -> None:
    created = await add_webhook(world, "https://example.com/hooks/<b>cup</b>?team=1&x=2")
    admin = f"/t/{world.tid}/admin"
    r = await world.client.get(admin, headers=world.org)
    assert r.status_code == 200, r.text
    assert "https://example.com/hooks/&lt;b&gt;cup&lt;/b&gt;?team=1&amp;x=2" in r.text
    assert "<b>cup</b>" not in r.text
    assert created["secret"] not in r.text
    assert 'id="add-webhook"' in r.text
    assert "none yet" in r.text
    referee = await world.client.post(
        world.url("/credentials/referees"), json={"label": "Ref Sam"}, headers=world.org
    )
    assert referee.status_code == 201, referee.text
    r = await world.client.get(admin, headers=bearer(referee.json()["token"]))
    assert r.status_code == 200, r.text
    assert "Control room" in r.text
    assert "example.com/hooks" not in r.text
    assert 'id="add-webhook"' not in r.text
