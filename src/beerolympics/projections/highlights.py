"""The highlights projection: what each tournament's highlights are, and which ones the log
still owes.

**Reading.** :meth:`Highlights.highlights` gives a tournament's highlights as
:class:`HighlightRecord`\\ s in time order (the order they were recorded), retracted ones left
out and hidden ones only when asked for; :meth:`Highlights.photos` indexes the tournament's
listed photos and clips by match, to attach a highlight's photos (``record.match``) as they
are when read — photos usually arrive after the highlight.

**Recording.** Highlights are events on ``highlights:<tournament>`` (``HighlightDetected``,
``HighlightRetracted``, ``HighlightHidden``, ``HighlightShown``), folded into the records
above. They are found here too: right after a confirmed result is folded (this projection
comes after play), the rules of :mod:`beerolympics.domain.highlights` compare the read models
before and after it. What they find is :attr:`TournamentHighlights.pending` until its
``HighlightDetected`` is in the log; a recorded highlight whose result stopped counting is
:attr:`TournamentHighlights.stale` until its ``HighlightRetracted`` is. The
:class:`~beerolympics.services.highlights.HighlightRecorder` appends both. Being a fold, a
replay finds exactly what was found live, with the same ids, so nothing is recorded twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from beerolympics.domain import events as ev
from beerolympics.domain import formats
from beerolympics.domain import highlights as rules
from beerolympics.domain.formats.base import HeadToHeadOutcome, HeatOutcome, Outcome
from beerolympics.domain.highlights import Board, Found
from beerolympics.domain.matches import match_key
from beerolympics.domain.ratings import RatedResult
from beerolympics.domain.scoring import PointsAndReach
from beerolympics.domain.tournament import GameConfig, TournamentState
from beerolympics.ports.eventstore import RecordedEvent
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.media import Media, MediaItem
from beerolympics.projections.play import GameRun, Play, TournamentPlay

Name = Callable[[str], str]

_CONFIRMING = (ev.ResultConfirmed, ev.ResultOverridden)
_CONFIRMING_TYPES = frozenset(("ResultConfirmed", "ResultOverridden"))
#: Events after which a game's results may count differently (highlights are checked again).
_RECHECK = (
    ev.ResultConfirmed,
    ev.ResultOverridden,
    ev.ResultReopened,
    ev.MatchFlagged,
    ev.MatchReset,
    ev.RoundsWithdrawn,
    ev.GameStarted,
    ev.RoundAdded,
    ev.GameRemoved,
)
#: Events that take results back.
_UNDOING = (ev.ResultReopened, ev.MatchReset, ev.RoundsWithdrawn, ev.GameRemoved)
#: Events after which the overall leaderboard may have moved.
_MOVERS = (
    *_RECHECK,
    ev.GameUpdated,
    ev.BonusClaimed,
    ev.BonusClaimApproved,
    ev.BonusClaimRejected,
    ev.TeamRegistered,
    ev.TeamDisqualified,
)


@dataclass(slots=True)
class HighlightRecord:
    """One recorded highlight. ``match`` is the match's id as clients know it (its photos are
    the media of subject ``match:<match>``); ``position`` and ``at`` are when it was
    recorded, ``trigger`` the position of the confirmation it was found in."""

    id: str
    kind: str
    text: str
    teams: tuple[str, ...]
    game_id: str
    match_id: str
    match: str
    trigger: int
    detail: dict[str, float | int | str]
    position: int
    at: dt.datetime
    hidden: bool = False
    retracted: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Pending:
    """A highlight found and not recorded yet: the event that records it, and when the
    result it was found in was confirmed."""

    event: ev.HighlightDetected
    at: dt.datetime


@dataclass(slots=True)
class Watch:
    """What the rules remember between results of one tournament."""

    board: Board = field(default_factory=Board)
    #: What the board was made from.
    standing: tuple[PointsAndReach, ...] = ()
    #: The last team that was alone at the top.
    last_leader: str | None = None
    #: Each game's certain winner after its last result.
    clinched: dict[str, str | None] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    #: Teams once alone in last place; teams whose comeback from there was told.
    were_last: set[str] = field(default_factory=set)
    came_back: set[str] = field(default_factory=set)


@dataclass(slots=True)
class TournamentHighlights:
    records: dict[str, HighlightRecord] = field(default_factory=dict)
    pending: dict[str, Pending] = field(default_factory=dict)
    #: Recorded highlights whose result stopped counting → why.
    stale: dict[str, str] = field(default_factory=dict)
    #: Highlights (pending or recorded, not retracted) of each game and match, to check again.
    by_game: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def watch_over(self, game_id: str, match_id: str, highlight_id: str) -> None:
        self.by_game.setdefault(game_id, {}).setdefault(match_id, set()).add(highlight_id)

    def forget(self, game_id: str, match_id: str, highlight_id: str) -> None:
        ids = self.by_game.get(game_id, {}).get(match_id)
        if ids is not None:
            ids.discard(highlight_id)
            if not ids:
                del self.by_game[game_id][match_id]

    #: Version of the ``highlights:<tournament>`` stream.
    version: int = 0
    watch: Watch = field(default_factory=Watch)

    @property
    def owing(self) -> bool:
        return bool(self.pending or self.stale)


class Highlights:
    """The :class:`~beerolympics.projections.projector.Projection` of highlights. Comes after
    the catalog and play in the projector (it reads them as they are right after each event)."""

    def __init__(self, catalog: Catalog, play: Play, media: Media) -> None:
        self.catalog = catalog
        self.play = play
        self.media = media
        self.tournaments: dict[str, TournamentHighlights] = {}

    # -- reading -----------------------------------------------------------------------------

    def of(self, tournament_id: str) -> TournamentHighlights:
        return self.tournaments.get(tournament_id) or TournamentHighlights()

    def highlights(self, tournament_id: str, *, hidden: bool = False) -> list[HighlightRecord]:
        """The tournament's highlights in the order they were recorded; retracted ones never,
        hidden ones only with ``hidden``."""
        return [
            r
            for r in self.of(tournament_id).records.values()
            if not r.retracted and (hidden or not r.hidden)
        ]

    def photos(self, tournament_id: str) -> dict[str, list[MediaItem]]:
        """The tournament's listed media of matches, by match id, oldest first."""
        found: dict[str, list[MediaItem]] = defaultdict(list)
        for item in reversed(self.media.of(tournament_id)):
            if item.listed and item.subject.startswith("match:"):
                found[item.subject.removeprefix("match:")].append(item)
        return found

    # -- folding -----------------------------------------------------------------------------

    def apply(self, event: ev.Event, recorded: RecordedEvent) -> None:
        tid = recorded.scope
        if isinstance(event, ev.TournamentCreated):
            self.tournaments[event.tournament_id] = TournamentHighlights()
            return
        th = self.tournaments.get(tid)
        if th is None:
            return
        if isinstance(event, ev.HighlightDetected | ev.HighlightRetracted):
            self._recorded(tid, th, event, recorded)
        elif isinstance(event, ev.HighlightHidden | ev.HighlightShown):
            th.version = recorded.version
            record = th.records.get(event.highlight_id)
            if record is not None:
                record.hidden = isinstance(event, ev.HighlightHidden)
        if not isinstance(event, _MOVERS):
            return
        play = self.play.tournaments.get(tid)
        state = self.catalog.tournaments.get(tid)
        if play is None or state is None:
            return
        watch = th.watch
        board_before = watch.board
        clinched_before: str | None = None
        finished_before = False
        if isinstance(event, _RECHECK):
            game_id: str = event.game_id
            clinched_before = watch.clinched.get(game_id)
            finished_before = game_id in watch.finished
            match_id: str | None = getattr(event, "match_id", None)
            self._recheck(th, play, game_id, match_id)
        standing = play.leaderboard.points_and_reach()
        if standing is not watch.standing:
            watch.standing = standing
            watch.board = rules.board_of(standing)
        if isinstance(event, ev.ResultOverridden) and _corrects(play, event, recorded.position):
            # A correction, not news: the lead it moves was never really held.
            watch.last_leader = None
        if isinstance(event, _CONFIRMING):
            self._detect(
                tid,
                th,
                state,
                play,
                event,
                recorded,
                board_before,
                clinched_before,
                finished_before,
            )
        board = watch.board
        if board.leader is not None or isinstance(event, _UNDOING):
            # A result taken back takes back the lead it gave, too.
            watch.last_leader = board.leader
        if board.last is not None and board.ranked >= rules.COMEBACK_MIN_TEAMS:
            watch.were_last.add(board.last)

    def _recorded(
        self,
        tid: str,
        th: TournamentHighlights,
        event: ev.HighlightDetected | ev.HighlightRetracted,
        recorded: RecordedEvent,
    ) -> None:
        th.version = recorded.version
        if isinstance(event, ev.HighlightRetracted):
            th.stale.pop(event.highlight_id, None)
            record = th.records.get(event.highlight_id)
            if record is not None:
                record.retracted, record.reason = True, event.reason
                th.forget(record.game_id, record.match_id, record.id)
            return
        th.pending.pop(event.highlight_id, None)
        th.records[event.highlight_id] = HighlightRecord(
            id=event.highlight_id,
            kind=event.kind,
            text=event.text,
            teams=tuple(event.teams),
            game_id=event.game_id,
            match_id=event.match_id,
            match=match_key(event.game_id, event.match_id),
            trigger=event.trigger,
            detail=dict(event.detail),
            position=recorded.position,
            at=recorded.recorded_at,
        )
        play = self.play.tournaments.get(tid)
        if play is None or not _holds(play, event.game_id, event.match_id, event.trigger):
            # Corrected before it was recorded (by another instance, say): take it back.
            th.stale[event.highlight_id] = "the result no longer counts"
        else:
            th.watch_over(event.game_id, event.match_id, event.highlight_id)

    def _recheck(
        self, th: TournamentHighlights, play: TournamentPlay, game_id: str, match_id: str | None
    ) -> None:
        """Drop or retract the highlights of ``game_id`` whose result stopped counting — of
        ``match_id`` and the matches depending on it, or of every match — and note where the
        game stands now."""
        watch = th.watch
        run = play.games.get(game_id)
        watch.clinched[game_id] = _certain_winner(run) if run is not None else None
        if run is not None and run.finished:
            watch.finished.add(game_id)
        else:
            watch.finished.discard(game_id)
        watched = th.by_game.get(game_id)
        if not watched:
            return
        matches: Iterable[str]
        if match_id is not None and run is not None and run.plan is not None:
            moved = formats.affected(run.plan, (match_id,))
            # A result moves a few matches while a game may watch thousands: look the moved
            # ones up, and keep the order they were watched in when several are.
            matches = [m for m in moved if m in watched]
            if len(matches) > 1:
                matches = [m for m in watched if m in moved]
        else:
            matches = list(watched)
        for spec_id in matches:
            for hid in list(watched[spec_id]):
                pending = th.pending.get(hid)
                found = pending.event if pending is not None else th.records[hid]
                if _holds(play, game_id, spec_id, found.trigger):
                    continue
                th.forget(game_id, spec_id, hid)
                if pending is not None:
                    del th.pending[hid]  # never recorded: nothing to take back
                else:
                    th.stale[hid] = "the result no longer counts"

    # -- the rules ---------------------------------------------------------------------------

    def _detect(
        self,
        tid: str,
        th: TournamentHighlights,
        state: TournamentState,
        play: TournamentPlay,
        event: ev.ResultConfirmed | ev.ResultOverridden,
        recorded: RecordedEvent,
        board_before: Board,
        clinched_before: str | None,
        finished_before: bool,
    ) -> None:
        game_id, spec_id, position = event.game_id, event.match_id, recorded.position
        run = play.games.get(game_id)
        if run is None or not _holds(play, game_id, spec_id, position):
            return  # a stale or voided result: nothing happened
        outcome = run.resolved(spec_id).outcome
        if outcome is None:
            return
        game = state.games.get(game_id)
        game_name = game.name if game is not None else "a game"

        def name(team: str) -> str:
            found = state.teams.get(team)
            return found.name if found is not None else team

        teams = run.resolved(spec_id).teams
        result = play.ratings.by_match.get((game_id, spec_id))
        if result is not None and result.order != position:
            result = None
        found: list[Found] = []
        heat = isinstance(outcome, HeatOutcome)
        winner = result.winners[0] if result is not None and result.winners else None
        others = tuple(t for t in teams if t != winner)
        if winner is not None:
            beaten = " and ".join(name(t) for t in others) if not heat else ""
            won = f"won their {game_name} heat" if heat else f"beat {beaten} at {game_name}"
            if result is not None and _first_decided(play.ratings.results, result):
                found.append(
                    Found("first_blood", f"First blood: {name(winner)} {won}.", (winner, *others))
                )
            before = play.ratings.before.get((game_id, spec_id))
            chance = (
                rules.upset_chance(result, before)
                if result is not None and before is not None
                else None
            )
            if chance is not None:
                found.append(
                    Found(
                        "upset",
                        f"Upset! {name(winner)} {won} with a {round(chance * 100)}% chance.",
                        (winner, *others),
                        {"chance": round(chance, 4)},
                    )
                )
            ratings = play.ratings
            streak = rules.winning_streak(ratings.results, winner, ratings.by_team.get(winner, ()))
            if rules.is_streak_mark(streak):
                found.append(
                    Found(
                        "streak",
                        f"{name(winner)}: {streak} wins in a row.",
                        (winner,),
                        {"wins": streak},
                    )
                )
        margin = rules.nail_biter_margin(outcome)
        if margin is not None:
            found.append(
                Found(
                    "nail_biter",
                    _nail_biter_text(outcome, teams, winner, name, game_name, margin),
                    (winner, *others) if winner is not None else teams,
                    {"margin": margin},
                )
            )
        watch = th.watch
        certain = watch.clinched.get(game_id)
        if certain is not None and certain != clinched_before:
            found.append(
                Found(
                    "clincher",
                    f"{name(certain)} clinched {game_name}.",
                    (certain,),
                    {"scope": "game"},
                    "game",
                )
            )
        if game_id in watch.finished and not finished_before:
            found.extend(self._game_over(run, game, name, game_name))
        found.extend(self._overall(watch, board_before, name))
        for item in found:
            hid = rules.highlight_id(tid, position, item.kind, item.about)
            detected = ev.HighlightDetected(
                highlight_id=hid,
                kind=item.kind,
                text=item.text,
                teams=list(item.teams),
                game_id=game_id,
                match_id=spec_id,
                trigger=position,
                detail=item.detail,
            )
            if hid not in th.records:
                th.pending[hid] = Pending(detected, recorded.recorded_at)
                th.watch_over(game_id, spec_id, hid)

    @staticmethod
    def _game_over(
        run: GameRun, game: GameConfig | None, name: Name, game_name: str
    ) -> list[Found]:
        """A game just finished: a perfect run, a comeback from the losers' bracket."""
        champions = [t for t, place in run.placements.items() if place == 1]
        if len(champions) != 1 or run.resolution is None:
            return []
        champion = champions[0]
        wins = losses = 0
        for resolved in run.resolution.matches.values():
            if resolved.state != "played" or champion not in resolved.teams:
                continue
            if resolved.winner == champion and champion not in resolved.losers:
                wins += 1
            elif champion in resolved.losers:
                losses += 1
            elif resolved.outcome is not None:
                losses += 1  # a draw, or a heat not won
        found: list[Found] = []
        if losses == 0 and wins >= 2:
            found.append(
                Found(
                    "perfect_run",
                    f"Perfect run: {name(champion)} won {game_name} without losing ({wins} wins).",
                    (champion,),
                    {"wins": wins},
                )
            )
        if game is not None and game.format == "double_elimination" and losses > 0:
            found.append(
                Found(
                    "comeback",
                    f"Comeback: {name(champion)} won {game_name} from the losers' bracket.",
                    (champion,),
                    {"from": "losers_bracket"},
                    "losers_bracket",
                )
            )
        return found

    @staticmethod
    def _overall(watch: Watch, before: Board, name: Name) -> list[Found]:
        """What the result did to the top (and the bottom) of the overall leaderboard."""
        after = watch.board
        found: list[Found] = []
        leader = after.leader
        previous = watch.last_leader
        if leader is not None and previous is not None and leader != previous:
            found.append(
                Found(
                    "lead_change",
                    f"{name(leader)} takes the lead from {name(previous)}.",
                    (leader, previous),
                )
            )
        if after.champion is not None and after.champion != before.champion:
            found.append(
                Found(
                    "clincher",
                    f"{name(after.champion)} clinched the title: nobody can catch them now.",
                    (after.champion,),
                    {"scope": "title"},
                    "title",
                )
            )
        if after.ranked >= rules.COMEBACK_MIN_TEAMS:
            for team in sorted(after.podium - before.podium):
                if team in watch.were_last and team not in watch.came_back:
                    watch.came_back.add(team)
                    found.append(
                        Found(
                            "comeback",
                            f"Comeback: {name(team)} went from last place to the top three.",
                            (team,),
                            {"from": "last_place"},
                            f"last_place:{team}",
                        )
                    )
        return found


