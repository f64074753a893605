"""Every kind of background job the product has, built for one process.

``beerolympics serve`` and ``beerolympics worker`` both call :func:`job_kinds`, so a job
queued by one is understood by the other. To add background work, write its handler next to
the feature and add its :class:`~beerolympics.jobs.kinds.JobKind` here, with whatever the
handler needs passed in from the settings (see ``docs/design.md``, "Background jobs").
"""

from __future__ import annotations

from beerolympics.jobs.kinds import JobKinds
from beerolympics.settings import Settings


def job_kinds(settings: Settings) -> JobKinds:
    """The job kinds of this build."""
    return JobKinds([])
