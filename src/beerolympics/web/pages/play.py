"""Schedule and stations, a game's bracket or tables, and the match page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get
from litestar.params import PathParameter, QueryParameter

from beerolympics.domain.errors import NotFound
from beerolympics.domain.tournament import GameConfig
from beerolympics.projections.play import GameRun
from beerolympics.projections.play_views import (
    BracketView,
    MatchDetailView,
    MatchView,
    RoundView,
    SectionView,
    StandingsView,
    TableView,
    Views,
)
from beerolympics.services.matches import split_key
from beerolympics.web.pages.rendering import (
    Viewer,
    cached_page,
    page_tag,
    points,
    render,
    viewer,
    views,
)

TournamentId = Annotated[str, PathParameter(max_length=64)]
#: Sections drawn as a knockout tree; the others are lists of rounds.
TREES = frozenset({"winners", "losers", "grand_final", "playoff", "third_place"})
SECTION_TITLES = {
    "winners": "Winners bracket",
    "losers": "Losers bracket",
    "grand_final": "Grand final",
    "playoff": "Playoffs",
    "third_place": "Match for third place",
    "round_robin": "Table and matches",
    "swiss": "Table and rounds",
    "heats": "Heats",
}
#: Standings columns a tie-break adds, per tie-break name: (row field, short title, long title).
TIEBREAK_COLUMNS = {
    "buchholz": ("buchholz", "Bu", "Buchholz: the points of everyone you played"),
    "median_buchholz": ("median_buchholz", "MBu", "Median Buchholz: Buchholz without best/worst"),
    "sonneborn_berger": (
        "sonneborn_berger",
        "SB",
        "Sonneborn-Berger: the points of those you beat",
    ),
    "point_diff": ("point_diff", "+/−", "Point difference"),
    "points_for": ("points_for", "For", "Points scored"),
    "points_against": ("points_against", "Agst", "Points conceded"),
    "wins": ("wins", "W", "Wins"),
}


#: A section of more matches than this shows the rounds around the one being played and
#: links to the others (a round robin of 128 teams has 8,128 matches: 7.6 MB of cards).
ALL_ROUNDS_UP_TO = 120
#: How many rounds such a section shows: the one before the round being played, it, the next.
ROUNDS_SHOWN = 3
_DONE = frozenset({"confirmed", "bye", "void"})


@dataclass(frozen=True, slots=True)
class SectionPlan:
    """One section of a game as the page draws it: of a long one, a window of its rounds
    (``earlier`` and ``later`` the rounds to go to for more, None at either end)."""

    key: str
    title: str
    tree: bool
    section: SectionView
    table: TableView | None
    rounds: list[RoundView]
    earlier: int | None = None
    later: int | None = None


def round_window(rounds: list[RoundView], first: int | None) -> tuple[list[RoundView], int, int]:
    """The rounds a long section shows: ``ROUNDS_SHOWN`` from round ``first``, by default from
    the one before the first round still being played (else the last rounds); and the index of
    the first and just past the last of them."""
    if sum(len(r.matches) for r in rounds) <= ALL_ROUNDS_UP_TO:
        return rounds, 0, len(rounds)
    if first is not None:
        start = next((i for i, r in enumerate(rounds) if r.round >= first), len(rounds))
    else:
        playing = (i for i, r in enumerate(rounds) if any(m.status not in _DONE for m in r.matches))
        start = next(playing, len(rounds)) - 1
    start = max(0, min(start, len(rounds) - ROUNDS_SHOWN))
    end = min(len(rounds), start + ROUNDS_SHOWN)
    return rounds[start:end], start, end


def section_title(name: str) -> str:
    """``group:A`` → Group A, ``winners`` → Winners bracket."""
    if name.startswith("group:"):
        return f"Group {name.partition(':')[2]}"
    return SECTION_TITLES.get(name, name.replace("_", " ").capitalize())


def _sections(
    config: GameConfig,
    bracket: BracketView,
    standings: StandingsView | None,
    first: int | None = None,
) -> list[SectionPlan]:
    tables = {t.name: t for t in standings.tables} if standings is not None else {}
    plans = []
    for section in bracket.sections:
        name = section.name
        table = None
        title = section_title(name)
        if name.startswith("group:"):
            table = tables.get(name.partition(":")[2])
        elif name in ("round_robin", "swiss") and len(tables) == 1:
            table = next(iter(tables.values()))
        tree = name in TREES
        if tree:  # a bracket is drawn whole: its rounds halve
            plans.append(SectionPlan(name, title, tree, section, table, section.rounds))
            continue
        rounds, start, end = round_window(section.rounds, first)
        earlier = section.rounds[max(0, start - ROUNDS_SHOWN)].round if start else None
        later = section.rounds[end].round if end < len(section.rounds) else None
        plans.append(SectionPlan(name, title, tree, section, table, rounds, earlier, later))
    return plans


def tiebreak_columns(config: GameConfig) -> list[tuple[str, str, str]]:
    """The standings columns a game's tie-breaks add: (row field, short title, long title)."""
    names = config.options.get("tiebreaks") or []
    return [TIEBREAK_COLUMNS[n] for n in names if n in TIEBREAK_COLUMNS]


