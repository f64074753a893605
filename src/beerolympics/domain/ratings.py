"""Team ratings across every game of a tournament: openskill's Plackett-Luce model.

Every result that counts — a head-to-head won, lost or drawn, a heat with its places — is a
:class:`RatedResult`; forfeits and byes are not (nobody played). Ratings are the fold of the
model over the results *in the order they were confirmed* (the log position of the event that
made each one count as it is now). That order is part of the definition, so a result confirmed
after the others is one more update, while a result that changes or stops counting (an override,
a reopen, a bracket reshuffled by an earlier correction) makes everything after it be rated
again: :meth:`TeamRatings.update` folds on from the nearest checkpoint before it, and the result
is what :meth:`TeamRatings.from_scratch` gives for the same results — the property the tests
check on random sequences.

A team's rating is ``mu - 3·sigma`` (openskill's ordinal): conservative, 0 before any result,
growing as the model becomes sure a team is good.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from openskill.models import PlackettLuce

from beerolympics.domain.formats.base import HeadToHeadOutcome, HeatOutcome, Participant

#: The model with openskill's defaults (mu 25, sigma 25/3, tau 25/300); stateless.
MODEL: Final = PlackettLuce()
#: Ratings are kept before every this many results, so a correction refolds at most the
#: results after the checkpoint before it.
CHECKPOINT_EVERY: Final = 32

MatchRef = tuple[str, str]
"""(game id, match id within the game)."""


class Rating(NamedTuple):
    """One team's rating: the model's belief (``mu``, ``sigma``) and how many results made it."""

    mu: float
    sigma: float
    results: int = 0

    @property
    def ordinal(self) -> float:
        """The rating shown and ranked on: ``mu - 3·sigma``."""
        return self.mu - 3 * self.sigma


INITIAL: Final = Rating(MODEL.mu, MODEL.sigma)


@dataclass(frozen=True, slots=True)
class RatedResult:
    """A result that counts for ratings: its teams and their ranks (1 is best; equal ranks
    drew). ``order`` is the log position of the confirmation that made it count."""

    order: int
    match: MatchRef
    teams: tuple[str, ...]
    ranks: tuple[int, ...]

    @property
    def winners(self) -> tuple[str, ...]:
        """The team that came first alone, or nobody (a draw for first)."""
        best = [t for t, r in zip(self.teams, self.ranks, strict=True) if r == 1]
        return tuple(best) if len(best) == 1 else ()


def rated(
    order: int,
    match: MatchRef,
    participants: tuple[Participant, ...],
    outcome: HeadToHeadOutcome | HeatOutcome,
) -> RatedResult | None:
    """The rated form of a played match, or ``None`` when it does not count (a forfeit, a
    double forfeit, fewer than two teams)."""
    teams: list[str] = []
    ranks: list[int] = []
    if isinstance(outcome, HeatOutcome):
        for slot, place in zip(participants, outcome.places, strict=False):
            if isinstance(slot, str):
                teams.append(slot)
                ranks.append(place)
    else:
        if outcome.forfeited is not None or outcome.double_forfeit:
            return None
        for index, slot in enumerate(participants):
            if isinstance(slot, str):
                teams.append(slot)
                ranks.append(1 if outcome.winner in (None, index) else 2)
    if len(teams) < 2:
        return None
    return RatedResult(order, match, tuple(teams), tuple(ranks))


def rate(ratings: Mapping[str, Rating], result: RatedResult) -> list[Rating]:
    """The ratings of ``result``'s teams after it, from ``ratings`` before it."""
    before = [ratings.get(team, INITIAL) for team in result.teams]
    after = MODEL.rate(
        [[MODEL.rating(mu=r.mu, sigma=r.sigma)] for r in before], ranks=list(result.ranks)
    )
    return [
        Rating(new[0].mu, new[0].sigma, old.results + 1)
        for old, new in zip(before, after, strict=True)
    ]


