"""What the templates of a tournament's pages read about its photos and clips: ``gallery``.

Every page of a tournament gets one (:func:`~beerolympics.web.pages.rendering.render`), so the
match, team and home pages, the TV and the control room show their photos with one include
(``_gallery.html``) and no code of their own.
"""

from __future__ import annotations

from beerolympics.domain.identity import Actor
from beerolympics.domain.jobs import JobState
from beerolympics.projections.media import MediaView, media_view
from beerolympics.runtime import Runtime


class Gallery:
    """The photos and clips of one tournament, as one viewer may see and add to them."""

    def __init__(self, rt: Runtime, tournament_id: str, who: Actor) -> None:
        self.rt = rt
        self.tournament_id = tournament_id
        self.who = who

    def _url(self, key: str) -> str:
        return self.rt.media_store.public_url(key) or f"/media/{key}"

    def items(
        self, subject: str | None = None, limit: int = 12, *, ready: bool = False
    ) -> list[MediaView]:
        """Newest first: ready ones, and (unless ``ready``) those still processing."""
        found = []
        for item in self.rt.media_states.of(self.tournament_id):
            if not item.listed or (subject is not None and item.subject != subject):
                continue
            if ready and item.status != "ready":
                continue
            found.append(media_view(item, self._url))
            if len(found) >= limit:
                break
        return found

    def count(self, subject: str | None = None) -> int:
        return sum(
            1
            for i in self.rt.media_states.of(self.tournament_id)
            if i.listed and (subject is None or i.subject == subject)
        )

    def hidden(self) -> list[MediaView]:
        """Hidden photos and clips, for the control room."""
        return [
            media_view(i, self._url)
            for i in self.rt.media_states.of(self.tournament_id)
            if i.hidden and not i.deleted
        ]

    @property
    def spectators_upload(self) -> bool:
        return self.rt.media_states.spectator_uploads.get(self.tournament_id, False)

    @property
    def can_upload(self) -> bool:
        if self.who.in_tournament(self.tournament_id):
            return True
        return self.rt.media_states.spectator_uploads.get(self.tournament_id, False)

    def dead_jobs(self) -> list[JobState]:
        """The dead-letter list, for the control room."""
        return [j for j in self.rt.job_states.of(self.tournament_id) if j.status == "dead"]
