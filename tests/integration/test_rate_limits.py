"""Rate limits on HTTP: per credential, per address without one, sign-ins; 429 and its fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from tests.factories import api_client, bearer, make_settings, new_team, new_tournament

Client = AsyncTestClient[Any]


def limits(tmp_path: Path, **rates: str) -> Any:
    return make_settings(tmp_path, **{f"rate_limit_{k}": v for k, v in rates.items()})


async def test_anonymous_requests_share_their_address_budget(tmp_path: Path) -> None:
    async with api_client(limits(tmp_path, anonymous="3/minute")) as client:
        answers = [await client.get("/api/v1/tournaments?limit=1") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        first = answers[0].headers
        assert first["ratelimit-policy"] == '"anonymous";q=3;w=60'
        assert first["ratelimit"] == '"anonymous";r=2;t=0'
        refused = answers[3]
        assert refused.headers["content-type"] == "application/problem+json"
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 60
        assert refused.headers["ratelimit"] == f'"anonymous";r=0;t={retry_after}'
        problem = refused.json()
        assert problem["status"] == 429
        assert problem["code"] == "rate_limited"
        assert problem["retry_after"] == retry_after
        assert problem["instance"] == "/api/v1/tournaments"
        # Health, metrics and static assets are never counted.
        for path in ("/healthz", "/readyz", "/metrics", "/sw.js"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "ratelimit" not in response.headers


async def test_a_page_refreshing_its_regions_is_counted_but_not_told(tmp_path: Path) -> None:
    """Its own script asks after every result and reads none of the fields."""
    async with api_client(limits(tmp_path, anonymous="3/minute")) as client:
        refresh = {"X-Regions": "build news=x"}
        answers = [
            await client.get("/t/nope"),
            await client.get("/t/nope", headers=refresh),
            await client.get("/t/nope", headers=refresh),
            await client.get("/t/nope", headers=refresh),
        ]
        assert [a.status_code for a in answers] == [404, 404, 404, 429]
        assert answers[0].headers["ratelimit"] == '"anonymous";r=2;t=0'
        assert "ratelimit" not in answers[1].headers
        assert "ratelimit-policy" not in answers[2].headers
        assert answers[3].headers["ratelimit"].startswith('"anonymous";r=0;')


async def test_a_credential_has_its_own_budget_wherever_it_comes_from(tmp_path: Path) -> None:
    async with api_client(limits(tmp_path, api="3/minute", anonymous="100/minute")) as client:
        t = await new_tournament(client)
        tid, organizer = t["tournament"]["id"], bearer(t["token"])
        team = await new_team(client, t)
        me = f"/api/v1/tournaments/{tid}/me"
        statuses = [(await client.get(me, headers=organizer)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = await client.get(me, headers=organizer)
        assert response.headers["ratelimit-policy"] == '"api";q=3;w=60'
        # Another credential, the same credential as a cookie, and the address are separate.
        assert (await client.get(me, headers=bearer(team["token"]))).status_code == 200
        client.cookies.set(f"bo_{tid}", t["token"])
        assert (await client.get(f"/t/{tid}/admin")).status_code == 429
        client.cookies.clear()
        assert (await client.get(me)).status_code == 200
        # A forged token is counted against the address, then refused as usual.
        forged = await client.get(me, headers=bearer("not-a-token"))
        assert forged.status_code == 401
        assert forged.headers["ratelimit-policy"].startswith('"anonymous"')


async def test_public_reads_from_the_cache_are_not_counted(tmp_path: Path) -> None:
    async with api_client(limits(tmp_path, anonymous="5/minute")) as client:
        t = await new_tournament(client)  # one request
        board = f"/api/v1/tournaments/{t['tournament']['id']}/leaderboard"
        first = await client.get(board)  # built by the handler: counted
        assert first.headers["ratelimit"] == '"anonymous";r=3;t=0'
        for _ in range(20):
            again = await client.get(board)
            assert again.status_code == 200
            assert "ratelimit" not in again.headers
        assert (await client.get("/api/v1/tournaments?limit=1")).headers["ratelimit"] == (
            '"anonymous";r=2;t=0'
        )


async def test_password_sign_ins_have_a_small_budget_per_address(tmp_path: Path) -> None:
    async with api_client(limits(tmp_path, signin="2/minute")) as client:
        t = await new_tournament(client, password="correct horse battery")
        sessions = f"/api/v1/tournaments/{t['tournament']['id']}/sessions"
        tries = [
            (await client.post(sessions, json={"password": "wrong guess one"})).status_code
            for _ in range(3)
        ]
        assert tries == [401, 401, 429]
        refused = await client.post(sessions, json={"password": "correct horse battery"})
        assert refused.status_code == 429
        assert refused.headers["ratelimit-policy"] == '"signin";q=2;w=60'


async def test_a_handler_limit_of_its_own_is_the_same_429(tmp_path: Path) -> None:
    from litestar import Request, get

    from beerolympics.ports.ratelimiter import Rate
    from beerolympics.web.ratelimit import check

    @get("/api/v1/test-uploads")
    async def uploads(request: Request[Any, Any, Any]) -> dict[str, str]:
        await check(request.app.state.runtime, "media", Rate(1, 60), "someone")
        return {"ok": "yes"}

    async with api_client(make_settings(tmp_path)) as client:
        client.app.register(uploads)
        assert (await client.get("/api/v1/test-uploads")).status_code == 200
        refused = await client.get("/api/v1/test-uploads")
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        # Both limits that apply are listed: the request's own and the handler's.
        policies = refused.headers.get_list("ratelimit-policy")
        assert sorted(policies) == ['"anonymous";q=6000;w=60', '"media";q=1;w=60']
        [standing] = [f for f in refused.headers.get_list("ratelimit") if f.startswith('"media"')]
        assert standing == f'"media";r=0;t={refused.headers["retry-after"]}'
