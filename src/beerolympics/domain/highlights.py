"""Highlights: the moments of a tournament worth telling, found in confirmed results.

Every highlight is found in one confirmed result (a ``ResultConfirmed`` or ``ResultOverridden``)
by comparing the read models just before and just after it; nothing is guessed. The kinds:

``first_blood``
    The tournament's first result with a winner.
``upset``
    The winner's chance to win, as the team ratings saw it just before the match, was below
    :data:`UPSET_CHANCE` of a fair share (under 30 % in a head-to-head, under 10 % in a heat of
    six), and every team of the match had at least :data:`UPSET_MIN_RESULTS` rated results (no
    upset while the model knows nothing).
``nail_biter``
    The closest scores: a head-to-head decided (or drawn) by at most :data:`NAIL_BITER_POINTS`
    point with scores reported, or a heat whose two best times or scores are within
    :data:`NAIL_BITER_RATIO` of each other.
``streak``
    A team's wins in a row across all games (in the order results were confirmed; a loss or a
    draw ends it, a forfeit neither counts nor ends it) reaching 3, 5, 7, 10, then every 5.
``clincher``
    The result after which a game's winner is certain (the ``game`` scope), or after which the
    overall leader cannot be caught on points by anyone (the ``title`` scope).
``perfect_run``
    A game over, won by a team that won every match it played in it (at least two).
``comeback``
    A double-elimination game won by a team that lost a match in it (from the losers'
    bracket), or a team that was once alone in last place overall on points (after every
    team had played) reaching the top three (tournaments of :data:`COMEBACK_MIN_TEAMS` teams
    or more; once per team).
``lead_change``
    A different team is alone at the top of the overall leaderboard, on points, than the
    last team that was (a lead on a tie-break is no lead).

**Corrections.** A highlight stands on the confirmation it was found in. When that result stops
counting — reopened, overridden, voided by an earlier correction, its game removed — the
highlight is retracted by a compensating ``HighlightRetracted`` event and disappears
everywhere; an override's own result is looked at afresh and may make new highlights. Other
highlights are not judged again when later results change: they tell what happened at the
time. A highlight found in a result that was already corrected before it could be recorded is
never recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

from beerolympics.domain.formats.base import HeadToHeadOutcome, HeatOutcome, Outcome
from beerolympics.domain.notifications import digest_id
from beerolympics.domain.ratings import MODEL, RatedResult, Rating
from beerolympics.domain.scoring import PointsAndReach

Kind = Literal[
    "first_blood",
    "upset",
    "nail_biter",
    "streak",
    "clincher",
    "perfect_run",
    "comeback",
    "lead_change",
]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

#: An upset: the winner's chance was below this share of a fair one (1/teams of the match).
UPSET_CHANCE: Final = 0.6
#: ... and every team of the match had at least this many rated results before it.
UPSET_MIN_RESULTS: Final = 2
#: A head-to-head decided by at most this many points (scores reported) is a nail-biter.
NAIL_BITER_POINTS: Final = 1.0
#: A heat whose best two values are within this ratio of the best is a nail-biter.
NAIL_BITER_RATIO: Final = 0.01
#: Coming back from last place overall needs a field at least this big.
COMEBACK_MIN_TEAMS: Final = 6
PODIUM: Final = 3


def stream_id(tournament_id: str) -> str:
    return f"highlights:{tournament_id}"


def highlight_id(tournament_id: str, trigger: int, kind: str, *parts: str) -> str:
    """The same highlight of the same confirmation always has the same id, whichever
    instance finds it."""
    return digest_id("hl", tournament_id, str(trigger), kind, *parts)


@dataclass(frozen=True, slots=True)
class Found:
    """A highlight found in a confirmed result, before it is recorded."""

    kind: Kind
    text: str
    teams: tuple[str, ...]
    detail: dict[str, float | int | str] = field(default_factory=dict)
    #: What tells it apart from another of its kind in the same result (a team, a scope).
    about: str = ""


def upset_chance(result: RatedResult, before: Sequence[Rating]) -> float | None:
    """The winner's chance before the match if winning was an upset, else ``None``."""
    winners = result.winners
    if not winners or any(r.results < UPSET_MIN_RESULTS for r in before):
        return None
    chances = MODEL.predict_win([[MODEL.rating(mu=r.mu, sigma=r.sigma)] for r in before])
    chance = float(chances[result.teams.index(winners[0])])
    return chance if chance < UPSET_CHANCE / len(result.teams) else None


def nail_biter_margin(outcome: Outcome) -> float | None:
    """How close a result was, if it was a nail-biter (points, or the ratio for heats)."""
    if isinstance(outcome, HeadToHeadOutcome):
        if outcome.forfeited is not None or outcome.double_forfeit or outcome.scores is None:
            return None
        a, b = outcome.scores
        margin = abs(a - b)
        return margin if margin <= NAIL_BITER_POINTS and (a or b) else None
    if not isinstance(outcome, HeatOutcome) or outcome.values is None or len(outcome.values) < 2:
        return None
    ranked = sorted(zip(outcome.places, outcome.values, strict=False))
    (first_place, best), (second_place, second) = ranked[0], ranked[1]
    if first_place == second_place or not best:
        return None
    ratio = abs(second - best) / abs(best)
    return round(ratio, 4) if ratio <= NAIL_BITER_RATIO else None


def is_streak_mark(wins: int) -> bool:
    """Wins in a row worth telling: 3, 5, 7, 10, 15, 20, …"""
    return wins in (3, 5, 7) or (wins >= 10 and wins % 5 == 0)


def winning_streak(
    results: Sequence[RatedResult], team: str, appearances: Sequence[int] | None = None
) -> int:
    """``team``'s wins in a row at the end of ``results`` (in confirmation order).

    ``appearances``, when given, are the indices of ``team``'s results in ``results``
    (:attr:`TeamRatings.by_team <beerolympics.domain.ratings.TeamRatings.by_team>`): only
    those are read, instead of every result since the team's last loss.
    """
    wins = 0
    for index in reversed(range(len(results)) if appearances is None else appearances):
        result = results[index]
        if team not in result.teams:
            continue
        if result.winners != (team,):
            break
        wins += 1
    return wins


@dataclass(frozen=True, slots=True)
class Board:
    """What highlights watch on the overall leaderboard."""

    #: The team alone at the top on points (``None`` when shared or nobody scored).
    leader: str | None = None
    #: The team alone in last place, once every team has played.
    last: str | None = None
    podium: frozenset[str] = frozenset()
    #: The leader, when nobody can catch them on points any more.
    champion: str | None = None
    ranked: int = 0


def board_of(teams: Sequence[PointsAndReach]) -> Board:
    """What the overall leaderboard says on points alone: a lead on a tie-break is no lead,
    and the podium is every team with fewer than three teams ahead of it on points."""
    ranked = sorted((t for t in teams if t.played), key=lambda t: -t.points)
    if not ranked:
        return Board()
    top = ranked[0]
    ahead = top.points > 0 and (len(ranked) == 1 or ranked[1].points < top.points)
    leader = top.team if ahead else None
    champion = None
    if leader is not None and len(teams) > 1:
        chasing = max(t.max_points for t in teams if t.team != leader)
        champion = leader if top.points > chasing else None
    bottom = ranked[-1]
    everyone = len(ranked) == len(teams) > 1
    behind = everyone and top.points > 0 and ranked[-2].points > bottom.points
    last = bottom.team if behind else None
    third = ranked[min(PODIUM, len(ranked)) - 1].points
    podium = frozenset(t.team for t in ranked if t.points >= third)
    return Board(leader, last, podium, champion, len(ranked))
