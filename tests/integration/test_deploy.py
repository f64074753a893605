"""The scaled shape as deploy/ brings it up: two instances and a worker on PostgreSQL and Redis,
nginx in front (Debian's package, started as an ordinary process on a free port)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import resource
import shutil
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from deploy.stack import Stack, nginx_open_files
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from tests.conftest import service_url
from tests.integration.test_live import events_until
from tests.integration.test_page_regions import _held
from tests.integration.test_scaled import next_of

ROOT = Path(__file__).parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def nginx_or_skip() -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nginx is missing, and CI=true requires it", pytrace=False)
        pytest.skip("nginx is not installed (apt-get install nginx-light)")


@contextlib.contextmanager
def started_with_few_open_files(stack: Stack, soft: int = 1024) -> Iterator[Stack]:
    """``stack`` started with a soft limit of ``soft`` open files (the hard one as it is)."""
    was = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, was[1]), was[1]))
    try:
        stack.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, was)
    try:
        yield stack
    finally:
        stack.stop()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # The parent's pid follows the command, which is in parentheses.
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def open_files(pid: int) -> int:
    """The soft limit of open files of process ``pid``."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError(f"no open files limit for {pid}")


def phone() -> dict[str, str]:
    """A phone of its own: the instances trust nginx, which passes on the client's address."""
    return {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}


