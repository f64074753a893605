"""The leaderboard (overall and per game, with the points race) and TV mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.params import PathParameter, QueryParameter

from beerolympics.domain.identity import SPECTATOR
from beerolympics.domain.tournament import GameConfig
from beerolympics.projections.play_views import (
    BracketView,
    GameView,
    LeaderboardEntry,
    LeaderboardView,
    RoundView,
    StandingsView,
    TableView,
)
from beerolympics.runtime import Runtime
from beerolympics.web.context import runtime
from beerolympics.web.pages.gallery import Gallery
from beerolympics.web.pages.play import TREES, section_title, tiebreak_columns
from beerolympics.web.pages.race import chart
from beerolympics.web.pages.recap import HIGHLIGHT_ICONS, reel_of
from beerolympics.web.pages.rendering import cached_page, page_tag, render, viewer, views

TournamentId = Annotated[str, PathParameter(max_length=64)]
#: Rows and race lines the TV shows: what can be read from across a garage.
TV_ROWS = 10
TV_LINES = 8
#: The newest highlights the TV's highlights slide shows.
TV_HIGHLIGHTS = 4


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
#: A bracket slide shows this many rounds at most, and starts past a round of more matches than
#: fit the screen at a size that reads from across the garage.
TV_ROUNDS = 4
TV_ROUND_MATCHES = 8


@dataclass(frozen=True, slots=True)
class TvSection:
    """One bracket slide: a section of a game. A knockout shows a window of its rounds (byes
    keep their place, unneeded matches say so); a table shows its top rows and what its
    tie-break columns mean; heats show the heats of the rounds in the window."""

    key: str
    game: GameView
    title: str
    rounds: list[RoundView]
    tree: bool
    table: TableView | None = None
    columns: tuple[tuple[str, str, str], ...] = ()


def _window(rounds: list[RoundView]) -> list[RoundView]:
    """The rounds a slide shows: from the first with something happening (else the last), at
    most TV_ROUNDS, not starting on a round too tall for the screen when a later one follows."""
    shown = [r for r in rounds if any(m.status != "bye" for m in r.matches)]
    if not shown:
        return []
    start = next(
        (i for i, r in enumerate(shown) if any(m.status in _ACTIVE for m in r.matches)),
        max(len(shown) - TV_ROUNDS, 0),
    )
    while start + 1 < len(shown) and len(shown[start].matches) > TV_ROUND_MATCHES:
        start += 1
    return shown[start : start + TV_ROUNDS]


def tv_sections(
    started: list[tuple[GameView, BracketView, StandingsView, GameConfig]],
) -> list[TvSection]:
    """A slide per section where something is happening (else the last game's last section):
    a whole double-elimination bracket at once would be unreadable from across the garage."""
    slides = []
    for game, bracket, standings, config in started:
        tables = {t.name: t for t in standings.tables}
        for section in bracket.sections:
            name = section.name
            busy = any(m.status in _ACTIVE for r in section.rounds for m in r.matches)
            key, title = f"{game.id}-{name}", section_title(name)
            table = tables.get(name.partition(":")[2]) if name.startswith("group:") else None
            if name in ("round_robin", "swiss") and len(tables) == 1:
                table = next(iter(tables.values()))
            if table is not None:
                rows = TableView(table.name, table.complete, table.rows[:TV_ROWS])
                columns = tuple(tiebreak_columns(config))
                slides.append((busy, TvSection(key, game, title, [], False, rows, columns)))
                continue
            rounds = _window(section.rounds)
            if rounds:
                slides.append((busy, TvSection(key, game, title, rounds, name in TREES)))
    active = [slide for busy, slide in slides if busy]
    return active or [slide for _, slide in slides][-1:]


@dataclass(frozen=True, slots=True)
class TvPhoto:
    url: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class TvHighlight:
    id: str
    text: str
    photo: TvPhoto | None


def tv_highlights(rt: Runtime, tournament_id: str) -> list[TvHighlight]:
    """The newest highlights first, each with a photo of its match when there is one."""
    newest = rt.highlight_states.highlights(tournament_id)[-TV_HIGHLIGHTS:][::-1]
    photos = rt.highlight_states.photos(tournament_id) if newest else {}
    found = []
    for record in newest:
        photo = None
        for item in photos.get(record.match, []):
            variant = next((v for v in item.variants if v.name == "medium"), None)
            if item.status == "ready" and variant is not None:
                url = rt.media_store.public_url(variant.key) or f"/media/{variant.key}"
                photo = TvPhoto(url, variant.width, variant.height)
                break
        found.append(TvHighlight(record.id, record.text, photo))
    return found


@get("/leaderboard", include_in_schema=False)
async def leaderboard(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    game: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Response[bytes]:
    """Overall standings, or one game's (``?game=``), and the points race."""
    tag = page_tag(request, tournament_id, game or "")
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    board = v.leaderboard()
    selected = v.state.game(game) if game else None
    samples = v.play.race
    return render(
        request,
        "leaderboard.html",
        tag=tag,
        # It redraws the board from the live patches and asks for its race now and then.
        dictionary=False,
        tournament=v.state,
        who=viewer(request, tournament_id),
        board=board,
        selected=selected,
        rows_for_game=game_rows(board, selected.id) if selected else [],
        race=chart(v.state, samples),
        race_small=chart(v.state, samples, compact=True),
    )


@get("/tv", include_in_schema=False)
async def tv(request: Request[Any, Any, Any], tournament_id: TournamentId) -> Response[bytes]:
    """Full screen for the TV: it rotates by itself and follows the tournament live."""
    tag = page_tag(request, tournament_id, "tv")
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    board = v.leaderboard()
    samples = v.play.race
    started = [
        (
            v.game(v.state.games[game_id]),
            v.bracket(run),
            v.standings(run),
            v.state.games[game_id],
        )
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
        highlights=tv_highlights(runtime(request), tournament_id),
        # Once the tournament is finished, its last slide plays the story of the night.
        reel=reel_of(request, v.state, Gallery(runtime(request), tournament_id, SPECTATOR))
        if v.state.status == "finished"
        else None,
        icons=HIGHLIGHT_ICONS,
    )


router = Router(path="/t/{tournament_id:str}", route_handlers=[leaderboard, tv])
