"""``/metrics``: Prometheus text format.

The instruments of :class:`~beerolympics.metrics.Metrics` (requests, store latencies, the
process) plus what :class:`InstanceCollector` reads from the instance at scrape time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from litestar import Request, Response, get
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from beerolympics.jobs.metrics import job_metrics
from beerolympics.live.backplane import Backplane
from beerolympics.live.hub import Hub
from beerolympics.live.pusher import PusherConnection
from beerolympics.ports.eventstore import StoreUnavailable
from beerolympics.runtime import Runtime
from beerolympics.web.fastpath import PublicReads
from beerolympics.web.http import Representations

Family = GaugeMetricFamily | CounterMetricFamily


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def _counter(name: str, text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, value=value)


class InstanceCollector(Collector):
    """Numbers the instance already keeps; nothing is counted twice on the hot path."""

    def __init__(
        self,
        rt: Runtime,
        hub: Hub,
        backplane: Backplane,
        reads: PublicReads,
        representations: Representations,
    ) -> None:
        self.rt = rt
        self.hub = hub
        self.backplane = backplane
        self.reads = reads
        self.representations = representations
        #: The newest position of the event log, read by the handler before each scrape.
        self.head: int | None = None

    def collect(self) -> Iterator[Metric]:
        yield from self._projections()
        yield from self._live()
        yield from self._http()
        yield from self._pool()
        yield from job_metrics(self.rt.job_states, self.rt.supervisor)

    def _projections(self) -> Iterator[Family]:
        rt = self.rt
        position = rt.projector.position
        yield _gauge(
            "beerolympics_projection_position",
            "Event position the read model of this instance reflects.",
            position,
        )
        if self.head is not None:
            yield _gauge(
                "beerolympics_event_log_head", "Position of the newest stored event.", self.head
            )
            yield _gauge(
                "beerolympics_projection_lag_events",
                "Events stored but not yet in this instance's read model.",
                max(0, self.head - position),
            )
        yield _gauge("beerolympics_tournaments", "Tournaments known.", len(rt.catalog.tournaments))

    def _live(self) -> Iterator[Family]:
        hub = self.hub
        yield _gauge(
            "beerolympics_live_connections", "Open live connections.", len(hub.connections)
        )
        yield _gauge(
            "beerolympics_live_pusher_connections",
            "Open live connections that speak the Pusher protocol (counted in"
            " beerolympics_live_connections too).",
            sum(1 for conn in hub.connections if isinstance(conn, PusherConnection)),
        )
        yield _gauge(
            "beerolympics_live_channels", "Live channels with subscribers.", len(hub.channels)
        )
        yield _gauge(
            "beerolympics_live_subscriptions",
            "Channel subscriptions of open live connections.",
            sum(len(ch.subscribers) for ch in hub.channels.values()),
        )
        yield _counter("beerolympics_live_frames", "Frames sent to channels.", hub.frames_sent)
        yield _counter(
            "beerolympics_live_deliveries",
            "Channel frames handed to subscribers (a frame to 100 phones is 100).",
            hub.deliveries,
        )
        yield _counter(
            "beerolympics_live_delivered_bytes",
            "Bytes of channel frames handed to subscribers, as the native protocol says them"
            " (a Pusher event carries the frame as a JSON string: 15-20% more).",
            hub.delivered_bytes,
        )
        closed = CounterMetricFamily(
            "beerolympics_live_disconnects",
            "Live connections that ended, by close code (4008: too slow, dropped; 4029: too"
            " many messages; client: the client left; Pusher sockets: 4100 too slow or too"
            " many messages, 4200 going away).",
            labels=["code"],
        )
        for code, count in sorted(hub.disconnects.items()):
            closed.add_metric([code], count)
        yield closed
        yield _gauge(
            "beerolympics_backplane_connected",
            "1 while this instance follows the other instances' commits.",
            1 if self.backplane.connected.is_set() else 0,
        )

    def _http(self) -> Iterator[Family]:
        yield _counter(
            "beerolympics_fastpath_hits", "Public reads answered from the cache.", self.reads.hits
        )
        yield _counter(
            "beerolympics_fastpath_misses",
            "Public reads the cache could not answer (built by the app).",
            self.reads.misses,
        )
        yield _counter(
            "beerolympics_encodings",
            "Read models encoded (cache misses).",
            self.representations.misses,
        )
        throttle = self.rt.throttle
        refused = CounterMetricFamily(
            "beerolympics_rate_limited",
            "Requests refused by a rate limit, by limit.",
            labels=["limit"],
        )
        for name, count in sorted(throttle.refused.items()):
            refused.add_metric([name], count)
        yield refused
        yield _counter(
            "beerolympics_rate_limit_fallback_hits",
            "Hits counted in this instance's memory while the shared limiter was unavailable.",
            throttle.fallback_hits,
        )

    def _pool(self) -> Iterator[Family]:
        pool_stats = getattr(self.rt.store, "pool_stats", None)
        if pool_stats is None:
            return
        in_use, size, maximum = pool_stats()
        pool = GaugeMetricFamily(
            "beerolympics_db_pool_connections", "Database pool connections.", labels=["state"]
        )
        pool.add_metric(["in_use"], in_use)
        pool.add_metric(["open"], size)
        pool.add_metric(["max"], maximum)
        yield pool
        yield _gauge(
            "beerolympics_db_pool_utilization",
            "Share of the pool's most connections in use (0 to 1).",
            in_use / maximum if maximum else 0,
        )


@get("/metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    rt: Runtime = request.app.state.runtime
    collector: InstanceCollector = request.app.state.instance_collector
    try:
        async with asyncio.timeout(1):
            collector.head = await rt.store.last_position()
    except (StoreUnavailable, TimeoutError):
        collector.head = None  # the lag is unknown while the store does not answer
    return Response(
        content=generate_latest(rt.metrics.registry),
        media_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )
