"""A match's life: called to a station, played, reported, confirmed or disputed, resolved.

:class:`MatchRecord` folds one match stream. Who plays is not stored here: the game's plan and
confirmed outcomes decide it (``formats.resolve``), and every decision below receives the
resolved match. Decisions are pure: record, resolution and command in, events out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from beerolympics.domain import events as ev
from beerolympics.domain.commands import ReportResult
from beerolympics.domain.errors import Conflict, Forbidden, Invalid
from beerolympics.domain.formats import places_from_values, validate_outcome
from beerolympics.domain.formats.base import (
    HeadToHeadOutcome,
    HeatOutcome,
    MatchSpec,
    Outcome,
    ResolvedMatch,
)
from beerolympics.domain.identity import Actor, ActorRole, require_any
from beerolympics.domain.tournament import GameConfig

Phase = Literal["open", "called", "in_progress", "submitted", "disputed", "confirmed", "reopened"]
#: Phases in which the teams are at the station.
AT_STATION: frozenset[str] = frozenset(("called", "in_progress"))
#: Phases in which the result may be reported: at the station, or reopened by an organizer (the
#: match was played; its result is entered again, and nobody needs to be at a table for that).
REPORTABLE: frozenset[str] = AT_STATION | {"reopened"}
OFFICIALS: tuple[ActorRole, ...] = ("organizer", "referee")


def stream_id(tournament_id: str, game_id: str, spec_id: str) -> str:
    return f"match:{tournament_id}:{game_id}:{spec_id}"


def match_key(game_id: str, spec_id: str) -> str:
    """The id clients use for a match: game and plan id, e.g. ``gm_k2x9.W1-3``."""
    return f"{game_id}.{spec_id}"


@dataclass(slots=True)
class HistoryEntry:
    """One line of a match's audit trail: what happened, when, and who did it (a role, and
    the credential for people)."""

    at: dt.datetime
    position: int
    type: str
    summary: str
    by: str


@dataclass(slots=True)
class MatchRecord:
    """Everything one match's stream says, folded. ``version`` is the stream version."""

    game_id: str
    spec_id: str
    version: int = 0
    phase: Phase = "open"
    station_id: str | None = None
    called_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    submitted: Outcome | None = None
    submitted_by: str | None = None
    submitted_at: dt.datetime | None = None
    deadline: dt.datetime | None = None
    dispute: str | None = None
    disputed_by: str | None = None
    outcome: Outcome | None = None
    confirmed_at: dt.datetime | None = None
    confirmed_by: str | None = None
    flagged: str | None = None
    history: list[HistoryEntry] = field(default_factory=list)

    def _clear_report(self) -> None:
        self.submitted = self.submitted_by = self.submitted_at = self.deadline = None
        self.dispute = self.disputed_by = None


def _called(r: MatchRecord, e: ev.MatchCalled, at: dt.datetime) -> str:
    r.phase, r.station_id, r.called_at = "called", e.station_id, at
    return f"called to {e.station_id}" + (" by the queue" if e.auto else "")


def _started(r: MatchRecord, e: ev.MatchStarted, at: dt.datetime) -> str:
    r.phase, r.started_at = "in_progress", at
    return "started"


def _submitted(r: MatchRecord, e: ev.ResultSubmitted, at: dt.datetime) -> str:
    r.phase, r.submitted, r.submitted_by, r.submitted_at, r.deadline = (
        "submitted",
        e.outcome,
        e.team_id,
        at,
        e.deadline,
    )
    return f"result reported by {e.team_id or 'an official'}"


def _confirmed(r: MatchRecord, e: ev.ResultConfirmed, at: dt.datetime) -> str:
    r._clear_report()
    r.phase, r.outcome, r.confirmed_at, r.confirmed_by = "confirmed", e.outcome, at, e.by
    r.flagged = None
    return {"opponent": "confirmed by the other side", "official": "confirmed by an official"}.get(
        e.by, "confirmed automatically after the deadline"
    )


def _disputed(r: MatchRecord, e: ev.ResultDisputed, at: dt.datetime) -> str:
    r.phase, r.dispute, r.disputed_by = "disputed", e.reason, e.team_id
    return f"disputed: {e.reason}"


def _overridden(r: MatchRecord, e: ev.ResultOverridden, at: dt.datetime) -> str:
    r._clear_report()
    r.phase, r.outcome, r.confirmed_at, r.confirmed_by = "confirmed", e.outcome, at, "official"
    r.flagged = None
    return f"result set by an organizer: {e.reason}"


def _replay(r: MatchRecord, e: ev.ReplayOrdered, at: dt.datetime) -> str:
    r._clear_report()
    r.phase = "in_progress"
    return f"replay ordered: {e.reason}"


