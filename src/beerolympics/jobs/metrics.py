"""The job system's part of ``/metrics``: queue depth, waiting and running times, failures.

Read at scrape time from the jobs projection (the same on every instance: it is folded from
the log) and from what the supervisor last saw on the queue.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from beerolympics.jobs.supervisor import Supervisor
from beerolympics.projections.jobs import Durations, Jobs


def job_metrics(states: Jobs, supervisor: Supervisor) -> Iterator[Metric]:
    jobs = GaugeMetricFamily(
        "beerolympics_jobs",
        "Background jobs not done: queued, running, waiting for a retry, dead.",
        labels=["kind", "status"],
    )
    for (kind, status), count in sorted(states.counts().items()):
        jobs.add_metric([kind, status], count)
    yield jobs
    queue = GaugeMetricFamily(
        "beerolympics_job_queue_messages",
        "Messages on the job queue at the supervisor's last look.",
        labels=["state"],
    )
    queue.add_metric(["ready"], supervisor.depth.ready)
    queue.add_metric(["delayed"], supervisor.depth.delayed)
    yield queue
    for name, counts, help_text in (
        ("beerolympics_jobs_succeeded", states.succeeded, "Jobs that succeeded."),
        ("beerolympics_job_failures", states.failures, "Failed job attempts."),
    ):
        counter = CounterMetricFamily(name, help_text, labels=["kind"])
        for kind, count in sorted(counts.items()):
            counter.add_metric([kind], count)
        yield counter
    yield _histogram(
        "beerolympics_job_wait_seconds", "From due to started (queue latency).", states.wait
    )
    yield _histogram("beerolympics_job_run_seconds", "From started to finished.", states.run)


def _histogram(name: str, help_text: str, by_kind: dict[str, Durations]) -> Metric:
    family = HistogramMetricFamily(name, help_text, labels=["kind"])
    for kind, durations in sorted(by_kind.items()):
        family.add_metric([kind], durations.cumulative(), sum_value=durations.total)
    return family
