from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.factories import bearer, new_team, new_tournament

Client = AsyncTestClient[Any]


async def test_create_returns_organizer_credential_once_and_sets_cookie(client: Client) -> None:
    response = await client.post(
        "/api/v1/tournaments",
        json={"name": "  Backyard   Games 2026! ", "venue": "Garden", "max_teams": 8},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["tournament"]["id"] == "backyard-games-2026"
    assert body["tournament"]["name"] == "Backyard Games 2026!"
    assert body["tournament"]["status"] == "registration"
    assert body["tournament"]["registration_open"] is True
    assert len(body["join_code"]) == 6
    assert set(body["join_code"]) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    assert response.headers["location"] == "/api/v1/tournaments/backyard-games-2026"
    cookie = response.headers["set-cookie"]
    assert "bo_backyard-games-2026=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    # The public representation carries no secret.
    public = (await client.get("/api/v1/tournaments/backyard-games-2026")).json()
    assert "join_code" not in public
    assert body["join_code"] not in str(public)


async def test_same_name_gets_a_different_slug_but_explicit_slug_conflicts(client: Client) -> None:
    a = await new_tournament(client, name="Summer Cup")
    b = await new_tournament(client, name="Summer Cup")
    assert a["tournament"]["id"] == "summer-cup"
    assert b["tournament"]["id"].startswith("summer-cup-")
    response = await client.post("/api/v1/tournaments", json={"name": "X", "slug": "summer-cup"})
    assert response.status_code == 409
    assert response.json()["code"] == "slug_taken"


async def test_cookie_authenticates_like_a_bearer_token(client: Client) -> None:
    response = await client.post("/api/v1/tournaments", json={"name": "Cookie Cup"})
    tid = response.json()["tournament"]["id"]
    me = await client.get(f"/api/v1/tournaments/{tid}/me")
    assert me.json()["role"] == "organizer"
    client.cookies.clear()
    assert (await client.get(f"/api/v1/tournaments/{tid}/me")).json()["role"] == "spectator"
    token = response.json()["token"]
    assert (await client.get(f"/api/v1/tournaments/{tid}/me", headers=bearer(token))).json()[
        "role"
    ] == "organizer"


async def test_organizer_runs_the_lifecycle(client: Client) -> None:
    t = await new_tournament(client, open_registration=False)
    tid, auth = t["tournament"]["id"], bearer(t["token"])
    assert t["tournament"]["status"] == "draft"
    r = await client.post(
        f"/api/v1/tournaments/{tid}/registration", json={"open": True}, headers=auth
    )
    assert r.json()["status"] == "registration"
    r = await client.post(f"/api/v1/tournaments/{tid}/start", headers=auth)
    assert r.status_code == 409
    assert r.json()["code"] == "not_enough_teams"
    await new_team(client, t)
    await new_team(client, t)
    r = await client.post(f"/api/v1/tournaments/{tid}/start", headers=auth)
    assert r.status_code == 200
    assert r.json()["status"] == "live"
    assert r.json()["registration_open"] is False
    r = await client.post(f"/api/v1/tournaments/{tid}/finish", headers=auth)
    assert r.json()["status"] == "finished"
    r = await client.patch(f"/api/v1/tournaments/{tid}", json={"venue": "Pub"}, headers=auth)
    assert r.status_code == 409
    assert r.json()["code"] == "tournament_finished"


async def test_update_with_if_match(client: Client) -> None:
    t = await new_tournament(client)
    tid, auth = t["tournament"]["id"], bearer(t["token"])
    etag = (await client.get(f"/api/v1/tournaments/{tid}")).headers["etag"]
    r = await client.patch(
        f"/api/v1/tournaments/{tid}", json={"venue": "Garage"}, headers={**auth, "If-Match": etag}
    )
    assert r.status_code == 200
    assert r.json()["venue"] == "Garage"
    new_etag = r.headers["etag"]
    assert new_etag != etag
    stale = await client.patch(
        f"/api/v1/tournaments/{tid}", json={"venue": "Attic"}, headers={**auth, "If-Match": etag}
    )
    assert stale.status_code == 409
    problem = stale.json()
    assert problem["code"] == "version_conflict"
    assert problem["current"]["venue"] == "Garage"
    assert stale.headers["etag"] == new_etag
    assert (await client.get(f"/api/v1/tournaments/{tid}")).json()["venue"] == "Garage"


async def test_limits_cannot_drop_below_reality(client: Client) -> None:
    t = await new_tournament(client)
    tid, auth = t["tournament"]["id"], bearer(t["token"])
    for _ in range(3):
        await new_team(client, t)
    r = await client.patch(f"/api/v1/tournaments/{tid}", json={"max_teams": 2}, headers=auth)
    assert r.status_code == 409
    assert r.json()["code"] == "limit_below_current"


async def test_list_is_paginated_and_filtered(client: Client) -> None:
    made = [await new_tournament(client, name=f"League {i}") for i in range(5)]
    await new_tournament(client, name="Other Thing", open_registration=False)
    page = (await client.get("/api/v1/tournaments", params={"q": "league", "limit": 2})).json()
    assert [t["name"] for t in page["items"]] == ["League 4", "League 3"]
    assert page["total"] == 5
    seen = [t["name"] for t in page["items"]]
    while page["next_cursor"]:
        page = (
            await client.get(
                "/api/v1/tournaments",
                params={"q": "league", "limit": 2, "cursor": page["next_cursor"]},
            )
        ).json()
        seen += [t["name"] for t in page["items"]]
    assert seen == [m["tournament"]["name"] for m in reversed(made)]
    drafts = (await client.get("/api/v1/tournaments", params={"status": "draft"})).json()
    assert [t["name"] for t in drafts["items"]] == ["Other Thing"]


async def test_organizer_password_sign_in(client: Client) -> None:
    t = await new_tournament(client, password="correct horse")
    tid = t["tournament"]["id"]
    assert t["tournament"]["has_password"] is True
    wrong = await client.post(f"/api/v1/tournaments/{tid}/sessions", json={"password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_password"
    ok = await client.post(
        f"/api/v1/tournaments/{tid}/sessions", json={"password": "correct horse", "label": "tablet"}
    )
    assert ok.status_code == 201
    assert ok.json()["role"] == "organizer"
    me = await client.get(f"/api/v1/tournaments/{tid}/me", headers=bearer(ok.json()["token"]))
    assert me.json()["role"] == "organizer"


async def test_set_password_then_sign_in(client: Client) -> None:
    t = await new_tournament(client)
    tid, auth = t["tournament"]["id"], bearer(t["token"])
    r = await client.put(
        f"/api/v1/tournaments/{tid}/password", json={"password": "pa55word!"}, headers=auth
    )
    assert r.status_code == 200
    assert r.json()["has_password"] is True
    ok = await client.post(f"/api/v1/tournaments/{tid}/sessions", json={"password": "pa55word!"})
    assert ok.status_code == 201


async def test_revoked_credential_stops_working(client: Client) -> None:
    t = await new_tournament(client)
    tid, auth = t["tournament"]["id"], bearer(t["token"])
    team = await new_team(client, t)
    captain = bearer(team["token"])
    assert (await client.get(f"/api/v1/tournaments/{tid}/me", headers=captain)).json()[
        "role"
    ] == "captain"
    devices = (await client.get(f"/api/v1/tournaments/{tid}/credentials", headers=auth)).json()
    assert {d["role"] for d in devices["items"]} == {"organizer", "member"}
    r = await client.delete(
        f"/api/v1/tournaments/{tid}/credentials/{team['credential_id']}", headers=auth
    )
    assert r.status_code == 200
    assert r.json()["revoked"] is True
    r = await client.get(f"/api/v1/tournaments/{tid}/me", headers=captain)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_credential"
    revoked = (
        await client.get(
            f"/api/v1/tournaments/{tid}/credentials", params={"revoked": "true"}, headers=auth
        )
    ).json()
    assert [d["id"] for d in revoked["items"]] == [team["credential_id"]]


async def test_last_organizer_device_needs_a_password_before_revoking(client: Client) -> None:
    t = await new_tournament(client)
    tid, auth = t["tournament"]["id"], bearer(t["token"])
    r = await client.delete(
        f"/api/v1/tournaments/{tid}/credentials/{t['credential_id']}", headers=auth
    )
    assert r.status_code == 409
    assert r.json()["code"] == "last_organizer_credential"


async def test_join_code_lookup_and_access(client: Client) -> None:
    t = await new_tournament(client, name="Code Cup")
    tid = t["tournament"]["id"]
    found = await client.get(f"/api/v1/join/{t['join_code'].lower()}")
    assert found.json() == {
        "tournament_id": tid,
        "name": "Code Cup",
        "status": "registration",
        "registration_open": True,
    }
    assert (await client.get("/api/v1/join/ZZZZZZ")).status_code == 404
    access = await client.get(f"/api/v1/tournaments/{tid}/access", headers=bearer(t["token"]))
    assert access.json()["join_code"] == t["join_code"]
    assert access.headers["cache-control"].startswith("private")
    assert (await client.get(f"/api/v1/tournaments/{tid}/access")).status_code == 401


async def test_credential_of_another_tournament_is_forbidden(client: Client) -> None:
    a = await new_tournament(client)
    b = await new_tournament(client)
    r = await client.patch(
        f"/api/v1/tournaments/{b['tournament']['id']}",
        json={"venue": "Hijack"},
        headers=bearer(a["token"]),
    )
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


async def test_health_and_readiness(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_metrics_in_prometheus_text_format(client: Client) -> None:
    await new_tournament(client)
    await client.get("/api/v1/tournaments")
    body = (await client.get("/metrics")).text
    assert "beerolympics_tournaments 1.0" in body
    assert "beerolympics_projection_position" in body
    assert "# TYPE beerolympics_live_connections gauge" in body
