"""Resolution: states, reopened and changed results, stale outcomes, diffs, speed."""

from __future__ import annotations

import random
import timeit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.formats import (
    BYE,
    FormatError,
    HeadToHeadOutcome,
    LoserOf,
    MatchSpec,
    Outcome,
    Plan,
    SingleEliminationOptions,
    TeamSlot,
    WinnerOf,
    build,
    diff_resolutions,
    double_forfeit,
    forfeit,
    resolve,
    tie,
    validate_outcome,
    win,
)
from beerolympics.domain.formats import double_elimination as de
from beerolympics.domain.formats import single_elimination as se
from tests.unit.formats.simulation import play_out, team_names


def _played_bracket() -> tuple[Plan, dict[str, Outcome]]:
    plan = se.build(team_names(8))
    outcomes: dict[str, Outcome] = {}
    for spec in plan.matches:
        match = resolve(plan, outcomes)[spec.id]
        outcomes[spec.id] = HeadToHeadOutcome(winner=0, teams=match.teams)
    return plan, outcomes


def test_states_progress_from_pending_to_played() -> None:
    plan = se.build(team_names(4))
    resolution = resolve(plan, {})
    assert [m.state for m in resolution.matches.values()] == ["ready", "ready", "pending"]
    resolution = resolve(plan, {"R1-1": win(0), "R1-2": win(1)})
    assert resolution["R2-1"].state == "ready"
    assert resolution["R2-1"].participants == ("t1", "t3")
    assert resolution.loser("R1-2") == "t2"
    resolution = resolve(plan, {"R1-1": win(0), "R1-2": win(1), "R2-1": win(1)})
    assert resolution["R2-1"].state == "played"
    assert resolution.winner("R2-1") == "t3"
    assert resolution.complete


def test_removing_an_earlier_result_resets_what_depends_on_it() -> None:
    plan, outcomes = _played_bracket()
    before = resolve(plan, outcomes)
    reopened = {k: v for k, v in outcomes.items() if k != "R1-2"}
    after = resolve(plan, reopened)
    assert after["R1-2"].state == "ready"
    assert after["R2-1"].state == "pending"
    assert after["R2-1"].stale  # its stored result no longer applies
    assert after["R3-1"].state == "pending"
    assert after.winner("R3-1") is None
    changes = diff_resolutions(before, after)
    assert [c.id for c in changes] == ["R2-1", "R3-1"]
    assert all(c.was_played for c in changes)  # the service flags both results
    assert changes[0].after == ("t1", None)


def test_changing_an_earlier_result_gives_the_new_truth() -> None:
    plan, outcomes = _played_bracket()
    before = resolve(plan, outcomes)
    original = outcomes["R1-2"]
    outcomes["R1-2"] = win(1)  # t5 beat t4 after all
    after = resolve(plan, outcomes)
    # The semifinal result was confirmed for t1 v t4, so it does not count for t1 v t5.
    assert after["R2-1"].participants == ("t1", "t5")
    assert after["R2-1"].state == "ready"
    assert after["R2-1"].stale
    assert after["R3-1"].state == "pending"
    assert [c.id for c in diff_resolutions(before, after)] == ["R2-1", "R3-1"]
    # Putting the original result back restores the original resolution exactly.
    outcomes["R1-2"] = original
    assert resolve(plan, outcomes) == before
    assert diff_resolutions(before, resolve(plan, outcomes)) == ()


def test_diff_reports_unplayed_matches_for_reset() -> None:
    plan = se.build(team_names(4))
    before = resolve(plan, {"R1-1": win(0), "R1-2": win(0)})
    after = resolve(plan, {"R1-1": win(0), "R1-2": win(1)})
    (change,) = diff_resolutions(before, after)
    assert change.id == "R2-1"
    assert not change.was_played
    assert (change.before, change.after) == (("t1", "t2"), ("t1", "t3"))


def test_grand_final_reset_becoming_unnecessary_is_reported() -> None:
    plan = de.build(["a", "b", "c", "d"])
    outcomes: dict[str, Outcome] = {
        "W1-1": win(0),
        "W1-2": win(0),
        "L1-1": win(0),
        "W2-1": win(0),
        "L2-1": win(1),
        "GF1": win(1),
        "GF2": win(0),
    }
    before = resolve(plan, outcomes)
    outcomes["GF1"] = win(0)
    after = resolve(plan, outcomes)
    assert after["GF2"].state == "void"
    (change,) = diff_resolutions(before, after)
    assert change.id == "GF2"
    assert change.was_played
    assert change.state_after == "void"


def test_reopening_the_first_grand_final_flags_the_played_reset() -> None:
    plan = de.build(["a", "b", "c", "d"])
    outcomes: dict[str, Outcome] = {
        "W1-1": win(0),
        "W1-2": win(0),
        "L1-1": win(0),
        "W2-1": win(0),
        "L2-1": win(1),
        "GF1": win(1),
        "GF2": win(0),
    }
    before = resolve(plan, outcomes)
    del outcomes["GF1"]
    after = resolve(plan, outcomes)
    assert after["GF2"].state == "pending"
    (change,) = diff_resolutions(before, after)
    assert change.id == "GF2"
    assert change.was_played
    assert change.before == change.after == ("a", "b")


