"""/metrics, request ids and JSON logs."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from beerolympics.logs import JSONFormatter, RequestIdFilter
from tests.factories import api_client, make_settings
from tests.integration.test_live import receive, running, setup_tournament, subscribe


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page: (name, labels) → value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    page: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return page[name, frozenset(labels.items())]


async def test_metrics_cover_requests_store_live_cache_and_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, live_window_ms=0, rate_limit_anonymous="60/minute")
    async with running(settings) as s:
        await setup_tournament(s, teams=2)
        board = s.url("/leaderboard")
        for _ in range(3):
            assert (await s.http.get(board)).status_code == 200
        assert (await s.http.get("/no/such/page")).status_code == 404
        async with s.socket() as ws:
            await subscribe(ws, "tournament")
            await s.post("/announcements", {"message": "Pizza is here"})
            await receive(ws, "frame")
            page = samples((await s.http.get("/metrics")).text)

    route = "/api/v1/tournaments/{tournament_id}/leaderboard"
    assert (
        value(page, "beerolympics_http_requests_total", route=route, method="GET", status="200")
        == 3
    )
    assert (
        value(
            page, "beerolympics_http_requests_total", route="unmatched", method="GET", status="404"
        )
        == 1
    )
    latency = "beerolympics_http_request_duration_seconds"
    assert value(page, f"{latency}_count", route=route, method="GET") == 3
    assert value(page, f"{latency}_bucket", route=route, method="GET", le="+Inf") == 3
    assert value(page, f"{latency}_bucket", route=route, method="GET", le="0.0005") <= 3
    # The first read was built by the app, the two after it came from the cache.
    assert value(page, "beerolympics_fastpath_hits_total") == 2
    assert value(page, "beerolympics_fastpath_misses_total") >= 1
    assert value(page, "beerolympics_event_store_duration_seconds_count", operation="append") > 3
    assert value(page, "beerolympics_event_store_duration_seconds_count", operation="read") >= 1
    head = value(page, "beerolympics_event_log_head")
    assert head == value(page, "beerolympics_projection_position") > 0
    assert value(page, "beerolympics_projection_lag_events") == 0
    assert value(page, "beerolympics_live_connections") == 1
    assert value(page, "beerolympics_live_subscriptions") == 1
    assert value(page, "beerolympics_live_frames_total") >= 1
    assert value(page, "beerolympics_live_deliveries_total") >= 1
    assert value(page, "beerolympics_live_delivered_bytes_total") > 20
    assert value(page, "process_resident_memory_bytes") > 10_000_000
    assert value(page, "process_cpu_seconds_total") > 0


async def test_refusals_and_disconnects_are_counted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, rate_limit_anonymous="3/minute", live_messages_per_minute=2)
    async with running(settings) as s:
        await setup_tournament(s, teams=0)  # creating it is one anonymous request
        statuses = [(await s.http.get("/api/v1/tournaments")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        async with s.socket() as ws:
            for _ in range(3):
                await ws.send(json.dumps({"type": "ping"}))
            await ws.wait_closed()
        page = samples((await s.http.get("/metrics", headers=s.org)).text)
    assert value(page, "beerolympics_rate_limited_total", limit="anonymous") == 1
    assert value(page, "beerolympics_live_disconnects_total", code="4029") == 1


async def test_every_response_carries_a_request_id_that_the_logs_carry_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    async with api_client(make_settings(tmp_path, access_log=True)) as client:
        with caplog.at_level(logging.INFO, logger="beerolympics.access"):
            mine = await client.get("/healthz")
            given = await client.get("/nowhere", headers={"X-Request-ID": "edge-42"})
            forged = await client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert given.headers["x-request-id"] == "edge-42"
    generated = mine.headers["x-request-id"]
    assert generated
    assert generated != forged.headers["x-request-id"] != "<script>"
    lines = {r.request_id: r for r in caplog.records if r.name == "beerolympics.access"}
    assert set(lines) >= {generated, "edge-42"}
    entry: dict[str, Any] = json.loads(JSONFormatter().format(lines["edge-42"]))
    assert entry["request_id"] == "edge-42"
    assert entry["status"] == 404
    assert entry["route"] == "unmatched"
    assert entry["level"] == "info"


async def test_statsd_export_sends_gauges_and_counter_increases(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    received: asyncio.Queue[bytes] = asyncio.Queue()

    class Sink(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            received.put_nowait(data)

    transport, _ = await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    settings = make_settings(tmp_path, statsd_address=f"127.0.0.1:{port}", statsd_interval=1)
    try:
        async with api_client(settings) as client:
            for _ in range(3):
                await client.get("/healthz")
            lines = set()
            async with asyncio.timeout(5):
                while not any(line.startswith("beerolympics.http_requests") for line in lines):
                    lines |= set((await received.get()).decode().splitlines())
    finally:
        transport.close()
    assert "beerolympics.http_requests.healthz.GET.200:3|c" in lines
    assert any(
        line.startswith("beerolympics.projection_position:") and line.endswith("|g")
        for line in lines
    )