def _reopened(r: MatchRecord, e: ev.ResultReopened, at: dt.datetime) -> str:
    # It waits for its result again; its teams are free (nobody is at a table for it).
    r.phase, r.outcome, r.confirmed_at, r.confirmed_by, r.flagged = (
        "reopened",
        None,
        None,
        None,
        None,
    )
    return f"reopened: {e.reason}"


def _reset(r: MatchRecord, e: ev.MatchReset, at: dt.datetime) -> str:
    r._clear_report()
    r.phase, r.station_id, r.called_at, r.started_at = "open", None, None, None
    return f"reset: {e.reason}"


def _flagged(r: MatchRecord, e: ev.MatchFlagged, at: dt.datetime) -> str:
    r.flagged = e.reason
    return f"flagged: {e.reason}"


_FOLD: dict[type[ev.Event], Callable[[MatchRecord, Any, dt.datetime], str]] = {
    ev.MatchCalled: _called,
    ev.MatchStarted: _started,
    ev.ResultSubmitted: _submitted,
    ev.ResultConfirmed: _confirmed,
    ev.ResultDisputed: _disputed,
    ev.ResultOverridden: _overridden,
    ev.ReplayOrdered: _replay,
    ev.ResultReopened: _reopened,
    ev.MatchReset: _reset,
    ev.MatchFlagged: _flagged,
}
MATCH_EVENTS = frozenset(_FOLD)


def evolve(
    record: MatchRecord, event: ev.Event, at: dt.datetime, position: int, version: int, by: str
) -> None:
    """Apply one match-stream event in place; ``by`` says who did it, for the audit trail."""
    summary = _FOLD[type(event)](record, event, at)
    record.version = version
    record.history.append(HistoryEntry(at, position, type(event).__name__, summary, by))


# -- results ---------------------------------------------------------------------------------


def outcome_from_report(
    spec: MatchSpec, teams: Sequence[str], game: GameConfig, cmd: ReportResult
) -> Outcome:
    """Turn a reported result into the format's outcome for these participants, or refuse it."""
    if spec.kind == "heat":
        return _heat_outcome(spec, teams, game, cmd)
    if cmd.places is not None or cmd.values is not None:
        raise Invalid("a head-to-head result has a winner and a score", code="invalid_result")
    score: tuple[float, float] | None = None
    if cmd.score is not None:
        if set(cmd.score) != set(teams):
            raise Invalid("give a score for both teams of this match", code="invalid_result")
        score = (cmd.score[teams[0]], cmd.score[teams[1]])
    if cmd.winner is not None and cmd.winner not in teams:
        raise Invalid("the winner must be one of the two teams", code="invalid_result")
    if cmd.draw:
        if cmd.winner is not None:
            raise Invalid("a draw has no winner", code="score_contradicts_winner")
        if not spec.allow_ties:
            raise Invalid("this match cannot end in a draw", code="ties_not_allowed")
        if score is not None and score[0] != score[1]:
            raise Invalid("a draw needs equal scores", code="score_contradicts_winner")
        outcome: Outcome = HeadToHeadOutcome(winner=None, scores=score, teams=tuple(teams))
    else:
        winner = _winner(spec, teams, game, cmd.winner, score)
        outcome = HeadToHeadOutcome(winner=winner, scores=score, teams=tuple(teams))
    validate_outcome(spec, outcome)
    return outcome


def _winner(
    spec: MatchSpec,
    teams: Sequence[str],
    game: GameConfig,
    declared: str | None,
    score: tuple[float, float] | None,
) -> int:
    by_score: int | None = None
    if score is not None and score[0] != score[1]:
        higher = 0 if score[0] > score[1] else 1
        # In a series the score is games won, and more games always wins.
        by_score = 1 - higher if game.lower_score_wins and spec.best_of == 1 else higher
    if declared is None:
        if by_score is None:
            code = "ties_not_allowed" if not spec.allow_ties else "invalid_result"
            raise Invalid("say who won (or report a draw)", code=code)
        return by_score
    winner = teams.index(declared)
    if score is not None and by_score != winner:
        raise Invalid("the score says the other team won", code="score_contradicts_winner")
    return winner


