"""Resolve a plan against confirmed outcomes: who plays where, and what state each match is in.

Resolution is a single pass over the plan's matches in order (a match only refers to earlier
ones), so it is O(matches). Removing or changing an outcome and resolving again gives the new
truth, and :func:`diff_resolutions` tells the service which matches changed participants. When
the caller knows which outcomes changed since a previous resolution, only those matches and the
ones depending on them are resolved again (:class:`Increment`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import NamedTuple, TypeVar

from beerolympics.domain.formats.base import (
    BYE,
    SETTLED_STATES,
    ByeSlot,
    FormatError,
    GroupRank,
    HeadToHeadOutcome,
    HeatOutcome,
    HeatQualifier,
    LoserOf,
    MatchChange,
    MatchId,
    MatchSpec,
    MatchState,
    Outcome,
    Participant,
    Resolution,
    ResolvedMatch,
    Source,
    TeamId,
    TeamSlot,
    WinnerOf,
    count_record,
)
from beerolympics.domain.formats.plan import Plan

SourceResolver = Callable[[GroupRank | HeatQualifier, Mapping[MatchId, ResolvedMatch]], Participant]
"""Resolves the sources only a format understands (group ranks, heat qualifiers)."""

INVALID_OUTCOME = "invalid_outcome"
INVALID_PLAN = "invalid_plan"


class Increment(NamedTuple):
    """A resolution to start from, and the matches whose outcome changed since it was made."""

    previous: Resolution
    changed: Collection[MatchId]
    #: Update ``previous`` rather than copy it: for a holder that replaces it with the result
    #: and reads it no more (copying a round robin's thousands of matches per result is most
    #: of the work otherwise). ``previous`` is not valid afterwards.
    in_place: bool = False


_PlanFacts = TypeVar("_PlanFacts")


def per_plan(compute: Callable[[Plan], _PlanFacts]) -> Callable[[Plan], _PlanFacts]:
    """Cache ``compute`` per plan object. A plan is immutable but hashing one walks every
    match, so the cache is keyed by identity and holds the plan, which keeps its id unique."""
    cache: dict[int, tuple[Plan, _PlanFacts]] = {}

    @functools.wraps(compute)
    def cached(plan: Plan) -> _PlanFacts:
        hit = cache.get(id(plan))
        if hit is not None and hit[0] is plan:
            return hit[1]
        if len(cache) >= 64:
            cache.clear()
        facts = compute(plan)
        cache[id(plan)] = (plan, facts)
        return facts

    return cached


@per_plan
def positions(plan: Plan) -> dict[MatchId, int]:
    """Each match's index in the plan (its place in dependency order)."""
    return {spec.id: i for i, spec in enumerate(plan.matches)}


@per_plan
def dependents(plan: Plan) -> dict[MatchId, tuple[MatchId, ...]]:
    """For each match, the matches that read its result directly.

    Winner/loser sources and conditions name their match; a group rank reads every match of
    its group; a heat qualifier reads every heat of its round.
    """
    groups: dict[str, list[MatchId]] = {}
    rounds: dict[int, list[MatchId]] = {}
    for spec in plan.matches:
        if spec.section.startswith("group:"):
            groups.setdefault(spec.section[6:], []).append(spec.id)
        if spec.kind == "heat":
            rounds.setdefault(spec.round, []).append(spec.id)
    readers: dict[MatchId, set[MatchId]] = {}
    for spec in plan.matches:
        sources: list[MatchId] = []
        for src in spec.slots:
            if isinstance(src, WinnerOf | LoserOf):
                sources.append(src.match)
            elif isinstance(src, GroupRank):
                sources.extend(groups.get(src.group, ()))
            elif isinstance(src, HeatQualifier):
                sources.extend(rounds.get(src.round, ()))
        if spec.condition is not None:
            sources.append(spec.condition.match)
        for source in sources:
            readers.setdefault(source, set()).add(spec.id)
    return {match: tuple(sorted(ids)) for match, ids in readers.items()}


def affected(plan: Plan, changed: Iterable[MatchId]) -> set[MatchId]:
    """``changed`` and every match that depends on them, directly or not."""
    graph = dependents(plan)
    seen = set(changed)
    todo = list(seen)
    while todo:
        for reader in graph.get(todo.pop(), ()):
            if reader not in seen:
                seen.add(reader)
                todo.append(reader)
    return seen


