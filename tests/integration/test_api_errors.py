"""Every failure has the one error shape, the right status and a stable code; and a refused
command appends nothing."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from beerolympics.runtime import Runtime
from tests.factories import bearer, new_team, new_tournament

Client = AsyncTestClient[Any]


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body.get("type", "about:blank") == "about:blank"
    return body


def runtime_of(client: Client) -> Runtime:
    rt: Runtime = client.app.state.runtime
    return rt


@pytest.fixture
async def world(client: Client) -> dict[str, Any]:
    t = await new_tournament(client, max_teams=3, max_team_size=2)
    team = await new_team(client, t, name="Hop Stars")
    return {"t": t, "tid": t["tournament"]["id"], "team": team, "org": bearer(t["token"])}


def bad_requests(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], int, str]]:
    """(method, path, request kwargs, status, code) for every kind of bad request."""
    tid, org, team = w["tid"], w["org"], w["team"]
    teams = f"/api/v1/tournaments/{tid}/teams"
    good_team = {"join_code": w["t"]["join_code"], "colour": "#123456", "captain_name": "C"}
    return [
        ("GET", "/api/v1/tournaments/nope", {}, 404, "tournament_not_found"),
        ("GET", f"{teams}/tm_missing", {}, 404, "team_not_found"),
        ("GET", "/api/v1/nothing-here", {}, 404, "not_found"),
        (
            "DELETE",
            f"/api/v1/tournaments/{tid}/credentials/cr_missing",
            {"headers": org},
            404,
            "credential_not_found",
        ),
        ("PATCH", f"/api/v1/tournaments/{tid}", {"json": {"venue": "x"}}, 401, "unauthenticated"),
        (
            "PATCH",
            f"/api/v1/tournaments/{tid}",
            {"json": {"venue": "x"}, "headers": bearer("forged.token")},
            401,
            "invalid_credential",
        ),
        (
            "PATCH",
            f"/api/v1/tournaments/{tid}",
            {"json": {"venue": "x"}, "headers": {"Authorization": "Basic abc"}},
            401,
            "invalid_credential",
        ),
        (
            "PATCH",
            f"/api/v1/tournaments/{tid}",
            {"json": {"venue": "x"}, "headers": bearer(team["token"])},
            403,
            "forbidden",
        ),
        (
            "GET",
            f"/api/v1/tournaments/{tid}/credentials",
            {"headers": bearer(team["token"])},
            403,
            "forbidden",
        ),
        ("PUT", f"/api/v1/tournaments/{tid}", {"json": {}}, 405, "method_not_allowed"),
        (
            "POST",
            teams,
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "malformed_json",
        ),
        ("POST", teams, {"json": {**good_team, "name": 42}}, 422, "validation_failed"),
        ("POST", teams, {"json": {**good_team, "name": ""}}, 422, "validation_failed"),
        ("POST", teams, {"json": {**good_team, "name": "   "}}, 422, "validation_failed"),
        ("POST", teams, {"json": {**good_team, "name": "x" * 300}}, 422, "validation_failed"),
        (
            "POST",
            teams,
            {"json": {**good_team, "name": "Reds", "colour": "red"}},
            422,
            "validation_failed",
        ),
        (
            "POST",
            teams,
            {"json": {**good_team, "name": "Flags", "flag": "USA"}},
            422,
            "validation_failed",
        ),
        (
            "POST",
            teams,
            {"json": {**good_team, "name": "Extra", "extra": 1}},
            422,
            "validation_failed",
        ),
        ("POST", teams, {"json": {"name": "Missing"}}, 422, "validation_failed"),
        ("POST", teams, {"json": [1, 2]}, 422, "validation_failed"),
        ("POST", teams, {"json": {**good_team, "name": "HOP  stars"}}, 409, "team_name_taken"),
        (
            "POST",
            teams,
            {"json": {**good_team, "name": "Wrong", "join_code": "ZZZZZZ"}},
            403,
            "invalid_join_code",
        ),
        (
            "POST",
            f"/api/v1/tournaments/{tid}/members",
            {"json": {"invite_code": "ZZZZZZ", "name": "N"}},
            403,
            "invalid_invite_code",
        ),
        ("GET", teams, {"params": {"limit": 0}}, 422, "validation_failed"),
        ("GET", teams, {"params": {"limit": "lots"}}, 422, "validation_failed"),
        ("GET", teams, {"params": {"cursor": "not-ours"}}, 422, "invalid_cursor"),
        (
            "GET",
            "/api/v1/tournaments",
            {"params": {"status": "sleeping"}},
            422,
            "validation_failed",
        ),
        (
            "PATCH",
            f"/api/v1/tournaments/{tid}",
            {"json": {"venue": "x"}, "headers": {**org, "If-Match": '"v999"'}},
            409,
            "version_conflict",
        ),
        (
            "PATCH",
            f"/api/v1/tournaments/{tid}",
            {"json": {"venue": "x"}, "headers": {**org, "If-Match": '"p1"'}},
            409,
            "version_conflict",
        ),
        (
            "PATCH",
            f"/api/v1/tournaments/{tid}",
            {"json": {"max_teams": 1}, "headers": org},
            422,
            "validation_failed",
        ),
        ("POST", f"/api/v1/tournaments/{tid}/finish", {"headers": org}, 409, "tournament_not_live"),
        ("POST", f"/api/v1/tournaments/{tid}/start", {"headers": org}, 409, "not_enough_teams"),
        (
            "POST",
            f"/api/v1/tournaments/{tid}/sessions",
            {"json": {"password": "whatever"}},
            401,
            "invalid_password",
        ),
        (
            "POST",
            f"{teams}/{team['team']['id']}/captain",
            {"json": {"member_id": "mb_nobody"}, "headers": org},
            404,
            "member_not_found",
        ),
        (
            "POST",
            "/api/v1/tournaments",
            {"json": {"name": "Big"}, "headers": {"Idempotency-Key": "bad key with spaces"}},
            422,
            "invalid_idempotency_key",
        ),
        (
            "POST",
            "/api/v1/tournaments",
            {"json": {"name": "Big", "date": "someday"}},
            422,
            "validation_failed",
        ),
        (
            "POST",
            "/api/v1/tournaments",
            {"json": {"name": "Big", "rules": "x" * 70_000}},
            413,
            "payload_too_large",
        ),
    ]


async def test_every_error_path_has_the_one_shape_and_appends_nothing(
    client: Client, world: dict[str, Any]
) -> None:
    rt = runtime_of(client)
    cases = bad_requests(world)
    for method, path, kwargs, status, code in cases:
        before = await rt.store.last_position()
        response = await client.request(method, path, **kwargs)
        client.cookies.clear()
        body = assert_problem(response, status, code)
        assert body["instance"] == path
        assert await rt.store.last_position() == before, (method, path, code)


async def test_validation_problems_name_the_field(client: Client, world: dict[str, Any]) -> None:
    response = await client.post(
        f"/api/v1/tournaments/{world['tid']}/teams",
        json={
            "join_code": world["t"]["join_code"],
            "name": "Ok",
            "colour": "red",
            "captain_name": "C",
        },
    )
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["field"] == "colour"
    assert body["errors"][0]["source"] == "body"


async def test_a_missing_body_is_said_so(client: Client, world: dict[str, Any]) -> None:
    response = await client.post(f"/api/v1/tournaments/{world['tid']}/teams")
    body = assert_problem(response, 422, "validation_failed")
    assert body["detail"] == "a JSON body is required"
    assert body["errors"] == [{"message": "a JSON body is required", "source": "body"}]


async def test_unauthenticated_carries_www_authenticate(
    client: Client, world: dict[str, Any]
) -> None:
    response = await client.patch(f"/api/v1/tournaments/{world['tid']}", json={"venue": "x"})
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_crash_is_a_500_problem_without_details(
    client: Client, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(runtime_of(client).tournaments, "start_tournament", boom)
    response = await client.post(f"/api/v1/tournaments/{world['tid']}/start", headers=world["org"])
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text
    assert body["detail"] == "something went wrong on our side"


async def test_readiness_fails_with_a_problem_when_the_store_is_gone(client: Client) -> None:
    await runtime_of(client).store.close()
    assert_problem(await client.get("/readyz"), 503, "store_unavailable")
