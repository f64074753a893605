"""The registry: every format behind one protocol, options validated with clear codes."""

from __future__ import annotations

import random

import pytest

from beerolympics.domain.errors import Invalid
from beerolympics.domain.formats import (
    FORMATS,
    Format,
    FormatError,
    SwissOptions,
    build,
    get_format,
    next_round,
    placements,
    resolve,
    standings,
)
from tests.unit.formats.simulation import team_names


def test_registry_lists_every_format() -> None:
    assert set(FORMATS) == {
        "round_robin",
        "single_elimination",
        "double_elimination",
        "swiss",
        "groups_playoffs",
        "heats",
    }
    for name, definition in FORMATS.items():
        fmt: Format = definition
        assert fmt.name == name


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_builds_and_answers_every_query(name: str) -> None:
    fmt = get_format(name)
    plan = fmt.build(team_names(8), None, random.Random(1))
    assert plan.format == name
    assert plan.teams == tuple(team_names(8))
    assert isinstance(fmt.resolve(plan, {}).matches, dict)
    assert fmt.placements(plan, {}) == {}
    assert isinstance(fmt.standings(plan, {}), tuple)
    assert fmt.next_round(plan, {}) == []
    # The module-level entry points dispatch on plan.format.
    assert resolve(plan, {}) == fmt.resolve(plan, {})
    assert placements(plan, {}) == {}
    assert standings(plan, {}) == fmt.standings(plan, {})
    assert next_round(plan, {}) == []


def test_unknown_format() -> None:
    with pytest.raises(FormatError) as error:
        build("beer_chess", team_names(4))
    assert error.value.code == "unknown_format"


def test_options_errors_name_the_key_and_are_domain_errors() -> None:
    swiss = get_format("swiss")
    assert swiss.parse_options({"rounds": 4}) == SwissOptions(rounds=4)
    cases: list[dict[str, object]] = [
        {"rounds": 0},
        {"best_of": 4},
        {"colour": "red"},
        {"rounds": "three"},
        {"tiebreaks": ["buchholz", "buchholz"]},
        {"points_win": 0, "points_loss": 1},
    ]
    for raw in cases:
        with pytest.raises(FormatError) as error:
            swiss.parse_options(raw)
        assert error.value.code == "invalid_format_options"
        assert isinstance(error.value, ValueError)
        assert isinstance(error.value, Invalid)
    with pytest.raises(FormatError, match="best_of"):
        swiss.parse_options({"best_of": 4})


def test_options_of_another_format_are_refused() -> None:
    with pytest.raises(FormatError) as error:
        build("round_robin", team_names(4), SwissOptions())
    assert error.value.code == "invalid_format_options"
