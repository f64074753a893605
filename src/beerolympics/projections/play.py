"""What is being played: every game's plan, matches and results, the stations and the
overall leaderboard, per tournament, updated incrementally per event.

When a result changes, only that game is resolved again (``formats.resolve``, O(its matches))
and only its teams' contributions to the leaderboard are updated; nothing is recomputed from
the whole log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain import formats
from beerolympics.domain import games as game_rules
from beerolympics.domain import matches as lifecycle
from beerolympics.domain.formats.base import (
    HeadToHeadOutcome,
    LoserOf,
    MatchSpec,
    Outcome,
    Resolution,
    ResolvedMatch,
    WinnerOf,
)
from beerolympics.domain.formats.plan import Plan
from beerolympics.domain.matches import MatchRecord
from beerolympics.domain.ratings import RatedResult, TeamRatings, rated
from beerolympics.domain.scoring import Leaderboard, check_tiebreaks
from beerolympics.domain.stations import Waiting, WaitingQueue
from beerolympics.domain.tournament import TournamentState
from beerolympics.ports.eventstore import RecordedEvent
from beerolympics.projections.catalog import Catalog

_OUTCOME_EVENTS = (ev.ResultConfirmed, ev.ResultOverridden, ev.ResultReopened)
_CONFIRMING = frozenset({"ResultConfirmed", "ResultOverridden"})


def game_stream(tournament_id: str, game_id: str) -> str:
    return game_rules.stream_id(tournament_id, game_id)


@dataclass(slots=True)
class GameRun:
    """One game as played so far."""

    game_id: str
    plan: Plan | None = None
    specs: dict[str, MatchSpec] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    records: dict[str, MatchRecord] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    resolution: Resolution | None = None
    ready_since: dict[str, dt.datetime] = field(default_factory=dict)
    #: Ready matches nobody has called or started yet (what the station queue draws from),
    #: indexed to find the front of the queue: a round robin of 128 teams has thousands.
    waiting: WaitingQueue = field(default_factory=WaitingQueue)
    #: Results waiting for the other side: match → when they count anyway.
    deadlines: dict[str, dt.datetime] = field(default_factory=dict)
    placements: dict[str, int] = field(default_factory=dict)
    #: Where each team can still finish (see ``formats.outlook``).
    outlook: dict[str, formats.PlaceRange] = field(default_factory=dict)
    #: Teams of each played match, and how many played matches each team has (teams with
    #: none are left out).
    played_by: dict[str, tuple[str, ...]] = field(default_factory=dict)
    played: dict[str, int] = field(default_factory=dict)
    head_to_head: dict[str, tuple[str, str, str | None, float | None, float | None]] = field(
        default_factory=dict
    )
    #: ("w"|"l", match) → the match its winner or loser goes to next
    feeds: dict[tuple[str, str], str] = field(default_factory=dict)
    version: int = 0
    started_at: dt.datetime | None = None
    #: (matches, of which played), byes and void matches aside: see :meth:`match_counts`.
    counts: tuple[int, int] | None = None
    #: How the teams were seeded when the game started (natural, random or manual).
    seeding: str | None = None

    @property
    def started(self) -> bool:
        return self.plan is not None

    @property
    def complete(self) -> bool:
        return self.resolution is not None and self.resolution.complete

    @property
    def finished(self) -> bool:
        """Every match of the game is settled and no further round is coming."""
        if not self.complete or self.plan is None:
            return False
        return not formats.next_round(self.plan, self.outcomes)

    def match_counts(self) -> tuple[int, int]:
        """How many matches the game has, and how many of them are played (byes and void
        matches aside); counted when the game is resolved whole, then kept up by each result
        (:meth:`recount`)."""
        if self.counts is None:
            assert self.resolution is not None
            real = [m for m in self.resolution.matches.values() if m.state not in ("bye", "void")]
            self.counts = (len(real), sum(m.state == "played" for m in real))
        return self.counts

    def recount(self, was: Mapping[str, ResolvedMatch | None], now: Iterable[str]) -> None:
        """Keep :meth:`match_counts` up after the matches ``now`` were resolved again (``was``:
        each one as it was before, None where it was not resolved)."""
        if self.counts is None:
            return
        assert self.resolution is not None
        total, played = self.counts
        for spec_id in now:
            for match, sign in ((was.get(spec_id), -1), (self.resolution[spec_id], 1)):
                if match is not None and match.state not in ("bye", "void"):
                    total += sign
                    played += sign * (match.state == "played")
        self.counts = (total, played)

    def record(self, spec_id: str) -> MatchRecord:
        record = self.records.get(spec_id)
        if record is None:
            record = self.records[spec_id] = MatchRecord(self.game_id, spec_id)
        return record

    def resolved(self, spec_id: str) -> ResolvedMatch:
        assert self.resolution is not None
        return self.resolution[spec_id]

    def note_waiting(self, spec_id: str) -> None:
        """Keep :attr:`waiting` true for ``spec_id`` after its resolution or record changed."""
        record = self.records.get(spec_id)
        resolved = self.resolved(spec_id)
        if resolved.state == "ready" and (record is None or record.phase == "open"):
            self.waiting.put(
                spec_id,
                Waiting(
                    lifecycle.match_key(self.game_id, spec_id),
                    self.game_id,
                    resolved.teams,
                    self.ready_since.get(spec_id, self.started_at or dt.datetime.min),
                    self.order[spec_id],
                ),
            )
        else:
            self.waiting.discard(spec_id)

    def note_played(self, spec_id: str, teams: tuple[str, ...]) -> None:
        """``spec_id`` is now played by ``teams`` (none: not played)."""
        played = self.played
        for team in self.played_by.pop(spec_id, ()):
            played[team] -= 1
            if not played[team]:
                del played[team]
        for team in teams:
            played[team] = played.get(team, 0) + 1
        if teams:
            self.played_by[spec_id] = teams

    def status(self, spec_id: str) -> str:
        """One word for where a match stands, combining the bracket and the lifecycle."""
        resolved = self.resolved(spec_id)
        if resolved.state in ("bye", "void"):
            return resolved.state  # whatever its stream says, nobody plays it
        record = self.records.get(spec_id)
        if record is not None and record.flagged:
            return "flagged"
        if resolved.state == "pending":
            return resolved.state
        if resolved.state == "played":
            return "confirmed"
        phase = record.phase if record is not None else "open"
        return "ready" if phase in ("open", "confirmed") else phase


@dataclass(frozen=True, slots=True)
class RaceSample:
    """Everyone's overall points after an event that moved them."""

    position: int
    at: dt.datetime
    points: dict[str, float]


