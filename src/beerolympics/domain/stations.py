"""The station queue: which ready match goes to which free table, and in what order.

Rules: a team is never in two places at once; a team rests ``rest`` after its last match before
it is called again; among the matches that can go, the one that has waited longest goes first
(waiting since it became ready, or since its teams last finished, whichever is later), ties
broken by the order of the game's plan. Pure: the caller passes the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Waiting:
    """A match whose teams are known and which nobody has called yet."""

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


def queue(
    waiting: Sequence[Waiting],
    *,
    busy: Collection[str],
    last_finished: Mapping[str, dt.datetime],
    rest: dt.timedelta,
) -> list[Queued]:
    """The waiting matches in the order they should be played."""
    entries: list[Queued] = []
    for match in waiting:
        finished = [last_finished[t] for t in match.teams if t in last_finished]
        since = max([match.ready_since, *finished])
        eligible = max([match.ready_since, *(f + rest for f in finished)])
        blocked = tuple(t for t in match.teams if t in busy)
        entries.append(Queued(match, since, eligible, blocked))
    entries.sort(key=lambda q: (q.waiting_since, q.match.order, q.match.key))
    return entries


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
