"""League tables for round robin, Swiss and groups, ranked with the generic tie-break engine.

Match points come first, then the configured tie-breaks in order; teams still level share a rank
unless ``seed_fallback`` is set (groups feeding a playoff need a strict order, so the initial
seed decides last).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from beerolympics.domain import tiebreaks
from beerolympics.domain.formats.base import (
    SETTLED_STATES,
    HeadToHeadOutcome,
    Resolution,
    ResolvedMatch,
    TeamId,
)
from beerolympics.domain.formats.options import TiebreakName


class StandingRow(msgspec.Struct, frozen=True, kw_only=True):
    """One team's line in a table. ``played`` counts real matches (forfeits too), not byes."""

    team: TeamId
    rank: int
    played: int
    wins: int
    draws: int
    losses: int
    byes: int
    points_for: float
    points_against: float
    point_diff: float
    match_points: float
    buchholz: float
    median_buchholz: float
    sonneborn_berger: float


class StandingsTable(msgspec.Struct, frozen=True, kw_only=True):
    """A ranked table; ``name`` is the group name ("" for a single table)."""

    name: str
    rows: tuple[StandingRow, ...]
    complete: bool


@dataclass(frozen=True, slots=True)
class Scoring:
    """Match points per result; ``bye`` is what a sit-out or Swiss bye is worth."""

    win: float = 3.0
    draw: float = 1.0
    loss: float = 0.0
    bye: float = 0.0


class _Tally:
    __slots__ = ("byes", "draws", "losses", "mp", "opponents", "pa", "pf", "played", "wins")

    def __init__(self) -> None:
        self.played = self.wins = self.draws = self.losses = self.byes = 0
        self.pf = self.pa = self.mp = 0.0
        self.opponents: list[tuple[TeamId, float]] = []


def compute_table(
    name: str,
    teams: Sequence[TeamId],
    matches: Iterable[ResolvedMatch],
    scoring: Scoring,
    order: Sequence[TiebreakName],
    *,
    seed_fallback: bool = False,
) -> StandingsTable:
    """Rank ``teams`` (in seed order) by the results of ``matches``."""
    tally = {team: _Tally() for team in teams}
    head_to_head: dict[tuple[TeamId, TeamId], float] = defaultdict(float)
    complete = True
    for match in matches:
        complete = complete and match.state in SETTLED_STATES
        if match.state == "bye" and match.winner in tally:
            tally[match.winner].byes += 1
            tally[match.winner].mp += scoring.bye
        elif match.state == "played":
            _record(match, tally, head_to_head, scoring)
    mp = {team: t.mp for team, t in tally.items()}
    extra = {team: _opponent_scores(t, mp) for team, t in tally.items()}
    criteria: list[tiebreaks.Criterion[TeamId]] = [
        tiebreaks.Key("match_points", lambda team: tally[team].mp)
    ]
    criteria.extend(_criterion(key, tally, extra, head_to_head) for key in order)
    if seed_fallback:
        seed = {team: index for index, team in enumerate(teams)}
        criteria.append(tiebreaks.Key("seed", lambda team: seed[team], higher_is_better=False))
    rows = []
    for ranked in tiebreaks.rank(list(teams), criteria):
        t = tally[ranked.item]
        buchholz, median, sonneborn = extra[ranked.item]
        rows.append(
            StandingRow(
                team=ranked.item,
                rank=ranked.rank,
                played=t.played,
                wins=t.wins,
                draws=t.draws,
                losses=t.losses,
                byes=t.byes,
                points_for=t.pf,
                points_against=t.pa,
                point_diff=t.pf - t.pa,
                match_points=t.mp,
                buchholz=buchholz,
                median_buchholz=median,
                sonneborn_berger=sonneborn,
            )
        )
    return StandingsTable(name=name, rows=tuple(rows), complete=complete)


