"""Live highlights: ``highlight`` on the tournament channel when one is recorded or shown
again (phones toast it, the TV makes it a slide), and ``{"id": …, "removed": true}`` when it
is hidden or retracted. Built when the frame goes out, so a highlight hidden within the same
window is never shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from beerolympics.domain import events as ev
from beerolympics.live.routing import Update
from beerolympics.projections.highlights import HighlightRecord, Highlights
from beerolympics.projections.play_views import Views

KIND = "highlight"
_EVENTS = (ev.HighlightDetected, ev.HighlightRetracted, ev.HighlightHidden, ev.HighlightShown)


class HighlightRoutes:
    """A router for the hub (``Hub.extra_routes``); ``view`` renders a record as the API
    does."""

    def __init__(self, highlights: Highlights, view: Callable[[str, HighlightRecord], Any]) -> None:
        self.highlights = highlights
        self.view = view

    def __call__(self, event: ev.Event, position: int) -> list[Update]:
        if not isinstance(event, _EVENTS):
            return []
        highlight_id = event.highlight_id
        found = next(
            (
                (tid, th.records[highlight_id])
                for tid, th in self.highlights.tournaments.items()
                if highlight_id in th.records
            ),
            None,
        )
        if found is None:
            return []
        tournament_id, record = found

        def build(_: Views) -> dict[str, Any]:
            if record.hidden or record.retracted:
                return {"highlight": {"id": highlight_id, "removed": True}}
            return {"highlight": self.view(tournament_id, record)}

        return [Update("tournament", position, KIND, build, key=f"highlight:{highlight_id}")]
