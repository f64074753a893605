"""``beerolympics worker``: a job worker process of its own, for the scaled shape.

It opens the event store, the job queue and the backplane the settings name, runs a
:class:`~beerolympics.jobs.worker.JobWorker` with ``job_processes`` CPU processes, and after
each of its appends tells the app instances over the backplane, so a job's outcome reaches
phones at once rather than at the instances' next poll. SIGTERM or SIGINT stops it: running
attempts get ``grace`` seconds to finish; the rest are retried elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from beerolympics.domain.codes import new_id
from beerolympics.domain.events import EventCodec
from beerolympics.jobs.cpu import CpuPool
from beerolympics.jobs.kinds import JobKinds
from beerolympics.jobs.registry import CPU_MODULES, job_kinds
from beerolympics.jobs.worker import JobWorker
from beerolympics.live.backplane import EVENTS, committed_note
from beerolympics.ports.eventstore import AppendResult
from beerolympics.ports.pubsub import PubSubError
from beerolympics.runtime import open_event_store, open_job_queue, open_media_store, open_pubsub
from beerolympics.settings import Settings

log = logging.getLogger("beerolympics.jobs")


async def run_worker(
    settings: Settings, kinds: JobKinds | None = None, grace: float = 30.0
) -> None:
    """Run until SIGTERM or SIGINT; ``kinds`` replaces the product's (tests)."""
    store = await open_event_store(
        settings.store_url, pool_min=1, pool_max=max(2, settings.job_concurrency)
    )
    queue = open_job_queue(settings.job_queue_url)
    pubsub = await open_pubsub(settings.pubsub_url)
    media = open_media_store(settings)
    codec = EventCodec()
    instance = new_id("wk", 8)

    async def appended(result: AppendResult) -> None:
        with contextlib.suppress(PubSubError):
            await pubsub.publish(EVENTS, committed_note(instance, result.last_position))

    worker = JobWorker(
        store,
        codec,
        queue,
        kinds if kinds is not None else job_kinds(settings, events=store, codec=codec, media=media),
        CpuPool(max(1, settings.job_processes), preload=CPU_MODULES),
        concurrency=settings.job_concurrency,
        heartbeat=settings.job_lost_after / 4,
        appended=appended,
        warm=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    worker.start()
    log.info("job worker %s running %s", worker.id, ", ".join(worker.kinds) or "no kinds")
    try:
        await stop.wait()
        log.info("job worker %s stopping", worker.id)
        await worker.stop(grace=grace)
    finally:
        worker.cpu.close()
        await queue.close()
        await media.close()
        await pubsub.close()
        await store.close()
