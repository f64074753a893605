"""The catalog: every tournament's folded state, and the indexes lookups need.

Per tournament it keeps the :class:`~beerolympics.domain.tournament.TournamentState` and the
position of the newest event of its scope (the tag reads of that tournament carry). Across
tournaments it keeps creation order and the join-code index.
"""

from __future__ import annotations

import hashlib

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain import tournament
from beerolympics.domain.errors import NotFound
from beerolympics.domain.tournament import TournamentState
from beerolympics.ports.eventstore import RecordedEvent


class Catalog:
    """The :class:`~beerolympics.projections.projector.Projection` of tournament streams."""

    def __init__(self) -> None:
        self.tournaments: dict[str, TournamentState] = {}
        #: Newest position of each scope: what any read of that tournament reflects.
        self.positions: dict[str, int] = {}
        #: Tournament ids in creation order, and where each one stands in it.
        self.order: list[str] = []
        self.created_at_position: dict[str, int] = {}
        self.join_codes: dict[str, str] = {}

    def apply(self, event: ev.Event, recorded: RecordedEvent) -> None:
        if recorded.scope:
            self.positions[recorded.scope] = recorded.position
        if isinstance(event, ev.TournamentCreated):
            created = tournament.start(event, recorded.recorded_at)
            self.tournaments[created.id] = created
            self.order.append(created.id)
            self.created_at_position[created.id] = recorded.position
            self.join_codes[created.join_code] = created.id
            return
        current = self.tournaments.get(recorded.scope)
        if current is None or recorded.stream_id != tournament.stream_id(current.id):
            return
        state = current
        if isinstance(event, ev.JoinCodeChanged):
            self.join_codes.pop(event.previous, None)
            self.join_codes[event.join_code] = state.id
        tournament.evolve(state, event, recorded.recorded_at)
        state.version = recorded.version
        if isinstance(event, ev.AnnouncementPosted):
            state.announcements[-1].position = recorded.position

    def get(self, tournament_id: str) -> TournamentState:
        state = self.tournaments.get(tournament_id)
        if state is None:
            raise NotFound(f"no tournament {tournament_id!r}", code="tournament_not_found")
        return state

    def position_of(self, tournament_id: str) -> int:
        return self.positions.get(tournament_id, 0)

    def digest(self) -> str:
        """A hash of the whole read model: equal digests mean equal projections."""
        body = msgspec.json.encode(
            [
                self.tournaments,
                self.positions,
                self.order,
                self.created_at_position,
                self.join_codes,
            ]
        )
        return hashlib.sha256(body).hexdigest()
