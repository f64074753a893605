"""The overall leaderboard: points from placements, participation and bonuses, ranked.

Each game awards every team points for its final placement in that game (teams sharing a place
split the points of the places they span) plus participation points; bonus challenges add more.
While a team is still in a game its place is not known, but the lowest it can still end on is:
the points of that place are *secured*, and the points of the best place it can still get are
what it can still reach. Teams are ranked by secured points (which only grow as results come
in, and end as the final points), then by the configured tie-breaks through the generic engine
in :mod:`beerolympics.domain.tiebreaks`; teams still level share a rank. A team that has not
played yet (no result in any game, no recorded match, no bonus) is not ranked.

:class:`Leaderboard` is incremental: it keeps each team's share of each game and applies only the
difference when a game changes, so a result costs time in proportion to that game's teams, not to
all games. Totals are kept as exact fractions and rounded once, so they equal a from-scratch
recompute bit for bit whatever the order of updates: a drifting float total would wrongly split
tied teams. Groups of teams level on points keep their tie-break order until one of them changes.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from fractions import Fraction
from itertools import groupby, pairwise
from typing import Literal, NamedTuple, get_args

import msgspec

from beerolympics.domain.errors import Invalid
from beerolympics.domain.formats.placement import PlaceRange
from beerolympics.domain.tiebreaks import Criterion, Key, Memo, MiniTable, Ranked, rank

TeamId = str
GameId = str

TiebreakName = Literal["first_places", "head_to_head", "point_diff", "wins", "second_places"]
"""A tie-break after total points (which always come first)."""

DEFAULT_TIEBREAKS: tuple[TiebreakName, ...] = ("first_places", "head_to_head", "point_diff")

_TIEBREAKS: dict[str, TiebreakName] = {name: name for name in get_args(TiebreakName)}
_ZERO = Fraction(0)


class PointsTable(msgspec.Struct, frozen=True, kw_only=True):
    """What a game awards: ``placement[i]`` for place ``i + 1``, ``beyond`` for every place
    after the table, and ``participation`` to every team that took part.

    Validate with :func:`check_points_table` where a table enters the system; decoding a stored
    event does not re-check it.
    """

    placement: tuple[float, ...] = (100.0, 75.0, 50.0, 25.0)
    beyond: float = 10.0
    participation: float = 0.0

    def points_for(self, place: int, sharing: int = 1) -> float:
        """Placement points for each of ``sharing`` teams that share ``place`` (1-based).

        They split the points of the places they span evenly: two teams sharing 3rd get
        (50 + 25) / 2 = 37.5 each with the default table.
        """
        if place < 1 or sharing < 1:
            raise Invalid(
                f"place must be >= 1 and sharing >= 1, got {place} and {sharing}",
                code="invalid_placement",
            )
        spanned = self.placement[place - 1 : place - 1 + sharing]
        return (sum(spanned) + self.beyond * (sharing - len(spanned))) / sharing


def check_points_table(table: PointsTable) -> PointsTable:
    """Return ``table`` if it is sound, else raise :class:`Invalid` (``invalid_points_table``).

    Points must be finite and not negative, and must not increase with place: placement points
    are non-increasing and ``beyond`` is at most the last placement value.
    """
    values = {f"placement[{i}]": value for i, value in enumerate(table.placement)}
    values |= {"beyond": table.beyond, "participation": table.participation}
    for key, value in values.items():
        if not (math.isfinite(value) and value >= 0):
            raise _bad_table(key, f"must be finite and not negative, got {value}")
    steps = (*table.placement, table.beyond)
    for index, (earlier, later) in enumerate(pairwise(steps), start=1):
        if later > earlier:
            key = "beyond" if index == len(table.placement) else f"placement[{index}]"
            raise _bad_table(key, f"must not exceed the place before it ({later} > {earlier})")
    return table


def _bad_table(key: str, message: str) -> Invalid:
    return Invalid(f"{key}: {message}", code="invalid_points_table", details={"field": key})


def check_tiebreaks(names: Iterable[str]) -> tuple[TiebreakName, ...]:
    """The tie-break order as typed names; raises :class:`Invalid` (``invalid_tiebreaks``) for an
    unknown or repeated name."""
    checked: list[TiebreakName] = []
    for name in names:
        if name not in _TIEBREAKS:
            known = ", ".join(_TIEBREAKS)
            raise Invalid(f"unknown tie-break {name!r} (known: {known})", code="invalid_tiebreaks")
        if name in checked:
            raise Invalid(f"tie-break {name!r} appears twice", code="invalid_tiebreaks")
        checked.append(_TIEBREAKS[name])
    return tuple(checked)


class GameScore(msgspec.Struct, frozen=True, kw_only=True):
    """A team's result in one game: its final place (``None`` until known), the points secured
    there (placement plus participation: final once the place is known) and the most it can
    still earn there."""

    place: int | None
    points: float
    max_points: float


class LeaderboardRow(msgspec.Struct, frozen=True, kw_only=True):
    """One team's line on the overall leaderboard.

    ``rank`` is shared with the teams it is still tied with, and ``None`` for a team that has
    not played yet. ``points`` are secured points (see the module docstring); ``max_points``
    what the team can still reach; ``provisional`` is true while it is still in a game.
    ``decided_by`` names the criterion ("points" or a tie-break) that separated the team from
    its neighbours, or is ``None`` when it is still tied or alone. Wins, losses, draws and
    ``point_diff`` count every recorded match. Rows are shared between calls: treat
    ``per_game`` as read-only.
    """

    team: TeamId
    rank: int | None
    points: float
    max_points: float
    provisional: bool
    placement_points: float
    participation_points: float
    bonus_points: float
    first_places: int
    second_places: int
    third_places: int
    games_placed: int
    wins: int
    losses: int
    draws: int
    point_diff: float
    decided_by: str | None
    per_game: dict[GameId, GameScore]


class PointsAndReach(NamedTuple):
    """A team's secured points and the most it can still reach (see :class:`LeaderboardRow`)."""

    team: TeamId
    points: float
    max_points: float
    played: bool