def _nail_biter_text(
    outcome: Outcome,
    teams: tuple[str, ...],
    winner: str | None,
    name: Name,
    game_name: str,
    margin: float,
) -> str:
    if isinstance(outcome, HeadToHeadOutcome) and outcome.scores is not None:
        a, b = (_number(x) for x in outcome.scores)
        if winner is None:
            together = " and ".join(name(t) for t in teams)
            return f"Nail-biter: {together} drew {a}–{b} at {game_name}."
        beaten = " and ".join(name(t) for t in teams if t != winner)
        high, low = (a, b) if outcome.scores[0] >= outcome.scores[1] else (b, a)
        return f"Nail-biter: {name(winner)} edged {beaten} {high}–{low} at {game_name}."
    who = name(winner) if winner is not None else name(teams[0])
    return f"Nail-biter: {who} won their {game_name} heat by {margin * 100:.1f}%."


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _holds(play: TournamentPlay, game_id: str, spec_id: str, trigger: int) -> bool:
    """Whether the match still counts with the result confirmed at ``trigger``."""
    run = play.games.get(game_id)
    if run is None or run.resolution is None or spec_id not in run.specs:
        return False
    if run.resolution[spec_id].state != "played":
        return False
    record = run.records.get(spec_id)
    if record is None:
        return False
    confirmed = next(
        (h.position for h in reversed(record.history) if h.type in _CONFIRMING_TYPES), None
    )
    return confirmed == trigger


def _corrects(play: TournamentPlay, event: ev.ResultOverridden, position: int) -> bool:
    """Whether the override replaced a result that counted (rather than settling a dispute)."""
    run = play.games.get(event.game_id)
    record = run.records.get(event.match_id) if run is not None else None
    if record is None:
        return False
    for entry in reversed(record.history):
        if entry.position >= position:
            continue
        if entry.type in _CONFIRMING_TYPES:
            return True
        if entry.type in ("ResultReopened", "MatchReset"):
            return False
    return False


def _certain_winner(run: GameRun) -> str | None:
    """The team sure to finish the game first, alone."""
    found = [team for team, reach in run.outlook.items() if reach.best == reach.worst == 1]
    return found[0] if len(found) == 1 else None


def _first_decided(results: list[RatedResult], result: RatedResult) -> bool:
    """Whether ``result`` is the only rated result with a winner."""
    return all(r is result or not r.winners for r in results)
