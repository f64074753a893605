"""The options of each format, validated on construction and on decoding.

Each options struct is tagged with its format name (``{"format": "swiss", ...}``) so a plan can
carry any of them. Rules that need only the options are checked here; rules that depend on the
team count are checked by the format's ``build``. Every failure is a :class:`FormatError` with code
``invalid_format_options`` whose message names the offending key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

import msgspec

from beerolympics.domain.formats.base import FormatError

SeedingMethod = Literal["natural", "random", "manual"]
"""natural/manual: the given team order is the seed order (manual records that the organizer set
it by hand); random: the order is shuffled with the ``rng`` passed to ``build``."""

TiebreakName = Literal[
    "head_to_head",
    "point_diff",
    "points_for",
    "points_against",
    "wins",
    "buchholz",
    "median_buchholz",
    "sonneborn_berger",
]
GrandFinal = Literal["none", "single", "reset"]

INVALID_OPTIONS = "invalid_format_options"


def invalid(key: str, message: str) -> FormatError:
    """The error for a bad option value; the message starts with the key."""
    return FormatError(INVALID_OPTIONS, f"{key}: {message}")


def check_best_of(key: str, value: int | None) -> None:
    """Best-of counts must be odd and at least 1 (a series cannot end level)."""
    if value is not None and (value < 1 or value % 2 == 0):
        raise invalid(key, f"must be an odd number >= 1, got {value}")


def _check_scoring(win: float, draw: float, loss: float) -> None:
    if not win >= draw >= loss:
        raise invalid("points_win", "points must satisfy win >= draw >= loss")


def _check_tiebreaks(tiebreaks: tuple[TiebreakName, ...]) -> None:
    if len(set(tiebreaks)) != len(tiebreaks):
        raise invalid("tiebreaks", "each tie-break may appear once")


def _check_draws(allow_draws: bool, best_of: int) -> None:
    if allow_draws and best_of != 1:
        raise invalid("allow_draws", "draws need best_of 1 (a series always has a winner)")


class _Options(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="format"
):
    """Base of the options structs: frozen, keyword-only, tagged by format name."""


class RoundRobinOptions(_Options, frozen=True, tag="round_robin"):
    """Everyone plays everyone, once (or twice with ``double``, home and away swapped)."""

    double: bool = False
    allow_draws: bool = False
    best_of: int = 1
    points_win: float = 3.0
    points_draw: float = 1.0
    points_loss: float = 0.0
    tiebreaks: tuple[TiebreakName, ...] = ("head_to_head", "point_diff", "points_for")

    def __post_init__(self) -> None:
        check_best_of("best_of", self.best_of)
        _check_draws(self.allow_draws, self.best_of)
        _check_scoring(self.points_win, self.points_draw, self.points_loss)
        _check_tiebreaks(self.tiebreaks)


class SingleEliminationOptions(_Options, frozen=True, tag="single_elimination"):
    """A knockout bracket; ``final_best_of`` defaults to ``best_of``. ``third_place`` adds a
    match between the semifinal losers (nothing to add with only two teams)."""

    seeding: SeedingMethod = "natural"
    third_place: bool = False
    best_of: int = 1
    final_best_of: int | None = None

    def __post_init__(self) -> None:
        check_best_of("best_of", self.best_of)
        check_best_of("final_best_of", self.final_best_of)


class DoubleEliminationOptions(_Options, frozen=True, tag="double_elimination"):
    """Winners and losers brackets; ``final_best_of`` applies to the grand final matches
    (to both bracket finals when ``grand_final`` is ``none``)."""

    seeding: SeedingMethod = "natural"
    grand_final: GrandFinal = "reset"
    best_of: int = 1
    final_best_of: int | None = None

    def __post_init__(self) -> None:
        check_best_of("best_of", self.best_of)
        check_best_of("final_best_of", self.final_best_of)


class SwissOptions(_Options, frozen=True, tag="swiss"):
    """Swiss rounds; ``rounds`` defaults to ceil(log2 teams), ``bye_points`` to ``points_win``."""

    rounds: int | None = None
    allow_draws: bool = False
    best_of: int = 1
    points_win: float = 3.0
    points_draw: float = 1.0
    points_loss: float = 0.0
    bye_points: float | None = None
    tiebreaks: tuple[TiebreakName, ...] = ("buchholz", "median_buchholz", "sonneborn_berger")

    def __post_init__(self) -> None:
        check_best_of("best_of", self.best_of)
        _check_draws(self.allow_draws, self.best_of)
        _check_scoring(self.points_win, self.points_draw, self.points_loss)
        _check_tiebreaks(self.tiebreaks)
        if self.rounds is not None and self.rounds < 1:
            raise invalid("rounds", f"must be >= 1, got {self.rounds}")


class GroupsPlayoffsOptions(_Options, frozen=True, tag="groups_playoffs"):
    """Round-robin groups, then a knockout playoff of the top ``advance_per_group`` of each."""

    groups: int = 2
    advance_per_group: int = 2
    double_round_robin: bool = False
    allow_draws: bool = False
    best_of: int = 1
    final_best_of: int | None = None
    third_place: bool = False
    points_win: float = 3.0
    points_draw: float = 1.0
    points_loss: float = 0.0
    tiebreaks: tuple[TiebreakName, ...] = ("head_to_head", "point_diff", "points_for")

    def __post_init__(self) -> None:
        check_best_of("best_of", self.best_of)
        check_best_of("final_best_of", self.final_best_of)
        _check_draws(self.allow_draws, self.best_of)
        _check_scoring(self.points_win, self.points_draw, self.points_loss)
        _check_tiebreaks(self.tiebreaks)
        if not 1 <= self.groups <= 26:
            raise invalid("groups", f"must be between 1 and 26, got {self.groups}")
        if self.advance_per_group < 1:
            raise invalid("advance_per_group", f"must be >= 1, got {self.advance_per_group}")
        if self.groups * self.advance_per_group < 2:
            raise invalid("advance_per_group", "the playoff needs at least 2 teams")


class HeatsOptions(_Options, frozen=True, tag="heats"):
    """Several teams per heat. With more than one round exactly one of ``advance_per_heat`` and
    ``advance_total`` says who goes through."""

    heat_size: int = 4
    rounds: int = 1
    advance_per_heat: int | None = None
    advance_total: int | None = None

    def __post_init__(self) -> None:
        if self.heat_size < 2:
            raise invalid("heat_size", f"must be >= 2, got {self.heat_size}")
        if self.rounds < 1:
            raise invalid("rounds", f"must be >= 1, got {self.rounds}")
        if self.rounds > 1 and (self.advance_per_heat is None) == (self.advance_total is None):
            raise invalid(
                "advance_per_heat",
                "with several rounds set exactly one of advance_per_heat and advance_total",
            )
        for key, value in (
            ("advance_per_heat", self.advance_per_heat),
            ("advance_total", self.advance_total),
        ):
            if value is not None and value < 1:
                raise invalid(key, f"must be >= 1, got {value}")


FormatOptions = (
    RoundRobinOptions
    | SingleEliminationOptions
    | DoubleEliminationOptions
    | SwissOptions
    | GroupsPlayoffsOptions
    | HeatsOptions
)


OptionsT = TypeVar("OptionsT", bound=msgspec.Struct)


def parse_options(
    options_type: type[OptionsT], raw: Mapping[str, object] | OptionsT | None
) -> OptionsT:
    """Options of ``options_type`` from a JSON-like mapping (or the struct itself, or defaults).

    Unknown keys and wrong types are refused with a :class:`FormatError` naming the key.
    """
    if raw is None:
        return options_type()
    if isinstance(raw, options_type):
        return raw
    if isinstance(raw, msgspec.Struct):
        raise FormatError(INVALID_OPTIONS, f"expected {options_type.__name__}")
    data = {k: v for k, v in raw.items() if k != "format"}
    try:
        return msgspec.convert(data, type=options_type)
    except msgspec.ValidationError as error:
        cause = error.__cause__
        if isinstance(cause, FormatError):
            raise cause from None
        raise FormatError(INVALID_OPTIONS, str(error)) from None