class _Share(NamedTuple):
    """What one game gives one team: placement points secured and reachable."""

    place: int | None
    placement: float
    participation: float
    reach: float
    played: bool


_NO_SHARE = _Share(None, 0.0, 0.0, 0.0, False)


class _GameFacts(NamedTuple):
    """What :meth:`Leaderboard.set_game` was last given for a game (copied): the next call
    looks again only at the teams whose facts differ."""

    members: tuple[int, frozenset[TeamId]]  # how many participants, and which
    placements: dict[TeamId, int]
    sharing: Counter[int]  # teams per place
    outlook: dict[TeamId, PlaceRange] | None
    played: frozenset[TeamId]


def _ranked_alike(a: _Share, b: _Share) -> bool:
    """Whether two shares rank a team the same (what it can still reach does not rank it)."""
    return (a.place, a.placement, a.participation, a.played) == (
        b.place,
        b.placement,
        b.participation,
        b.played,
    )


class _Match(NamedTuple):
    team_a: TeamId
    team_b: TeamId
    winner: TeamId | None
    score_a: float | None
    score_b: float | None


class _Tally:
    """Everything known about one team, kept current by applying differences."""

    def __init__(self) -> None:
        self.shares: dict[GameId, _Share] = {}
        self.placement = self.participation = self.diff = self.reach = _ZERO
        self.open = 0  # games it is in without a final place yet
        self.played = 0  # games it has played in
        self.bonus = 0.0
        self.places: Counter[int] = Counter()  # how many games ended on each place
        self.placed = 0
        self.wins = self.losses = self.draws = 0
        # Head-to-head points earned against each opponent; only non-zero entries are kept.
        self.h2h: dict[TeamId, float] = {}
        # Rounded from the exact totals by refresh(), before each ranking.
        self.points = self.point_diff = self.max_points = 0.0
        # What the last refresh() published (points, reach, ranked): ``ranked`` is read live,
        # so whether it moved is told by this, not by reading it before the refresh.
        self.shown: tuple[float, float, bool] = (0.0, 0.0, False)

    def replace_share(self, game_id: GameId, before: _Share | None, after: _Share | None) -> None:
        old, new = before or _NO_SHARE, after or _NO_SHARE
        if new.placement != old.placement:
            self.placement += Fraction(new.placement) - Fraction(old.placement)
        if new.reach != old.reach:
            self.reach += Fraction(new.reach) - Fraction(old.reach)
        was_open = before is not None and before.place is None
        is_open = after is not None and after.place is None
        self.open += is_open - was_open
        self.played += new.played - old.played
        if new.participation != old.participation:
            self.participation += Fraction(new.participation) - Fraction(old.participation)
        if new.place != old.place:
            for place, sign in ((old.place, -1), (new.place, 1)):
                if place is not None:
                    self.places[place] += sign
                    self.placed += sign
        if after is None:
            del self.shares[game_id]
        else:
            self.shares[game_id] = after

    def credit(self, opponent: TeamId, points: float) -> None:
        total = self.h2h.get(opponent, 0.0) + points
        if total:
            self.h2h[opponent] = total
        else:
            del self.h2h[opponent]

    def refresh(self) -> None:
        base = self.participation + Fraction(self.bonus)
        self.points = float(self.placement + base)
        self.max_points = float(self.reach + base)
        self.point_diff = float(self.diff)
        self.shown = (self.points, self.max_points, self.ranked)

    @property
    def ranked(self) -> bool:
        """Whether it has played: in a game, a recorded match, or bonus points."""
        return self.played > 0 or self.bonus != 0 or self.wins + self.losses + self.draws > 0


