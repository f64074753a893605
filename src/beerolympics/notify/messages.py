"""What each kind of tournament event tells phones (pushes) and receivers (webhooks).

Pure functions of an event and the read models as they were right after it (the
notifications projection calls them while folding, so a replay computes the same thing).

Pushes, to the teams' subscribed phones:

- ``MatchCalled`` → its teams: "You're up at Table 3";
- ``ResultSubmitted`` → the other teams of the match: "Confirm your result";
- ``ResultDisputed`` → the other teams of the match: "Your result was disputed";
- ``AnnouncementPosted`` with priority ``urgent`` → its audience (everyone, some teams, or
  the captains).

Webhooks: ``match.confirmed`` (a result confirmed, by the opponent, an official or the
deadline, or overridden by an organizer), ``game.finished`` (that result settled the game's
last match), ``tournament.finished``, ``highlight.created`` (a highlight recorded; one hidden
or retracted later is not unsent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain.matches import match_key
from beerolympics.domain.tournament import TournamentState
from beerolympics.projections.play import TournamentPlay


class PushMessage(msgspec.Struct, frozen=True, omit_defaults=True):
    """What the service worker shows: ``url`` opens when the notification is tapped; a newer
    message with the same ``tag`` replaces an older one on the phone."""

    title: str
    body: str
    url: str
    tag: str
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class PushNote:
    """A push for the phones of ``teams`` (``None``: every team), or only their captains'."""

    message: PushMessage
    teams: frozenset[str] | None
    #: Until when it is worth delivering.
    expires: dt.datetime
    captains_only: bool = False


def _team_name(state: TournamentState, team_id: str) -> str:
    team = state.teams.get(team_id)
    return team.name if team is not None else team_id


def _match_teams(play: TournamentPlay | None, game_id: str, spec_id: str) -> tuple[str, ...]:
    run = play.games.get(game_id) if play is not None else None
    if run is None or run.resolution is None or spec_id not in run.specs:
        return ()
    return tuple(run.resolved(spec_id).teams)


def _match_url(tournament_id: str, game_id: str, spec_id: str) -> str:
    return f"/t/{tournament_id}/matches/{match_key(game_id, spec_id)}"


def _label(play: TournamentPlay | None, game_id: str, spec_id: str) -> str:
    run = play.games.get(game_id) if play is not None else None
    spec = run.specs.get(spec_id) if run is not None else None
    return spec.label if spec is not None and spec.label else spec_id


def push_for(
    event: ev.Event, state: TournamentState, play: TournamentPlay | None, at: dt.datetime
) -> PushNote | None:
    """The push an event recorded at ``at`` sends, if any."""
    tid = state.id
    if isinstance(event, ev.MatchCalled):
        game = state.games.get(event.game_id)
        stations = {s.id: s.name for s in game.stations} if game is not None else {}
        station = stations.get(event.station_id, event.station_id)
        names = " vs ".join(_team_name(state, t) for t in event.teams)
        return PushNote(
            PushMessage(
                title=f"You're up at {station}",
                body=f"{game.name if game else 'Your match'}, "
                f"{_label(play, event.game_id, event.match_id)}: {names}",
                url=_match_url(tid, event.game_id, event.match_id),
                tag=f"match-{match_key(event.game_id, event.match_id)}",
                urgent=True,
            ),
            frozenset(event.teams),
            at + dt.timedelta(minutes=15),
        )
    if isinstance(event, ev.ResultSubmitted):
        teams = set(_match_teams(play, event.game_id, event.match_id)) - {event.team_id}
        game = state.games.get(event.game_id)
        by = _team_name(state, event.team_id) if event.team_id else "An organizer"
        return PushNote(
            PushMessage(
                title="Confirm your result",
                body=f"{by} reported {game.name if game else 'your match'}"
                f" ({_label(play, event.game_id, event.match_id)}). Confirm it or dispute it.",
                url=_match_url(tid, event.game_id, event.match_id),
                tag=f"match-{match_key(event.game_id, event.match_id)}",
            ),
            frozenset(teams),
            max(at + dt.timedelta(minutes=1), event.deadline),
        )
    if isinstance(event, ev.ResultDisputed):
        teams = set(_match_teams(play, event.game_id, event.match_id)) - {event.team_id}
        game = state.games.get(event.game_id)
        by = _team_name(state, event.team_id) if event.team_id else "Someone"
        reason = f": “{event.reason}”" if event.reason else ""
        return PushNote(
            PushMessage(
                title="Your result was disputed",
                body=f"{by} disputed {game.name if game else 'your match'}{reason}."
                " An organizer will settle it.",
                url=_match_url(tid, event.game_id, event.match_id),
                tag=f"match-{match_key(event.game_id, event.match_id)}",
            ),
            frozenset(teams),
            at + dt.timedelta(hours=1),
        )
    if isinstance(event, ev.AnnouncementPosted) and event.priority == "urgent":
        audience = (
            frozenset(event.team_ids) if event.audience == "teams" and event.team_ids else None
        )
        return PushNote(
            PushMessage(
                title=f"📣 {state.name}",
                body=event.message,
                url=f"/t/{tid}",
                tag=f"announcement-{event.announcement_id}",
                urgent=True,
            ),
            audience,
            at + dt.timedelta(hours=1),
            captains_only=event.audience == "captains",
        )
    return None


