"""What one instance measures, in a Prometheus registry of its own.

Two kinds of numbers. Those measured as things happen — HTTP requests by route and status
(:class:`RequestStats`, a fraction of a microsecond each), event store latencies — are kept
here. Those the instance already keeps — connections, frames, cache
hits, pool use — are read at scrape time by collectors (see ``web/api/metrics.py``), and cost
nothing in between.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from itertools import accumulate
from typing import Any, Final

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from beerolympics.ports.eventstore import (
    AppendResult,
    EventStore,
    Idempotency,
    RecordedEvent,
    StoredOutcome,
    StreamWrite,
)

#: Seconds; requests answered from memory take tens of microseconds, commands milliseconds.
LATENCY_BUCKETS: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)


class RequestStats(Collector):
    """Requests by route, method and status, and their latency histogram by route and method.

    Counted in plain lists and dicts (a request costs a dict lookup, a bisection and three
    additions, about a third of what Prometheus' own instruments cost with their locks) and
    turned into Prometheus families at scrape time.
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], _RouteStats] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        stats = self._routes.get((route, method))
        if stats is None:
            stats = self._routes[route, method] = _RouteStats()
        stats.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        stats.seconds += seconds
        statuses = stats.statuses
        statuses[status] = statuses.get(status, 0) + 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "beerolympics_http_requests",
            "HTTP requests answered, by route template, method and status.",
            labels=["route", "method", "status"],
        )
        latency = HistogramMetricFamily(
            "beerolympics_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by route template.",
            labels=["route", "method"],
        )
        for (route, method), stats in sorted(self._routes.items()):
            for status, count in sorted(stats.statuses.items()):
                requests.add_metric([route, method, str(status)], count)
            cumulative = list(accumulate(stats.buckets))
            bounds = [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
            latency.add_metric(
                [route, method], list(zip(bounds, cumulative, strict=True)), stats.seconds
            )
        yield requests
        yield latency


class _RouteStats:
    __slots__ = ("buckets", "seconds", "statuses")

    def __init__(self) -> None:
        #: Requests per latency bucket (not cumulative; the last one is "+Inf").
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.seconds = 0.0
        self.statuses: dict[int, int] = {}


class Metrics:
    """The instruments of one instance and the registry ``/metrics`` reads."""

    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry()
        # CPU, memory, open files, garbage collections and the Python version of this process.
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            registry.register(collector)
        self.requests = RequestStats()
        registry.register(self.requests)
        self.observe_request = self.requests.observe
        self.store_seconds = Histogram(
            "beerolympics_event_store_duration_seconds",
            "Event store calls: append (a command's events) and read (pages of the log).",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def register(self, collector: Collector) -> None:
        """Add numbers read at scrape time."""
        self.registry.register(collector)


class ObservedEventStore:
    """An :class:`EventStore` that times appends and reads into :class:`Metrics`; everything
    else goes straight to the store it wraps (including adapter extras such as
    ``pool_stats``)."""

    def __init__(self, store: EventStore, metrics: Metrics) -> None:
        self.inner = store
        self._append = metrics.store_seconds.labels("append")
        self._read = metrics.store_seconds.labels("read")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def append(
        self,
        writes: Sequence[StreamWrite],
        *,
        scope: str,
        idempotency: Idempotency | None = None,
    ) -> AppendResult:
        started = time.perf_counter()
        try:
            return await self.inner.append(writes, scope=scope, idempotency=idempotency)
        finally:
            self._append.observe(time.perf_counter() - started)

    async def read_all(
        self, after_position: int = 0, limit: int = 1000, *, scope: str | None = None
    ) -> list[RecordedEvent]:
        started = time.perf_counter()
        try:
            return await self.inner.read_all(after_position, limit, scope=scope)
        finally:
            self._read.observe(time.perf_counter() - started)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        started = time.perf_counter()
        try:
            return await self.inner.read_stream(stream_id, from_version)
        finally:
            self._read.observe(time.perf_counter() - started)

    async def stream_version(self, stream_id: str) -> int:
        return await self.inner.stream_version(stream_id)

    async def last_position(self) -> int:
        return await self.inner.last_position()

    async def get_outcome(self, scope: str, key: str) -> StoredOutcome | None:
        return await self.inner.get_outcome(scope, key)

    async def restore(self, events: Sequence[RecordedEvent]) -> None:
        await self.inner.restore(events)

    def exclusive(self, *names: str) -> AbstractAsyncContextManager[None]:
        return self.inner.exclusive(*names)

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()
