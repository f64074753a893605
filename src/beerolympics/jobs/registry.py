"""Every kind of background job the product has, built for one process.

``beerolympics serve`` and ``beerolympics worker`` both call :func:`job_kinds`, so a job
queued by one is understood by the other. To add background work, write its handler next to
the feature and add its :class:`~beerolympics.jobs.kinds.JobKind` here, with whatever the
handler needs passed in (see ``docs/design.md``, "Background jobs").
"""

from __future__ import annotations

from beerolympics.domain.events import EventCodec
from beerolympics.jobs.kinds import JobKinds
from beerolympics.jobs.media import MediaJobs
from beerolympics.notify.push import PushJobs
from beerolympics.notify.webhooks import WebhookJobs
from beerolympics.ports.eventstore import EventStore
from beerolympics.ports.mediastore import MediaStore
from beerolympics.settings import Settings

#: Imported by every CPU process when it starts, so the first photo does not wait for it.
CPU_MODULES = ("beerolympics.jobs.imaging", "beerolympics.jobs.clips")


def job_kinds(
    settings: Settings, *, events: EventStore, codec: EventCodec, media: MediaStore
) -> JobKinds:
    """The job kinds of this build, bound to this process's stores."""
    return JobKinds(
        [
            *MediaJobs(settings, media, events, codec).kinds(),
            *PushJobs(settings, events, codec).kinds(),
            *WebhookJobs(settings, events, codec).kinds(),
        ]
    )