async def test_two_instances_behind_nginx(tmp_path: Path) -> None:
    nginx_or_skip()
    os.environ.setdefault("BEEROLYMPICS_TEST_POSTGRES", service_url("postgres"))
    serve = ["--public-s-maxage", "1", "--stale-while-revalidate", "30"]
    serve += ["--rate-limit-anonymous", "4/minute", "--access-log", "--log-format", "json"]
    stack = Stack(
        tmp_path, instances=2, workers=1, redis_url=service_url("redis"), serve_args=serve
    )
    with started_with_few_open_files(stack):
        # Started with 1,024 open files allowed, as a shell or a service manager may start
        # them: nginx's workers and the instances raised the limit.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        assert stack.nginx is not None
        assert stack.nginx.popen is not None
        workers = children(stack.nginx.popen.pid)
        assert workers
        assert {open_files(pid) for pid in workers} == {nginx_open_files()}
        assert nginx_open_files() == min(32768, hard) > 1024
        for instance in stack.instances:
            assert instance.popen is not None
            assert open_files(instance.popen.pid) == hard

        async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
            created = await http.post("/api/v1/tournaments", json={"name": "Hall"}, headers=phone())
            assert created.status_code == 201
            tid, token = created.json()["tournament"]["id"], created.json()["token"]
            organizer = {"Authorization": f"Bearer {token}"}
            api = f"/api/v1/tournaments/{tid}"

            # WebSockets go through the proxy, and spread over both instances.
            ws_url = stack.url.replace("http", "ws") + f"{api}/live"
            async with (
                connect(ws_url, compression=None) as first,
                connect(ws_url, compression=None) as second,
            ):
                for ws in (first, second):
                    await ws.send(json.dumps({"type": "subscribe", "channel": "tournament"}))
                    await next_of(ws, "snapshot")
                held = [await live_connections(i.url) for i in stack.instances]
                assert held == [1, 1]
                await http.post(
                    f"{api}/announcements", json={"message": "Pizza"}, headers=organizer
                )
                for ws in (first, second):
                    frame = await next_of(ws, "frame")
                    assert frame["messages"][-1]["announcement"]["message"] == "Pizza"

            # Server-Sent Events through the proxy, gzipped: each event as it comes, not
            # held back by nginx or by the compressor.
            gzip = {"Accept-Encoding": "gzip", **phone()}
            params = {"channel": "tournament"}
            async with http.stream("GET", f"{api}/live/events", params=params, headers=gzip) as r:
                assert r.headers["content-encoding"] == "gzip"
                chunks, seen = r.aiter_raw(), bytearray()
                inflate = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
                await events_until(chunks, inflate, seen, b"event: snapshot")
                await http.post(
                    f"{api}/announcements", json={"message": "Chips"}, headers=organizer
                )
                await events_until(chunks, inflate, seen, b"Chips")

            # Pusher clients too: a channel signed by whichever instance answered the auth
            # request is good on the one holding the socket.
            pusher_url = stack.url.replace("http", "ws") + f"/app/{tid}?protocol=7"
            async with connect(pusher_url, compression=None) as ws:
                hello = json.loads(await ws.recv())
                socket_id = json.loads(hello["data"])["socket_id"]
                signed = await http.post(
                    f"{api}/pusher/auth",
                    data={"socket_id": socket_id, "channel_name": "private-captains"},
                    headers=organizer,
                )
                subscribe = {"channel": "private-captains", **signed.json()}
                await ws.send(json.dumps({"event": "pusher:subscribe", "data": subscribe}))
                said = {"message": "Captains, to the bar", "audience": "captains"}
                await http.post(f"{api}/announcements", json=said, headers=organizer)
                events = []
                async with asyncio.timeout(10):
                    while not events or events[-1]["event"] != "frame":
                        events.append(json.loads(await ws.recv()))
                assert [e["event"] for e in events][:2] == [
                    "pusher_internal:subscription_succeeded",
                    "snapshot",
                ]
                frame = json.loads(events[-1]["data"])
                assert frame["messages"][-1]["announcement"]["message"] == said["message"]

            # Public reads: cached for s-maxage, served stale while one request refreshes them.
            board = f"{api}/leaderboard"
            statuses = [(await http.get(board)).headers["x-cache-status"] for _ in range(3)]
            assert statuses == ["MISS", "HIT", "HIT"]
            etag = (await http.get(board)).headers["etag"]
            assert (await http.get(board, headers={"If-None-Match": etag})).status_code == 304
            await asyncio.sleep(2.2)  # nginx counts validity in whole seconds
            assert (await http.get(board)).headers["x-cache-status"] in {"STALE", "UPDATING"}
            # Private answers never are.
            me = await http.get(f"{api}/me", headers=organizer)
            assert me.headers["x-cache-status"] in {"BYPASS", "MISS"}
            assert (await http.get(f"{api}/me", headers=organizer)).headers[
                "x-cache-status"
            ] != "HIT"

            # Static assets are immutable: kept by nginx.
            page = (await http.get(f"/t/{tid}")).text
            [asset] = re.findall(r'/static/[^"]+/css/app\.css', page)
            fetched = [await http.get(asset) for _ in range(2)]
            assert "immutable" in fetched[0].headers["cache-control"]
            assert fetched[1].headers["x-cache-status"] == "HIT"

            # A tournament's pages go by path: a page, its compression dictionary and its
            # refreshes reach one instance, so the refreshes are compressed against it.
            home = await http.get(f"/t/{tid}", headers=phone())
            link = re.fullmatch(r"<([^>]+)>; .*", home.headers["link"])
            assert link is not None
            fetched = [await http.get(link[1], headers=phone()) for _ in range(4)]
            assert [f.status_code for f in fetched] == [200] * 4
            digest = base64.b64encode(hashlib.sha256(fetched[0].content).digest()).decode()
            holds = {
                "X-Regions": _held(home.text),
                "Available-Dictionary": f":{digest}:",
                "Accept-Encoding": "br, dcz",
            }
            news = {"message": "Last orders"}
            await http.post(f"{api}/announcements", json=news, headers=organizer)
            answers = [await http.get(f"/t/{tid}", headers={**holds, **phone()}) for _ in range(4)]
            assert [(a.status_code, a.headers.get("content-encoding")) for a in answers] == [
                (200, "dcz")
            ] * 4

            # Metrics are for Prometheus on the instances, not for the world.
            assert (await http.get("/metrics")).status_code == 403

            # One budget per phone across both instances; the address is the phone's.
            me_phone = phone()
            tries = [
                (await http.post("/api/v1/tournaments", json={}, headers=me_phone)).status_code
                for _ in range(5)
            ]
            assert tries == [422, 422, 422, 422, 429]
            assert (
                await http.post("/api/v1/tournaments", json={}, headers=phone())
            ).status_code == 422
            request_id = (await http.get(f"{api}/me", headers=organizer)).headers["x-request-id"]

        # Every metric the Grafana dashboard charts exists on an instance (on PostgreSQL).
        async with httpx.AsyncClient() as direct:
            page = (await direct.get(f"{stack.instances[0].url}/metrics")).text
        missing = dashboard_metrics() - exposed_metrics(page)
        assert not missing, f"the dashboard charts metrics that /metrics lacks: {missing}"

    # Requests reached both instances, and one id names a request in nginx's log and the app's.
    upstreams = set(re.findall(r"up=(\S+)", stack.nginx_access_log().read_text()))
    assert {f"127.0.0.1:{i.port}" for i in stack.instances} <= upstreams
    assert f"id={request_id}" in stack.nginx_access_log().read_text()
    app_lines = [
        json.loads(line)
        for i in stack.instances
        for line in i.log.read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(line.get("request_id") == request_id for line in app_lines)


async def live_connections(instance: str) -> int:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{instance}/metrics")).text
    [value] = re.findall(r"^beerolympics_live_connections (\S+)$", text, re.M)
    return int(float(value))


def dashboard_metrics() -> set[str]:
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 20
    return {n for e in exprs for n in re.findall(r"\b(?:beerolympics|process|python)_\w+", e)}


def exposed_metrics(page: str) -> set[str]:
    """Every series name /metrics can have: families with no sample yet count too."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
    names = set()
    for family in text_string_to_metric_families(page):
        names.add(family.name)
        names.update(family.name + s for s in suffixes.get(family.type, []))
        names.update(sample.name for sample in family.samples)
    return names
