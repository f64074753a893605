"""The media projection: every photo and clip, where it stands, and each tournament's usage.

A media item is ``processing`` from its upload until its job records it ``ready`` (or
``failed``: refused by its content, or its job died). Its job's progress is folded in here too,
so a clip's progress reaches phones like any other change. Organizers hide, show and delete
items; a deleted item is gone from every list and its files from the store.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from beerolympics.domain import events as ev
from beerolympics.ports.eventstore import RecordedEvent

MediaStatus = Literal["processing", "ready", "failed"]
MEDIA_EVENTS = (
    ev.MediaUploaded,
    ev.MediaProcessed,
    ev.MediaRejected,
    ev.MediaHidden,
    ev.MediaShown,
    ev.MediaDeleted,
)


def stream_id(tournament_id: str, media_id: str) -> str:
    return f"media:{tournament_id}:{media_id}"


def gallery_stream(tournament_id: str) -> str:
    return f"gallery:{tournament_id}"


@dataclass(slots=True)
class MediaItem:
    id: str
    tournament: str
    subject: str
    uploader: str
    team_id: str | None
    original: str
    size: int
    sha256: str
    job_id: str
    uploaded_at: dt.datetime
    position: int
    status: MediaStatus = "processing"
    kind: str | None = None
    format: str = ""
    width: int = 0
    height: int = 0
    frames: int = 1
    duration: float | None = None
    variants: list[ev.MediaVariant] = field(default_factory=list)
    placeholder: str = ""
    preview: str = ""
    progress: float | None = None
    reason: str = ""
    message: str = ""
    hidden: bool = False
    deleted: bool = False
    version: int = 0

    @property
    def listed(self) -> bool:
        """Shown in public galleries: not failed, hidden or deleted."""
        return self.status != "failed" and not self.hidden and not self.deleted

    @property
    def stored_bytes(self) -> int:
        return self.size + sum(v.size for v in self.variants)


class Media:
    """The :class:`~beerolympics.projections.projector.Projection` of media streams."""

    def __init__(self) -> None:
        self.items: dict[str, MediaItem] = {}
        #: Media ids of each tournament, in upload order.
        self.by_tournament: defaultdict[str, list[str]] = defaultdict(list)
        self.by_job: dict[str, str] = {}
        #: Which items use a stored key (the same photo uploaded twice shares its files).
        self.users: defaultdict[str, set[str]] = defaultdict(set)
        #: Bytes stored per tournament: originals and variants of items not deleted.
        self.usage: Counter[str] = Counter()
        self.spectator_uploads: dict[str, bool] = {}

    def apply(self, event: ev.Event, recorded: RecordedEvent) -> None:
        if isinstance(event, ev.GallerySettingsChanged):
            self.spectator_uploads[recorded.scope] = event.spectator_uploads
        elif isinstance(event, MEDIA_EVENTS):
            self._media(event, recorded)
        elif isinstance(event, ev.JobProgressed | ev.JobFailed | ev.JobRetried):
            self._job(event)

    def _media(self, event: ev.Event, recorded: RecordedEvent) -> None:
        if isinstance(event, ev.MediaUploaded):
            item = MediaItem(
                id=event.media_id,
                tournament=recorded.scope,
                subject=event.subject,
                uploader=event.uploader,
                team_id=event.team_id,
                original=event.original,
                size=event.size,
                sha256=event.sha256,
                job_id=event.job_id,
                uploaded_at=recorded.recorded_at,
                position=recorded.position,
            )
            self.items[item.id] = item
            self.by_tournament[item.tournament].append(item.id)
            self.by_job[item.job_id] = item.id
            self._use(item, item.original, item.size)
            item.version = recorded.version
            return
        found = self.items.get(event.media_id)  # type: ignore[attr-defined]
        if found is None:
            return
        item = found
        item.version = recorded.version
        if item.deleted:
            return
        if isinstance(event, ev.MediaProcessed):
            item.status = "ready"
            item.kind, item.format = event.kind, event.format
            item.width, item.height = event.width, event.height
            item.frames, item.duration = event.frames, event.duration
            item.variants = list(event.variants)
            item.placeholder, item.preview = event.placeholder, event.preview
            item.progress = 1.0
            for variant in item.variants:
                self._use(item, variant.key, variant.size)
        elif isinstance(event, ev.MediaRejected):
            item.status = "failed"
            item.reason, item.message = event.reason, event.message
        elif isinstance(event, ev.MediaHidden):
            item.hidden = True
        elif isinstance(event, ev.MediaShown):
            item.hidden = False
        elif isinstance(event, ev.MediaDeleted):
            item.deleted = True
            for key in [item.original, *(v.key for v in item.variants)]:
                self.users[key].discard(item.id)
            self.usage[item.tournament] -= item.stored_bytes

    def _use(self, item: MediaItem, key: str, size: int) -> None:
        self.users[key].add(item.id)
        self.usage[item.tournament] += size

    def _job(self, event: ev.JobProgressed | ev.JobFailed | ev.JobRetried) -> None:
        media_id = self.by_job.get(event.job_id)
        item = self.items.get(media_id) if media_id is not None else None
        if item is None or item.status == "ready":
            return
        if isinstance(event, ev.JobProgressed):
            item.progress = event.progress
        elif isinstance(event, ev.JobFailed) and event.retry_at is None:
            item.status = "failed"
            item.reason, item.message = "processing_failed", event.error
        elif isinstance(event, ev.JobRetried):
            item.status = "processing"
            item.reason = item.message = ""

    def of(self, tournament_id: str) -> list[MediaItem]:
        """Every item of the tournament (deleted ones too), newest first."""
        return [self.items[i] for i in reversed(self.by_tournament.get(tournament_id, []))]

    def in_use(self, key: str) -> bool:
        """Whether an item that is not deleted still uses the stored ``key``."""
        return bool(self.users.get(key))


class VariantView(msgspec.Struct, frozen=True):
    url: str
    width: int
    height: int
    content_type: str
    size: int


class MediaView(msgspec.Struct, frozen=True):
    """A photo or clip as clients see it. ``variants`` by name: ``thumb`` (150 square),
    ``medium`` (800), ``large`` (1920), and for clips ``video`` (720p MP4); ``placeholder``
    is a blurhash and ``preview`` the same as a tiny PNG data URL a page paints at once."""

    id: str
    subject: str
    status: MediaStatus
    kind: str | None
    width: int
    height: int
    duration: float | None
    placeholder: str
    preview: str
    variants: dict[str, VariantView]
    progress: float | None
    uploaded_at: dt.datetime
    team_id: str | None
    hidden: bool = False
    reason: str = ""
    message: str = ""


def media_view(item: MediaItem, url_for: Callable[[str], str]) -> MediaView:
    return MediaView(
        id=item.id,
        subject=item.subject,
        status=item.status,
        kind=item.kind,
        width=item.width,
        height=item.height,
        duration=item.duration,
        placeholder=item.placeholder,
        preview=item.preview,
        variants={
            v.name: VariantView(url_for(v.key), v.width, v.height, v.content_type, v.size)
            for v in item.variants
        },
        progress=item.progress,
        uploaded_at=item.uploaded_at,
        team_id=item.team_id,
        hidden=item.hidden,
        reason=item.reason,
        message=item.message,
    )
