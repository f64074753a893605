"""The leaderboard (overall and per game, with the points race) and TV mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.params import PathParameter, QueryParameter

from beerolympics.domain.identity import SPECTATOR
from beerolympics.projections.play_views import (
    BracketView,
    GameView,
    LeaderboardEntry,
    LeaderboardView,
    MatchView,
)
from beerolympics.web.pages.play import section_title
from beerolympics.web.pages.race import chart
from beerolympics.web.pages.rendering import not_modified, page_tag, render, viewer, views

TournamentId = Annotated[str, PathParameter(max_length=64)]
#: Rows and race lines the TV shows: what can be read from across a garage.
TV_ROWS = 10
TV_LINES = 8


def game_rows(board: LeaderboardView, game_id: str) -> list[tuple[LeaderboardEntry, Any]]:
    """Teams with their place and points in one game, best first: by points secured there,
    so the teams still in it are not listed below those already out."""
    rows = [(row, score) for row, score in ((r, r.games.get(game_id)) for r in board.rows) if score]
    return sorted(
        rows,
        key=lambda item: (
            -item[1].points,
            -item[1].max_points,
            item[1].place if item[1].place is not None else 10**6,
            item[0].team.name.casefold(),
        ),
    )


#: Matches whose section the TV shows: something is happening there.
_ACTIVE = frozenset({"ready", "called", "in_progress", "submitted", "disputed", "flagged"})


@dataclass(frozen=True, slots=True)
class TvSection:
    """One bracket slide: a section of a game, its rounds without byes and unneeded matches."""

    key: str
    game: GameView
    title: str
    rounds: list[list[MatchView]]


def tv_sections(started: list[tuple[GameView, BracketView]]) -> list[TvSection]:
    """A slide per section where something is happening (else the last game's last section):
    a whole double-elimination bracket at once would be unreadable from across the garage."""
    slides = []
    for game, bracket in started:
        for section in bracket.sections:
            rounds = [
                [m for m in r.matches if m.status not in ("bye", "void")] for r in section.rounds
            ]
            rounds = [r for r in rounds if r]
            if rounds:
                title = section_title(section.name)
                slides.append(
                    (
                        any(m.status in _ACTIVE for r in rounds for m in r),
                        TvSection(f"{game.id}-{section.name}", game, title, rounds),
                    )
                )
    active = [slide for busy, slide in slides if busy]
    return active or [slide for _, slide in slides][-1:]


@get("/leaderboard", include_in_schema=False)
async def leaderboard(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    game: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Response[bytes]:
    """Overall standings, or one game's (``?game=``), and the points race."""
    tag = page_tag(request, tournament_id, game or "")
    if (cached := not_modified(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    board = v.leaderboard()
    selected = v.state.game(game) if game else None
    samples = v.play.race
    return render(
        request,
        "leaderboard.html",
        tag=tag,
        tournament=v.state,
        who=viewer(request, tournament_id),
        board=board,
        selected=selected,
        rows_for_game=game_rows(board, selected.id) if selected else [],
        race=chart(v.state, samples),
    )


@get("/tv", include_in_schema=False)
async def tv(request: Request[Any, Any, Any], tournament_id: TournamentId) -> Response[bytes]:
    """Full screen for the TV: it rotates by itself and follows the tournament live."""
    tag = page_tag(request, tournament_id, "tv")
    if (cached := not_modified(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    board = v.leaderboard()
    samples = v.play.race
    started = [
        (v.game(v.state.games[game_id]), v.bracket(run))
        for game_id, run in v.play.games.items()
        if run.resolution is not None and game_id in v.state.games
    ]
    return render(
        request,
        "tv.html",
        tag=tag,
        tournament=v.state,
        board=board,
        rows=board.rows[:TV_ROWS],
        stations=v.stations(),
        brackets=tv_sections(started),
        announcements=[a for a in v.announcements(SPECTATOR) if a.audience == "all"][:3],
        race=chart(v.state, samples, top=TV_LINES),
    )


router = Router(path="/t/{tournament_id:str}", route_handlers=[leaderboard, tv])