def _team(state: TournamentState, team_id: str) -> dict[str, str]:
    return {"id": team_id, "name": _team_name(state, team_id)}


def webhooks_for(
    event: ev.Event, state: TournamentState, play: TournamentPlay | None, at: dt.datetime
) -> list[tuple[str, dict[str, Any]]]:
    """The webhook events (topic, data) an event makes, if any."""
    tid = state.id
    if isinstance(event, ev.ResultConfirmed | ev.ResultOverridden):
        game = state.games.get(event.game_id)
        teams = _match_teams(play, event.game_id, event.match_id)
        found: list[tuple[str, dict[str, Any]]] = [
            (
                "match.confirmed",
                {
                    "tournament_id": tid,
                    "game": {"id": event.game_id, "name": game.name if game else ""},
                    "match_id": match_key(event.game_id, event.match_id),
                    "label": _label(play, event.game_id, event.match_id),
                    "teams": [_team(state, t) for t in teams],
                    "outcome": msgspec.to_builtins(event.outcome),
                    "confirmed_by": event.by
                    if isinstance(event, ev.ResultConfirmed)
                    else "override",
                    "confirmed_at": at.isoformat(),
                },
            )
        ]
        run = play.games.get(event.game_id) if play is not None else None
        if run is not None and run.finished:
            placements = sorted(run.placements.items(), key=lambda item: (item[1], item[0]))
            found.append(
                (
                    "game.finished",
                    {
                        "tournament_id": tid,
                        "game": {"id": event.game_id, "name": game.name if game else ""},
                        "placements": [
                            {"place": place, "team": _team(state, team)}
                            for team, place in placements
                        ],
                    },
                )
            )
        return found
    if isinstance(event, ev.HighlightDetected):
        game = state.games.get(event.game_id)
        return [
            (
                "highlight.created",
                {
                    "tournament_id": tid,
                    "highlight": {
                        "id": event.highlight_id,
                        "kind": event.kind,
                        "text": event.text,
                        "teams": [_team(state, t) for t in event.teams],
                        "detail": dict(event.detail),
                    },
                    "game": {"id": event.game_id, "name": game.name if game else ""},
                    "match_id": match_key(event.game_id, event.match_id),
                    "label": _label(play, event.game_id, event.match_id),
                    "created_at": at.isoformat(),
                },
            )
        ]
    if isinstance(event, ev.TournamentFinished):
        rows = play.leaderboard.rows() if play is not None else []
        return [
            (
                "tournament.finished",
                {
                    "tournament_id": tid,
                    "name": state.name,
                    "leaderboard": [
                        {"rank": row.rank, "team": _team(state, row.team), "points": row.points}
                        for row in rows
                    ],
                },
            )
        ]
    return []
