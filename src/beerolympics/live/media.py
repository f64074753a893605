"""Live updates about photos and clips: ``media_updated`` on the tournament channel (and on
the match channel of a match's media) whenever an item is uploaded, makes progress, is ready,
fails, or is hidden or deleted — then it arrives as ``{"id": …, "removed": true}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from beerolympics.domain import events as ev
from beerolympics.live.routing import Update
from beerolympics.projections.media import MEDIA_EVENTS, Media, media_view
from beerolympics.projections.play_views import Views

KIND = "media_updated"


class MediaRoutes:
    """A router for the hub (``Hub.extra_routes``)."""

    def __init__(self, media: Media, url_for: Callable[[str], str]) -> None:
        self.media = media
        self.url_for = url_for

    def __call__(self, event: ev.Event, position: int) -> list[Update]:
        if isinstance(event, MEDIA_EVENTS):
            media_id: str | None = event.media_id
        elif isinstance(event, ev.JobProgressed | ev.JobFailed | ev.JobRetried):
            media_id = self.media.by_job.get(event.job_id)
        else:
            return []
        item = self.media.items.get(media_id or "")
        if item is None:
            return []
        channels = ["tournament"]
        if item.subject.startswith("match:"):
            channels.append(item.subject)
        found_id = item.id

        def build(_: Views) -> dict[str, Any]:
            current = self.media.items[found_id]
            if not current.listed:
                return {"media": {"id": found_id, "subject": current.subject, "removed": True}}
            return {"media": media_view(current, self.url_for)}

        return [Update(c, position, KIND, build, key=f"media:{found_id}") for c in channels]