def win_probability(ratings: Mapping[str, Rating], teams: Iterable[str]) -> list[float]:
    """Each team's chance to come first against the others, as the model sees it."""
    return list(
        MODEL.predict_win(
            [
                [MODEL.rating(mu=r.mu, sigma=r.sigma)]
                for r in (ratings.get(t, INITIAL) for t in teams)
            ]
        )
    )


@dataclass(slots=True)
class TeamRatings:
    """The ratings of one tournament's teams, kept up to date as results come and go."""

    #: Rated results in order.
    results: list[RatedResult] = field(default_factory=list)
    by_match: dict[MatchRef, RatedResult] = field(default_factory=dict)
    ratings: dict[str, Rating] = field(default_factory=dict)
    #: The ratings of each result's teams just before it (what an upset is judged on).
    before: dict[MatchRef, tuple[Rating, ...]] = field(default_factory=dict)
    #: ``checkpoints[i]``: all ratings before ``results[i * CHECKPOINT_EVERY]``.
    checkpoints: list[dict[str, Rating]] = field(default_factory=list)
    #: How many results were rated (again) by the last :meth:`update`: 1 for a new result.
    last_refolded: int = 0
    #: Each team's results, as indices into ``results`` in order (a team's latest results
    #: are found without reading everyone else's).
    by_team: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def from_scratch(cls, results: Iterable[RatedResult]) -> TeamRatings:
        """The ratings the model gives ``results`` folded in their order."""
        fresh = cls()
        fresh.update({r.match: r for r in results})
        return fresh

    def rating(self, team: str) -> Rating:
        return self.ratings.get(team, INITIAL)

    def ordinals(self) -> dict[str, float]:
        return {team: rating.ordinal for team, rating in self.ratings.items()}

    def update(self, changes: Mapping[MatchRef, RatedResult | None]) -> None:
        """Results that now count (or count differently), and those that no longer do
        (``None``). Results after every other one are folded on; anything else refolds from
        the checkpoint before the first result that moved."""
        folded = len(self.results)
        moved: list[int] = []
        for match, result in changes.items():
            old = self.by_match.get(match)
            if old == result:
                continue
            if old is not None:
                at = self.results.index(
                    old, bisect.bisect_left(self.results, old.order, key=_order)
                )
                del self.results[at]
                del self.by_match[match]
                self.before.pop(match, None)
                moved.append(at)
            if result is not None:
                at = bisect.bisect_right(self.results, result.order, key=_order)
                self.results.insert(at, result)
                self.by_match[match] = result
                moved.append(at)
        if not moved:
            self.last_refolded = 0
            return
        first = min(moved)
        if first >= folded:
            # Only new results after all the others (the usual case): fold them on.
            self._fold(first, self.ratings)
        else:
            block = first // CHECKPOINT_EVERY
            del self.checkpoints[block + 1 :]
            start = block * CHECKPOINT_EVERY
            # results[:start] did not move: each team keeps its indices below ``start``.
            for team, indices in list(self.by_team.items()):
                del indices[bisect.bisect_left(indices, start) :]
                if not indices:
                    del self.by_team[team]
            self._fold(start, dict(self.checkpoints[block]))

    def _fold(self, start: int, ratings: dict[str, Rating]) -> None:
        """Fold ``results[start:]`` into ``ratings`` (the ratings before ``results[start]``),
        keeping a checkpoint at the start of every block."""
        for i in range(start, len(self.results)):
            if i % CHECKPOINT_EVERY == 0 and i // CHECKPOINT_EVERY == len(self.checkpoints):
                self.checkpoints.append(dict(ratings))
            result = self.results[i]
            self.before[result.match] = tuple(ratings.get(t, INITIAL) for t in result.teams)
            for team in result.teams:
                self.by_team.setdefault(team, []).append(i)
            ratings.update(zip(result.teams, rate(ratings, result), strict=True))
        self.ratings = ratings
        self.last_refolded = len(self.results) - start


def _order(result: RatedResult) -> int:
    return result.order