def _heat_outcome(
    spec: MatchSpec, teams: Sequence[str], game: GameConfig, cmd: ReportResult
) -> Outcome:
    if cmd.winner is not None or cmd.score is not None or cmd.draw:
        raise Invalid("a heat result gives places or times per team", code="invalid_result")
    given = cmd.places if cmd.places is not None else cmd.values
    if given is None or (cmd.places is not None and cmd.values is not None):
        raise Invalid("give either places or values for every team", code="invalid_result")
    if set(given) != set(teams):
        raise Invalid(
            "give exactly one entry for every team in this heat", code="invalid_placements"
        )
    direction: Literal["lower", "higher"] = "higher" if game.heat_scoring == "higher" else "lower"
    values: tuple[float, ...] | None = None
    if cmd.places is not None:
        places = tuple(cmd.places[t] for t in teams)
    else:
        values = tuple(float(given[t]) for t in teams)
        places = places_from_values(values, direction)
    ordered = sorted(places)
    if any(place != 1 + ordered.index(place) for place in ordered):
        raise Invalid(
            f"places must rank every team like 1, 2, 2, 4 — got {sorted(places)}",
            code="invalid_placements",
        )
    direction_literal: Literal["lower", "higher"] = (
        "higher" if game.heat_scoring == "higher" else "lower"
    )
    outcome = HeatOutcome(
        places=places, values=values, direction=direction_literal, teams=tuple(teams)
    )
    validate_outcome(spec, outcome)
    return outcome


# -- decisions -------------------------------------------------------------------------------


def _is_official(actor: Actor) -> bool:
    return actor.role in OFFICIALS


def _require_participant(actor: Actor, tournament_id: str, resolved: ResolvedMatch) -> None:
    """A captain of a team in this match, or an official."""
    require_any(actor, tournament_id, "organizer", "referee", "captain", "player")
    if _is_official(actor):
        return
    if actor.team_id not in resolved.teams:
        raise Forbidden("your team is not in this match", code="not_in_match")
    if actor.role != "captain":
        raise Forbidden("only a team's captain reports and confirms", code="captain_only")


_OVERRIDE_HINT = (
    "; an organizer changes a result with POST …/override (or reopens it with POST …/reopen)"
)


def _require_teams_known(resolved: ResolvedMatch) -> None:
    if resolved.state == "pending":
        raise Conflict("who plays this match is not known yet", code="match_not_ready")
    if resolved.state == "bye":
        raise Conflict("this match is a bye: nobody plays it", code="match_not_played")
    if resolved.state == "void":
        raise Conflict("this match is not needed (void)", code="match_not_played")


def call(
    tournament_id: str,
    record: MatchRecord,
    resolved: ResolvedMatch,
    actor: Actor,
    station_id: str,
    *,
    auto: bool = False,
) -> list[ev.Event]:
    require_any(actor, tournament_id, *OFFICIALS)
    _require_teams_known(resolved)
    if record.phase not in ("open", "called", "reopened"):
        raise Conflict("this match is already being played", code="match_in_progress")
    if record.phase == "called" and record.station_id == station_id:
        return []
    return [
        ev.MatchCalled(
            game_id=record.game_id,
            match_id=record.spec_id,
            station_id=station_id,
            teams=list(resolved.teams),
            auto=auto,
        )
    ]


def start(
    tournament_id: str, record: MatchRecord, resolved: ResolvedMatch, actor: Actor
) -> list[ev.Event]:
    _require_participant(actor, tournament_id, resolved)
    _require_teams_known(resolved)
    if record.phase == "in_progress":
        return []
    if record.phase not in ("open", "called", "reopened"):
        raise Conflict(
            "this match has already been played" + _OVERRIDE_HINT, code="match_already_played"
        )
    return [
        ev.MatchStarted(game_id=record.game_id, match_id=record.spec_id, teams=list(resolved.teams))
    ]


def submit(
    tournament_id: str,
    record: MatchRecord,
    resolved: ResolvedMatch,
    spec: MatchSpec,
    game: GameConfig,
    actor: Actor,
    cmd: ReportResult,
    *,
    now: dt.datetime,
    timeout_seconds: int,
) -> list[ev.Event]:
    """A captain reports (the other side confirms later); an official's report counts at once.

    A called match needs no start first: the teams are at its table already. An official may
    also record a match nobody called (results from a paper sheet); a captain starts an uncalled
    match first, which checks that both teams are free.
    """
    _require_participant(actor, tournament_id, resolved)
    _require_teams_known(resolved)
    if record.phase == "submitted":
        raise Conflict("a result is already waiting for confirmation", code="result_pending")
    if record.phase == "disputed":
        raise Conflict("the result is disputed; an organizer decides", code="match_disputed")
    if record.phase == "confirmed":
        flagged = f" (flagged: {record.flagged})" if record.flagged else ""
        raise Conflict(
            f"this match already has a result{flagged}" + _OVERRIDE_HINT,
            code="match_already_played",
        )
    reportable = {"open"} | REPORTABLE if _is_official(actor) else REPORTABLE
    if record.phase not in reportable:
        raise Conflict("the match is not in progress: start it first", code="match_not_in_progress")
    outcome = outcome_from_report(spec, resolved.teams, game, cmd)
    if _is_official(actor):
        return [
            ev.ResultConfirmed(
                game_id=record.game_id, match_id=record.spec_id, outcome=outcome, by="official"
            )
        ]
    return [
        ev.ResultSubmitted(
            game_id=record.game_id,
            match_id=record.spec_id,
            outcome=outcome,
            team_id=actor.team_id,
            deadline=now + dt.timedelta(seconds=timeout_seconds),
        )
    ]


