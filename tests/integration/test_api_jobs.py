"""The jobs API and metrics: the dead-letter list organizers see, retrying from it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from beerolympics.app import create_app
from beerolympics.jobs.kinds import Backoff, Completion, JobContext, JobKind
from beerolympics.runtime import Runtime
from tests.factories import bearer, eventually, make_settings, new_team, new_tournament

calls: list[int] = []


async def flaky(ctx: JobContext) -> Completion:
    """Fails its first run, succeeds afterwards."""
    calls.append(ctx.job.attempt)
    if len(calls) == 1:
        raise RuntimeError("the first run fails")
    return Completion()


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[AsyncTestClient[Any], Runtime]]:
    calls.clear()
    settings = make_settings(tmp_path, job_processes=1)
    runtime = await Runtime.open(settings)
    runtime.job_kinds.add(JobKind("test.flaky", flaky, max_attempts=1, backoff=Backoff(0.05)))
    try:
        async with AsyncTestClient(create_app(settings, runtime)) as client:
            yield client, runtime
    finally:
        await runtime.close()


async def test_organizers_see_the_dead_letter_list_and_retry_from_it(
    app: tuple[AsyncTestClient[Any], Runtime],
) -> None:
    client, runtime = app
    t = await new_tournament(client)
    tid, organizer = t["tournament"]["id"], bearer(t["token"])
    jobs = f"/api/v1/tournaments/{tid}/jobs"
    job_id = await runtime.jobs.enqueue("test.flaky", {}, scope=tid, subject="md_x")

    async def dead() -> bool:
        r = await client.get(f"{jobs}?status=dead", headers=organizer)
        return r.json()["total"] == 1

    await eventually(dead)
    [job] = (await client.get(f"{jobs}?status=dead", headers=organizer)).json()["items"]
    assert job["id"] == job_id
    assert job["subject"] == "md_x"
    assert job["errors"] == [{"attempt": 1, "error": "RuntimeError: the first run fails"}]
    metrics = (await client.get("/metrics")).text
    assert 'beerolympics_job_failures_total{kind="test.flaky"} 1.0' in metrics
    assert 'beerolympics_jobs{kind="test.flaky",status="dead"} 1.0' in metrics

    team = await new_team(client, t)
    r = await client.post(f"{jobs}/{job_id}/retry", headers=bearer(team["token"]))
    assert r.status_code == 403
    r = await client.post(f"{jobs}/{job_id}/retry", headers=organizer)
    assert r.status_code == 202
    assert r.json()["status"] == "queued"

    async def done() -> bool:
        r = await client.get(f"{jobs}?status=succeeded", headers=organizer)
        return r.json()["total"] == 1

    await eventually(done)
    assert calls == [1, 2]
    r = await client.post(f"{jobs}/{job_id}/retry", headers=organizer)
    assert (r.status_code, r.json()["code"]) == (409, "job_not_dead")
    r = await client.post(f"{jobs}/jb_nope/retry", headers=organizer)
    assert (r.status_code, r.json()["code"]) == (404, "job_not_found")
    metrics = (await client.get("/metrics")).text
    assert 'beerolympics_jobs_succeeded_total{kind="test.flaky"} 1.0' in metrics
    assert 'beerolympics_job_wait_seconds_count{kind="test.flaky"} 2.0' in metrics
