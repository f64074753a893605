"""The story of the night: the recap page and the reel.

``/t/{id}/recap`` has the podiums (overall and per game), the records, the timeline of
highlights (:mod:`beerolympics.projections.highlights`) with their match's photos, the points
race and the photos — during the tournament (so far) and after it. ``/t/{id}/reel`` plays the
highlights and photos full screen by itself, for a TV or a projector; the TV shows the same
reel as its last slide once the tournament is finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from litestar import Request, Response, Router, get
from litestar.params import PathParameter

from beerolympics.domain.tournament import TournamentState
from beerolympics.projections.media import MediaView
from beerolympics.projections.recap import RecapView, recap
from beerolympics.web.api.highlights import HighlightView, highlight_view
from beerolympics.web.context import runtime
from beerolympics.web.pages.cards import tournament_share
from beerolympics.web.pages.gallery import Gallery
from beerolympics.web.pages.race import chart
from beerolympics.web.pages.rendering import (
    Viewer,
    cached_page,
    page_tag,
    render,
    viewer,
    views,
)

TournamentId = Annotated[str, PathParameter(max_length=64)]
#: Photos the reel plays (the newest; a reel of a whole night would never end).
REEL_PHOTOS: Final = 24
#: Highlights the reel plays (the latest).
REEL_HIGHLIGHTS: Final = 20
#: Highlights the recap's timeline shows (the latest): a big tournament has hundreds, and the
#: page is read on phones.
TIMELINE: Final = 60
#: How each kind of highlight is marked on the timeline and in the reel.
HIGHLIGHT_ICONS: Final = {
    "first_blood": "🎯",
    "upset": "😱",
    "nail_biter": "😬",
    "streak": "🔥",
    "clincher": "🏆",
    "perfect_run": "💯",
    "comeback": "🚀",
    "lead_change": "👑",
}


def highlights_of(
    request: Request[Any, Any, Any], tournament_id: str, latest: int
) -> tuple[list[HighlightView], int]:
    """The ``latest`` of the tournament's highlights as everyone sees them (hidden ones left
    out), oldest first, each with its match's photos; and how many there are in all."""
    rt = runtime(request)
    found = rt.highlight_states.highlights(tournament_id)
    photos = rt.highlight_states.photos(tournament_id) if found else {}
    return [
        highlight_view(rt, tournament_id, record, photos.get(record.match, []))
        for record in found[-latest:]
    ], len(found)


@dataclass(frozen=True, slots=True)
class Reel:
    """What a reel plays, in order: the opening, the highlights, the photos, the records, the
    podium."""

    recap: RecapView
    highlights: list[HighlightView]
    photos: list[MediaView]

    @property
    def frames(self) -> int:
        """How many frames it has (the TV holds its slide for all of them)."""
        return 3 + len(self.highlights) + len(self.photos)


def reel_of(request: Request[Any, Any, Any], state: TournamentState, gallery: Gallery) -> Reel:
    """The reel of a tournament: its recap, its latest highlights (with their first photo) and
    its newest other photos (clips play as their still: a reel has no sound and never waits
    for a video)."""
    rt = runtime(request)
    the_recap = recap(views(request, state.id), rt.media_states.of(state.id))
    told, _ = highlights_of(request, state.id, REEL_HIGHLIGHTS)
    shown = {h.photos[0].id for h in told if h.photos}
    photos = [
        p
        for p in gallery.items(limit=REEL_PHOTOS * 2, ready=True)
        if p.kind != "clip" and p.id not in shown
    ]
    return Reel(the_recap, told, photos[:REEL_PHOTOS])


@get("/recap", include_in_schema=False)
async def recap_page(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[bytes]:
    """The recap: podiums, records, highlights, the points race and the photos."""
    tag = page_tag(request, tournament_id, "recap")
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    who = viewer(request, tournament_id)
    samples = v.play.race
    timeline, told = highlights_of(request, tournament_id, TIMELINE)
    return render(
        request,
        "recap.html",
        tag=tag,
        tournament=v.state,
        who=who,
        recap=recap(v, runtime(request).media_states.of(tournament_id)),
        highlights=timeline,
        highlights_total=told,
        icons=HIGHLIGHT_ICONS,
        race=chart(v.state, samples),
        race_small=chart(v.state, samples, compact=True),
        share=tournament_share(request, v, recap=True),
    )


@get("/reel", include_in_schema=False)
async def reel_page(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[bytes]:
    """The highlights and photos, full screen, one after the other, by themselves."""
    tag = page_tag(request, tournament_id, "reel")
    if (cached := cached_page(request, tag)) is not None:
        return cached
    state = runtime(request).catalog.get(tournament_id)
    who: Viewer = viewer(request, tournament_id)
    gallery = Gallery(runtime(request), tournament_id, who.actor)
    return render(
        request,
        "reel.html",
        tag=tag,
        tournament=state,
        who=who,
        gallery=gallery,
        reel=reel_of(request, state, gallery),
        icons=HIGHLIGHT_ICONS,
    )


router = Router(path="/t/{tournament_id:str}", route_handlers=[recap_page, reel_page])