class Leaderboard:
    """The overall leaderboard of one tournament, updated event by event.

    Facts about games, bonuses and matches may name any team; only teams added with
    :meth:`add_team` are ranked, in the order they were added among teams still tied. Every
    method that changes something bumps :attr:`version`; calls that change nothing leave it.
    """

    def __init__(self, tiebreaks: Sequence[TiebreakName] = DEFAULT_TIEBREAKS) -> None:
        self._tiebreaks = check_tiebreaks(tiebreaks)
        self._teams: dict[TeamId, None] = {}  # a dict keeps add order and removes in O(1)
        self._tallies: dict[TeamId, _Tally] = {}
        self._games: dict[GameId, dict[TeamId, _Share]] = {}
        self._made: dict[GameId, tuple[PointsTable, dict[tuple[int, ...], _Share]]] = {}
        self._facts: dict[GameId, _GameFacts] = {}  # what each game's last set_game was given
        self._matches: dict[Hashable, _Match] = {}
        self._version = 0
        self._rows: list[LeaderboardRow] | None = None
        self._row_cache: dict[TeamId, LeaderboardRow] = {}
        self._dirty: set[TeamId] = set()  # teams whose row data changed since the last rows()
        self._moved: set[TeamId] = set()  # ... of which what ranks them (not only their reach)
        self._stale: set[TeamId] = set()  # teams whose rounded totals need a refresh()
        self._totals_moved = True  # since the last totals_if_moved()
        self._reach: tuple[PointsAndReach, ...] | None = None  # points_and_reach(), until moved
        # Groups level on points as ranked at the last rows(), and how the tie-breaks split
        # them and their tied subsets; both kept until a member changes.
        self._settled: dict[tuple[TeamId, ...], list[Ranked[TeamId]]] = {}
        self._memo: Memo[TeamId] = Memo()

    @property
    def version(self) -> int:
        """Increases with every change; equal versions mean equal :meth:`rows`."""
        return self._version

    def set_tiebreaks(self, tiebreaks: Sequence[TiebreakName]) -> None:
        """Apply ``tiebreaks`` in this order after total points."""
        checked = check_tiebreaks(tiebreaks)
        if checked != self._tiebreaks:
            self._tiebreaks = checked
            self._settled.clear()
            self._memo.clear()
            self._changed()

    def add_team(self, team_id: TeamId) -> None:
        """Rank ``team_id`` (after the teams already added, among teams still tied)."""
        if team_id not in self._teams:
            self._teams[team_id] = None
            self._tally(team_id)
            self._touch(team_id)
            self._totals_moved = True
            self._reach = None
            self._changed()

    def remove_team(self, team_id: TeamId) -> None:
        """Stop ranking ``team_id`` (withdrawn or disqualified).

        What is known about it stays, so other teams keep their wins against it unless the
        caller forgets those matches, and adding it back restores its row.
        """
        if team_id in self._teams:
            del self._teams[team_id]
            self._row_cache.pop(team_id, None)
            self._totals_moved = True
            self._reach = None
            self._changed()

    def set_game(
        self,
        game_id: GameId,
        table: PointsTable,
        participants: Collection[TeamId],
        placements: Mapping[TeamId, int],
        outlook: Mapping[TeamId, PlaceRange] | None = None,
        played: Collection[TeamId] = (),
    ) -> None:
        """Replace everything known about ``game_id``.

        ``placements`` holds the teams whose final place is known (teams sharing a place have
        the same number, as in 1, 2, 3, 3); it may grow, change or shrink as results are
        confirmed or reopened. A participant not placed yet secures the points of the lowest
        position ``outlook`` gives it and can still reach those of its best place (without an
        outlook: any place among the participants). ``played`` (a set, or a dict keyed by team)
        holds the teams that have played in this game. Every participant, and every placed
        team, gets the table's participation points. Costs time in proportion to this game's
        teams only.
        """
        # The same facts give the same share object, kept per game: most teams' shares do not
        # change with a result, and an unchanged share is then found by identity.
        kept = self._made.get(game_id)
        same_table = kept is not None and kept[0] == table
        if kept is None or not same_table:
            kept = self._made[game_id] = (table, {})
        made = kept[1]
        members = (len(participants), frozenset(participants))
        facts = self._facts.get(game_id)
        if (
            same_table
            and facts is not None
            and facts.members == members
            and facts.placements == placements
        ):
            sharing = facts.sharing
        else:
            facts, sharing = None, Counter(placements.values())
        who_played = frozenset(played)
        anyone = PlaceRange(1, max(members[0], 1))

        def share_of(team: TeamId) -> _Share | None:
            mine = team in who_played
            place = placements.get(team)
            if place is not None:
                key: tuple[int, ...] = (0, place, sharing[place], mine)
                share = made.get(key)
                if share is None:
                    points = table.points_for(place, sharing[place])
                    share = made[key] = _Share(place, points, table.participation, points, mine)
                return share
            if team not in members[1]:
                return None
            where = outlook.get(team, anyone) if outlook is not None else anyone
            key = (1, where.best, where.worst, mine)
            share = made.get(key)
            if share is None:
                secured, reach = table.points_for(where.worst), table.points_for(where.best)
                share = made[key] = _Share(None, secured, table.participation, reach, mine)
            return share

        seen = None if outlook is None else dict(outlook)
        self._facts[game_id] = _GameFacts(members, dict(placements), sharing, seen, who_played)
        if facts is not None and (seen is None) == (facts.outlook is None):
            # The same teams and places as last time (most results): only the teams whose
            # outlook or having played changed can have a new share.
            candidates = set(who_played ^ facts.played)
            if seen is not None and facts.outlook is not None:
                candidates.update(team for team, _ in seen.items() - facts.outlook.items())
                candidates.update(facts.outlook.keys() - seen.keys())
            new = dict(self._games.get(game_id, {}))
            for team in candidates:
                share = share_of(team)
                if share is not None:
                    new[team] = share
                else:
                    new.pop(team, None)
            self._replace_game(game_id, new, candidates)
            return
        new = {}
        for team in itertools.chain(placements, (t for t in participants if t not in placements)):
            share = share_of(team)
            if share is not None:  # placed teams and participants always have one
                new[team] = share
        self._replace_game(game_id, new)

    def remove_game(self, game_id: GameId) -> None:
        """Forget ``game_id`` and every point it gave."""
        self._made.pop(game_id, None)
        self._facts.pop(game_id, None)
        self._replace_game(game_id, {})

    def set_bonus(self, team_id: TeamId, points: float) -> None:
        """Set the total bonus points of ``team_id`` (the sum of its approved claims)."""
        if not math.isfinite(points):
            raise Invalid(f"bonus points must be finite, got {points}", code="invalid_points")
        points = float(points)
        tally = self._tally(team_id)
        if tally.bonus != points:
            tally.bonus = points
            self._touch(team_id)
            self._changed()

    def add_bonus(self, team_id: TeamId, delta: float) -> None:
        """Add ``delta`` (possibly negative) to the bonus points of ``team_id``."""
        self.set_bonus(team_id, self._tally(team_id).bonus + delta)

    def record_match(
        self,
        key: Hashable,
        team_a: TeamId,
        team_b: TeamId,
        winner: TeamId | None,
        score_a: float | None = None,
        score_b: float | None = None,
    ) -> None:
        """Record a match of any game for head-to-head, wins and point difference.

        ``winner`` is ``None`` for a draw. Scores count towards the point difference only when
        both are given. Recording the same ``key`` again replaces the earlier record.
        """
        finite = all(score is None or math.isfinite(score) for score in (score_a, score_b))
        if team_a == team_b or winner not in (team_a, team_b, None) or not finite:
            raise Invalid(
                "a match needs two teams, a winner among them (or None) and finite scores, got "
                f"{team_a!r} v {team_b!r} won by {winner!r}, {score_a} to {score_b}",
                code="invalid_match",
            )
        match = _Match(team_a, team_b, winner, score_a, score_b)
        old = self._matches.get(key)
        if old == match:
            return
        if old is not None:
            self._count_match(old, -1)
        self._matches[key] = match
        self._count_match(match, 1)
        self._changed()

    def forget_match(self, key: Hashable) -> None:
        """Drop the match recorded under ``key`` (no-op when there is none)."""
        old = self._matches.pop(key, None)
        if old is not None:
            self._count_match(old, -1)
            self._changed()

    def totals(self) -> dict[TeamId, float]:
        """Each ranked team's points now, without ranking anyone (cheap: for the race)."""
        self._refresh()
        return {team: self._tallies[team].points for team in self._teams}

    def points_and_reach(self) -> tuple[PointsAndReach, ...]:
        """Each ranked team's points, the most it can still reach and whether it has played,
        in the order teams were added, without ranking anyone. The same tuple until one of
        those moves (most results move none: compare it with ``is``)."""
        self._refresh()
        if self._reach is None:
            self._reach = tuple(
                PointsAndReach(team, t.points, t.max_points, t.ranked)
                for team in self._teams
                for t in (self._tallies[team],)
            )
        return self._reach

    def totals_if_moved(self) -> dict[TeamId, float] | None:
        """:meth:`totals`, or None when no ranked team's points moved since the last call
        (most results move nobody's overall points until a game's places are certain)."""
        self._refresh()
        if not self._totals_moved:
            return None
        self._totals_moved = False
        return self.totals()

    def rows(self) -> list[LeaderboardRow]:
        """The ranked leaderboard, best first; cached until the next change."""
        if self._rows is None:
            self._rows = self._build_rows()
        return list(self._rows)

    # -- internals -------------------------------------------------------------------------

    def _tally(self, team_id: TeamId) -> _Tally:
        tally = self._tallies.get(team_id)
        if tally is None:
            tally = self._tallies[team_id] = _Tally()
        return tally

    def _changed(self) -> None:
        self._version += 1
        self._rows = None

    def _replace_game(
        self,
        game_id: GameId,
        new: dict[TeamId, _Share],
        candidates: Collection[TeamId] | None = None,
    ) -> None:
        """Make ``new`` the shares of ``game_id``; with ``candidates``, only those teams'
        shares may differ from the current ones."""
        old = self._games.pop(game_id, {})
        if new:
            self._games[game_id] = new
        # The order changes are applied in does not matter, as every total is exact.
        changed: set[TeamId]
        if candidates is not None:
            changed = {
                team
                for team in candidates
                if (was := old.get(team)) is not (now := new.get(team)) and was != now
            }
        else:
            changed = {
                team
                for team, share in new.items()
                if (was := old.get(team)) is not share and was != share
            }
            changed.update(old.keys() - new.keys())
        for team in changed:
            before, after = old.get(team), new.get(team)
            self._tally(team).replace_share(game_id, before, after)
            if not (before and after and _ranked_alike(before, after)):
                self._moved.add(team)
        if changed:
            self._touch(*changed, moved=False)
            self._changed()

    def _count_match(self, match: _Match, sign: int) -> None:
        a, b = self._tally(match.team_a), self._tally(match.team_b)
        if match.winner is None:
            a.draws += sign
            b.draws += sign
            a.credit(match.team_b, 0.5 * sign)
            b.credit(match.team_a, 0.5 * sign)
        else:
            a_won = match.winner == match.team_a
            winner, loser = (a, b) if a_won else (b, a)
            winner.wins += sign
            loser.losses += sign
            winner.credit(match.team_b if a_won else match.team_a, float(sign))
        if match.score_a is not None and match.score_b is not None:
            diff = sign * (Fraction(match.score_a) - Fraction(match.score_b))
            a.diff += diff
            b.diff -= diff
        self._touch(match.team_a, match.team_b)

    def _touch(self, *teams: TeamId, moved: bool = True) -> None:
        self._dirty.update(teams)
        self._stale.update(teams)
        if moved:
            self._moved.update(teams)

    def _refresh(self) -> None:
        for team in self._stale:
            tally = self._tallies[team]
            before = tally.shown
            tally.refresh()
            if team in self._teams and tally.shown != before:
                self._reach = None
                if tally.points != before[0]:
                    self._totals_moved = True
        self._stale.clear()

    def _build_rows(self) -> list[LeaderboardRow]:
        self._refresh()
        rows: list[LeaderboardRow] = []
        cache = self._row_cache
        for team, position, decided_by in self._ranking():
            row = cache.get(team)
            if row is None or team in self._dirty:
                row = self._row(team, position, decided_by)
            elif row.rank != position or row.decided_by != decided_by:
                row = msgspec.structs.replace(row, rank=position, decided_by=decided_by)
            cache[team] = row
            rows.append(row)
        self._dirty.clear()
        return rows

    def _ranking(self) -> list[tuple[TeamId, int | None, str | None]]:
        """(team, rank, decided_by) best first, as one ``rank`` call with points first gives;
        then the teams that have not played, unranked.

        Teams are grouped by points here and only the groups level on points go through the
        engine, which remembers how it split each tied subset until a member changes: settling
        a big group (everyone out early in every game) is what costs, and a new result moves
        only a few teams.
        """
        self._memo.forget(self._moved)
        tallies = self._tallies
        points = {team: tallies[team].points for team in self._teams if tallies[team].ranked}
        # sorted() is stable, also in reverse, so add order survives among equal points.
        order = sorted(points, key=points.__getitem__, reverse=True)
        groups = [tuple(group) for _, group in groupby(order, key=points.__getitem__)]
        by_points = "points" if len(groups) > 1 else None
        criteria = [self._criterion(name) for name in self._tiebreaks]
        ranking: list[tuple[TeamId, int | None, str | None]] = []
        settled: dict[tuple[TeamId, ...], list[Ranked[TeamId]]] = {}
        position = 1
        for group in groups:
            if len(group) == 1:
                ranking.append((group[0], position, by_points))
            else:
                result = self._settled.get(group)
                if result is None or not self._moved.isdisjoint(group):
                    result = rank(group, criteria, self._memo)
                settled[group] = result
                ranking.extend((r.item, position + r.rank - 1, r.decided_by) for r in result)
            position += len(group)
        self._settled = settled
        self._moved.clear()
        waiting = [team for team in self._teams if team not in points]
        waiting.sort(key=lambda team: tallies[team].points, reverse=True)
        ranking.extend((team, None, None) for team in waiting)
        return ranking

    def _criterion(self, name: TiebreakName) -> Criterion[TeamId]:
        tallies = self._tallies
        if name == "head_to_head":
            return MiniTable(name, self._head_to_head)
        if name == "point_diff":
            return Key(name, lambda team: tallies[team].point_diff)
        if name == "wins":
            return Key(name, lambda team: tallies[team].wins)
        place = 1 if name == "first_places" else 2
        return Key(name, lambda team: tallies[team].places[place])

    def _head_to_head(self, tied: Sequence[TeamId]) -> dict[TeamId, float]:
        """Wins (1) and draws (0.5) of each tied team against the other tied teams only."""
        members = set(tied)
        values: dict[TeamId, float] = {}
        for team in tied:
            h2h = self._tallies[team].h2h
            # Walk the smaller side: few opponents in a big tie, few tied teams in a small one.
            if len(h2h) <= len(members):
                values[team] = sum([p for other, p in h2h.items() if other in members], 0.0)
            else:
                values[team] = sum([h2h.get(other, 0.0) for other in members], 0.0)
        return values

    def _row(self, team: TeamId, position: int | None, decided_by: str | None) -> LeaderboardRow:
        t = self._tallies[team]
        return LeaderboardRow(
            team=team,
            rank=position,
            points=t.points,
            max_points=t.max_points,
            provisional=t.open > 0,
            placement_points=float(t.placement),
            participation_points=float(t.participation),
            bonus_points=t.bonus,
            first_places=t.places[1],
            second_places=t.places[2],
            third_places=t.places[3],
            games_placed=t.placed,
            wins=t.wins,
            losses=t.losses,
            draws=t.draws,
            point_diff=t.point_diff,
            decided_by=decided_by,
            per_game={
                game: GameScore(
                    place=s.place,
                    points=s.placement + s.participation,
                    max_points=s.reach + s.participation,
                )
                for game, s in t.shares.items()
            },
        )