def _record(
    match: ResolvedMatch,
    tally: Mapping[TeamId, _Tally],
    head_to_head: dict[tuple[TeamId, TeamId], float],
    scoring: Scoring,
) -> None:
    a, b = match.teams
    outcome = match.outcome
    if a not in tally or b not in tally or outcome is None:
        return
    ta, tb = tally[a], tally[b]
    ta.played += 1
    tb.played += 1
    if match.winner is None and len(match.losers) == 2:
        results = (0.0, 0.0)
    elif match.winner is None:
        results = (0.5, 0.5)
    else:
        results = (1.0, 0.0) if match.winner == a else (0.0, 1.0)
    if isinstance(outcome, HeadToHeadOutcome) and outcome.forfeited is None and outcome.scores:
        ta.pf += outcome.scores[0]
        ta.pa += outcome.scores[1]
        tb.pf += outcome.scores[1]
        tb.pa += outcome.scores[0]
    for me, team, other, result in ((ta, a, b, results[0]), (tb, b, a, results[1])):
        me.opponents.append((other, result))
        if result == 1.0:
            me.wins += 1
            points = scoring.win
        elif result == 0.5:
            me.draws += 1
            points = scoring.draw
        else:
            me.losses += 1
            points = scoring.loss
        me.mp += points
        head_to_head[team, other] += points


def point_bounds(
    teams: Sequence[TeamId],
    resolution: Resolution,
    scoring: Scoring,
    gains: tuple[float, float],
    *,
    rounds: int | None = None,
) -> dict[TeamId, tuple[float, float]]:
    """Each team's least and most match points at the end: what it has now plus, for every
    match it still has to play, the least and most one match can give (``gains``). Matches
    still to play are its open ones in ``resolution``, or, with ``rounds`` (Swiss: later
    rounds are not paired yet), ``rounds`` less the ones it has finished. Reads the teams'
    records, so it costs the teams, not the matches."""
    least, most = gains
    bounds = {}
    for team in teams:
        wins, draws, losses, byes, still = resolution.record(team)
        have = wins * scoring.win + draws * scoring.draw + losses * scoring.loss
        have += byes * scoring.bye
        left = still if rounds is None else max(rounds - wins - draws - losses - byes, 0)
        bounds[team] = (have + left * least, have + left * most)
    return bounds


def _opponent_scores(t: _Tally, mp: Mapping[TeamId, float]) -> tuple[float, float, float]:
    scores = sorted(mp[opponent] for opponent, _ in t.opponents)
    buchholz = sum(scores)
    # Median Buchholz drops the best and the worst opponent, when there are enough to drop.
    median = sum(scores[1:-1]) if len(scores) >= 3 else buchholz
    sonneborn = sum(mp[opponent] * result for opponent, result in t.opponents)
    return buchholz, median, sonneborn


def _criterion(
    key: TiebreakName,
    tally: Mapping[TeamId, _Tally],
    extra: Mapping[TeamId, tuple[float, float, float]],
    head_to_head: Mapping[tuple[TeamId, TeamId], float],
) -> tiebreaks.Criterion[TeamId]:
    if key == "head_to_head":

        def mini_table(tied: Sequence[TeamId]) -> dict[TeamId, float]:
            return {
                team: sum(head_to_head.get((team, other), 0.0) for other in tied if other != team)
                for team in tied
            }

        return tiebreaks.MiniTable(key, mini_table)
    if key == "point_diff":
        return tiebreaks.Key(key, lambda team: tally[team].pf - tally[team].pa)
    if key == "points_for":
        return tiebreaks.Key(key, lambda team: tally[team].pf)
    if key == "points_against":
        return tiebreaks.Key(key, lambda team: tally[team].pa, higher_is_better=False)
    if key == "wins":
        return tiebreaks.Key(key, lambda team: float(tally[team].wins))
    index = {"buchholz": 0, "median_buchholz": 1, "sonneborn_berger": 2}[key]
    return tiebreaks.Key(key, lambda team: extra[team][index])
