"""Who is acting: the roles of a tournament and the checks commands make on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beerolympics.domain.errors import Forbidden, Unauthenticated

ActorRole = Literal["organizer", "referee", "captain", "player", "spectator"]


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of a command, as established from its credential (or its absence).

    ``tournament_id`` is the tournament the credential belongs to; a credential never acts in
    another tournament. Captain and player are derived from the team's current captain, so a
    captain transfer changes roles without new credentials.
    """

    role: ActorRole
    tournament_id: str | None = None
    credential_id: str | None = None
    team_id: str | None = None
    member_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.credential_id is not None

    def in_tournament(self, tournament_id: str) -> bool:
        return self.authenticated and self.tournament_id == tournament_id


SPECTATOR = Actor(role="spectator")


def require_organizer(actor: Actor, tournament_id: str) -> None:
    """Only an organizer of this tournament may go on."""
    require_any(actor, tournament_id, "organizer")


def require_any(actor: Actor, tournament_id: str, *roles: ActorRole) -> None:
    """The actor must hold one of ``roles`` in this tournament."""
    if not actor.authenticated:
        raise Unauthenticated("sign in to do this: a credential is required")
    if actor.tournament_id != tournament_id or actor.role not in roles:
        raise Forbidden(
            f"this needs the role {' or '.join(roles)} in this tournament",
            details={"required": list(roles), "role": actor.role},
        )


def require_team_lead(actor: Actor, tournament_id: str, team_id: str) -> None:
    """An organizer, or the captain of this very team."""
    require_any(actor, tournament_id, "organizer", "captain")
    if actor.role == "captain" and actor.team_id != team_id:
        raise Forbidden("only this team's captain or an organizer may do this")
