"""The vocabulary every format speaks: slot sources, match specs, outcomes, plans, resolutions.

Everything here is a frozen ``msgspec.Struct`` so the service can store it inside events and read
it back unchanged. A plan only *describes* matches; who actually plays in a slot is derived by
``resolve`` from the plan and the confirmed outcomes, never stored, so reopening a result can never
leave stale participants behind.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from beerolympics.domain.errors import Invalid

TeamId = str
MatchId = str

Section = str
"""winners, losers, grand_final, third_place, round_robin, group:<name>, playoff, swiss, heats."""

MatchKind = Literal["head_to_head", "heat"]
MatchState = Literal["pending", "ready", "played", "bye", "void"]
SETTLED_STATES: frozenset[str] = frozenset(("played", "bye", "void"))


class FormatError(Invalid, ValueError):
    """Bad input to a format: options, team list, plan or outcome.

    ``code`` is stable for machines (``invalid_format_options``, ``not_enough_teams``,
    ``duplicate_team``, ``invalid_outcome``, ``invalid_plan``, ``unknown_format``...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


# -- slot sources ------------------------------------------------------------------------------


class TeamSlot(msgspec.Struct, frozen=True, tag="team"):
    """A team known when the plan is built."""

    team: TeamId


class ByeSlot(msgspec.Struct, frozen=True, tag="bye"):
    """Nobody: the other side of the match advances without playing."""


class WinnerOf(msgspec.Struct, frozen=True, tag="winner"):
    """Whoever advances from ``match`` (a bye when the match produced nobody)."""

    match: MatchId


class LoserOf(msgspec.Struct, frozen=True, tag="loser"):
    """The single loser of ``match`` (a bye after a bye, a void or a double forfeit)."""

    match: MatchId


class GroupRank(msgspec.Struct, frozen=True, tag="group_rank"):
    """The team finishing ``rank`` (1-based) in group ``group`` once the group is complete."""

    group: str
    rank: int


class HeatQualifier(msgspec.Struct, frozen=True, tag="heat_qualifier"):
    """The ``rank``-th best (1-based) qualifier out of heat round ``round`` once it is complete."""

    round: int
    rank: int


Source = TeamSlot | ByeSlot | WinnerOf | LoserOf | GroupRank | HeatQualifier

BYE = ByeSlot()
"""The one bye value used in resolved participants (compare with ``is``)."""


class SlotWon(msgspec.Struct, frozen=True, tag="slot_won"):
    """Condition: the match exists only if slot ``slot`` of ``match`` won it."""

    match: MatchId
    slot: int


Condition = SlotWon


# -- matches and outcomes --------------------------------------------------------------------


class MatchSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One match (or heat) of a plan: where its participants come from and how it is played."""

    id: MatchId
    round: int
    label: str
    section: Section
    slots: tuple[Source, ...]
    kind: MatchKind = "head_to_head"
    best_of: int = 1
    allow_ties: bool = False
    condition: Condition | None = None


class HeadToHeadOutcome(msgspec.Struct, frozen=True, kw_only=True, tag="head_to_head"):
    """A confirmed head-to-head result.

    ``winner`` is the winning slot index, or ``None`` for a tie (only where the match allows ties)
    or a double forfeit. ``scores`` are per slot (series game wins for best-of-N). ``forfeited`` is
    the slot that forfeited (the other slot must be the winner). A double forfeit means both lose:
    downstream they count as byes, so their next opponents advance. ``teams`` are the participants
    the result was confirmed for; when given and no longer matching, the outcome is ignored as
    stale (the organizer changed an earlier result).
    """

    winner: int | None = None
    scores: tuple[float, float] | None = None
    forfeited: int | None = None
    double_forfeit: bool = False
    teams: tuple[TeamId, ...] | None = None


class HeatOutcome(msgspec.Struct, frozen=True, kw_only=True, tag="heat"):
    """A confirmed heat result: 1-based places per slot (ties share: (1, 1, 3)).

    ``values`` are optional raw times or scores per slot; ``direction`` says which is better.
    They only break ties at an advancement cut, places decide everything else.
    """

    places: tuple[int, ...]
    values: tuple[float, ...] | None = None
    direction: Literal["lower", "higher"] = "lower"
    teams: tuple[TeamId, ...] | None = None


Outcome = HeadToHeadOutcome | HeatOutcome


def win(slot: int, scores: tuple[float, float] | None = None) -> HeadToHeadOutcome:
    """Slot ``slot`` won."""
    return HeadToHeadOutcome(winner=slot, scores=scores)


def tie(scores: tuple[float, float] | None = None) -> HeadToHeadOutcome:
    """A draw (only valid where the match allows ties)."""
    return HeadToHeadOutcome(winner=None, scores=scores)


def forfeit(forfeiting_slot: int) -> HeadToHeadOutcome:
    """Slot ``forfeiting_slot`` forfeited; the other slot wins."""
    return HeadToHeadOutcome(winner=1 - forfeiting_slot, forfeited=forfeiting_slot)


def double_forfeit() -> HeadToHeadOutcome:
    """Both sides forfeited: both lose and count as byes downstream."""
    return HeadToHeadOutcome(winner=None, double_forfeit=True)


# -- resolution ------------------------------------------------------------------------------

Participant = TeamId | ByeSlot | None
"""A team, ``BYE``, or ``None`` while not known yet."""


class ResolvedMatch(msgspec.Struct, frozen=True, kw_only=True):
    """What is known about one match right now.

    ``winner`` is the team that advances (played or bye); ``losers`` holds the losing team, or both
    teams after a double forfeit. ``stale`` is true when an outcome is stored for the match but does
    not apply (its participants changed or are not known any more).
    """

    id: MatchId
    state: MatchState
    participants: tuple[Participant, ...]
    winner: TeamId | None = None
    losers: tuple[TeamId, ...] = ()
    outcome: Outcome | None = None
    stale: bool = False

    @property
    def settled(self) -> bool:
        """True once nothing can happen in this match any more (played, bye or void)."""
        return self.state in SETTLED_STATES

    @property
    def teams(self) -> tuple[TeamId, ...]:
        """The participants that are actual teams."""
        return tuple([p for p in self.participants if isinstance(p, str)])


#: A team's head-to-head record in a resolution: indexes into its list of counts.
WINS, DRAWS, LOSSES, BYES, OPEN = range(5)


def count_record(records: dict[TeamId, list[int]], match: ResolvedMatch, sign: int) -> None:
    """Add (``sign`` 1) or take back (-1) what ``match`` adds to its teams' records: a win, a
    draw or a loss (both sides of a double forfeit lose), a bye, or a match still to play.
    Heats count only as matches still to play. A team whose counts all fall to zero is dropped,
    so a record kept up to date equals one counted afresh."""
    state = match.state
    counts: tuple[tuple[TeamId, int], ...]
    if state == "played":
        if type(match.outcome) is not HeadToHeadOutcome:
            return
        if match.winner is not None:
            counts = ((match.winner, WINS), (match.losers[0], LOSSES))
        else:
            kind = LOSSES if len(match.losers) == 2 else DRAWS
            counts = tuple((team, kind) for team in match.teams)
    elif state == "bye":
        if match.winner is None:
            return
        counts = ((match.winner, BYES),)
    elif state == "void":
        return
    else:
        counts = tuple((p, OPEN) for p in match.participants if type(p) is str)
    for team, index in counts:
        record = records.get(team)
        if record is None:
            record = records[team] = [0, 0, 0, 0, 0]
        record[index] += sign
        if sign < 0 and not any(record):
            del records[team]


class Resolution(msgspec.Struct, frozen=True):
    """Every match of a plan resolved against the confirmed outcomes, in plan order.

    ``unsettled`` counts the matches not settled yet (counted when omitted). ``records`` holds
    each team's head-to-head record (see :func:`count_record`; counted when omitted), which
    league tables read without going through every match again.
    """

    matches: dict[MatchId, ResolvedMatch]
    unsettled: int = -1
    records: dict[TeamId, list[int]] | None = None

    def __post_init__(self) -> None:
        if self.unsettled < 0:
            count = sum(m.state not in SETTLED_STATES for m in self.matches.values())
            msgspec.structs.force_setattr(self, "unsettled", count)
        if self.records is None:
            records: dict[TeamId, list[int]] = {}
            for match in self.matches.values():
                count_record(records, match, 1)
            msgspec.structs.force_setattr(self, "records", records)

    def record(self, team: TeamId) -> list[int]:
        """``team``'s counts (see :data:`WINS`...): wins, draws, losses, byes, still to play."""
        return (self.records or {}).get(team) or [0, 0, 0, 0, 0]

    def __getitem__(self, match: MatchId) -> ResolvedMatch:
        return self.matches[match]

    def winner(self, match: MatchId) -> TeamId | None:
        """The team that advanced from ``match`` (``None`` if none yet, or nobody)."""
        return self.matches[match].winner

    def loser(self, match: MatchId) -> TeamId | None:
        """The single loser of ``match``, if any."""
        losers = self.matches[match].losers
        return losers[0] if len(losers) == 1 else None

    def in_state(self, *states: MatchState) -> list[ResolvedMatch]:
        """The matches currently in any of ``states``, in plan order."""
        return [m for m in self.matches.values() if m.state in states]

    @property
    def complete(self) -> bool:
        """True when every match is settled."""
        return self.unsettled == 0


class MatchChange(msgspec.Struct, frozen=True, kw_only=True):
    """A match whose participants differ between two resolutions.

    The service resets a changed match that has no result (``was_played`` false) and flags one
    that does, because its result was confirmed for other participants.
    """

    id: MatchId
    before: tuple[Participant, ...] | None
    after: tuple[Participant, ...] | None
    state_before: MatchState | None
    state_after: MatchState | None

    @property
    def was_played(self) -> bool:
        """True when the match had a confirmed result in the earlier resolution."""
        return self.state_before == "played"
