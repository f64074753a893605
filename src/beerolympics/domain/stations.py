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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple


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
_first = itemgetter(0)


def _keyed(
    waiting: Iterable[Waiting], last_finished: Mapping[str, dt.datetime], rest: dt.timedelta
) -> Iterator[_Keyed]:
    """Each match with its queue order (waiting since, plan order, key) and eligibility."""
    for match in waiting:
        since = eligible = match.ready_since
        for team in match.teams:
            finished = last_finished.get(team)
            if finished is not None:
                since = max(since, finished)
                eligible = max(eligible, finished + rest)
        yield (since, match.order, match.key), eligible, match


def _queued(chosen: Iterable[_Keyed], busy: Collection[str]) -> list[Queued]:
    return [
        Queued(match, order[0], eligible, tuple(t for t in match.teams if t in busy))
        for order, eligible, match in chosen
    ]


def queue(
    waiting: Iterable[Waiting],
    *,
    busy: Collection[str],
    last_finished: Mapping[str, dt.datetime],
    rest: dt.timedelta,
    limit: int | None = None,
) -> list[Queued]:
    """The waiting matches in the order they should be played (only the first ``limit``)."""
    keyed = _keyed(waiting, last_finished, rest)
    chosen = sorted(keyed, key=_first) if limit is None else heapq.nsmallest(limit, keyed, _first)
    return _queued(chosen, busy)


def heads(
    waiting: Iterable[Waiting],
    *,
    busy: Collection[str],
    last_finished: Mapping[str, dt.datetime],
    rest: dt.timedelta,
    limit: int,
    per_game: Mapping[str, int],
) -> tuple[list[Queued], dict[str, list[Queued]]]:
    """The first ``limit`` of the whole queue, and the first ``per_game[g]`` of game ``g``'s
    own queue, in one pass over the waiting matches (there can be thousands)."""
    by_game: dict[str, list[_Keyed]] = {}
    for entry in _keyed(waiting, last_finished, rest):
        by_game.setdefault(entry[2].game_id, []).append(entry)
    # The whole queue's head lies among the heads of the games' queues.
    game_heads = {
        game: heapq.nsmallest(max(limit, per_game.get(game, 0)), entries, _first)
        for game, entries in by_game.items()
    }
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


def next_wakeup(queued: Sequence[Queued], now: dt.datetime) -> dt.datetime | None:
    """When resting teams become callable: the earliest future ``eligible_at``."""
    later = [q.eligible_at for q in queued if q.eligible_at > now and not q.blocked_by]
    return min(later, default=None)
