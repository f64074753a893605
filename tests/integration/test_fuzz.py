"""Property-based fuzzing of the whole API from its own OpenAPI document: never a 5xx.

A real server runs in a subprocess; schemathesis generates valid and invalid requests for every
operation. Every request carries the organizer's credential so the commands themselves run. In
three cases out of four, path parameters naming the tournament, a game, a match or a team point
at real ones so that requests get past the 404; the fourth keeps the generated ids, which must
be refused cleanly too (an odd tournament id once made the server build an illegal cookie).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.servers import ServeProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with ServeProcess(tmp_path_factory.mktemp("fuzz"), "--demo") as served:
        base = served.url
        created = httpx.post(f"{base}/api/v1/tournaments", json={"name": "Fuzz Cup"}).json()
        tid, auth = created["tournament"]["id"], {"Authorization": f"Bearer {created['token']}"}
        api = f"{base}/api/v1/tournaments/{tid}"
        for name in ("Reds", "Blues", "Greens"):
            team = {"name": name, "colour": "#123456", "captain_name": "C"}
            httpx.post(f"{api}/teams", json=team, headers=auth)
        game = {"name": "Pong", "format": "round_robin", "auto_call": False}
        game_id = httpx.post(f"{api}/games", json=game, headers=auth).json()["id"]
        httpx.post(f"{api}/games/{game_id}/start", json={}, headers=auth)
        yield {
            "base": base,
            "token": created["token"],
            "ids": {
                "tournament_id": tid,
                "game_id": game_id,
                "match": httpx.get(f"{api}/matches").json()["items"][0]["id"],
                "team_id": httpx.get(f"{api}/teams").json()["items"][0]["id"],
            },
        }


@pytest.fixture(scope="module")
def api_schema(server: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_url(f"{server['base']}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")
_cases = itertools.count()


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.timeout(900)
def test_no_request_makes_the_server_fail(case: Any, server: dict[str, Any]) -> None:
    if next(_cases) % 4:
        for name, value in server["ids"].items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
    response = case.call(
        base_url=server["base"], headers={"Authorization": f"Bearer {server['token']}"}
    )
    assert response.status_code < 500, (case.method, case.path, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == response.status_code
        assert body["code"]
