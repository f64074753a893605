"""A StatsD export of ``/metrics``, for deployments whose monitoring speaks StatsD (off unless
``statsd_address`` is set).

Every ``statsd_interval`` seconds the instance reads its Prometheus registry and sends it over
UDP with the ``statsd`` client: gauges as gauges, counters (and a histogram's count and sum) as
the increase since the last send. StatsD has no labels, so they become parts of the name:
``beerolympics.http_requests.api_v1_tournaments__tournament_id__leaderboard.GET.200``.
Histogram buckets are left out (a StatsD server builds its own from timings).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Final

from prometheus_client import CollectorRegistry
from statsd import StatsClient  # type: ignore[import-untyped]

log = logging.getLogger("beerolympics.statsd")

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_-]")


def stat_name(name: str, labels: dict[str, str]) -> str:
    """``beerolympics_http_requests_total{route="/healthz",…}`` → ``http_requests.healthz…``"""
    parts = [name.removeprefix("beerolympics_").removesuffix("_total"), *labels.values()]
    return ".".join(_UNSAFE.sub("_", part.strip("/{}")) for part in parts)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


class StatsdExport:
    """Sends a registry to a StatsD server periodically."""

    def __init__(
        self, registry: CollectorRegistry, address: str, *, prefix: str, interval: float
    ) -> None:
        host, _, port = address.rpartition(":")
        self.registry = registry
        self.client = StatsClient(host or "127.0.0.1", int(port), prefix=prefix)
        self.interval = interval
        self._sent: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="statsd-export")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.send()  # what happened since the last send
        self.client.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.send()
            except Exception:
                log.exception("sending metrics to StatsD failed; will retry")

    def send(self) -> None:
        """Send every gauge, and every counter's increase since the last send."""
        pipe = self.client.pipeline()
        for family in self.registry.collect():
            for sample in family.samples:
                if sample.name.endswith(("_created", "_bucket")):
                    continue
                name = stat_name(sample.name, sample.labels)
                if family.type in ("counter", "histogram"):
                    increase = sample.value - self._sent.get(name, 0.0)
                    self._sent[name] = sample.value
                    if increase > 0:
                        pipe.incr(name, _number(increase))
                elif family.type in ("gauge", "info", "unknown"):
                    pipe.gauge(name, _number(sample.value))
        pipe.send()  # nothing when empty; packets of at most 512 bytes