def resolve_plan(
    plan: Plan,
    outcomes: Mapping[MatchId, Outcome],
    special: SourceResolver | None = None,
    *,
    since: Increment | None = None,
) -> Resolution:
    """Resolve every match of ``plan``; ``special`` handles format-specific sources.

    With ``since``, only the changed matches and those depending on them are resolved again;
    the others are taken from the previous resolution (same result as resolving from scratch,
    at the cost of the part of the plan that can have changed).
    """
    specs: Iterable[MatchSpec] = plan.matches
    done: dict[MatchId, ResolvedMatch] = {}
    records: dict[TeamId, list[int]] = {}
    unsettled = -1  # counted by Resolution unless kept up here
    if since is not None and len(since.previous.matches) == len(plan.matches):
        # The same plan: walk only the affected matches, in plan order.
        previous = since.previous
        if since.in_place:
            done, records = previous.matches, previous.records or {}
        else:
            done = dict(previous.matches)
            records = {team: list(counts) for team, counts in (previous.records or {}).items()}
        order = positions(plan)
        todo = sorted(order[m] for m in affected(plan, since.changed) if m in order)
        specs = [plan.matches[i] for i in todo]
        unsettled = previous.unsettled - sum(not done[s.id].settled for s in specs)
        for spec in specs:
            count_record(records, done[spec.id], -1)
    participant, get = _participant, outcomes.get
    for spec in specs:
        slots = spec.slots
        parts: tuple[Participant, ...]
        try:
            # Head-to-head matches dominate; building their pair directly is measurably faster.
            if len(slots) == 2:
                parts = (participant(slots[0], done, special), participant(slots[1], done, special))
            else:
                parts = tuple([participant(src, done, special) for src in slots])
            resolved = done[spec.id] = _resolve_match(spec, parts, get(spec.id), done)
        except KeyError as error:
            raise FormatError(
                INVALID_PLAN, f"{spec.id} refers to {error.args[0]}, which is not before it"
            ) from None
        count_record(records, resolved, 1)
    if unsettled >= 0:
        unsettled += sum(not done[s.id].settled for s in specs)
    return Resolution(done, unsettled, records)


def _participant(
    src: Source, done: Mapping[MatchId, ResolvedMatch], special: SourceResolver | None
) -> Participant:
    if type(src) is WinnerOf:
        m = done[src.match]
        if m.state in SETTLED_STATES:
            return BYE if m.winner is None else m.winner
        return None
    if type(src) is LoserOf:
        m = done[src.match]
        if m.state in SETTLED_STATES:
            # After a bye, a void or a double forfeit there is no single loser to send on.
            return m.losers[0] if len(m.losers) == 1 else BYE
        return None
    if type(src) is TeamSlot:
        return src.team
    if type(src) is ByeSlot:
        return BYE
    if special is not None and isinstance(src, GroupRank | HeatQualifier):
        return special(src, done)
    raise FormatError(INVALID_PLAN, f"this format cannot resolve {src!r}")


def _resolve_match(
    spec: MatchSpec,
    parts: tuple[Participant, ...],
    outcome: Outcome | None,
    done: Mapping[MatchId, ResolvedMatch],
) -> ResolvedMatch:
    condition = spec.condition
    if condition is not None:
        decider = done[condition.match]
        if decider.state not in SETTLED_STATES:
            return ResolvedMatch(
                id=spec.id, state="pending", participants=parts, stale=outcome is not None
            )
        if decider.winner is None or decider.participants[condition.slot] != decider.winner:
            return ResolvedMatch(
                id=spec.id, state="void", participants=parts, stale=outcome is not None
            )
    if None in parts:
        return ResolvedMatch(
            id=spec.id, state="pending", participants=parts, stale=outcome is not None
        )
    if len(parts) == 2 and type(parts[0]) is str and type(parts[1]) is str:
        teams: tuple[TeamId, ...] = parts  # type: ignore[assignment]
    else:
        teams = tuple([p for p in parts if isinstance(p, str)])
    if len(teams) < 2:
        state: MatchState = "bye" if teams else "void"
        winner = teams[0] if teams else None
        return ResolvedMatch(
            id=spec.id, state=state, participants=parts, winner=winner, stale=outcome is not None
        )
    if outcome is None:
        return ResolvedMatch(id=spec.id, state="ready", participants=parts)
    if outcome.teams is not None and outcome.teams != teams:
        return ResolvedMatch(id=spec.id, state="ready", participants=parts, stale=True)
    if isinstance(outcome, HeadToHeadOutcome):
        if spec.kind != "head_to_head":
            raise FormatError(INVALID_OUTCOME, f"{spec.id} is a heat, not a head-to-head match")
        if outcome.double_forfeit:
            return ResolvedMatch(
                id=spec.id, state="played", participants=parts, losers=teams, outcome=outcome
            )
        if outcome.winner is None:
            if not spec.allow_ties:
                raise FormatError(INVALID_OUTCOME, f"{spec.id} cannot end in a tie")
            return ResolvedMatch(id=spec.id, state="played", participants=parts, outcome=outcome)
        if outcome.winner not in (0, 1):
            raise FormatError(INVALID_OUTCOME, f"{spec.id}: winner must be slot 0 or 1")
        return ResolvedMatch(
            id=spec.id,
            state="played",
            participants=parts,
            winner=teams[outcome.winner],
            losers=(teams[1 - outcome.winner],),
            outcome=outcome,
        )
    if spec.kind != "heat":
        raise FormatError(INVALID_OUTCOME, f"{spec.id} is head-to-head, not a heat")
    if len(outcome.places) != len(parts):
        raise FormatError(INVALID_OUTCOME, f"{spec.id}: one place per slot is required")
    return ResolvedMatch(id=spec.id, state="played", participants=parts, outcome=outcome)


