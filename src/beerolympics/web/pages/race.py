"""The points race drawn as a line chart: every team's overall points after each change.

The samples come from the play projection (``TournamentPlay.race``), which records the
overall points whenever an event moved them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from beerolympics.domain.tournament import TournamentState
from beerolympics.projections.play import RaceSample

WIDTH: Final = 1000
HEIGHT: Final = 480
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 56, 290, 16, 40
#: A phone's chart: narrower, no names at the line ends (the legend below has them), so that at
#: 360 px its labels are still about 13 px.
COMPACT: Final = (420, 320, 44, 16, 16, 40)
#: Height of an end-of-line label, in chart units: labels are spread at least this far apart.
LABEL_GAP = 24


@dataclass(frozen=True, slots=True)
class Line:
    """One team's line: SVG points, where its label goes, and its last value."""

    team_id: str
    name: str
    flag: str
    colour: str
    points: str
    last: float
    label_y: float


@dataclass(frozen=True, slots=True)
class Chart:
    """A drawn race: lines, axis ticks and labels, in a ``WIDTH`` × ``HEIGHT`` box."""

    width: int
    height: int
    lines: list[Line]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    plot_left: int
    plot_right: int
    plot_bottom: int
    empty: bool
    compact: bool = False


def _nice_max(value: float) -> float:
    if value <= 0:
        return 100.0
    for step in (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000):
        if value <= step * 5:
            return float(-(-value // step) * step)
    return value


def chart(
    state: TournamentState,
    samples: list[RaceSample],
    *,
    top: int | None = None,
    compact: bool = False,
) -> Chart:
    """The race as SVG coordinates; ``top`` keeps only the leading teams' lines; ``compact``
    draws the phone's chart."""
    width, height, left, margin_right, margin_top, margin_bottom = (
        COMPACT
        if compact
        else (WIDTH, HEIGHT, _MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM)
    )
    right, bottom = width - margin_right, height - margin_bottom
    plot_w, plot_h = right - left, bottom - margin_top
    teams = [t for t in state.teams.values() if t.status != "disqualified"]
    if not samples:
        return Chart(width, height, [], [], [], left, right, bottom, True, compact)
    final = samples[-1].points
    teams.sort(key=lambda t: -final.get(t.id, 0.0))
    if top is not None:
        teams = teams[:top]
    peak = _nice_max(max((max(s.points.values(), default=0.0) for s in samples), default=0.0))
    steps = max(len(samples) - 1, 1)

    def x(i: int) -> float:
        return round(left + plot_w * i / steps, 1)

    def y(value: float) -> float:
        return round(bottom - plot_h * value / peak, 1)

    lines = []
    for team in teams:
        coords = [f"{x(i)},{y(s.points.get(team.id, 0.0))}" for i, s in enumerate(samples)]
        last = final.get(team.id, 0.0)
        lines.append(
            Line(team.id, team.name, team.flag, team.colour, " ".join(coords), last, y(last))
        )
    lines = _spread_labels(lines, margin_top + 8, bottom)
    y_ticks = [(y(peak * k / 4), f"{peak * k / 4:g}") for k in range(5)]
    picks = sorted({0, len(samples) // 2, len(samples) - 1})
    x_labels: list[tuple[float, str]] = []
    for i in picks:
        # Results entered within one minute share a time: say it once.
        label = samples[i].at.astimezone().strftime("%H:%M")
        if not x_labels or x_labels[-1][1] != label:
            x_labels.append((x(i), label))
    return Chart(width, height, lines, y_ticks, x_labels, left, right, bottom, False, compact)


def _spread_labels(
    lines: list[Line], low: float, high: float, gap: float = LABEL_GAP
) -> list[Line]:
    """Move end-of-line labels apart so that names never overlap."""
    ordered = sorted(lines, key=lambda line: line.label_y)
    placed: list[Line] = []
    previous = low - gap
    for line in ordered:
        label_y = max(line.label_y, previous + gap)
        placed.append(
            Line(line.team_id, line.name, line.flag, line.colour, line.points, line.last, label_y)
        )
        previous = label_y
    overflow = previous - high
    if overflow > 0:
        placed = [
            Line(p.team_id, p.name, p.flag, p.colour, p.points, p.last, p.label_y - overflow)
            for p in placed
        ]
    return placed
