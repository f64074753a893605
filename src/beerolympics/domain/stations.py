"""The station queue: which ready match goes to which free table, and in what order.

Rules: a team is never in two places at once; a team rests ``rest`` after its last match before
it is called again; among the matches that can go, the one that has waited longest goes first
(waiting since it became ready, or since its teams last finished, whichever is later), ties
broken by the order of the game's plan. Pure: the caller passes the clock.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple, TypeVar


class Waiting(NamedTuple):
    """A match whose teams are known and which nobody has called yet (a tuple: there can be
    thousands, built for each look at the queue)."""

    key: str
    game_id: str
    teams: tuple[str, ...]
    ready_since: dt.datetime
    order: int


@dataclass(frozen=True, slots=True)
class Queued:
    """A waiting match with its place in the queue and when it may be called."""

    match: Waiting
    waiting_since: dt.datetime
    eligible_at: dt.datetime
    blocked_by: tuple[str, ...]  # teams busy elsewhere right now


_Keyed = tuple[tuple[dt.datetime, int, str], dt.datetime, Waiting]
_Index = TypeVar("_Index", str, tuple[str, str])
_first = itemgetter(0)
#: Later than any team's last finish: past the last team, every match found is in its place.
_END = dt.datetime.max.replace(tzinfo=dt.UTC)


def _key(match: Waiting, last_finished: Mapping[str, dt.datetime], rest: dt.timedelta) -> _Keyed:
    """A match with its queue order (waiting since, plan order, key) and eligibility."""
    since = eligible = match.ready_since
    for team in match.teams:
        finished = last_finished.get(team)
        if finished is not None:
            since = max(since, finished)
            eligible = max(eligible, finished + rest)
    return (since, match.order, match.key), eligible, match


def _teams(match: Waiting) -> tuple[str, ...]:
    return match.teams or ("",)  # filed under "", a team that never finishes


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _drop(index: dict[_Index, dict[str, Waiting]], at: _Index, spec_id: str) -> None:
    entries = index[at]
    del entries[spec_id]
    if not entries:
        del index[at]


class WaitingQueue:
    """The matches of one game waiting for a table, indexed so that the front of the queue
    is found without ordering all of them (a round robin of 128 teams has thousands, and the
    front is read after every result).

    A match's place is set by the later of its readiness and its teams' last finishes. So
    the front is found team by team, longest-rested first: once the matches among the teams
    looked at fill the front and all began waiting before the next team's last finish, no
    other match can come before them. Until any team of the game has finished, places follow
    readiness alone, and a heap keeps them.
    """

    __slots__ = ("_by_pair", "_by_team", "_heap", "_others", "_waiting")

    def __init__(self) -> None:
        self._waiting: dict[str, Waiting] = {}
        self._by_team: dict[str, dict[str, Waiting]] = {}
        # The same matches again: head-to-heads by their two teams, the others (heats) by team.
        self._by_pair: dict[tuple[str, str], dict[str, Waiting]] = {}
        self._others: dict[str, dict[str, Waiting]] = {}
        self._heap: list[tuple[tuple[dt.datetime, int, str], str, Waiting]] = []

    def __len__(self) -> int:
        return len(self._waiting)

    def __iter__(self) -> Iterator[Waiting]:
        return iter(self._waiting.values())

    def put(self, spec_id: str, match: Waiting) -> None:
        if self._waiting.get(spec_id) == match:
            return
        self.discard(spec_id)
        self._waiting[spec_id] = match
        for team in _teams(match):
            self._by_team.setdefault(team, {})[spec_id] = match
        if len(match.teams) == 2:
            self._by_pair.setdefault(_pair(*match.teams), {})[spec_id] = match
        else:
            for team in _teams(match):
                self._others.setdefault(team, {})[spec_id] = match
        heapq.heappush(self._heap, ((match.ready_since, match.order, match.key), spec_id, match))
        if len(self._heap) > 2 * len(self._waiting) + 64:
            # Mostly entries of matches that stopped waiting: start again from what waits.
            self._heap = [((m.ready_since, m.order, m.key), s, m) for s, m in self._waiting.items()]
            heapq.heapify(self._heap)

    def discard(self, spec_id: str) -> None:
        match = self._waiting.pop(spec_id, None)
        if match is None:
            return
        for team in set(_teams(match)):
            _drop(self._by_team, team, spec_id)
            if len(match.teams) != 2:
                _drop(self._others, team, spec_id)
        if len(match.teams) == 2:
            _drop(self._by_pair, _pair(*match.teams), spec_id)

    def head(
        self,
        count: int,
        last_finished: Mapping[str, dt.datetime],
        rest: dt.timedelta,
        without: Collection[str] = (),
    ) -> list[_Keyed]:
        """The first ``count`` of this queue, in order, leaving out the matches of the teams
        ``without`` (busy or resting, when looking for a match to call)."""
        if count <= 0:
            return []
        if without or any(team in last_finished for team in self._by_team):
            return self._scan(count, last_finished, rest, without)
        heap = self._heap  # nobody has finished: every place is the match's readiness
        taken: list[tuple[tuple[dt.datetime, int, str], str, Waiting]] = []
        while heap and len(taken) < count:
            entry = heapq.heappop(heap)
            if self._waiting.get(entry[1]) is entry[2]:
                taken.append(entry)  # else the match stopped waiting, or was replaced
        for entry in taken:
            heapq.heappush(heap, entry)
        return [_key(match, last_finished, rest) for _, _, match in taken]

    def apart(
        self,
        count: int,
        last_finished: Mapping[str, dt.datetime],
        rest: dt.timedelta,
        without: Set[str],
    ) -> list[_Keyed]:
        """The first ``count`` matches of this queue that tables could take one after
        another: read in order, a match is taken unless it has a team of ``without`` or of
        a match taken before it."""
        taken = set(without)
        chosen: list[_Keyed] = []
        seen: set[str] = set()  # teams looked at, and not taken
        left = {team for team in self._by_team if team not in taken}

        def take(keyed: _Keyed) -> bool:
            """Take a match unless a team of it is taken; whether that is all there is."""
            teams = keyed[2].teams
            if not any(t in taken for t in teams):
                chosen.append(keyed)
                taken.update(teams)
                seen.difference_update(teams)
                left.difference_update(teams)
            # Every team taken (a game's tables outnumber its teams free to play), or one left
            # with no match of its own: reading on finds nothing.
            return len(chosen) == count or (
                len(left) < 2
                and not any(
                    all(t in left for t in _teams(match))
                    for team in left
                    for match in self._by_team[team].values()
                )
            )

        if count <= 0:
            return chosen
        if not any(team in last_finished for team in self._by_team):
            heap = self._heap  # nobody has finished: every place is the match's readiness
            popped = []
            while heap:
                entry = heapq.heappop(heap)
                if self._waiting.get(entry[1]) is entry[2]:
                    popped.append(entry)
                    if take(_key(entry[2], last_finished, rest)):
                        break
            for entry in popped:
                heapq.heappush(heap, entry)
            return chosen
        # As :meth:`_scan` reads the queue, team by team; a match found is in its place once
        # every match not looked at yet must come after it.
        teams = sorted(
            (t for t in self._by_team if t not in taken),
            key=lambda t: (t in last_finished, last_finished.get(t)),
        )
        found: list[_Keyed] = []  # a heap
        for i, team in enumerate(teams):
            seen.add(team)
            for match in self._completed(team, seen):  # none with a team taken
                heapq.heappush(found, _key(match, last_finished, rest))
            later = last_finished.get(teams[i + 1]) if i + 1 < len(teams) else _END
            while found and later is not None and found[0][0][0] < later:
                if take(heapq.heappop(found)):
                    return chosen
        return chosen

    def _completed(self, team: str, seen: Collection[str]) -> list[Waiting]:
        """The matches of ``team`` whose other teams are all ``seen``."""
        # A match is looked at once: with the last of its teams in this order. A team has a
        # match with most others (a round robin): while few teams have been looked at, its
        # head-to-heads with them are looked up rather than all of its matches read.
        mine = self._by_team[team]
        if len(seen) < len(mine):
            found = [
                match
                for other in seen
                for match in self._by_pair.get(_pair(team, other), {}).values()
            ]
            found += [
                match
                for match in self._others.get(team, {}).values()
                if all(t in seen for t in _teams(match))
            ]
            return found
        return [
            match
            for match in mine.values()
            if (
                match.teams[0] in seen and match.teams[1] in seen
                if len(match.teams) == 2  # head to head, nearly all: spelled out
                else all(t in seen for t in _teams(match))
            )
        ]

    def _scan(
        self,
        count: int,
        last_finished: Mapping[str, dt.datetime],
        rest: dt.timedelta,
        without: Collection[str],
    ) -> list[_Keyed]:
        # Teams that never finished first, then by last finish.
        teams = sorted(
            (t for t in self._by_team if t not in without),
            key=lambda t: (t in last_finished, last_finished.get(t)),
        )
        seen: set[str] = set()
        front: list[_Keyed] = []  # the best ``count`` so far, in order
        for i, team in enumerate(teams):
            seen.add(team)
            for match in self._completed(team, seen):
                keyed = _key(match, last_finished, rest)
                if len(front) < count or keyed[0] < front[-1][0]:
                    bisect.insort(front, keyed, key=_first)
                    del front[count:]
            if len(front) == count and i + 1 < len(teams):
                later = last_finished.get(teams[i + 1])
                # Every match not looked at has a team that finished at ``later`` or after.
                if later is not None and front[-1][0][0] < later:
                    break
        return front


def _queued(chosen: Iterable[_Keyed], busy: Collection[str]) -> list[Queued]:
    return [
        Queued(match, order[0], eligible, tuple(t for t in match.teams if t in busy))
        for order, eligible, match in chosen
    ]


def heads(
    queues: Mapping[str, WaitingQueue],
    *,
    busy: Collection[str],
    last_finished: Mapping[str, dt.datetime],
    rest: dt.timedelta,
    limit: int,
    per_game: Mapping[str, int],
    without: Collection[str] = (),
) -> tuple[list[Queued], dict[str, list[Queued]]]:
    """The first ``limit`` of the whole queue, and the first ``per_game[g]`` of game ``g``'s
    own queue (``queues[g]``), reading only the front of each game's queue; the matches of
    the teams ``without`` left out."""
    game_heads = {
        game: waiting.head(max(limit, per_game.get(game, 0)), last_finished, rest, without)
        for game, waiting in queues.items()
    }
    # The whole queue's head lies among the heads of the games' queues.
    overall = heapq.nsmallest(limit, itertools.chain.from_iterable(game_heads.values()), _first)
    return _queued(overall, busy), {
        game: _queued(game_heads.get(game, [])[:count], busy) for game, count in per_game.items()
    }


def assign(
    queued: Sequence[Queued],
    free_stations: Mapping[str, Sequence[str]],
    *,
    now: dt.datetime,
) -> list[tuple[Waiting, str]]:
    """Calls to make now: ``(match, station id)``, first come first served per game.

    ``free_stations`` maps a game to its free stations in preference order. A team is used at
    most once per call, so nobody is sent to two tables.
    """
    free = {game: list(stations) for game, stations in free_stations.items()}
    taken: set[str] = set()
    calls: list[tuple[Waiting, str]] = []
    for entry in queued:
        match = entry.match
        stations = free.get(match.game_id)
        if not stations or entry.blocked_by or entry.eligible_at > now:
            continue
        if taken.intersection(match.teams):
            continue
        calls.append((match, stations.pop(0)))
        taken.update(match.teams)
    return calls


def takes_next(
    queues: Mapping[str, WaitingQueue],
    free: Mapping[str, int],
    *,
    busy: Collection[str],
    last_finished: Mapping[str, dt.datetime],
    rest: dt.timedelta,
) -> dict[str, list[Queued]]:
    """What the ``free[g]`` free tables of each game ``g`` take next, one after another: its
    queue read in order, leaving out matches with a team busy or taken by a table before
    (:meth:`WaitingQueue.apart`; the games in the order given)."""
    taken = set(busy)
    picked: dict[str, list[Queued]] = {}
    for game, count in free.items():
        queue = queues.get(game)
        if queue is None or count <= 0:
            continue
        chosen = queue.apart(count, last_finished, rest, taken)
        taken.update(team for _, _, match in chosen for team in match.teams)
        picked[game] = _queued(chosen, ())
    return picked
