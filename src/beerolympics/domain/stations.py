"""The station queue: which ready match goes to which free table, and in what order.

Rules: a team is never in two places at once; a team rests ``rest`` after its last match before
it is called again; among the matches that can go, the one that has waited longest goes first
(waiting since it became ready, or since its teams last finished, whichever is later), ties
broken by the order of the game's plan. Pure: the caller passes the clock.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Set
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
    ) -> list[_Keyed]:
        """The first ``count`` of this queue, in order."""
        return list(itertools.islice(self.in_order(last_finished, rest, frozenset()), count))

    def in_order(
        self, last_finished: Mapping[str, dt.datetime], rest: dt.timedelta, taken: Set[str]
    ) -> Iterator[_Keyed]:
        """This queue's matches in order, but those with a team in ``taken``: a set the reader
        may add to as it goes (a team taken is looked for no more). Ends early once no match
        is left whose teams are all free."""
        left = {team for team in self._by_team if team not in taken}
        known = len(taken)
        seen: set[str] = set()  # teams looked at, and not taken

        def stuck() -> bool:
            # Every team taken (tables outnumber the teams free to play), or one left with no
            # match of its own: reading on finds nothing.
            nonlocal left, known
            if len(taken) == known:
                return False
            left, known = {team for team in left if team not in taken}, len(taken)
            seen.intersection_update(left)
            return len(left) < 2 and not any(
                all(t in left for t in _teams(match))
                for team in left
                for match in self._by_team[team].values()
            )

        if not any(team in last_finished for team in self._by_team):
            # Nobody has finished: every place is the match's readiness, the heap's order. The
            # heap is walked, not popped: parents before children, the smallest first.
            heap = self._heap
            frontier = [(heap[0], 0)] if heap else []
            while frontier and not stuck():
                entry, i = heapq.heappop(frontier)
                for child in (2 * i + 1, 2 * i + 2):
                    if child < len(heap):
                        heapq.heappush(frontier, (heap[child], child))
                match = entry[2]
                if self._waiting.get(entry[1]) is match and not any(
                    t in taken for t in match.teams
                ):
                    yield _key(match, last_finished, rest)
            return
        # Team by team: teams that never finished first, then by last finish. A match found is
        # in its place once every match not looked at yet must come after it.
        teams = sorted(
            (t for t in self._by_team if t not in taken),
            key=lambda t: (t in last_finished, last_finished.get(t)),
        )
        found: list[_Keyed] = []  # a heap
        for i, team in enumerate(teams):
            if stuck():
                return
            if team in left:
                seen.add(team)
                for match in self._completed(team, seen):
                    heapq.heappush(found, _key(match, last_finished, rest))
            later = last_finished.get(teams[i + 1]) if i + 1 < len(teams) else _END
            while found and later is not None and found[0][0][0] < later:
                keyed = heapq.heappop(found)
                if not any(t in taken for t in keyed[2].teams):
                    yield keyed

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
) -> tuple[list[Queued], dict[str, list[Queued]]]:
    """The first ``limit`` of the whole queue, and the first ``per_game[g]`` of game ``g``'s
    own queue (``queues[g]``), reading only the front of each game's queue."""
    game_heads = {
        game: waiting.head(max(limit, per_game.get(game, 0)), last_finished, rest)
        for game, waiting in queues.items()
    }
    # The whole queue's head lies among the heads of the games' queues.
    overall = heapq.nsmallest(limit, itertools.chain.from_iterable(game_heads.values()), _first)
    return _queued(overall, busy), {
        game: _queued(game_heads.get(game, [])[:count], busy) for game, count in per_game.items()
    }


def fill(
    queues: Mapping[str, WaitingQueue],
    free: Mapping[str, int],
    *,
    without: Collection[str],
    last_finished: Mapping[str, dt.datetime],
    rest: dt.timedelta,
    now: dt.datetime | None = None,
) -> tuple[list[Queued], list[dt.datetime]]:
    """What the ``free[g]`` free tables of each game ``g`` take, one after another: the
    games' queues read together, in the order of the whole queue, each match taken to its
    game's next free table unless a team of it is ``without`` (busy, or resting) or taken to
    another table before, or, with ``now``, it may not go yet. Also, with ``now``, when the
    matches passed over for that may go. Reads only as far as it must."""
    taken = set(without)
    tables = {game: count for game, count in free.items() if count > 0 and game in queues}
    streams = {game: queues[game].in_order(last_finished, rest, taken) for game in tables}
    fronts: list[tuple[tuple[dt.datetime, int, str], str, _Keyed]] = []

    def read(game: str) -> None:
        keyed = next(streams[game], None)
        if keyed is not None:
            heapq.heappush(fronts, (keyed[0], game, keyed))

    for game in streams:
        read(game)
    chosen: list[_Keyed] = []
    later: list[dt.datetime] = []
    while fronts:
        _, game, keyed = heapq.heappop(fronts)
        match = keyed[2]
        if any(t in taken for t in match.teams):
            pass  # taken to another table since it was read
        elif now is not None and keyed[1] > now:
            later.append(keyed[1])
        else:
            chosen.append(keyed)
            taken.update(match.teams)
            tables[game] -= 1
            if not tables[game]:
                continue  # the game's tables are all taken: read no further
        read(game)
    return _queued(chosen, ()), later
