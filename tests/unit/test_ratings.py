"""Ratings kept up to date result by result equal the ratings computed from scratch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.formats.base import BYE, HeadToHeadOutcome, HeatOutcome, forfeit, tie, win
from beerolympics.domain.highlights import winning_streak
from beerolympics.domain.ratings import (
    CHECKPOINT_EVERY,
    INITIAL,
    RatedResult,
    TeamRatings,
    rated,
    win_probability,
)

TEAMS = [f"t{i}" for i in range(6)]
MATCHES = [("g", f"m{i}") for i in range(40)]


@st.composite
def changes(draw: st.DrawFn) -> list[tuple[int, list[str] | None, list[int]]]:
    """Steps: a match gets a result (its teams and ranks) or loses the one it had."""
    steps = []
    for _ in range(draw(st.integers(1, 120))):
        match = draw(st.integers(0, len(MATCHES) - 1))
        if draw(st.integers(0, 5)) == 0:
            steps.append((match, None, []))
            continue
        teams = draw(st.lists(st.sampled_from(TEAMS), min_size=2, max_size=4, unique=True))
        ranks = draw(st.lists(st.integers(1, len(teams)), min_size=len(teams), max_size=len(teams)))
        steps.append((match, teams, ranks))
    return steps


@settings(max_examples=60, deadline=None)
@given(steps=changes(), batch=st.integers(1, 4))
def test_any_sequence_of_results_equals_a_from_scratch_fold(
    steps: list[tuple[int, list[str] | None, list[int]]], batch: int
) -> None:
    live = TeamRatings()
    counted: dict[tuple[str, str], RatedResult] = {}
    # Orders are log positions: each change is a newer event than the ones before it.
    for start in range(0, len(steps), batch):
        update: dict[tuple[str, str], RatedResult | None] = {}
        for offset, (index, teams, ranks) in enumerate(steps[start : start + batch]):
            match = MATCHES[index]
            if teams is None:
                update[match] = None
                counted.pop(match, None)
            else:
                result = RatedResult(start + offset + 1, match, tuple(teams), tuple(ranks))
                update[match] = counted[match] = result
        live.update(update)
        fresh = TeamRatings.from_scratch(counted.values())
        assert live.results == fresh.results
        assert live.ratings == fresh.ratings  # exactly: the same folds in the same order
        assert live.before == fresh.before
        # Each team's index survives corrections anywhere: it reads its streak like a full scan.
        assert live.by_team == fresh.by_team
        for team in TEAMS:
            assert winning_streak(live.results, team, live.by_team.get(team, ())) == (
                winning_streak(live.results, team)
            )


def test_a_new_result_costs_one_fold_and_an_early_correction_refolds_from_a_checkpoint() -> None:
    ratings = TeamRatings()
    for n in range(3 * CHECKPOINT_EVERY):
        a, b = TEAMS[n % 6], TEAMS[(n + 1) % 6]
        ratings.update({("g", f"m{n}"): RatedResult(n + 1, ("g", f"m{n}"), (a, b), (1, 2))})
        assert ratings.last_refolded == 1
    assert len(ratings.checkpoints) == 3
    # Take back result 40: results from the checkpoint at 32 are rated again, not all 96.
    ratings.update({("g", "m40"): None})
    assert ratings.last_refolded == 3 * CHECKPOINT_EVERY - 1 - CHECKPOINT_EVERY
    assert ratings.ratings == TeamRatings.from_scratch(ratings.results).ratings


def test_winners_rise_and_new_teams_start_at_zero() -> None:
    ratings = TeamRatings.from_scratch(
        [
            RatedResult(1, ("g", "a"), ("x", "y"), (1, 2)),
            RatedResult(2, ("g", "b"), ("x", "z"), (1, 2)),
        ]
    )
    assert INITIAL.ordinal == pytest.approx(0)
    assert ratings.rating("x").ordinal > ratings.rating("y").ordinal
    assert ratings.rating("x").results == 2
    assert ratings.rating("nobody") == INITIAL
    favourite, underdog = win_probability(ratings.ratings, ["x", "y"])
    assert favourite > 0.5 > underdog
    # What x had before its second result is kept (an upset is judged on it).
    assert ratings.before[("g", "b")][0] == TeamRatings.from_scratch(ratings.results[:1]).rating(
        "x"
    )


@pytest.mark.parametrize(
    ("participants", "outcome", "expected"),
    [
        (("a", "b"), win(1), (("a", "b"), (2, 1))),
        (("a", "b"), tie(), (("a", "b"), (1, 1))),
        (("a", "b"), forfeit(0), None),
        (("a", "b"), HeadToHeadOutcome(double_forfeit=True), None),
        (("a", BYE), win(0), None),
        (("a", "b", "c"), HeatOutcome(places=(2, 1, 2)), (("a", "b", "c"), (2, 1, 2))),
    ],
)
def test_what_counts_for_ratings(
    participants: tuple[str, ...],
    outcome: HeadToHeadOutcome | HeatOutcome,
    expected: tuple[tuple[str, ...], tuple[int, ...]] | None,
) -> None:
    found = rated(7, ("g", "m"), participants, outcome)
    assert (None if found is None else (found.teams, found.ranks)) == expected
