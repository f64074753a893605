"""A real job worker process (``beerolympics worker``'s code) with one test kind.

``contract.sleepy`` sleeps for a minute in a CPU process on its first attempt — long enough
to be killed in the middle — and records its work at once on every later attempt. Settings
come from the environment, as for ``beerolympics worker``.
"""

from __future__ import annotations

import asyncio
import time

from beerolympics.jobs.kinds import Backoff, Completion, JobContext, JobKind, JobKinds
from beerolympics.jobs.standalone import run_worker
from beerolympics.logs import configure_logging
from beerolympics.settings import Settings
from beerolympics.testing.jobqueue_contract import record_work


async def sleepy(ctx: JobContext) -> Completion:
    if ctx.job.attempt == 1:
        await ctx.cpu(time.sleep, 60)
    return record_work(ctx)


KINDS = JobKinds([JobKind("contract.sleepy", sleepy, backoff=Backoff(first=0.1))])

if __name__ == "__main__":
    settings = Settings.load()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings, KINDS, grace=1))