#: Events after which overall points may have moved (the race samples after them).
_MOVERS = (
    ev.GameStarted,
    ev.RoundAdded,
    ev.RoundsWithdrawn,
    ev.GameUpdated,
    ev.GameRemoved,
    ev.ResultConfirmed,
    ev.ResultOverridden,
    ev.ResultReopened,
    ev.BonusClaimed,
    ev.BonusClaimApproved,
    ev.BonusClaimRejected,
    ev.TeamDisqualified,
)


@dataclass(slots=True)
class TournamentPlay:
    """Games, stations and the leaderboard of one tournament."""

    tournament_id: str
    leaderboard: Leaderboard
    games: dict[str, GameRun] = field(default_factory=dict)
    #: team → key of the match it is at (called or playing)
    busy: dict[str, str] = field(default_factory=dict)
    last_finished: dict[str, dt.datetime] = field(default_factory=dict)
    #: (game, station) → key of the match there
    stations: dict[tuple[str, str], str] = field(default_factory=dict)
    #: The points race: a sample each time overall points moved.
    race: list[RaceSample] = field(default_factory=list)
    #: Team ratings over every rated result of every game.
    ratings: TeamRatings = field(default_factory=TeamRatings)

    def sample_race(self, position: int, at: dt.datetime) -> None:
        points = self.leaderboard.totals_if_moved()
        if points is not None and (not self.race or self.race[-1].points != points):
            self.race.append(RaceSample(position, at, points))

    def game(self, game_id: str) -> GameRun:
        run = self.games.get(game_id)
        if run is None:
            run = self.games[game_id] = GameRun(game_id)
        return run