def diff_resolutions(before: Resolution, after: Resolution) -> tuple[MatchChange, ...]:
    """The matches whose participants differ between ``before`` and ``after``, in plan order.

    Also reported, even with the same participants: a match that became void or stopped being
    void (a grand-final reset no longer or newly needed), and one whose stored result stopped
    applying (``stale``, e.g. the reset after the first grand final was reopened). A match
    present in only one of them is reported with ``None`` on the other side.
    """
    changes: list[MatchChange] = []
    old = before.matches
    for match_id, now in after.matches.items():
        was = old.get(match_id)
        if (
            was is None
            or was.participants != now.participants
            or (was.state == "void") != (now.state == "void")
            or (now.stale and not was.stale)
        ):
            changes.append(
                MatchChange(
                    id=match_id,
                    before=None if was is None else was.participants,
                    after=now.participants,
                    state_before=None if was is None else was.state,
                    state_after=now.state,
                )
            )
    for match_id, was in old.items():
        if match_id not in after.matches:
            changes.append(
                MatchChange(
                    id=match_id,
                    before=was.participants,
                    after=None,
                    state_before=was.state,
                    state_after=None,
                )
            )
    return tuple(changes)


def validate_outcome(spec: MatchSpec, outcome: Outcome) -> None:
    """Refuse an outcome that cannot belong to ``spec`` (raise ``FormatError``)."""
    if isinstance(outcome, HeadToHeadOutcome):
        _validate_head_to_head(spec, outcome)
    else:
        _validate_heat(spec, outcome)


def _validate_head_to_head(spec: MatchSpec, outcome: HeadToHeadOutcome) -> None:
    def bad(message: str) -> FormatError:
        return FormatError(INVALID_OUTCOME, f"{spec.id}: {message}")

    if spec.kind != "head_to_head":
        raise bad("a heat needs a heat outcome")
    if outcome.double_forfeit:
        if outcome.winner is not None or outcome.forfeited is not None:
            raise bad("a double forfeit has no winner and no single forfeiting side")
        return
    if outcome.winner is None:
        if not spec.allow_ties:
            raise bad("this match cannot end in a tie")
        if outcome.forfeited is not None:
            raise bad("a forfeit always has a winner")
    elif outcome.winner not in (0, 1):
        raise bad("winner must be slot 0 or 1")
    if outcome.forfeited is not None:
        if outcome.forfeited not in (0, 1) or outcome.winner != 1 - outcome.forfeited:
            raise bad("the side that did not forfeit must be the winner")
        return
    if outcome.scores is None:
        return
    if outcome.winner is None:
        if outcome.scores[0] != outcome.scores[1]:
            raise bad("a tie needs equal scores")
        return
    if spec.best_of > 1:
        # Scores of a series are games won; points may mean anything in a single game.
        needed = spec.best_of // 2 + 1
        won, lost = outcome.scores[outcome.winner], outcome.scores[1 - outcome.winner]
        if won != needed or not 0 <= lost < needed or lost != int(lost):
            raise bad(f"a best of {spec.best_of} is won {needed} games to fewer")


def _validate_heat(spec: MatchSpec, outcome: HeatOutcome) -> None:
    def bad(message: str) -> FormatError:
        return FormatError(INVALID_OUTCOME, f"{spec.id}: {message}")

    if spec.kind != "heat":
        raise bad("a head-to-head match needs a head-to-head outcome")
    if len(outcome.places) != len(spec.slots):
        raise bad("one place per slot is required")
    if outcome.values is not None and len(outcome.values) != len(spec.slots):
        raise bad("one value per slot is required")
    ordered = sorted(outcome.places)
    for place in ordered:
        # Competition ranking: a place equals 1 + the number of strictly better places.
        if place != 1 + ordered.index(place):
            raise bad(f"places {outcome.places} are not a ranking like (1, 1, 3)")


def team_slots(spec: MatchSpec) -> tuple[TeamId, ...]:
    """The fixed teams of a match whose slots are all known up front (round robin, Swiss)."""
    return tuple([s.team for s in spec.slots if isinstance(s, TeamSlot)])
