"""Web Push against a local push service: the receiver decrypts every push with the phone's
private key (RFC 8291) and checks its VAPID token (RFC 8292), as a real push service and
browser would; a subscription the push service says is gone (410) is removed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.factories import FakeClock, api_client, bearer, eventually, make_settings
from tests.integration.test_api_games import World
from tests.integration.test_api_play import make_world
from tests.receivers import Phone, Receiver, verify_vapid


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = make_settings(
        tmp_path, job_processes=1, notify_allow_private=True, notify_retry_seconds=0.2
    )
    async with api_client(settings, FakeClock()) as client:
        yield await make_world(client, FakeClock(), 3)


async def subscribe(w: World, token: str, endpoint: str, phone: Phone) -> dict[str, Any]:
    body = {"endpoint": endpoint, "expirationTime": None, "keys": phone.keys()}
    r = await w.client.post(w.url("/push/subscriptions"), json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def pushes(receiver: Receiver, path: str, phone: Phone) -> list[dict[str, Any]]:
    """What the phone behind ``path`` was sent, decrypted."""
    return [phone.decrypt(got.body) for got in receiver.received if got.path == path]


async def test_phones_are_told_when_they_are_up_must_confirm_were_disputed_and_urgent_news(
    world: World,
) -> None:
    push_service = Receiver(answer=lambda n: 201)
    await push_service.start()
    try:
        a, b, c = world.teams
        phones = {name: Phone() for name in "abc"}
        for name, team in zip("abc", (a, b, c), strict=True):
            await subscribe(world, team["token"], f"{push_service.url}/p/{name}", phones[name])
        key = (await world.client.get(world.url("/push/key"))).json()["public_key"]

        game = await world.add_game(format="single_elimination", stations=["Table 3"])
        await world.start(game)

        async def called() -> bool:
            return len(await world.matches(status="called")) == 1

        await eventually(called)
        [match] = await world.matches(status="called")
        playing = [s["team"]["id"] for s in match["slots"]]
        names = {t["team"]["id"]: n for n, t in zip("abc", (a, b, c), strict=True)}
        first, second = (names[t] for t in playing)
        idle = ({"a", "b", "c"} - {first, second}).pop()

        def sent(count: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return len(push_service.received) >= count

            return check

        await eventually(sent(2))
        for name in (first, second):
            [up] = pushes(push_service, f"/p/{name}", phones[name])
            assert up["title"] == "You're up at Table 3"
            assert up["url"] == f"/t/{world.tid}/matches/{match['id']}"
            assert up["urgent"] is True
            assert "Beer Pong" in up["body"]
        assert pushes(push_service, f"/p/{idle}", phones[idle]) == []

        key_of = {names[t]: t for t in playing}
        captain_first, captain_second = world.captain(key_of[first]), world.captain(key_of[second])
        r = await world.client.post(
            world.url(f"/matches/{match['id']}/start"), headers=captain_first
        )
        assert r.status_code == 200, r.text
        r = await world.client.post(
            world.url(f"/matches/{match['id']}/result"),
            json={"winner": key_of[first]},
            headers=captain_first,
        )
        assert r.status_code == 200, r.text
        await eventually(sent(3))
        confirm = pushes(push_service, f"/p/{second}", phones[second])[-1]
        assert confirm["title"] == "Confirm your result"
        assert confirm["url"].endswith(match["id"])

        r = await world.client.post(
            world.url(f"/matches/{match['id']}/dispute"),
            json={"reason": "the last cup bounced out"},
            headers=captain_second,
        )
        assert r.status_code == 200, r.text
        await eventually(sent(4))
        disputed = pushes(push_service, f"/p/{first}", phones[first])[-1]
        assert disputed["title"] == "Your result was disputed"
        assert "the last cup bounced out" in disputed["body"]

        for priority in ("info", "urgent"):
            r = await world.client.post(
                world.url("/announcements"),
                json={"message": f"{priority}: pizza in the garage", "priority": priority},
                headers=world.org,
            )
            assert r.status_code == 201, r.text
        await eventually(sent(7))
        for name in "abc":
            news = pushes(push_service, f"/p/{name}", phones[name])[-1]
            assert news["body"] == "urgent: pizza in the garage"
            assert news["url"] == f"/t/{world.tid}"
    finally:
        await push_service.stop()

    assert len(push_service.received) == 7  # nothing for the "info" announcement
    for got in push_service.received:
        assert got.headers["Content-Encoding"] == "aes128gcm"
        assert got.headers["Urgency"] in ("high", "normal")
        assert 0 < int(got.headers["TTL"]) <= 3600
        vapid = verify_vapid(got.headers["Authorization"], push_service.url)
        assert vapid["k"] == key


async def test_a_subscription_the_push_service_says_is_gone_is_removed(world: World) -> None:
    push_service = Receiver(answer=lambda n: 201)
    gone = {"/p/old"}
    push_service.answer = lambda n: 410 if push_service.received[-1].path in gone else 201
    await push_service.start()
    try:
        a = world.teams[0]
        old, new = Phone(), Phone()
        await subscribe(world, a["token"], f"{push_service.url}/p/old", old)
        await subscribe(world, a["token"], f"{push_service.url}/p/new", new)
        r = await world.client.post(
            world.url("/announcements"),
            json={"message": "Last round!", "priority": "urgent"},
            headers=world.org,
        )
        assert r.status_code == 201

        async def removed() -> bool:
            r = await world.client.get(world.url("/push/subscriptions"), headers=world.org)
            return len(r.json()["items"]) == 1

        await eventually(removed)
        r = await world.client.post(
            world.url("/announcements"),
            json={"message": "Podium in 5", "priority": "urgent"},
            headers=world.org,
        )

        async def second() -> bool:
            return len(pushes(push_service, "/p/new", new)) == 2

        await eventually(second)
    finally:
        await push_service.stop()
    assert [p["body"] for p in pushes(push_service, "/p/old", old)] == ["Last round!"]
    assert [p["body"] for p in pushes(push_service, "/p/new", new)] == [
        "Last round!",
        "Podium in 5",
    ]


async def test_only_members_subscribe_for_their_team_and_bad_input_is_refused(
    tmp_path: Path,
) -> None:
    async with api_client(make_settings(tmp_path), FakeClock()) as client:
        w = await make_world(client, FakeClock(), 2)
        a, b = w.teams
        phone = Phone()
        good = {"endpoint": "https://push.example.net/send/a1", "keys": phone.keys()}
        url = w.url("/push/subscriptions")
        r = await client.post(url, json=good)
        assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
        r = await client.post(url, json=good, headers=w.org)
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
        for bad in [
            {**good, "endpoint": "http://push.example.net/send/a1"},
            {**good, "endpoint": "https://user:pw@push.example.net/x"},
            {**good, "keys": {**phone.keys(), "p256dh": "BA" + "A" * 85}},
            {**good, "keys": {**phone.keys(), "auth": "A" * 23}},
        ]:
            r = await client.post(url, json=bad, headers=bearer(a["token"]))
            assert (r.status_code, r.json()["code"]) == (422, "invalid_subscription"), bad
        for bad in [
            {**good, "keys": {"p256dh": phone.keys()["p256dh"]}},
            {**good, "extra": 1},
            {"endpoint": "x" * 3000, "keys": phone.keys()},
        ]:
            r = await client.post(url, json=bad, headers=bearer(a["token"]))
            assert (r.status_code, r.json()["code"]) == (422, "validation_failed"), bad
        r = await client.post(url, content=b"{", headers=bearer(a["token"]))
        assert r.status_code == 400

        first = await subscribe(w, a["token"], good["endpoint"], phone)
        again = await subscribe(w, a["token"], good["endpoint"], Phone())
        assert again["id"] == first["id"]  # the same phone, new keys: updated, not doubled
        assert first["push_service"] == "push.example.net"
        other = await subscribe(w, b["token"], "https://push.example.net/send/b1", Phone())
        mine = (await client.get(url, headers=bearer(a["token"]))).json()["items"]
        assert [s["id"] for s in mine] == [first["id"]]
        everyone = (await client.get(url, headers=w.org)).json()["items"]
        assert {s["id"] for s in everyone} == {first["id"], other["id"]}
        r = await client.get(url)
        assert r.status_code == 401

        r = await client.delete(f"{url}/{first['id']}", headers=bearer(b["token"]))
        assert (r.status_code, r.json()["code"]) == (404, "subscription_not_found")
        r = await client.delete(f"{url}/{first['id']}", headers=bearer(a["token"]))
        assert r.status_code == 204
        r = await client.delete(f"{url}/{other['id']}", headers=w.org)
        assert r.status_code == 204
        assert (await client.get(url, headers=w.org)).json()["items"] == []
        r = await client.get("/api/v1/tournaments/no-such-cup/push/key")
        assert r.status_code == 404


async def test_a_kicked_phone_gets_no_more_of_its_teams_pushes(world: World) -> None:
    """Kicking a device signs it out at once: its notifications stop with it, while the
    team's other phones keep theirs."""
    push_service = Receiver(answer=lambda n: 201)
    await push_service.start()
    try:
        a = world.teams[0]
        kept, kicked = Phone(), Phone()
        kept_sub = await subscribe(world, a["token"], f"{push_service.url}/p/kept", kept)
        r = await world.client.post(
            world.url("/members"), json={"name": "Second Phone", "invite_code": a["invite_code"]}
        )
        assert r.status_code == 201, r.text
        world.client.cookies.clear()
        second = r.json()
        kicked_sub = await subscribe(world, second["token"], f"{push_service.url}/p/kicked", kicked)
        devices = (await world.client.get(world.url("/credentials"), headers=world.org)).json()
        [credential] = [c for c in devices["items"] if c["member_id"] == second["member_id"]]
        r = await world.client.delete(
            world.url(f"/credentials/{credential['id']}"), headers=world.org
        )
        assert r.status_code == 200, r.text
        listed = await world.client.get(world.url("/push/subscriptions"), headers=world.org)
        assert [s["id"] for s in listed.json()["items"]] == [kept_sub["id"]]

        r = await world.client.post(
            world.url("/announcements"),
            json={"message": "Final in 5", "priority": "urgent"},
            headers=world.org,
        )
        assert r.status_code == 201, r.text

        async def told() -> bool:
            return len(pushes(push_service, "/p/kept", kept)) == 1

        await eventually(told)
    finally:
        await push_service.stop()
    assert pushes(push_service, "/p/kicked", kicked) == []
    # The announcement's pushes were queued together: none was for the kicked phone.
    jobs = (await world.client.get(world.url("/jobs?limit=100"), headers=world.org)).json()
    subjects = [j["subject"] for j in jobs["items"] if j["kind"] == "push.send"]
    assert subjects == [kept_sub["id"]]
    assert kicked_sub["id"] not in subjects
