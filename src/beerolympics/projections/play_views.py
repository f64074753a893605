"""Read models of play: games, brackets, standings, schedule, stations, leaderboard, team and
match pages. Built from the :mod:`~beerolympics.projections.play` state on demand; the web layer
caches the encoded bytes per position."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from beerolympics.domain import formats, stations
from beerolympics.domain.formats.base import (
    ByeSlot,
    GroupRank,
    HeadToHeadOutcome,
    HeatOutcome,
    HeatQualifier,
    LoserOf,
    MatchSpec,
    Outcome,
    Source,
    TeamSlot,
    WinnerOf,
)
from beerolympics.domain.identity import Actor
from beerolympics.domain.matches import match_key
from beerolympics.domain.scoring import PointsTable
from beerolympics.domain.tournament import GameConfig, TournamentState
from beerolympics.projections.play import GameRun, TournamentPlay
from beerolympics.projections.views import View


class TeamRef(View, frozen=True):
    id: str
    name: str
    colour: str
    flag: str


class StationView(View, frozen=True):
    id: str
    name: str
    match: str | None


class GameView(View, frozen=True):
    id: str
    name: str
    rules: str
    format: str
    options: dict[str, Any]
    points: PointsTable
    stations: list[StationView]
    heat_scoring: str
    lower_score_wins: bool
    auto_call: bool
    status: str
    teams: int
    matches: int
    matches_done: int


class SlotView(View, frozen=True):
    """One side of a match. ``source`` says where its team comes from in the plan ("winner of
    W4-1"); ``placeholder`` says it for people while the team is not known ("Winner of Hop
    Stars v Tap Dancers", "Group A runner-up")."""

    source: str
    team: TeamRef | None
    score: float | None = None
    place: int | None = None
    winner: bool = False
    placeholder: str = ""


class MatchView(View, frozen=True):
    id: str
    game_id: str
    game: str
    round: int
    label: str
    section: str
    kind: str
    best_of: int
    status: str
    slots: list[SlotView]
    station: StationView | None
    winner_to: str | None
    loser_to: str | None
    deadline: dt.datetime | None
    flagged: str | None


class HistoryView(View, frozen=True):
    at: dt.datetime
    position: int
    type: str
    summary: str
    by: str


class MatchDetailView(View, frozen=True):
    match: MatchView
    version: int
    submitted_by: str | None
    dispute: str | None
    confirmed_by: str | None
    history: list[HistoryView]


class RoundView(View, frozen=True):
    round: int
    matches: list[MatchView]


class SectionView(View, frozen=True):
    name: str
    rounds: list[RoundView]


class Placement(View, frozen=True):
    team: TeamRef
    place: int
    points: float


class BracketView(View, frozen=True):
    game_id: str
    format: str
    status: str
    sections: list[SectionView]
    placements: list[Placement]


class StandingRowView(View, frozen=True):
    rank: int
    team: TeamRef
    played: int
    wins: int
    draws: int
    losses: int
    points_for: float
    points_against: float
    point_diff: float
    match_points: float
    buchholz: float
    median_buchholz: float
    sonneborn_berger: float


class TableView(View, frozen=True):
    name: str
    complete: bool
    rows: list[StandingRowView]


class StandingsView(View, frozen=True):
    game_id: str
    format: str
    tables: list[TableView]
    placements: list[Placement]


class GameScoreView(View, frozen=True):
    """A team in one game: its place once certain; points secured there and the most it can
    still get (equal once the place is certain)."""

    place: int | None
    points: float
    max_points: float


class LeaderboardEntry(View, frozen=True):
    """A team on the overall leaderboard. ``points`` are secured (they only grow, and end as
    the final points), ``max_points`` what the team can still reach; ``provisional`` while it
    is still in a game. ``rank`` (by secured points) is ``None`` until the team has played."""

    rank: int | None
    team: TeamRef
    status: str
    points: float
    max_points: float
    provisional: bool
    placement_points: float
    participation_points: float
    bonus_points: float
    first_places: int
    second_places: int
    third_places: int
    wins: int
    losses: int
    draws: int
    point_diff: float
    decided_by: str | None
    games: dict[str, GameScoreView]
    #: The team's rating across every game (see ``GET /ratings``); 0 before any result.
    rating: float = 0.0


class LeaderboardView(View, frozen=True):
    tournament_id: str
    tiebreaks: list[str]
    games: list[GameView]
    rows: list[LeaderboardEntry]


class StationBoard(View, frozen=True):
    """A table: the match there now. A free table, the match it takes next: the first of its
    game's queue whose teams are at no table and not next at another (a busy table has none:
    the queue sends its front to whichever table frees first, not known ahead); with none
    of those, the front of the queue, ``waits_for`` naming its teams playing, or next,
    elsewhere. ``ready_at`` says when its teams have rested; ``auto_call`` false: an
    organizer calls it."""

    game_id: str
    game: str
    station: StationView
    now_playing: MatchView | None
    up_next: MatchView | None
    waits_for: list[TeamRef] = msgspec.field(default_factory=list)
    ready_at: dt.datetime | None = None
    auto_call: bool = True


class StationsView(View, frozen=True):
    """Every station; the first matches of the queue (``queued`` counts all of them)."""

    stations: list[StationBoard]
    queue: list[MatchView]
    queued: int


class TeamPlayView(View, frozen=True):
    """A team's page: its line on the leaderboard (as ``GET /leaderboard`` has it) and its
    matches."""

    team: TeamRef
    status: str
    rank: int | None
    points: float
    max_points: float
    provisional: bool
    #: How many teams share its rank (1: it is alone there).
    sharing: int
    now: MatchView | None
    upcoming: list[MatchView]
    results: list[MatchView]


class RatingEntry(View, frozen=True):
    """A team's rating: ``rating`` (``mu - 3·sigma``, what teams are ranked on) from the model's
    skill estimate ``mu`` and its uncertainty ``sigma``, over ``results`` rated results."""

    rank: int
    team: TeamRef
    rating: float
    mu: float
    sigma: float
    results: int


class RatingsView(View, frozen=True):
    """Team ratings across every game (openskill, Plackett-Luce), best first."""

    tournament_id: str
    rated_results: int
    rows: list[RatingEntry]


class RacePoint(View, frozen=True):
    position: int
    at: dt.datetime
    points: dict[str, float]


class RaceView(View, frozen=True):
    """Overall points after every change, per team id; ``teams`` names them."""

    teams: list[TeamRef]
    samples: list[RacePoint]


class AnnouncementView(View, frozen=True):
    id: str
    message: str
    priority: str
    audience: str
    team_ids: list[str]
    at: dt.datetime
    position: int


# -- builders ----------------------------------------------------------------------------------


class Views:
    """Builds play read models for one tournament."""

    #: How much of the station queue is shown: enough for any "up next" board.
    QUEUE_SHOWN = 20

    def __init__(
        self,
        state: TournamentState,
        play: TournamentPlay,
        cache: Callable[[str, Callable[[], Any]], Any] | None = None,
    ) -> None:
        self.state = state
        self.play = play
        self._cache = cache

    def cached(self, name: str, build: Callable[[], Any]) -> Any:
        """``build()``, or what the cache holds for ``name`` at the tournament's position
        (the same encoded bytes the HTTP API serves)."""
        return build() if self._cache is None else self._cache(name, build)

    def team(self, team_id: str) -> TeamRef:
        team = self.state.teams[team_id]
        return TeamRef(team.id, team.name, team.colour, team.flag)

    def game(self, config: GameConfig) -> GameView:
        run = self.play.games.get(config.id)
        status = "setup"
        matches = done = teams = 0
        options = config.options
        if run is not None and run.resolution is not None and run.plan is not None:
            status = "complete" if run.complete else "in_progress"
            if "seeding" in options and run.seeding is not None:
                options = {**options, "seeding": run.seeding}  # as it was started
            teams = len(run.plan.teams)
            matches, done = run.match_counts()
        return GameView(
            id=config.id,
            name=config.name,
            rules=config.rules,
            format=config.format,
            options=options,
            points=config.points,
            stations=[
                StationView(s.id, s.name, self.play.stations.get((config.id, s.id)))
                for s in config.stations
            ],
            heat_scoring=config.heat_scoring,
            lower_score_wins=config.lower_score_wins,
            auto_call=config.auto_call,
            status=status,
            teams=teams,
            matches=matches,
            matches_done=done,
        )

    def match(self, run: GameRun, spec_id: str) -> MatchView:
        spec = run.specs[spec_id]
        resolved = run.resolved(spec_id)
        record = run.records.get(spec_id)
        outcome = resolved.outcome if resolved.state == "played" else None
        if outcome is None and record is not None and record.submitted is not None:
            outcome = record.submitted
        config = self.state.games[run.game_id]
        station = None
        if record is not None and record.station_id and record.phase != "open":
            name = next((s.name for s in config.stations if s.id == record.station_id), "")
            station = StationView(record.station_id, name, match_key(run.game_id, spec_id))
        return MatchView(
            id=match_key(run.game_id, spec_id),
            game_id=run.game_id,
            game=config.name,
            round=spec.round,
            label=spec.label,
            section=spec.section,
            kind=spec.kind,
            best_of=spec.best_of,
            status=run.status(spec_id),
            # A void match (a reset final not needed) is played by nobody.
            slots=[
                self._slot(run, spec, i, None if resolved.state == "void" else participant, outcome)
                for i, participant in enumerate(resolved.participants)
            ],
            station=station,
            winner_to=run.feeds.get(("w", spec_id)),
            loser_to=run.feeds.get(("l", spec_id)),
            deadline=record.deadline
            if record is not None and record.phase == "submitted"
            else None,
            flagged=record.flagged if record is not None else None,
        )

    def _slot(
        self,
        run: GameRun,
        spec: MatchSpec,
        index: int,
        participant: object,
        outcome: Outcome | None,
    ) -> SlotView:
        team = self.team(participant) if isinstance(participant, str) else None
        score = place = None
        winner = False
        if isinstance(outcome, HeadToHeadOutcome):
            if outcome.scores is not None:
                score = outcome.scores[index]
            winner = outcome.winner == index
        elif isinstance(outcome, HeatOutcome):
            place = outcome.places[index]
            score = outcome.values[index] if outcome.values is not None else None
            winner = place == 1
        source = spec.slots[index]
        placeholder = "" if team is not None else self._placeholder(run, source)
        return SlotView(_describe(source), team, score, place, winner, placeholder)

    def _placeholder(self, run: GameRun, source: Source) -> str:
        """Who will play here, in words: the match it comes from named by its teams when they
        are known (a code like W4-1 is shown nowhere else)."""
        if isinstance(source, WinnerOf | LoserOf):
            side = "Winner" if isinstance(source, WinnerOf) else "Loser"
            resolved = run.resolution.matches.get(source.match) if run.resolution else None
            if resolved is not None and len(resolved.teams) == 2:
                names = " v ".join(self.state.teams[t].name for t in resolved.teams)
                return f"{side} of {names}"
            label = run.specs[source.match].label if source.match in run.specs else ""
            return f"{side} of {label} ({source.match})" if label else f"{side} of {source.match}"
        if isinstance(source, GroupRank):
            rank = {1: "winner", 2: "runner-up"}.get(source.rank, f"#{source.rank}")
            return f"Group {source.group} {rank}"
        if isinstance(source, HeatQualifier):
            return f"Qualifier {source.rank} from round {source.round}"
        if isinstance(source, ByeSlot):
            return "Bye"
        return "To be decided"

    def match_detail(self, run: GameRun, spec_id: str) -> MatchDetailView:
        record = run.records.get(spec_id)
        return MatchDetailView(
            match=self.match(run, spec_id),
            version=record.version if record else 0,
            submitted_by=record.submitted_by if record else None,
            dispute=record.dispute if record else None,
            confirmed_by=record.confirmed_by if record else None,
            history=[
                HistoryView(h.at, h.position, h.type, h.summary, h.by)
                for h in (record.history if record else [])
            ],
        )

    def placements(self, run: GameRun) -> list[Placement]:
        table = self.state.games[run.game_id].points
        sharing: dict[int, int] = {}
        for place in run.placements.values():
            sharing[place] = sharing.get(place, 0) + 1
        return [
            Placement(self.team(team), place, table.points_for(place, sharing[place]))
            for team, place in sorted(run.placements.items(), key=lambda item: item[1])
        ]

    def bracket(self, run: GameRun) -> BracketView:
        sections: dict[str, dict[int, list[MatchView]]] = {}
        for spec_id, spec in run.specs.items():
            sections.setdefault(spec.section, {}).setdefault(spec.round, []).append(
                self.match(run, spec_id)
            )
        return BracketView(
            game_id=run.game_id,
            format=self.state.games[run.game_id].format,
            status="complete" if run.complete else "in_progress",
            sections=[
                SectionView(name, [RoundView(r, ms) for r, ms in sorted(rounds.items())])
                for name, rounds in sections.items()
            ],
            placements=self.placements(run),
        )

    def standings(self, run: GameRun) -> StandingsView:
        assert run.plan is not None
        tables = formats.standings(run.plan, run.outcomes, resolution=run.resolution)
        return StandingsView(
            game_id=run.game_id,
            format=run.plan.format,
            tables=[
                TableView(
                    t.name,
                    t.complete,
                    [
                        StandingRowView(
                            rank=r.rank,
                            team=self.team(r.team),
                            played=r.played,
                            wins=r.wins,
                            draws=r.draws,
                            losses=r.losses,
                            points_for=r.points_for,
                            points_against=r.points_against,
                            point_diff=r.point_diff,
                            match_points=r.match_points,
                            buchholz=r.buchholz,
                            median_buchholz=r.median_buchholz,
                            sonneborn_berger=r.sonneborn_berger,
                        )
                        for r in t.rows
                    ],
                )
                for t in tables
            ],
            placements=self.placements(run),
        )

    def leaderboard(self) -> LeaderboardView:
        rows = [
            LeaderboardEntry(
                rank=row.rank,
                team=self.team(row.team),
                status=self.state.teams[row.team].status,
                points=row.points,
                max_points=row.max_points,
                provisional=row.provisional,
                placement_points=row.placement_points,
                participation_points=row.participation_points,
                bonus_points=row.bonus_points,
                first_places=row.first_places,
                second_places=row.second_places,
                third_places=row.third_places,
                wins=row.wins,
                losses=row.losses,
                draws=row.draws,
                point_diff=row.point_diff,
                decided_by=row.decided_by,
                games={
                    g: GameScoreView(s.place, s.points, s.max_points)
                    for g, s in row.per_game.items()
                },
                rating=round(self.play.ratings.rating(row.team).ordinal, 2),
            )
            for row in self.play.leaderboard.rows()
        ]
        return LeaderboardView(
            tournament_id=self.state.id,
            tiebreaks=list(self.state.tiebreaks),
            games=[self.game(g) for g in self.state.games.values()],
            rows=rows,
        )

    def match_by_key(self, key: str) -> MatchView:
        game_id, _, spec_id = key.partition(".")
        return self.match(self.play.games[game_id], spec_id)

    def playing_elsewhere(self, match: MatchView) -> list[str]:
        """The names of ``match``'s teams at another match's table now: until they are done,
        ``match`` cannot be called or started (the server says ``team_busy``)."""
        busy = self.play.busy
        return [
            slot.team.name
            for slot in match.slots
            if slot.team is not None and busy.get(slot.team.id, match.id) != match.id
        ]

    def stations(self) -> StationsView:
        """Per station the match there now, or, free, the one it takes next; the queue."""
        play, state = self.play, self.state
        rest = dt.timedelta(seconds=state.rest_seconds)
        free = {
            game.id: sum((game.id, s.id) not in play.stations for s in game.stations)
            for game in state.games.values()
        }
        queues = {game_id: run.waiting for game_id, run in play.games.items()}
        # What each free table takes next: the first matches of the queue whose teams are at
        # no table, nobody at two tables (what the control room offers first; the conductor
        # reads the queue the same way, leaving out teams resting until rested).
        taking, _ = stations.fill(
            queues, free, without=play.busy.keys(), last_finished=play.last_finished, rest=rest
        )
        picked: dict[str, list[stations.Queued]] = {}
        for q in taking:
            picked.setdefault(q.match.game_id, []).append(q)
        # A free table left without one shows the front of its game's queue, waiting for the
        # teams playing, or next at another table, before it can go.
        whole, fronts = stations.heads(
            queues,
            busy=play.busy,
            last_finished=play.last_finished,
            rest=rest,
            limit=self.QUEUE_SHOWN,
            per_game={
                game_id: 2 * count
                for game_id, count in free.items()
                if len(picked.get(game_id, ())) < count
            },
        )
        chosen = {q.match.key for q in taking}
        sent = {team for q in taking for team in q.match.teams}
        queue = [self.match_by_key(q.match.key) for q in whole]
        boards = []
        for game in state.games.values():
            picks = list(picked.get(game.id, []))
            front = [q for q in fronts.get(game.id, []) if q.match.key not in chosen]
            for station in game.stations:
                current = play.stations.get((game.id, station.id))
                nxt: stations.Queued | None = None
                waits: list[str] = []
                if current is None and picks:
                    nxt = picks.pop(0)
                elif current is None and front:
                    nxt = front.pop(0)
                    waits = [t for t in nxt.match.teams if t in nxt.blocked_by or t in sent]
                rested = nxt is not None and nxt.eligible_at > nxt.match.ready_since
                boards.append(
                    StationBoard(
                        game_id=game.id,
                        game=game.name,
                        station=StationView(station.id, station.name, current),
                        now_playing=self.match_by_key(current) if current else None,
                        up_next=self.match_by_key(nxt.match.key) if nxt else None,
                        waits_for=[self.team(t) for t in waits],
                        ready_at=nxt.eligible_at if nxt is not None and rested else None,
                        auto_call=game.auto_call,
                    )
                )
        queued = sum(len(run.waiting) for run in play.games.values())
        return StationsView(stations=boards, queue=queue, queued=queued)

    def team_play(self, team_id: str) -> TeamPlayView:
        mine = [
            m
            for m in self.all_matches()
            if any(s.team is not None and s.team.id == team_id for s in m.slots)
        ]
        now = next((m for m in mine if m.status in ("called", "in_progress")), None)
        rows = self.play.leaderboard.rows()
        row = next((r for r in rows if r.team == team_id), None)
        rank = row.rank if row else None
        return TeamPlayView(
            team=self.team(team_id),
            status=self.state.teams[team_id].status,
            rank=rank,
            points=row.points if row else 0.0,
            max_points=row.max_points if row else 0.0,
            provisional=row.provisional if row else False,
            sharing=sum(r.rank == rank for r in rows) if rank is not None else 0,
            now=now,
            upcoming=[m for m in mine if m.status in ("ready", "pending") and m is not now],
            results=[
                m
                for m in mine
                if m.status in ("confirmed", "submitted", "disputed", "flagged", "reopened")
            ],
        )

    def announcements(self, actor: Actor) -> list[AnnouncementView]:
        """Newest first, those meant for this actor: everyone's, their team's, captains'."""
        official = actor.tournament_id == self.state.id and actor.role in ("organizer", "referee")
        shown = []
        for a in reversed(self.state.announcements):
            if not (
                official
                or a.audience == "all"
                or (a.audience == "captains" and actor.role == "captain")
                or (
                    a.audience == "teams"
                    and actor.team_id is not None
                    and actor.tournament_id == self.state.id
                    and (not a.team_ids or actor.team_id in a.team_ids)
                )
            ):
                continue
            shown.append(
                AnnouncementView(
                    a.id, a.message, a.priority, a.audience, a.team_ids, a.at, a.position
                )
            )
        return shown

    def ratings(self) -> RatingsView:
        """Every team's rating, best first (teams without a result at 0, in sign-up order)."""
        ratings = self.play.ratings
        teams = sorted(self.state.teams, key=lambda t: -ratings.rating(t).ordinal)
        rows: list[RatingEntry] = []
        for team_id in teams:
            found = ratings.rating(team_id)
            rating = round(found.ordinal, 2)
            rank = rows[-1].rank if rows and rows[-1].rating == rating else len(rows) + 1
            rows.append(
                RatingEntry(
                    rank=rank,
                    team=self.team(team_id),
                    rating=rating,
                    mu=round(found.mu, 4),
                    sigma=round(found.sigma, 4),
                    results=found.results,
                )
            )
        return RatingsView(self.state.id, len(ratings.results), rows)

    def race(self) -> RaceView:
        return RaceView(
            teams=[self.team(t) for t in self.state.teams],
            samples=[RacePoint(r.position, r.at, r.points) for r in self.play.race],
        )

    def all_matches(self) -> Iterable[MatchView]:
        for run in self.play.games.values():
            if run.resolution is None:
                continue
            for spec_id in run.specs:
                yield self.match(run, spec_id)


def _describe(source: Source) -> str:
    if isinstance(source, TeamSlot):
        return "team"
    if isinstance(source, ByeSlot):
        return "bye"
    if isinstance(source, WinnerOf):
        return f"winner of {source.match}"
    if isinstance(source, LoserOf):
        return f"loser of {source.match}"
    if isinstance(source, GroupRank):
        return f"group {source.group} #{source.rank}"
    if isinstance(source, HeatQualifier):
        return f"qualifier {source.rank} of round {source.round}"
    return "unknown"
