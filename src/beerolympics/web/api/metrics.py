"""``/metrics``: Prometheus text format, read from the instance's state at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar import Request, Response, get
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from beerolympics.live.hub import Hub
from beerolympics.runtime import Runtime
from beerolympics.web.fastpath import PublicReads
from beerolympics.web.http import Representations


class InstanceCollector(Collector):
    """Numbers the instance already keeps; nothing is counted twice on the hot path."""

    def __init__(self, app_state: Any) -> None:
        self.state = app_state

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        rt: Runtime = self.state.runtime
        hub: Hub = self.state.hub
        reads: PublicReads = self.state.public_reads
        representations: Representations = self.state.representations
        yield GaugeMetricFamily(
            "beerolympics_projection_position",
            "Event position the read model of this instance reflects.",
            value=rt.projector.position,
        )
        yield GaugeMetricFamily(
            "beerolympics_tournaments", "Tournaments known.", value=len(rt.catalog.tournaments)
        )
        yield GaugeMetricFamily(
            "beerolympics_live_connections", "Open live connections.", value=len(hub.connections)
        )
        yield GaugeMetricFamily(
            "beerolympics_live_channels", "Live channels with subscribers.", value=len(hub.channels)
        )
        yield CounterMetricFamily(
            "beerolympics_live_frames", "Frames sent to channels.", value=hub.frames_sent
        )
        yield CounterMetricFamily(
            "beerolympics_fastpath_hits", "Public reads answered from the cache.", value=reads.hits
        )
        yield CounterMetricFamily(
            "beerolympics_encodings",
            "Read models encoded (cache misses).",
            value=representations.misses,
        )
        pool_stats = getattr(rt.store, "pool_stats", None)
        if pool_stats is not None:
            in_use, size, maximum = pool_stats()
            pool = GaugeMetricFamily(
                "beerolympics_db_pool_connections", "Database pool connections.", labels=["state"]
            )
            pool.add_metric(["in_use"], in_use)
            pool.add_metric(["open"], size)
            pool.add_metric(["max"], maximum)
            yield pool


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    registry: CollectorRegistry | None = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = request.app.state.metrics_registry = CollectorRegistry()
        registry.register(InstanceCollector(request.app.state))
    return Response(
        content=generate_latest(registry),
        media_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )
