"""Wins and winning streaks over every game's results, in the order they were confirmed."""

from __future__ import annotations

from beerolympics.domain.ratings import RatedResult
from beerolympics.projections.recap import wins_and_streaks


def result(order: int, teams: tuple[str, ...], ranks: tuple[int, ...]) -> RatedResult:
    return RatedResult(order, ("g", f"m{order}"), teams, ranks)


def test_a_heat_won_alone_counts_and_a_draw_or_a_heat_place_ends_a_run() -> None:
    wins, longest = wins_and_streaks(
        [
            result(1, ("a", "b"), (1, 2)),  # a wins a duel
            result(2, ("a", "b", "c"), (1, 2, 3)),  # a wins a heat: 2 in a row
            result(3, ("a", "c"), (1, 1)),  # a draw: nobody wins, a's run ends
            result(4, ("a", "b"), (1, 2)),
            result(5, ("c", "a", "b"), (1, 2, 3)),  # a second in a heat: a's run ends again
            result(6, ("b", "a"), (1, 2)),
            result(7, ("b", "c"), (1, 2)),
            result(8, ("b", "a", "c"), (1, 1, 3)),  # a shared first place in a heat: no win
        ]
    )
    assert wins == {"a": 3, "b": 2, "c": 1}
    assert longest == {"a": 2, "b": 2, "c": 1}


def test_no_results_no_records() -> None:
    assert wins_and_streaks([]) == ({}, {})
