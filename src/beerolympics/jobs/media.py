"""The media jobs: process an upload into its variants; purge a deleted item's files.

``media.process`` fetches the original from the media store, has a CPU process turn it into
variants (:mod:`~beerolympics.jobs.imaging` for photos, :mod:`~beerolympics.jobs.clips` for
clips, reporting a clip's progress as it goes), stores them under keys made of their content
hash — a second run stores the same bytes under the same keys — and returns
``MediaProcessed``, or ``MediaRejected`` when the content is not something we show.
``media.purge`` removes the files of a deleted item that no other item uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from beerolympics.domain.events import (
    Event,
    EventCodec,
    MediaDeleted,
    MediaProcessed,
    MediaRejected,
    MediaVariant,
)
from beerolympics.jobs.kinds import Backoff, Completion, JobContext, JobKind
from beerolympics.jobs.renditions import Limits, Processed, Rejected
from beerolympics.ports.eventstore import ANY_VERSION, EventStore
from beerolympics.ports.mediastore import MediaStore
from beerolympics.projections.media import stream_id
from beerolympics.services.media import PROCESS, PURGE
from beerolympics.settings import Settings

#: The CPU work, named: the process that runs jobs never imports libvips or FFmpeg itself.
PHOTO = "beerolympics.jobs.imaging:process_photo"
CLIP = "beerolympics.jobs.clips:process_clip"


def limits(settings: Settings) -> Limits:
    return Limits(
        max_pixels=settings.media_max_megapixels * 1_000_000,
        max_frames=settings.media_max_frames,
        max_seconds=float(settings.media_max_clip_seconds),
    )


class MediaJobs:
    """The media job kinds, bound to the stores they use."""

    def __init__(
        self, settings: Settings, store: MediaStore, events: EventStore, codec: EventCodec
    ) -> None:
        self.store = store
        self.events = events
        self.codec = codec
        self.limits = limits(settings)
        self.scratch = settings.data_dir / "scratch"

    def kinds(self) -> list[JobKind]:
        return [
            JobKind(PROCESS, self.process, max_attempts=4, backoff=Backoff(2, 4), time_limit=600),
            JobKind(PURGE, self.purge, max_attempts=8, backoff=Backoff(5, 3), time_limit=120),
        ]

    async def _history(self, tournament: str, media_id: str) -> list[Event]:
        recorded = await self.events.read_stream(stream_id(tournament, media_id))
        return [self.codec.decode(r) for r in recorded]

    async def process(self, ctx: JobContext) -> Completion:
        payload: dict[str, Any] = ctx.job.payload
        tournament, media_id = payload["tournament"], payload["media_id"]
        if any(isinstance(e, MediaDeleted) for e in await self._history(tournament, media_id)):
            return Completion()
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch) as work:
            folder = Path(work)
            source = folder / "original"
            await self.store.fetch(payload["original"], source)
            result: Processed
            try:
                if payload["kind"] == "video":
                    result = await self._clip(ctx, source, folder)
                else:
                    result = await ctx.cpu(PHOTO, str(source), self.limits)
            except Rejected as refused:
                event: Event = MediaRejected(
                    media_id=media_id, reason=refused.code, message=refused.message
                )
            else:
                event = await self._store(tournament, media_id, result)
        return Completion([(stream_id(tournament, media_id), [event], ANY_VERSION)], tournament)

    async def _clip(self, ctx: JobContext, source: Path, folder: Path) -> Processed:
        out = folder / "out"
        out.mkdir()
        task = asyncio.ensure_future(ctx.cpu(CLIP, str(source), str(out), self.limits))
        progress = out / "progress"
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=0.5)
                with contextlib.suppress(FileNotFoundError, ValueError):
                    await ctx.progress(float(progress.read_text() or 0))
        except BaseException:
            task.cancel()
            raise
        result: Processed = task.result()
        return result

    async def _store(self, tournament: str, media_id: str, result: Processed) -> MediaProcessed:
        variants: list[MediaVariant] = []
        for variant in result.variants:
            source: bytes | Path
            if variant.name == "video":
                source = Path(result.extra["video"])
                digest = await asyncio.to_thread(_file_digest, source)
                size = source.stat().st_size
                extension = "mp4"
            else:
                source, digest, size = (
                    variant.data,
                    hashlib.sha256(variant.data).hexdigest(),
                    len(variant.data),
                )
                extension = "webp"
            key = f"v/{tournament}/{digest[:40]}.{extension}"
            await self.store.put(key, source, variant.content_type)
            variants.append(
                MediaVariant(
                    variant.name, key, variant.width, variant.height, variant.content_type, size
                )
            )
        return MediaProcessed(
            media_id=media_id,
            kind="clip" if result.kind == "clip" else "photo",
            format=result.format,
            width=result.width,
            height=result.height,
            variants=variants,
            placeholder=result.placeholder,
            preview=result.preview,
            frames=result.frames,
            duration=result.duration,
        )

    async def purge(self, ctx: JobContext) -> Completion:
        """Delete a deleted item's files that no other live item uses. The projection of this
        process is not needed: what is in use is read from the log through ``in_use``."""
        payload: dict[str, Any] = ctx.job.payload
        history = await self._history(payload["tournament"], payload["media_id"])
        keys = _keys(history)
        for key in keys:
            if not await self.in_use(payload["tournament"], key, payload["media_id"]):
                await self.store.delete(key)
        return Completion()

    async def in_use(self, tournament: str, key: str, deleted: str) -> bool:
        """Whether another item of the tournament that is not deleted uses ``key`` (read from
        the tournament's media events, so a standalone worker can tell too)."""
        using: dict[str, bool] = {}
        position = 0
        while page := await self.events.read_all(position, 2000, scope=tournament):
            for recorded in page:
                if not recorded.stream_id.startswith("media:"):
                    continue
                event = self.codec.decode(recorded)
                media_id = getattr(event, "media_id", "")
                if media_id == deleted:
                    continue
                if isinstance(event, MediaDeleted):
                    using.pop(media_id, None)
                elif key in _keys([event]):
                    using[media_id] = True
            position = page[-1].position
        return bool(using)


def _keys(history: Sequence[Event]) -> list[str]:
    keys: list[str] = []
    for event in history:
        original = getattr(event, "original", None)
        if isinstance(original, str):
            keys.append(original)
        if isinstance(event, MediaProcessed):
            keys.extend(v.key for v in event.variants)
    return keys


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