def test_forfeits_and_ties() -> None:
    spec = MatchSpec(id="X", round=1, label="X", section="s", slots=(TeamSlot("a"), TeamSlot("b")))
    plan = Plan(
        format="single_elimination",
        options=SingleEliminationOptions(),
        teams=("a", "b"),
        matches=(spec,),
    )
    assert resolve(plan, {"X": forfeit(0)}).winner("X") == "b"
    assert resolve(plan, {"X": double_forfeit()})["X"].losers == ("a", "b")
    with pytest.raises(FormatError) as error:
        resolve(plan, {"X": tie()})
    assert error.value.code == "invalid_outcome"


def test_double_forfeit_sends_byes_downstream() -> None:
    plan = se.build(team_names(4))
    resolution = resolve(plan, {"R1-1": double_forfeit(), "R1-2": win(0)})
    assert resolution["R2-1"].participants == (BYE, "t2")
    assert resolution["R2-1"].state == "bye"
    assert resolution.winner("R2-1") == "t2"


def test_match_referring_forward_is_an_invalid_plan() -> None:
    spec = MatchSpec(id="A", round=1, label="A", section="s", slots=(WinnerOf("B"), BYE))
    plan = Plan(
        format="single_elimination",
        options=SingleEliminationOptions(),
        teams=("a", "b"),
        matches=(spec,),
    )
    with pytest.raises(FormatError) as error:
        resolve(plan, {})
    assert error.value.code == "invalid_plan"


def test_validate_head_to_head_outcomes() -> None:
    single = MatchSpec(id="M", round=1, label="M", section="s", slots=(BYE, BYE))
    drawable = MatchSpec(id="D", round=1, label="D", section="s", slots=(BYE, BYE), allow_ties=True)
    series = MatchSpec(id="S", round=1, label="S", section="s", slots=(BYE, BYE), best_of=3)
    validate_outcome(single, win(0, (21.0, 3.0)))
    validate_outcome(drawable, tie((2.0, 2.0)))
    validate_outcome(single, forfeit(1))
    validate_outcome(single, double_forfeit())
    validate_outcome(series, win(1, (1.0, 2.0)))
    bad = [
        (single, tie()),
        (single, HeadToHeadOutcome(winner=0, forfeited=0)),
        (single, HeadToHeadOutcome(winner=2)),
        (drawable, tie((1.0, 2.0))),
        (series, win(0, (3.0, 0.0))),
        (series, win(0, (2.0, 2.0))),
        (single, HeadToHeadOutcome(winner=0, double_forfeit=True)),
    ]
    for spec, outcome in bad:
        with pytest.raises(FormatError) as error:
            validate_outcome(spec, outcome)
        assert error.value.code == "invalid_outcome", outcome


def test_resolve_speed_for_128_team_double_elimination() -> None:
    """Prints the time; no threshold (see bench/ for numbers that matter)."""
    plan, outcomes = play_out(de.build(team_names(128)), random.Random(1))
    runs = 50
    seconds = timeit.timeit(lambda: resolve(plan, outcomes), number=runs) / runs
    print(
        f"resolve 128-team double elimination ({len(plan.matches)} matches): "
        f"{seconds * 1000:.3f} ms"
    )
    assert resolve(plan, outcomes).complete


def _children(plan: Plan) -> dict[str, set[str]]:
    children: dict[str, set[str]] = {}
    for spec in plan.matches:
        parents = [s.match for s in spec.slots if isinstance(s, (WinnerOf, LoserOf))]
        if spec.condition is not None:
            parents.append(spec.condition.match)
        for parent in parents:
            children.setdefault(parent, set()).add(spec.id)
    return children


def _descendants(children: dict[str, set[str]], root: str) -> set[str]:
    found: set[str] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), set()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["single_elimination", "double_elimination"]),
    count=st.integers(2, 24),
    seed=st.integers(0, 10_000),
    pick=st.integers(0, 10_000),
)
def test_reopening_any_result_only_touches_what_depends_on_it(
    name: str, count: int, seed: int, pick: int
) -> None:
    plan, outcomes = play_out(build(name, team_names(count)), random.Random(seed))
    before = resolve(plan, outcomes)
    played = sorted(outcomes)
    reopened = played[pick % len(played)]
    rest = {k: v for k, v in outcomes.items() if k != reopened}
    after = resolve(plan, rest)
    assert after[reopened].state == "ready"
    children = _children(plan)
    downstream = _descendants(children, reopened)
    changed = {c.id for c in diff_resolutions(before, after)}
    assert changed <= downstream
    assert {c for c in children.get(reopened, set()) if before[c].state != "void"} <= changed
    for match_id in before.matches:
        if match_id not in downstream and match_id != reopened:
            assert after[match_id] == before[match_id]
    assert resolve(plan, outcomes) == before