class Play:
    """The :class:`~beerolympics.projections.projector.Projection` of games and matches.

    Reads game configuration from the catalog, so it must come after it in the projector.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.tournaments: dict[str, TournamentPlay] = {}

    def get(self, tournament_id: str) -> TournamentPlay:
        self.catalog.get(tournament_id)
        return self.tournaments[tournament_id]

    def apply(self, event: ev.Event, recorded: RecordedEvent) -> None:
        if isinstance(event, ev.TournamentCreated):
            self.tournaments[event.tournament_id] = TournamentPlay(
                event.tournament_id, Leaderboard()
            )
            return
        play = self.tournaments.get(recorded.scope)
        if play is None:
            return
        state = self.catalog.tournaments[recorded.scope]
        self._apply(play, state, event, recorded)
        if isinstance(event, _MOVERS):
            play.sample_race(recorded.position, recorded.recorded_at)

    def _apply(
        self, play: TournamentPlay, state: TournamentState, event: ev.Event, recorded: RecordedEvent
    ) -> None:
        at = recorded.recorded_at
        if type(event) in lifecycle.MATCH_EVENTS:
            self._match_event(play, state, event, recorded)
        elif isinstance(event, ev.TeamRegistered):
            play.leaderboard.add_team(event.team_id)
        elif isinstance(event, ev.TeamDisqualified):
            play.leaderboard.remove_team(event.team_id)
        elif isinstance(event, ev.GameAdded):
            play.game(event.game_id)
        elif isinstance(event, ev.GameRemoved):
            play.games.pop(event.game_id, None)
            play.leaderboard.remove_game(event.game_id)
            play.ratings.update({m: None for m in play.ratings.by_match if m[0] == event.game_id})
        elif isinstance(event, ev.GameUpdated):
            run = play.games.get(event.game_id)
            if run is not None and run.started and event.points is not msgspec.UNSET:
                self._score(play, state, run)
        elif isinstance(event, ev.GameStarted):
            run = play.game(event.game_id)
            run.plan, run.started_at, run.version = event.plan, at, recorded.version
            run.seeding = event.seeding
            self._index(run, event.plan.matches)
            self._resolve(play, state, run, at)
        elif isinstance(event, ev.RoundAdded):
            run = play.game(event.game_id)
            assert run.plan is not None
            run.plan = run.plan.extended(event.matches)
            run.version = recorded.version
            self._index(run, event.matches)
            self._resolve(play, state, run, at)
        elif isinstance(event, ev.RoundsWithdrawn):
            run = play.game(event.game_id)
            self._withdraw(play, run, event.from_round)
            run.version = recorded.version
            self._resolve(play, state, run, at)
        elif isinstance(event, (ev.BonusClaimed, ev.BonusClaimApproved, ev.BonusClaimRejected)):
            self._bonuses(play, state)
        elif isinstance(event, ev.TournamentUpdated) and event.tiebreaks is not msgspec.UNSET:
            play.leaderboard.set_tiebreaks(check_tiebreaks(state.tiebreaks))

    @staticmethod
    def _index(run: GameRun, specs: list[MatchSpec] | tuple[MatchSpec, ...]) -> None:
        for spec in specs:
            run.order[spec.id] = len(run.specs)
            run.specs[spec.id] = spec
            key = lifecycle.match_key(run.game_id, spec.id)
            for source in spec.slots:
                # The first match reading a result is where it goes; a later one (a grand
                # final reset) only replays it.
                if isinstance(source, WinnerOf):
                    run.feeds.setdefault(("w", source.match), key)
                elif isinstance(source, LoserOf):
                    run.feeds.setdefault(("l", source.match), key)

    @staticmethod
    def _withdraw(play: TournamentPlay, run: GameRun, from_round: int) -> None:
        """Take rounds ``from_round`` and later out of the plan (they were not played). Their
        match records stay: their streams go on if the round is paired again."""
        assert run.plan is not None
        kept = tuple(s for s in run.plan.matches if s.round < from_round)
        for spec in (s for s in run.plan.matches if s.round >= from_round):
            spec_id = spec.id
            del run.specs[spec_id], run.order[spec_id]
            run.outcomes.pop(spec_id, None)
            run.ready_since.pop(spec_id, None)
            run.deadlines.pop(spec_id, None)
            run.waiting.discard(spec_id)
            run.note_played(spec_id, ())
            if run.head_to_head.pop(spec_id, None) is not None:
                play.leaderboard.forget_match((run.game_id, spec_id))
            play.ratings.update({(run.game_id, spec_id): None})
        run.plan = msgspec.structs.replace(run.plan, matches=kept)
        run.feeds = {k: v for k, v in run.feeds.items() if k[1] in run.specs}

    def _match_event(
        self, play: TournamentPlay, state: TournamentState, event: ev.Event, recorded: RecordedEvent
    ) -> None:
        at = recorded.recorded_at
        game_id: str = event.game_id  # type: ignore[attr-defined]
        spec_id: str = event.match_id  # type: ignore[attr-defined]
        run = play.game(game_id)
        record = run.record(spec_id)
        was_at_station = record.phase in lifecycle.AT_STATION
        station = record.station_id
        meta = recorded.metadata
        by = str(meta.get("role", "unknown"))
        if "credential" in meta and meta["credential"] != "system":
            by = f"{by} {meta['credential']}"
        lifecycle.evolve(record, event, at, recorded.position, recorded.version, by)
        if record.phase == "submitted" and record.deadline is not None:
            run.deadlines[spec_id] = record.deadline
        else:
            run.deadlines.pop(spec_id, None)
        if run.resolution is not None:
            run.note_waiting(spec_id)
        key = lifecycle.match_key(game_id, spec_id)
        teams = run.resolved(spec_id).teams if run.resolution is not None else ()
        if was_at_station and record.phase not in lifecycle.AT_STATION:
            for team in teams:
                if play.busy.get(team) == key:
                    del play.busy[team]
                play.last_finished[team] = at
            if station is not None:
                play.stations.pop((game_id, station), None)
        if record.phase in lifecycle.AT_STATION:
            for team in teams:
                play.busy[team] = key
            if record.station_id is not None:
                play.stations[(game_id, record.station_id)] = key
        if isinstance(event, _OUTCOME_EVENTS):
            if record.phase == "confirmed" and record.outcome is not None:
                run.outcomes[spec_id] = record.outcome
            else:
                run.outcomes.pop(spec_id, None)
            self._resolve(play, state, run, at, spec_id)

    def _resolve(
        self,
        play: TournamentPlay,
        state: TournamentState,
        run: GameRun,
        at: dt.datetime,
        changed: str | None = None,
    ) -> None:
        """Resolve the game again after its plan or a result (``changed``) changed; score it.

        With ``changed``, only that match and the matches depending on it are looked at.
        """
        assert run.plan is not None
        before = run.resolution
        was: Mapping[str, ResolvedMatch | None]
        if before is None or changed is None:
            run.resolution = formats.resolve(run.plan, run.outcomes)
            touched: Iterable[str] = run.resolution.matches
            was = before.matches if before is not None else {}
            run.counts = None
        else:
            touched = formats.affected(run.plan, (changed,))
            was = {spec_id: before.matches.get(spec_id) for spec_id in touched}
            # ``before`` is replaced here, so it is updated rather than copied.
            since = formats.Increment(before, (changed,), in_place=True)
            run.resolution = formats.resolve(run.plan, run.outcomes, since)
            run.recount(was, touched)
        for spec_id in touched:
            resolved = run.resolution[spec_id]
            previous = was.get(spec_id)
            was_ready = previous is not None and (
                previous.state == "ready" and previous.participants == resolved.participants
            )
            if resolved.state == "ready" and not was_ready:
                run.ready_since[spec_id] = at
            run.note_waiting(spec_id)
            teams = resolved.teams if resolved.state == "played" else ()
            if run.played_by.get(spec_id, ()) != teams:
                run.note_played(spec_id, teams)
        run.placements = formats.placements(run.plan, run.outcomes, run.resolution)
        run.outlook = formats.outlook(run.plan, run.outcomes, run.resolution)
        self._score(play, state, run, touched)

    @staticmethod
    def _score(
        play: TournamentPlay,
        state: TournamentState,
        run: GameRun,
        touched: Iterable[str] | None = None,
    ) -> None:
        """Hand the game's placements and head-to-head results (of ``touched`` matches, or
        all) to the leaderboard."""
        config = state.games.get(run.game_id)
        if config is None or run.plan is None or run.resolution is None:
            return
        board = play.leaderboard
        board.set_game(
            run.game_id, config.points, run.plan.teams, run.placements, run.outlook, run.played
        )
        rated_now: dict[tuple[str, str], RatedResult | None] = {}
        for spec_id in run.resolution.matches if touched is None else touched:
            resolved = run.resolution[spec_id]
            outcome = resolved.outcome if resolved.state == "played" else None
            ref = (run.game_id, spec_id)
            result = None if outcome is None else _rated(run, spec_id, resolved, outcome)
            if play.ratings.by_match.get(ref) != result:
                rated_now[ref] = result
            current = run.head_to_head.get(spec_id)
            teams = resolved.teams if isinstance(outcome, HeadToHeadOutcome) else ()
            if isinstance(outcome, HeadToHeadOutcome) and len(teams) == 2:
                a, b = teams
                winner = None if outcome.winner is None else teams[outcome.winner]
                scores = outcome.scores or (None, None)
                entry = (a, b, winner, scores[0], scores[1])
                if entry != current:
                    run.head_to_head[spec_id] = entry
                    board.record_match((run.game_id, spec_id), *entry)
            elif current is not None:
                del run.head_to_head[spec_id]
                board.forget_match((run.game_id, spec_id))
        if rated_now:
            play.ratings.update(rated_now)

    @staticmethod
    def _bonuses(play: TournamentPlay, state: TournamentState) -> None:
        totals: dict[str, float] = {}
        for claim in state.claims.values():
            bonus = state.bonuses.get(claim.bonus_id)
            if claim.status == "approved" and bonus is not None:
                totals[claim.team_id] = totals.get(claim.team_id, 0.0) + bonus.points
        for team_id in state.teams:
            play.leaderboard.set_bonus(team_id, totals.get(team_id, 0.0))


def _rated(
    run: GameRun, spec_id: str, resolved: ResolvedMatch, outcome: Outcome
) -> RatedResult | None:
    """The played match as ratings count it, ordered by the event that confirmed it."""
    record = run.records.get(spec_id)
    confirmed = (
        next(
            (h.position for h in reversed(record.history) if h.type in _CONFIRMING),
            None,
        )
        if record is not None
        else None
    )
    if confirmed is None:
        return None
    return rated(confirmed, (run.game_id, spec_id), resolved.participants, outcome)
