"""Share cards: a 1200 × 630 PNG per tournament and per team, for link previews.

``/t/{id}/card.png`` and ``/t/{id}/teams/{team}/card.png``. A card is keyed by what it shows
(its content key, a hash of its text and the drawing's version): pages point their
``og:image`` at ``card.png?v=<key>``, which is immutable — a new result that changes the card
changes the key and so the URL, while a match being called (which does not) keeps it. Without
``v`` (or with an old one) the current card is served with its ETag and revalidated. Drawn
cards are kept in memory by key (a link posted in a group chat is fetched by every preview at
once), drawn off the event loop, each key once.

Errors are the API's problem documents (an image URL is not a page).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Final
from urllib.parse import quote

import msgspec
from litestar import Request, Response, Router, get
from litestar.params import PathParameter, QueryParameter

from beerolympics.domain.errors import DomainError
from beerolympics.projections.play_views import LeaderboardEntry, Views
from beerolympics.web.http import etag_matches
from beerolympics.web.pages import card_art
from beerolympics.web.pages.card_art import CardTeam, TeamCard, TournamentCard
from beerolympics.web.pages.qr import site_url
from beerolympics.web.pages.rendering import TOURNAMENT_TEXT, ordinal, points, views
from beerolympics.web.problems import handle_exception

TournamentId = Annotated[str, PathParameter(max_length=64)]
TeamId = Annotated[str, PathParameter(max_length=64)]
Version = Annotated[str | None, QueryParameter(max_length=40)]
#: Bump when the drawing changes: every card gets a new key.
DRAWING: Final = "2"
#: Cards kept in memory (about 60 KB each).
KEEP: Final = 128
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "public, no-cache"
KICKER: Final = {"finished": "Final results", "live": "Live now"}


@dataclass(frozen=True, slots=True)
class Share:
    """What a page tells link previews (Open Graph and Twitter card tags)."""

    title: str
    description: str
    url: str
    image: str
    width: int = card_art.WIDTH
    height: int = card_art.HEIGHT


def _card_team(row: LeaderboardEntry) -> CardTeam:
    team = row.team
    return CardTeam(row.rank, team.name, team.flag, team.colour, f"{points(row.points)} pts")


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def tournament_card(v: Views) -> TournamentCard:
    state = v.state
    board = v.leaderboard()
    podium = tuple(_card_team(r) for r in board.rows if r.rank is not None and r.rank <= 3)[:3]
    facts = [
        state.date.strftime("%-d %b %Y") if state.date else "",
        state.venue,
        _count(len(state.teams), "team"),
        _count(len(state.games), "game"),
    ]
    return TournamentCard(
        name=state.name,
        kicker=KICKER.get(state.status, TOURNAMENT_TEXT.get(state.status, state.status)),
        line=" · ".join(f for f in facts if f),
        podium=podium,
    )


def team_card(v: Views, team_id: str) -> TeamCard:
    state = v.state
    team = state.team(team_id)
    board = v.leaderboard()
    row = next((r for r in board.rows if r.team.id == team.id), None)
    ranked = sum(r.rank is not None for r in board.rows)
    if row is None or row.rank is None:
        standing = "Not placed yet"
    else:
        standing = f"{ordinal(row.rank)} of {ranked} · {points(row.points)} points"
    games = []
    for game in board.games:
        score = row.games.get(game.id) if row is not None else None
        if score is None:
            continue
        if score.place is not None:
            medal = card_art.MEDALS.get(score.place)
            place = f"{medal} {game.name}" if medal else f"{ordinal(score.place)} at {game.name}"
            games.append(place)
        else:
            games.append(f"{game.name}: still in it")
    return TeamCard(
        tournament=state.name,
        team=CardTeam(row.rank if row else None, team.name, team.flag, team.colour, ""),
        motto=team.motto,
        standing=standing,
        games=tuple(games),
    )


def content_key(card: TournamentCard | TeamCard) -> str:
    """What the card shows, as a short hash (with the drawing's version and whether flags are
    drawn in colour here)."""
    kind = type(card).__name__
    shown = msgspec.json.encode([DRAWING, card_art.emoji_in_colour(), kind, asdict(card)])
    return hashlib.sha256(shown).hexdigest()[:20]


class CardCache:
    """Drawn cards by content key, the most recently used kept; a key drawn once at a time."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self.cards: OrderedDict[str, bytes] = OrderedDict()
        self.drawing: dict[str, asyncio.Future[bytes]] = {}

    async def get(self, key: str, draw: Callable[[], bytes]) -> bytes:
        found = self.cards.get(key)
        if found is not None:
            self.cards.move_to_end(key)
            return found
        pending = self.drawing.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.drawing[key] = future
        try:
            # libvips lets go of the GIL: drawing does not hold up other requests.
            data = await asyncio.to_thread(draw)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self.drawing[key]
        future.set_result(data)
        self.cards[key] = data
        while len(self.cards) > self.keep:
            self.cards.popitem(last=False)
        return data


