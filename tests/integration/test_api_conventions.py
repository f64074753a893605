"""ETags and 304s, cache headers, idempotency keys."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.testing import AsyncTestClient

from beerolympics.runtime import Runtime
from tests.factories import bearer, new_team, new_tournament

Client = AsyncTestClient[Any]


async def test_reads_carry_etags_and_answer_304(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    for path in (
        f"/api/v1/tournaments/{tid}",
        f"/api/v1/tournaments/{tid}/teams",
        "/api/v1/tournaments",
    ):
        first = await client.get(path)
        etag = first.headers["etag"]
        assert etag.startswith('"')
        cache = first.headers["cache-control"]
        assert "public" in cache
        assert "s-maxage=" in cache
        assert "stale-while-revalidate=" in cache
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        weak = await client.get(path, headers={"If-None-Match": f'"x", W/{etag}'})
        assert weak.status_code == 304
    before = (await client.get(f"/api/v1/tournaments/{tid}/teams")).headers["etag"]
    await new_team(client, t)
    after = await client.get(f"/api/v1/tournaments/{tid}/teams", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before


async def test_the_same_bytes_are_served_until_the_position_moves(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    reps = client.app.state.representations
    await client.get(f"/api/v1/tournaments/{tid}")
    misses = reps.misses
    for _ in range(5):
        await client.get(f"/api/v1/tournaments/{tid}")
    assert reps.misses == misses
    await client.patch(
        f"/api/v1/tournaments/{tid}", json={"venue": "Elsewhere"}, headers=bearer(t["token"])
    )
    body = (await client.get(f"/api/v1/tournaments/{tid}")).json()
    assert body["venue"] == "Elsewhere"
    assert reps.misses == misses + 1


async def test_repeated_post_with_key_returns_first_outcome_and_appends_nothing(
    client: Client,
) -> None:
    rt: Runtime = client.app.state.runtime
    key = {"Idempotency-Key": "create-1"}
    first = await client.post("/api/v1/tournaments", json={"name": "Once Cup"}, headers=key)
    position = await rt.store.last_position()
    second = await client.post("/api/v1/tournaments", json={"name": "Once Cup"}, headers=key)
    assert second.status_code == 201
    assert second.json()["tournament"]["id"] == first.json()["tournament"]["id"]
    assert second.json()["credential_id"] == first.json()["credential_id"]
    assert second.json()["token"] == first.json()["token"]
    assert await rt.store.last_position() == position
    listed = (await client.get("/api/v1/tournaments", params={"q": "once"})).json()
    assert listed["total"] == 1
    reused = await client.post("/api/v1/tournaments", json={"name": "Other Cup"}, headers=key)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


async def test_retried_join_after_success_does_not_fail_or_duplicate(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    team = await new_team(client, t)
    body = {"invite_code": team["invite_code"], "name": "Retry Rita"}
    key = {"Idempotency-Key": "join-rita"}
    first = await client.post(f"/api/v1/tournaments/{tid}/members", json=body, headers=key)
    client.cookies.clear()
    again = await client.post(f"/api/v1/tournaments/{tid}/members", json=body, headers=key)
    assert again.status_code == 201
    assert again.json()["member_id"] == first.json()["member_id"]
    roster = (await client.get(f"/api/v1/tournaments/{tid}/teams/{team['team']['id']}")).json()
    assert [m["name"] for m in roster["members"]].count("Retry Rita") == 1


async def test_concurrent_duplicates_with_one_key_create_one_team(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    body = {"join_code": t["join_code"], "name": "Twins", "colour": "#101010", "captain_name": "A"}
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/tournaments/{tid}/teams", json=body, headers={"Idempotency-Key": "twins"}
            )
            for _ in range(5)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["team"]["id"] for r in responses}) == 1
    teams = (await client.get(f"/api/v1/tournaments/{tid}/teams")).json()
    assert teams["total"] == 1


async def test_openapi_and_docs_are_served(client: Client) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/tournaments/{tournament_id}/teams" in spec["paths"]
    assert "Problem" in spec["components"]["schemas"]
    docs = await client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text
    asset = await client.get("/static/swagger/swagger-ui-bundle.js")
    assert asset.status_code == 200
