"""Use cases of photos and clips: upload one, hide, show or delete it, gallery settings.

An upload is stored first (the original, privately, under its content hash), then recorded:
``MediaUploaded`` and the job that processes it are appended together, so there is never an
upload without its processing, nor a job for an upload that was refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import msgspec

from beerolympics.domain.codes import new_id
from beerolympics.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from beerolympics.domain.events import (
    Event,
    GallerySettingsChanged,
    MediaDeleted,
    MediaHidden,
    MediaShown,
    MediaUploaded,
)
from beerolympics.domain.identity import Actor, require_organizer
from beerolympics.ports.eventstore import ANY_VERSION, NO_STREAM
from beerolympics.ports.mediastore import MediaStore
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.media import Media, MediaItem, gallery_stream, stream_id
from beerolympics.projections.play import Play
from beerolympics.services.games import started_run
from beerolympics.services.jobs import JobService
from beerolympics.services.matches import split_key
from beerolympics.services.runner import CommandRunner, Decision, IdempotencyKey
from beerolympics.services.tournaments import metadata_for

PROCESS: Final = "media.process"
PURGE: Final = "media.purge"


@dataclass(frozen=True, slots=True)
class StagedUpload:
    """An upload received in full into a local file: its size, hash and what its first bytes
    look like (``image`` or ``video``, and an extension for its key)."""

    path: Path
    size: int
    sha256: str
    kind: str
    extension: str


class MediaOutcome(msgspec.Struct, frozen=True):
    tournament_id: str
    media_id: str


class MediaService:
    """Uploads and organizers' moderation."""

    def __init__(
        self,
        runner: CommandRunner,
        catalog: Catalog,
        play: Play,
        media: Media,
        jobs: JobService,
        store: MediaStore,
        quota_bytes: int,
    ) -> None:
        self.runner = runner
        self.catalog = catalog
        self.play = play
        self.media = media
        self.jobs = jobs
        self.store = store
        self.quota_bytes = quota_bytes

    def may_upload(self, tournament_id: str, actor: Actor) -> None:
        """Members of the tournament (any credential) upload; spectators only when allowed."""
        self.catalog.get(tournament_id)
        if actor.in_tournament(tournament_id):
            return
        if actor.authenticated:
            raise Forbidden("this credential belongs to another tournament")
        if not self.media.spectator_uploads.get(tournament_id, False):
            raise Unauthenticated(
                "sign in to upload: the organizers have not opened uploads to spectators",
                code="uploads_need_credential",
            )

    def check_subject(self, tournament_id: str, subject: str) -> str:
        """``tournament``, ``team:<team id>`` or ``match:<match id>`` of this tournament."""
        kind, _, ref = subject.partition(":")
        if subject == "tournament":
            return subject
        if kind == "team" and ref in self.catalog.get(tournament_id).teams:
            return subject
        if kind == "match" and ref:
            game_id, spec_id = split_key(ref)
            run = started_run(self.catalog, self.play, tournament_id, game_id)
            if spec_id in run.specs:
                return subject
            raise NotFound(f"no match {ref!r}", code="match_not_found")
        raise Invalid(
            "subject is tournament, team:<team id> or match:<match id>", code="invalid_subject"
        )

    def check_quota(self, tournament_id: str, size: int) -> None:
        used = self.media.usage[tournament_id]
        if used + size > self.quota_bytes:
            raise Conflict(
                f"the tournament's media storage is full ({used / 1e9:.2f} of"
                f" {self.quota_bytes / 1e9:g} GB used)",
                code="media_quota_exceeded",
            )

    async def upload(
        self,
        tournament_id: str,
        actor: Actor,
        subject: str,
        staged: StagedUpload,
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> MediaOutcome:
        self.may_upload(tournament_id, actor)
        subject = self.check_subject(tournament_id, subject)
        self.check_quota(tournament_id, staged.size)
        original = f"o/{tournament_id}/{staged.sha256}.{staged.extension}"
        await self.store.put(original, staged.path, "application/octet-stream")
        media_id = new_id("md", 12)
        job_id, job = self.jobs.queue_write(
            PROCESS,
            {
                "tournament": tournament_id,
                "media_id": media_id,
                "original": original,
                "kind": staged.kind,
            },
            subject=media_id,
        )
        uploaded = MediaUploaded(
            media_id=media_id,
            subject=subject,
            uploader=actor.credential_id or "",
            team_id=actor.team_id,
            original=original,
            size=staged.size,
            sha256=staged.sha256,
            job_id=job_id,
        )

        def decide() -> Decision[MediaOutcome]:
            self.check_quota(tournament_id, staged.size)
            return Decision(
                MediaOutcome(tournament_id, media_id),
                [(stream_id(tournament_id, media_id), [uploaded], NO_STREAM), job],
                tournament_id,
            )

        outcome = await self.runner.run(
            decide=decide,
            outcome_type=MediaOutcome,
            lock=stream_id(tournament_id, media_id),
            idempotency=idempotency,
            idempotency_scope=tournament_id,
            metadata=metadata_for(actor),
        )
        if outcome.media_id == media_id:
            await self.jobs.dispatch(job_id)
        return outcome

    def get(self, tournament_id: str, media_id: str) -> MediaItem:
        item = self.media.items.get(media_id)
        if item is None or item.tournament != tournament_id or item.deleted:
            raise NotFound(f"no photo or clip {media_id!r}", code="media_not_found")
        return item

    async def moderate(self, tournament_id: str, media_id: str, actor: Actor, action: str) -> None:
        """``hide``, ``show`` or ``delete`` (organizers). Deleting also removes the files."""
        require_organizer(actor, tournament_id)
        item = self.get(tournament_id, media_id)
        writes: list[tuple[str, list[Event], int]] = []
        purge: str | None = None
        if action == "hide" and not item.hidden:
            writes.append(
                (stream_id(tournament_id, media_id), [MediaHidden(media_id=media_id)], ANY_VERSION)
            )
        elif action == "show" and item.hidden:
            writes.append(
                (stream_id(tournament_id, media_id), [MediaShown(media_id=media_id)], ANY_VERSION)
            )
        elif action == "delete":
            writes.append(
                (stream_id(tournament_id, media_id), [MediaDeleted(media_id=media_id)], ANY_VERSION)
            )
            purge, job = self.jobs.queue_write(
                PURGE, {"tournament": tournament_id, "media_id": media_id}, subject=media_id
            )
            writes.append(job)
        if not writes:
            return
        await self.runner.run(
            decide=lambda: Decision(
                MediaOutcome(tournament_id, media_id), list(writes), tournament_id
            ),
            outcome_type=MediaOutcome,
            lock=stream_id(tournament_id, media_id),
            metadata=metadata_for(actor),
        )
        if purge is not None:
            await self.jobs.dispatch(purge)

    async def set_spectator_uploads(self, tournament_id: str, actor: Actor, allowed: bool) -> None:
        require_organizer(actor, tournament_id)
        if self.media.spectator_uploads.get(tournament_id, False) == allowed:
            return
        changed = GallerySettingsChanged(spectator_uploads=allowed)
        await self.runner.run(
            decide=lambda: Decision(
                MediaOutcome(tournament_id, ""),
                [(gallery_stream(tournament_id), [changed], ANY_VERSION)],
                tournament_id,
            ),
            outcome_type=MediaOutcome,
            lock=gallery_stream(tournament_id),
            metadata=metadata_for(actor),
        )
