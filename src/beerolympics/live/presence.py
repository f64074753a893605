"""Who is online in a tournament: counts by role, names of members, spectators as a count.

Each instance knows its own connections; in the scaled shape instances exchange their
summaries over the backplane and each one adds up what it heard (entries expire when an
instance stops reporting).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from beerolympics.projections.catalog import Catalog

if TYPE_CHECKING:  # only for annotations: connections import nothing from here
    from beerolympics.live.connection import Connection


class Member(msgspec.Struct, frozen=True):
    team_id: str
    member_id: str
    name: str
    role: str


class Summary(msgspec.Struct, frozen=True):
    """One instance's view of a tournament's online people."""

    organizers: int = 0
    referees: int = 0
    spectators: int = 0
    members: tuple[Member, ...] = ()


class PresenceView(msgspec.Struct, frozen=True):
    organizers: int
    referees: int
    captains: int
    spectators: int
    players: list[Member]


class Presence:
    """Local connections per tournament, plus summaries reported by other instances."""

    def __init__(self, catalog: Catalog, ttl: float = 45.0) -> None:
        self.catalog = catalog
        self.ttl = ttl
        self._local: dict[str, Counter[tuple[str, str | None]]] = {}
        self._remote: dict[tuple[str, str], tuple[float, Summary]] = {}
        self._listeners: list[Callable[[str, bool], None]] = []

    def on_change(self, listener: Callable[[str, bool], None]) -> None:
        """Call ``listener(tournament_id, local)`` when who is online changed (``local``: on
        this instance, as opposed to reported by another one)."""
        self._listeners.append(listener)

    def join(self, conn: Connection) -> None:
        self._local.setdefault(conn.tournament_id, Counter())[_key(conn)] += 1
        self._changed(conn.tournament_id, local=True)

    def leave(self, conn: Connection) -> None:
        counts = self._local.get(conn.tournament_id)
        if counts is None:
            return
        key = _key(conn)
        counts[key] -= 1
        if counts[key] <= 0:
            del counts[key]
        if not counts:
            del self._local[conn.tournament_id]
        self._changed(conn.tournament_id, local=True)

    def local(self, tournament_id: str) -> Summary:
        """This instance's summary (what it reports to the others)."""
        counts = self._local.get(tournament_id, Counter())
        state = self.catalog.tournaments.get(tournament_id)
        members: list[Member] = []
        by_role: Counter[str] = Counter()
        for (role, member_id), n in counts.items():
            if member_id is not None and state is not None:
                cred_team = next((t for t in state.teams.values() if member_id in t.members), None)
                if cred_team is not None:
                    name = cred_team.members[member_id].name
                    members.append(Member(cred_team.id, member_id, name, role))
                    continue
            by_role[role] += n
        return Summary(
            organizers=by_role["organizer"],
            referees=by_role["referee"],
            spectators=by_role["spectator"] + by_role["captain"] + by_role["player"],
            members=tuple(sorted(members, key=lambda m: (m.team_id, m.name))),
        )

    def heard(self, instance: str, tournament_id: str, summary: Summary) -> None:
        """Another instance reported its summary."""
        previous = self._remote.get((instance, tournament_id))
        self._remote[(instance, tournament_id)] = (time.monotonic(), summary)
        if previous is None or previous[1] != summary:
            self._changed(tournament_id, local=False)

    def summary(self, tournament_id: str) -> PresenceView:
        now = time.monotonic()
        parts = [self.local(tournament_id)]
        for (instance, tid), (at, summary) in list(self._remote.items()):
            if now - at > self.ttl:
                del self._remote[(instance, tid)]
            elif tid == tournament_id:
                parts.append(summary)
        members: dict[str, Member] = {}
        for part in parts:
            for m in part.members:
                members[m.member_id] = m
        return PresenceView(
            organizers=sum(p.organizers for p in parts),
            referees=sum(p.referees for p in parts),
            captains=sum(1 for m in members.values() if m.role == "captain"),
            spectators=sum(p.spectators for p in parts),
            players=sorted(members.values(), key=lambda m: (m.team_id, m.name)),
        )

    def tournaments(self) -> list[str]:
        return list(self._local)

    def _changed(self, tournament_id: str, *, local: bool) -> None:
        for listener in self._listeners:
            listener(tournament_id, local)


def _key(conn: Connection) -> tuple[str, str | None]:
    return conn.actor.role, conn.actor.member_id
