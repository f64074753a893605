"""Share cards drawn as 1200 × 630 PNG images, the size link previews show (Open Graph).

Drawn with libvips (the library the photos are made with): text is laid out by Pango, which
takes team flags and emoji from the Noto Color Emoji font when it is installed. Without a colour
emoji font a flag would be an empty box, so cards then leave flags out and let the team's colour
say who is who (:func:`emoji_in_colour` decides, once per process).

Everything people typed is escaped before it reaches Pango's markup, and every line is cut to
fit its box with an ellipsis: a card never overflows, whatever the names.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from typing import Final

import pyvips  # type: ignore[import-untyped]

WIDTH: Final = 1200
HEIGHT: Final = 630
MARGIN: Final = 64
FONT: Final = "DejaVu Sans"
#: Background: a gradient from the TV's dark blue-black to the brand's blue.
TOP: Final = (14, 16, 24)
BOTTOM: Final = (22, 33, 62)
INK: Final = "#f4f4f7"
MUTED: Final = "#b6b8c6"
GOLD: Final = (212, 167, 44)
MEDALS: Final = {1: "🥇", 2: "🥈", 3: "🥉"}
_HEX: Final = re.compile(r"#?([0-9a-fA-F]{6})")


@dataclass(frozen=True, slots=True)
class CardTeam:
    place: int | None
    name: str
    flag: str
    colour: str
    points: str


@dataclass(frozen=True, slots=True)
class TournamentCard:
    """What the card of a tournament says: the name, where it stands, its top three."""

    name: str
    kicker: str
    line: str
    podium: tuple[CardTeam, ...]


@dataclass(frozen=True, slots=True)
class TeamCard:
    """What the card of a team says: who it is, where it stands, how its games went."""

    tournament: str
    team: CardTeam
    motto: str
    standing: str
    games: tuple[str, ...]


def rgb(colour: str) -> tuple[int, int, int]:
    """``#RRGGBB`` as numbers; anything else is grey."""
    found = _HEX.fullmatch(colour.strip())
    if found is None:
        return (128, 128, 128)
    value = int(found.group(1), 16)
    return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)


@functools.cache
def emoji_in_colour() -> bool:
    """Whether Pango draws emoji in colour here (the Noto Color Emoji font is installed)."""
    drawn = pyvips.Image.text("🍺", font=f"{FONT} 40", rgba=True)
    if drawn.bands < 4:
        return False
    return bool((drawn[0] - drawn[2]).abs().max() > 16)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _text(markup: str, size: int, *, bold: bool = False, colour: str = INK) -> pyvips.Image:
    weight = " Bold" if bold else ""
    return pyvips.Image.text(
        f'<span foreground="{colour}">{markup}</span>',
        font=f"{FONT}{weight} {size}",
        rgba=True,
    )


def line(
    text: str,
    size: int,
    width: int,
    *,
    bold: bool = False,
    colour: str = INK,
    prefix: str = "",
) -> pyvips.Image:
    """One line of ``text`` (after ``prefix``, both plain text) at ``size`` px, cut with an
    ellipsis to fit ``width``."""
    if not emoji_in_colour():
        prefix = ""
    shown = text
    for _ in range(6):
        drawn = _text(_escape(prefix + shown), size, bold=bold, colour=colour)
        if drawn.width <= width or len(shown) <= 1:
            return drawn
        keep = max(1, int(len(shown) * width / drawn.width) - 1)
        shown = shown[:keep].rstrip() + "…"
    return drawn.crop(0, 0, min(width, drawn.width), drawn.height)


def _background() -> pyvips.Image:
    ramp = pyvips.Image.xyz(1, HEIGHT)[1] / (HEIGHT - 1)
    steps = [b - t for t, b in zip(TOP, BOTTOM, strict=True)]
    column = ramp.linear(steps, list(TOP)).cast("uchar")
    return column.zoom(WIDTH, 1).copy(interpretation="srgb")


def _dot(colour: str, size: int) -> pyvips.Image:
    """A team's colour as a disc with a light rim (a dark colour still shows)."""
    r, g, b = rgb(colour)
    disc = pyvips.Image.black(size, size, bands=4).copy(interpretation="srgb")
    half = size // 2
    disc = disc.draw_circle([201, 204, 218, 255], half, half, half - 1, fill=True)
    return disc.draw_circle([r, g, b, 255], half, half, half - 4, fill=True)


def _bar(colour: tuple[int, int, int], width: int, height: int) -> pyvips.Image:
    ink = [*colour, 255]
    return (pyvips.Image.black(width, height) + ink).cast("uchar").copy(interpretation="srgb")


def _png(base: pyvips.Image, layers: list[tuple[pyvips.Image, int, int]]) -> bytes:
    images = [layer for layer, _, _ in layers]
    card = base.composite(images, "over", x=[x for _, x, _ in layers], y=[y for _, _, y in layers])
    data: bytes = card.flatten().cast("uchar").write_to_buffer(".png", compression=6)
    return data


def _brand(width: int) -> pyvips.Image:
    return line("Beer Olympics", 26, width, bold=True, colour=MUTED, prefix="🍻 ")


def draw_tournament(card: TournamentCard) -> bytes:
    """The tournament's card: its name, where it stands, and its podium."""
    inner = WIDTH - 2 * MARGIN
    layers = [
        (_bar(GOLD, 16, HEIGHT), 0, 0),
        (_brand(inner), MARGIN, 44),
        (line(card.kicker.upper(), 26, inner, bold=True, colour="#f2c14e"), MARGIN, 96),
        (line(card.name, 68, inner, bold=True), MARGIN, 136),
        (line(card.line, 28, inner, colour=MUTED), MARGIN, 230),
    ]
    if card.podium:
        column = inner // len(card.podium) if len(card.podium) > 3 else inner // 3
        for i, team in enumerate(card.podium):
            x = MARGIN + i * column
            medal = MEDALS.get(team.place or 0, "")
            layers.append((line(medal or f"{team.place or ''}.", 56, column - 24), x, 300))
            layers.append((_bar(rgb(team.colour), column - 32, 8), x, 384))
            layers.append(
                (line(team.name, 32, column - 32, bold=True, prefix=f"{team.flag} "), x, 408)
            )
            layers.append((line(team.points, 30, column - 32, colour=MUTED), x, 462))
    else:
        waiting = "The podium fills in with the first results."
        layers.append((line(waiting, 34, inner, colour=MUTED), MARGIN, 360))
    return _png(_background(), layers)


def draw_team(card: TeamCard) -> bytes:
    """A team's card: its flag and name in its colour, its place, its games."""
    inner = WIDTH - 2 * MARGIN
    team = card.team
    layers = [
        (_bar(rgb(team.colour), 24, HEIGHT), 0, 0),
        (_brand(inner), MARGIN, 44),
        (line(card.tournament, 28, inner, colour=MUTED), MARGIN, 92),
        (_dot(team.colour, 56), MARGIN, 160),
        (line(team.name, 68, inner - 80, bold=True, prefix=f"{team.flag} "), MARGIN + 80, 146),
    ]
    y = 246
    if card.motto:
        layers.append((line(f"“{card.motto}”", 30, inner, colour=MUTED), MARGIN, y))
        y += 56
    layers.append((line(card.standing, 44, inner, bold=True, colour="#f2c14e"), MARGIN, y + 10))
    y += 90
    for text in card.games[:4]:
        layers.append((line(text, 30, inner), MARGIN, y))
        y += 46
    return _png(_background(), layers)