def _require_other_side(
    tournament_id: str, record: MatchRecord, resolved: ResolvedMatch, actor: Actor
) -> None:
    _require_participant(actor, tournament_id, resolved)
    if record.phase != "submitted":
        raise Conflict("there is no reported result waiting", code="nothing_to_confirm")
    if not _is_official(actor) and actor.team_id == record.submitted_by:
        raise Forbidden(
            "the other side confirms a result, not the side that reported it",
            code="cannot_confirm_own_result",
        )


def confirm(
    tournament_id: str, record: MatchRecord, resolved: ResolvedMatch, actor: Actor
) -> list[ev.Event]:
    _require_other_side(tournament_id, record, resolved, actor)
    assert record.submitted is not None  # phase "submitted" always carries it
    return [
        ev.ResultConfirmed(
            game_id=record.game_id,
            match_id=record.spec_id,
            outcome=record.submitted,
            by="official" if _is_official(actor) else "opponent",
            team_id=actor.team_id,
        )
    ]


def dispute(
    tournament_id: str, record: MatchRecord, resolved: ResolvedMatch, actor: Actor, reason: str
) -> list[ev.Event]:
    _require_other_side(tournament_id, record, resolved, actor)
    return [
        ev.ResultDisputed(
            game_id=record.game_id, match_id=record.spec_id, team_id=actor.team_id, reason=reason
        )
    ]


def confirm_after_deadline(record: MatchRecord, now: dt.datetime) -> list[ev.Event]:
    """Nobody confirmed or disputed in time: the reported result counts."""
    if record.phase != "submitted" or record.deadline is None or now < record.deadline:
        return []
    assert record.submitted is not None
    return [
        ev.ResultConfirmed(
            game_id=record.game_id, match_id=record.spec_id, outcome=record.submitted, by="deadline"
        )
    ]


def resolve_dispute(
    tournament_id: str,
    record: MatchRecord,
    actor: Actor,
    action: Literal["accept", "override", "replay"],
    reason: str,
    override: Outcome | None = None,
) -> list[ev.Event]:
    """An organizer settles a dispute: the report stands, another result, or play again."""
    require_any(actor, tournament_id, "organizer")
    if record.phase != "disputed":
        raise Conflict("this match has no open dispute", code="no_dispute")
    base = {"game_id": record.game_id, "match_id": record.spec_id}
    if action == "accept":
        assert record.submitted is not None
        return [ev.ResultConfirmed(**base, outcome=record.submitted, by="official")]
    if action == "replay":
        return [ev.ReplayOrdered(**base, reason=reason)]
    if override is None:
        raise Invalid("an override needs the result", code="invalid_result")
    return [ev.ResultOverridden(**base, outcome=override, reason=reason)]


def set_result(
    tournament_id: str,
    record: MatchRecord,
    resolved: ResolvedMatch,
    actor: Actor,
    outcome: Outcome,
    reason: str,
) -> list[ev.Event]:
    """An official decides the result outright (correction, forfeit), with a reason."""
    require_any(actor, tournament_id, *OFFICIALS)
    _require_teams_known(resolved)
    return [
        ev.ResultOverridden(
            game_id=record.game_id, match_id=record.spec_id, outcome=outcome, reason=reason
        )
    ]


def reopen(tournament_id: str, record: MatchRecord, actor: Actor, reason: str) -> list[ev.Event]:
    require_any(actor, tournament_id, "organizer")
    if record.phase != "confirmed":
        raise Conflict("only a confirmed result can be reopened", code="not_confirmed")
    return [ev.ResultReopened(game_id=record.game_id, match_id=record.spec_id, reason=reason)]


def forfeit_outcome(spec: MatchSpec, teams: Sequence[str], forfeiting: Sequence[str]) -> Outcome:
    """The outcome when ``forfeiting`` teams do not play (all of them: a double forfeit)."""
    if not forfeiting or any(t not in teams for t in forfeiting):
        raise Invalid("name teams of this match", code="invalid_result")
    if spec.kind == "heat":
        raise Invalid(
            "in a heat the others still race: report the places with the absent team last",
            code="forfeit_in_heat",
        )
    if len(set(forfeiting)) == 2:
        return HeadToHeadOutcome(winner=None, double_forfeit=True, teams=tuple(teams))
    lost = teams.index(forfeiting[0])
    return HeadToHeadOutcome(winner=1 - lost, forfeited=lost, teams=tuple(teams))
