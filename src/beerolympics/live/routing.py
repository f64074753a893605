"""Which channels an event concerns, and what they are told.

An :class:`Update` names a channel, a message kind and how to build the message. Messages are
built when a frame goes out, from the projections as they are then; updates with the same
coalescing ``key`` in one frame collapse to the newest (a match changed three times in a
window is sent once). The same routing serves live frames and the replay of what a client
missed, so both say the same things.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from beerolympics.domain import events as ev
from beerolympics.domain import formats
from beerolympics.domain.matches import MATCH_EVENTS, match_key
from beerolympics.projections.play_views import Views
from beerolympics.projections.views import tournament_view

Build = Callable[[Views], dict[str, Any]]

LEADERBOARD = "leaderboard"
STATIONS = "stations"
PRESENCE = "presence"

_TOURNAMENT_EVENTS = (
    ev.TournamentUpdated,
    ev.RegistrationOpened,
    ev.RegistrationClosed,
    ev.TournamentStarted,
    ev.TournamentFinished,
)
_TEAM_EVENTS = (
    ev.TeamUpdated,
    ev.TeamWithdrawn,
    ev.TeamDisqualified,
    ev.CaptainAppointed,
    ev.MemberRemoved,
)
_GAME_EVENTS = (
    ev.GameAdded,
    ev.GameUpdated,
    ev.GameStarted,
    ev.RoundAdded,
    ev.RoundsWithdrawn,
    ev.GameRemoved,
)
_RESULT_EVENTS = (ev.ResultConfirmed, ev.ResultOverridden, ev.ResultReopened)
_BONUS_EVENTS = (ev.BonusClaimed, ev.BonusClaimApproved, ev.BonusClaimRejected)


@dataclass(frozen=True, slots=True)
class Update:
    """Something a channel will be told at position ``p``."""

    channel: str
    p: int
    kind: str
    build: Build
    #: Updates with the same key in one frame collapse to the newest; None keeps each one.
    key: str | None = None


def state_update(channel: str, kind: str, p: int, build: Build) -> Update:
    return Update(channel, p, kind, build, key=kind)


def leaderboard(p: int) -> Update:
    return state_update(
        "tournament",
        LEADERBOARD,
        p,
        lambda v: {"leaderboard": v.cached(LEADERBOARD, v.leaderboard)},
    )


def stations(p: int) -> Update:
    return state_update(
        "tournament", STATIONS, p, lambda v: {"stations": v.cached(STATIONS, v.stations)}
    )


def _match(channel: str, p: int, event: str, game_id: str, spec_id: str) -> Update:
    key = match_key(game_id, spec_id)

    def build(v: Views) -> dict[str, Any]:
        run = v.play.games[game_id]
        if channel == "tournament":
            return {"event": event, "match": v.match(run, spec_id)}
        return {"event": event, "match": v.match_detail(run, spec_id)}

    return Update(channel, p, "match_updated", build, key=f"match:{key}")


def route(event: ev.Event, p: int, views: Views) -> list[Update]:
    """The updates one event causes (``views`` reads the state after the event)."""
    if type(event) in MATCH_EVENTS:
        return _match_updates(event, p, views)
    if isinstance(event, _TOURNAMENT_EVENTS):
        return [
            Update(
                "tournament",
                p,
                "tournament_updated",
                lambda v: {"tournament": tournament_view(v.state)},
                key="tournament",
            )
        ]
    if isinstance(event, ev.TeamRegistered):
        return [
            Update("tournament", p, "team_joined", lambda v: {"team": v.team(event.team_id)}),
            leaderboard(p),
        ]
    if isinstance(event, ev.MemberJoined):
        return [
            Update(
                "tournament",
                p,
                "member_joined",
                lambda v: {
                    "team_id": event.team_id,
                    "member": {"id": event.member_id, "name": event.name},
                },
            )
        ]
    if isinstance(event, _TEAM_EVENTS):
        team_id = event.team_id
        return [
            Update(
                "tournament",
                p,
                "team_updated",
                lambda v: {"team": v.team(team_id), "status": v.state.teams[team_id].status},
                key=f"team:{team_id}",
            ),
            leaderboard(p),
        ]
    if isinstance(event, _GAME_EVENTS):
        return _game_updates(event, p)
    if isinstance(event, _BONUS_EVENTS):
        return [leaderboard(p)]
    if isinstance(event, ev.AnnouncementPosted):
        return _announcement_updates(event, p, views)
    return []


def _game_updates(event: ev.Event, p: int) -> list[Update]:
    game_id: str = event.game_id  # type: ignore[attr-defined]

    def build(v: Views) -> dict[str, Any]:
        game = v.state.games.get(game_id)
        return {"game": v.game(game) if game is not None else {"id": game_id, "removed": True}}

    updates = [
        Update("tournament", p, "game_updated", build, key=f"game:{game_id}"),
        leaderboard(p),
        stations(p),
    ]
    if isinstance(event, ev.RoundsWithdrawn):
        withdrawn = event

        def said(v: Views) -> dict[str, Any]:
            game = v.state.games.get(game_id)
            return {
                "game_id": game_id,
                "game": game.name if game is not None else "",
                "from_round": withdrawn.from_round,
                "reason": withdrawn.reason,
            }

        updates.append(Update("tournament", p, "rounds_withdrawn", said))
    return updates


def _match_updates(event: ev.Event, p: int, views: Views) -> list[Update]:
    game_id: str = event.game_id  # type: ignore[attr-defined]
    spec_id: str = event.match_id  # type: ignore[attr-defined]
    name = type(event).__name__
    updates = [
        _match("tournament", p, name, game_id, spec_id),
        _match(f"match:{match_key(game_id, spec_id)}", p, name, game_id, spec_id),
        stations(p),
    ]
    run = views.play.games.get(game_id)
    if isinstance(event, _RESULT_EVENTS) and run is not None and run.plan is not None:
        # A result moves teams into the matches that depend on it.
        for other in sorted(formats.affected(run.plan, (spec_id,)) - {spec_id}):
            updates.append(_match("tournament", p, "BracketChanged", game_id, other))
            updates.append(
                _match(f"match:{match_key(game_id, other)}", p, "BracketChanged", game_id, other)
            )
        updates.append(leaderboard(p))
    if isinstance(event, ev.MatchCalled):
        station = event.station_id
        for team in event.teams:

            def build(v: Views, station: str = station) -> dict[str, Any]:
                config = v.state.games[game_id]
                name = next((s.name for s in config.stations if s.id == station), station)
                return {
                    "match": v.match(v.play.games[game_id], spec_id),
                    "station": {"id": station, "name": name},
                }

            updates.append(Update(f"team:{team}", p, "you_are_up", build))
    return updates


def _announcement_updates(event: ev.AnnouncementPosted, p: int, views: Views) -> list[Update]:
    def build(v: Views) -> dict[str, Any]:
        found = next(a for a in v.state.announcements if a.id == event.announcement_id)
        return {
            "announcement": {
                "id": found.id,
                "message": found.message,
                "priority": found.priority,
                "audience": found.audience,
                "at": found.at,
            }
        }

    if event.audience == "all":
        channels = ["tournament"]
    elif event.audience == "captains":
        channels = ["captains"]
    else:
        channels = [f"team:{t}" for t in (event.team_ids or list(views.state.teams))]
    return [Update(channel, p, "announcement", build) for channel in channels]
