"""Channel names and who may follow them."""

from __future__ import annotations

from dataclasses import dataclass

from beerolympics.domain.errors import Forbidden, Invalid
from beerolympics.domain.identity import Actor
from beerolympics.domain.tournament import TournamentState

KINDS = ("tournament", "match", "team", "captains", "presence")


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel of one tournament: ``tournament``, ``match:<id>``, ``team:<id>``,
    ``captains`` or ``presence``."""

    kind: str
    arg: str = ""

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else self.kind


def parse(name: str) -> Channel:
    kind, _, arg = name.partition(":")
    if kind not in KINDS or len(name) > 160 or (kind in ("match", "team")) != bool(arg):
        raise Invalid(f"unknown channel {name!r}", code="unknown_channel")
    return Channel(kind, arg)


def authorize(channel: Channel, actor: Actor, state: TournamentState) -> None:
    """Raise unless ``actor`` may follow ``channel`` of this tournament."""
    if channel.kind in ("tournament", "match"):
        return
    member = actor.tournament_id == state.id and actor.authenticated
    official = member and actor.role in ("organizer", "referee")
    if channel.kind == "team":
        if channel.arg not in state.teams:
            raise Invalid(f"unknown channel {channel.name!r}", code="unknown_channel")
        if official or (member and actor.team_id == channel.arg):
            return
        raise Forbidden("this channel needs a credential of the team", code="forbidden_channel")
    if channel.kind == "captains":
        if official or (member and actor.role == "captain"):
            return
        raise Forbidden("this channel is for captains and officials", code="forbidden_channel")
    if not member:
        raise Forbidden("presence needs a credential of this tournament", code="forbidden_channel")