@get("/schedule", include_in_schema=False)
async def schedule(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    team: Annotated[str | None, QueryParameter(max_length=64)] = None,
    game: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Response[bytes]:
    """Now playing and up next at every table, then every game's matches — one team's or one
    game's with ``?team=`` and ``?game=`` (a plain form: it works without JavaScript)."""
    tag = page_tag(request, tournament_id, team or "", game or "")
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    team = team if team in v.state.teams else None
    game = game if game in v.state.games else None
    by_game: dict[str, list[MatchView]] = {}
    for match in v.all_matches():
        if match.status in ("bye", "void") or (game and match.game_id != game):
            continue
        if team and not any(s.team is not None and s.team.id == team for s in match.slots):
            continue
        by_game.setdefault(match.game_id, []).append(match)
    games = [v.game(g) for g in v.state.games.values()]
    return render(
        request,
        "schedule.html",
        tag=tag,
        tournament=v.state,
        who=viewer(request, tournament_id),
        stations=v.stations(),
        games=[g for g in games if not game or g.id == game],
        all_games=games,
        teams=sorted(v.state.teams.values(), key=lambda t: t.name.casefold()),
        by_game=by_game,
        team=team,
        game=game,
    )


def _run(v: Views, game_id: str) -> GameRun | None:
    run = v.play.games.get(game_id)
    return run if run is not None and run.resolution is not None else None


@get("/games/{game_id:str}", include_in_schema=False)
async def game_page(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    game_id: Annotated[str, PathParameter(max_length=64)],
    round: Annotated[int | None, QueryParameter(ge=1, le=100_000)] = None,
) -> Response[bytes]:
    """A game: its bracket, groups, Swiss rounds or heats, and the places so far. Of a
    section of many rounds, a few: around the one being played, or from ``?round=``."""
    tag = page_tag(request, tournament_id, game_id, str(round or ""))
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    config = v.state.game(game_id)
    run = _run(v, game_id)
    bracket = v.bracket(run) if run is not None else None
    standings = v.standings(run) if run is not None else None
    conditional = (
        {f"{game_id}.{s.id}" for s in run.specs.values() if s.condition is not None}
        if run is not None
        else set()
    )
    return render(
        request,
        "game.html",
        tag=tag,
        tournament=v.state,
        who=viewer(request, tournament_id),
        game=v.game(config),
        bracket=bracket,
        sections=_sections(config, bracket, standings, round) if bracket is not None else [],
        tiebreak_columns=tiebreak_columns(config),
        conditional=conditional,
        games=[v.game(g) for g in v.state.games.values()],
    )


#: Where an official may simply set the result (a dispute is resolved instead).
OVERRIDABLE = frozenset({"in_progress", "confirmed", "flagged", "submitted", "reopened"})


@dataclass(frozen=True, slots=True)
class MatchActions:
    """What the viewer may do with a match right now; the server checks again anyway."""

    side: int | None
    can_report: bool
    needs_start: bool
    can_confirm: bool
    waiting: bool
    can_call: bool
    can_resolve: bool
    can_override: bool
    can_reopen: bool
    allow_draw: bool
    heat: bool
    heat_values: bool


def _actions(
    who: Viewer, detail: MatchDetailView, allow_draw: bool, config: GameConfig
) -> MatchActions:
    match = detail.match
    teams = [s.team.id if s.team else None for s in match.slots]
    side = teams.index(who.team_id) if who.team_id in teams else None
    lead = who.official or (who.captain and side is not None)
    known = match.status not in ("pending", "bye", "void")
    status = match.status
    return MatchActions(
        side=side,
        can_report=lead and known and status in ("ready", "called", "in_progress", "reopened"),
        # A called match is under way already, and an official records any ready match.
        needs_start=status == "ready" and not who.official,
        can_confirm=status == "submitted"
        and (
            who.official
            or (who.captain and side is not None and detail.submitted_by != who.team_id)
        ),
        waiting=status == "submitted" and side is not None and detail.submitted_by == who.team_id,
        can_call=who.official and known and status in ("ready", "called", "reopened"),
        can_resolve=who.organizer and status == "disputed",
        can_override=(who.official and known and status in OVERRIDABLE)
        or (who.organizer and status == "disputed"),
        can_reopen=who.organizer and status in ("confirmed", "flagged"),
        allow_draw=allow_draw,
        heat=match.kind == "heat",
        heat_values=config.heat_scoring != "places",
    )


def _humane(v: Views, config: GameConfig, detail: MatchDetailView) -> MatchDetailView:
    """The match trail names teams and tables by their names, not their ids."""
    names = {team.id: team.name for team in v.state.teams.values()}
    names.update({station.id: station.name for station in config.stations})
    pattern = re.compile(r"\b(?:tm|st)_[a-z0-9]+\b")
    history = [
        msgspec.structs.replace(h, summary=pattern.sub(lambda m: names.get(m[0], m[0]), h.summary))
        for h in detail.history
    ]
    return msgspec.structs.replace(detail, history=history)


def claim(m: MatchView, reporter: str | None, viewer_team: str | None) -> str:
    """What a reported result says, as the other side reads it: "Hop Stars say they won
    10–4", "Hop Stars say you won", "… say it was a draw 5–5"."""
    who = reporter or "An official"
    verb = "say" if reporter else "says"
    winner = next((s for s in m.slots if s.winner), None)
    scores = [s.score for s in m.slots]
    if m.kind == "heat":
        order = sorted((s for s in m.slots if s.team), key=lambda s: s.place or 0)
        return f"{who} {verb}: " + ", ".join(f"{s.place}. {s.team.name}" for s in order if s.team)
    if winner is None or winner.team is None:
        line = "–".join(points(x) for x in scores) if None not in scores else ""
        return f"{who} {verb} it was a draw{' ' + line if line else ''}"
    loser = next((s for s in m.slots if s is not winner), None)
    line = ""
    if winner.score is not None and loser is not None and loser.score is not None:
        line = f" {points(winner.score)}–{points(loser.score)}"
    if reporter is not None and winner.team.name == reporter:
        return f"{who} {verb} they won{line}"
    if viewer_team is not None and winner.team.id == viewer_team:
        return f"{who} {verb} you won{line}"
    return f"{who} {verb} {winner.team.name} won{line}"


@get("/matches/{match:str}", include_in_schema=False)
async def match_page(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    match: Annotated[str, PathParameter(max_length=140)],
) -> Response[bytes]:
    """One match: who plays where, the result, and big buttons to report, confirm or dispute."""
    tag = page_tag(request, tournament_id, match)
    if (cached := cached_page(request, tag)) is not None:
        return cached
    v = views(request, tournament_id)
    game_id, spec_id = split_key(match)
    run = _run(v, game_id)
    if run is None or spec_id not in run.specs:
        raise NotFound(f"no match {match!r}", code="match_not_found")
    config = v.state.game(game_id)
    detail = v.match_detail(run, spec_id)
    who = viewer(request, tournament_id)
    submitted_by = v.state.teams.get(detail.submitted_by or "")
    detail = _humane(v, config, detail)
    return render(
        request,
        "match.html",
        tag=tag,
        tournament=v.state,
        who=who,
        detail=detail,
        m=detail.match,
        game=config,
        actions=_actions(who, detail, run.specs[spec_id].allow_ties, config),
        submitted_by=submitted_by.name if submitted_by else None,
        claim=claim(detail.match, submitted_by.name if submitted_by else None, who.team_id),
        stations=config.stations,
    )


router = Router(path="/t/{tournament_id:str}", route_handlers=[schedule, game_page, match_page])
