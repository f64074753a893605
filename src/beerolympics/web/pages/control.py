"""The organizer's control room, and exports of the tournament as JSON and CSV."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, Router, get
from litestar.params import PathParameter

from beerolympics.domain.identity import Actor, require_organizer
from beerolympics.domain.notifications import TOPICS
from beerolympics.projections.play_views import MatchView, Views
from beerolympics.projections.views import credential_view, team_view, tournament_view
from beerolympics.web.api.webhooks import DeliveryView, WebhookView, delivery_view, webhook_view
from beerolympics.web.context import runtime
from beerolympics.web.pages.rendering import (
    cached_page,
    page_tag,
    points,
    render,
    viewer,
    views,
)

TournamentId = Annotated[str, PathParameter(max_length=64)]
#: Results the control room lists, newest first.
RECENT = 12
#: Deliveries each webhook's log shows, newest first (the API pages through all of them).
DELIVERY_LOG = 10
#: The webhook topics, in words.
TOPIC_TEXT = {
    "match.confirmed": "a result is confirmed",
    "game.finished": "a game is finished",
    "tournament.finished": "the tournament is finished",
    "highlight.created": "a highlight happens",
}


def _recent_results(v: Views) -> list[tuple[dt.datetime, MatchView]]:
    done: list[tuple[dt.datetime, MatchView]] = []
    for run in v.play.games.values():
        if run.resolution is None:
            continue
        for spec_id, record in run.records.items():
            if record.phase == "confirmed" and record.confirmed_at is not None:
                done.append((record.confirmed_at, v.match(run, spec_id)))
    done.sort(key=lambda item: item[0], reverse=True)
    return done[:RECENT]


def _webhooks(
    request: Request[Any, Any, Any], tournament_id: str, actor: Actor
) -> list[tuple[WebhookView, list[DeliveryView]]]:
    """Each webhook with its newest deliveries (organizers only)."""
    service = runtime(request).notifications
    found = []
    for hook in service.webhooks(tournament_id, actor):
        deliveries = service.deliveries(tournament_id, hook.id)
        log = [delivery_view(job) for job in deliveries[:DELIVERY_LOG]]
        found.append((webhook_view(hook, deliveries), log))
    return found


def _people(v: Views) -> dict[str, str]:
    """Who a credential belongs to, in words: 'Aoife (Hop Stars)'."""
    names: dict[str, str] = {}
    for team in v.state.teams.values():
        for member in team.members.values():
            names[member.id] = f"{member.name} ({team.name})"
    return names


@dataclasses.dataclass(frozen=True, slots=True)
class Offer:
    """A ready match a free table offers, and the teams of it playing at another table now
    (none: it can be called)."""

    match: MatchView
    playing: list[str]


@get("/admin", include_in_schema=False)
async def control_room(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[bytes]:
    """Everything an organizer runs the party with; referees see the tables and results."""
    v = views(request, tournament_id)
    who = viewer(request, tournament_id)
    if not who.official:
        return render(request, "signin.html", tournament=v.state, who=who, needed=True)
    tag = page_tag(request, tournament_id, "admin")
    if (cached := cached_page(request, tag)) is not None:
        return cached
    matches = list(v.all_matches())
    stations = v.stations()
    ready_by_game: dict[str, list[MatchView]] = {}
    for match in matches:
        if match.status == "ready":
            ready_by_game.setdefault(match.game_id, []).append(match)
    # Each free table offers its own share of the ready matches: two tables never offer the
    # same match (the queue's next one first, where it has one). A match with a team at
    # another table now cannot be called (the server says team_busy): it comes last, named
    # with who is playing, and cannot be chosen.
    offers: dict[str, list[Offer]] = {}
    for game_id, ready in ready_by_game.items():
        free = [b for b in stations.stations if b.game_id == game_id and not b.now_playing]
        first = [b.up_next.id for b in free if b.up_next is not None]
        ordered = sorted(ready, key=lambda m: first.index(m.id) if m.id in first else len(first))
        offered = [Offer(m, v.playing_elsewhere(m)) for m in ordered]
        can = [o for o in offered if not o.playing]
        cannot = [o for o in offered if o.playing]
        for i, board in enumerate(free):
            offers[board.station.id] = can[i :: len(free)] + cannot[i :: len(free)]
    claims = [
        (claim, v.state.bonuses[claim.bonus_id], v.state.teams[claim.team_id])
        for claim in v.state.claims.values()
        if claim.status == "pending" and claim.bonus_id in v.state.bonuses
    ]
    return render(
        request,
        "admin.html",
        tag=tag,
        tournament=v.state,
        who=who,
        info=tournament_view(v.state),
        games=[v.game(g) for g in v.state.games.values()],
        stations=stations,
        offers=offers,
        attention=[m for m in matches if m.status in ("disputed", "flagged", "submitted")],
        recent=_recent_results(v),
        claims=claims,
        bonuses=list(v.state.bonuses.values()),
        announcements=v.announcements(who.actor)[:10],
        teams=[team_view(t) for t in v.state.teams.values()],
        devices=[credential_view(c) for c in v.state.credentials.values() if not c.revoked],
        people=_people(v),
        webhooks=_webhooks(request, tournament_id, who.actor) if who.organizer else [],
        topics=[(topic, TOPIC_TEXT.get(topic, topic)) for topic in TOPICS],
        push_phones=len(runtime(request).notifications.subscriptions(tournament_id, who.actor))
        if who.organizer
        else 0,
    )


class Export(msgspec.Struct, frozen=True):
    exported_at: dt.datetime
    tournament: Any
    teams: Any
    leaderboard: Any
    matches: Any
    bonuses: Any
    announcements: Any


def _export(v: Views) -> Export:
    state = v.state
    return Export(
        exported_at=dt.datetime.now(dt.UTC),
        tournament=tournament_view(state),
        teams=[team_view(t) for t in state.teams.values()],
        leaderboard=v.leaderboard(),
        matches=list(v.all_matches()),
        bonuses=[
            {
                "bonus": dataclasses.asdict(b),
                "claims": [
                    {
                        "team": state.teams[c.team_id].name,
                        "status": c.status,
                        "note": c.note,
                        "at": c.at,
                    }
                    for c in state.claims.values()
                    if c.bonus_id == b.id and c.team_id in state.teams
                ],
            }
            for b in state.bonuses.values()
        ],
        # As an organizer sees them: every announcement, whatever its audience.
        announcements=v.announcements(Actor("organizer", state.id, "export")),
    )


def _download(body: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@get("/admin/export.json", include_in_schema=False)
async def export_json(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[bytes]:
    """Everything the pages show, as one JSON document (organizers only)."""
    v = views(request, tournament_id)
    require_organizer(viewer(request, tournament_id).actor, tournament_id)
    body = msgspec.json.format(msgspec.json.encode(_export(v)), indent=2)
    return _download(body, "application/json", f"{quote(tournament_id)}.json")


@get("/admin/results.csv", include_in_schema=False)
async def export_csv(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[bytes]:
    """The overall leaderboard with every game's points, for a spreadsheet."""
    v = views(request, tournament_id)
    require_organizer(viewer(request, tournament_id).actor, tournament_id)
    board = v.leaderboard()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["rank", "team", "points", "bonus", *(g.name for g in board.games), "wins", "losses"]
    )
    for row in board.rows:
        per_game = [
            points(row.games[g.id].points) if g.id in row.games else "" for g in board.games
        ]
        writer.writerow(
            [
                row.rank,
                _cell(row.team.name),
                points(row.points),
                points(row.bonus_points),
                *per_game,
                row.wins,
                row.losses,
            ]
        )
    return _download(
        out.getvalue().encode(), "text/csv; charset=utf-8", f"{quote(tournament_id)}.csv"
    )


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: quote them as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


router = Router(
    path="/t/{tournament_id:str}", route_handlers=[control_room, export_json, export_csv]
)