def card_cache(request: Request[Any, Any, Any]) -> CardCache:
    found: CardCache | None = getattr(request.app.state, "share_cards", None)
    if found is None:
        found = request.app.state.share_cards = CardCache()
    return found


def tournament_share(request: Request[Any, Any, Any], v: Views, *, recap: bool = False) -> Share:
    """The link preview of a tournament's front page (or its recap)."""
    state = v.state
    card = tournament_card(v)
    base = f"/t/{quote(state.id)}"
    leader = card.podium[0].name if card.podium and state.status == "finished" else ""
    description = (
        f"{leader} won {state.name}. Podiums, records and photos of the night."
        if leader
        else f"{card.kicker}: {card.line}. Follow the scores live."
    )
    return Share(
        title=f"{state.name}: the recap" if recap else state.name,
        description=description,
        url=site_url(request, f"{base}/recap" if recap else base),
        image=site_url(request, f"{base}/card.png?v={content_key(card)}"),
    )


def team_share(request: Request[Any, Any, Any], v: Views, team_id: str) -> Share:
    """The link preview of a team's page."""
    card = team_card(v, team_id)
    base = f"/t/{quote(v.state.id)}/teams/{quote(team_id)}"
    return Share(
        title=f"{card.team.name} · {card.tournament}",
        description=f"{card.standing}. {card.motto}".strip(),
        url=site_url(request, base),
        image=site_url(request, f"{base}/card.png?v={content_key(card)}"),
    )


async def _respond(
    request: Request[Any, Any, Any], card: TournamentCard | TeamCard, version: str | None
) -> Response[bytes]:
    key = content_key(card)
    headers = {
        "ETag": f'"{key}"',
        "Cache-Control": IMMUTABLE if version == key else REVALIDATE,
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(request, f'"{key}"'):
        return Response(b"", status_code=304, headers=headers)
    draw: Callable[[], bytes] = (
        functools.partial(card_art.draw_tournament, card)
        if isinstance(card, TournamentCard)
        else functools.partial(card_art.draw_team, card)
    )
    data = await card_cache(request).get(key, draw)
    return Response(data, media_type="image/png", headers=headers)


@get("/card.png", include_in_schema=False)
async def tournament_card_image(
    request: Request[Any, Any, Any], tournament_id: TournamentId, v: Version = None
) -> Response[bytes]:
    """The tournament's share card."""
    return await _respond(request, tournament_card(views(request, tournament_id)), v)


@get("/teams/{team_id:str}/card.png", include_in_schema=False)
async def team_card_image(
    request: Request[Any, Any, Any], tournament_id: TournamentId, team_id: TeamId, v: Version = None
) -> Response[bytes]:
    """A team's share card."""
    return await _respond(request, team_card(views(request, tournament_id), team_id), v)


router = Router(
    path="/t/{tournament_id:str}",
    route_handlers=[tournament_card_image, team_card_image],
    exception_handlers={DomainError: handle_exception},
)
