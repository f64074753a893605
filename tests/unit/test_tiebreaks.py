"""The generic tie-break engine: plain keys, head-to-head mini-tables, shared ranks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from beerolympics.domain.tiebreaks import Key, Memo, MiniTable, Ranked, rank


def _ranks(result: list[Ranked[str]]) -> list[tuple[str, int]]:
    return [(r.item, r.rank) for r in result]


def _head_to_head(wins: set[tuple[str, str]]) -> MiniTable[str]:
    """Head-to-head wins among exactly the tied items; ``wins`` holds (winner, loser)."""

    def table(tied: Sequence[str]) -> Mapping[str, float]:
        return {a: float(sum((a, b) in wins for b in tied if b != a)) for a in tied}

    return MiniTable("head_to_head", table)


def test_plain_key_orders_and_shares_ranks_1_2_2_4() -> None:
    points = {"a": 9, "b": 6, "c": 6, "d": 1}
    result = rank(["d", "c", "b", "a"], [Key("points", lambda t: points[t])])
    assert _ranks(result) == [("a", 1), ("c", 2), ("b", 2), ("d", 4)]
    assert result[0].decided_by == "points"
    assert result[1].decided_by is None  # still tied


def test_lower_is_better_key() -> None:
    against = {"a": 3, "b": 1}
    result = rank(["a", "b"], [Key("against", lambda t: against[t], higher_is_better=False)])
    assert _ranks(result) == [("b", 1), ("a", 2)]


def test_two_way_head_to_head() -> None:
    points = {"a": 6, "b": 6, "c": 0}
    result = rank(
        ["a", "b", "c"],
        [Key("points", lambda t: points[t]), _head_to_head({("b", "a")})],
    )
    assert _ranks(result) == [("b", 1), ("a", 2), ("c", 3)]
    assert result[0].decided_by == "head_to_head"


def test_three_way_head_to_head_splits_then_reapplies_on_the_rest() -> None:
    # a, b, c level on points. a beat both; b and c drew, so between them head-to-head is
    # level again and the next criterion (diff) decides. d is behind on points and its win
    # over b does not count in the mini-table.
    wins = {("a", "b"), ("a", "c"), ("d", "b")}
    points = {"a": 6, "b": 6, "c": 6, "d": 3}
    diff = {"a": 0, "b": 1, "c": 5, "d": 9}
    result = rank(
        ["a", "b", "c", "d"],
        [
            Key("points", lambda t: points[t]),
            _head_to_head(wins),
            Key("diff", lambda t: diff[t]),
        ],
    )
    assert _ranks(result) == [("a", 1), ("c", 2), ("b", 3), ("d", 4)]
    assert [r.decided_by for r in result] == ["head_to_head", "diff", "diff", "points"]


def test_subset_mini_table_differs_from_full_table() -> None:
    # Four-way tie: in the full mini-table a=2, b=2, c=1, d=1 wins. Between a and b alone,
    # b won, so b is first: the subset is re-evaluated, not read off the big table.
    wins = {("a", "c"), ("a", "d"), ("b", "a"), ("b", "c"), ("c", "d"), ("d", "b")}
    result = rank(["a", "b", "c", "d"], [_head_to_head(wins)])
    assert _ranks(result) == [("b", 1), ("a", 2), ("c", 3), ("d", 4)]


def test_circular_three_way_tie_falls_to_next_criterion() -> None:
    wins = {("a", "b"), ("b", "c"), ("c", "a")}
    diff = {"a": 1, "b": 3, "c": 2}
    result = rank(
        ["a", "b", "c"],
        [_head_to_head(wins), Key("diff", lambda t: diff[t])],
    )
    assert _ranks(result) == [("b", 1), ("c", 2), ("a", 3)]
    assert {r.decided_by for r in result} == {"diff"}


def test_circular_tie_without_more_criteria_is_shared() -> None:
    wins = {("a", "b"), ("b", "c"), ("c", "a")}
    result = rank(["c", "a", "b"], [_head_to_head(wins)])
    assert _ranks(result) == [("c", 1), ("a", 1), ("b", 1)]  # input order kept


def test_no_criteria_everyone_shares_first() -> None:
    assert _ranks(rank(["x", "y"], [])) == [("x", 1), ("y", 1)]
    assert rank([], [Key("k", lambda t: 0.0)]) == []


ITEMS = "abcdefgh"
pair = st.tuples(st.sampled_from(ITEMS), st.sampled_from(ITEMS)).filter(lambda p: p[0] != p[1])


@settings(max_examples=150, deadline=None)
@given(
    st.sets(pair, max_size=20),
    st.lists(st.tuples(pair, st.lists(st.sampled_from(ITEMS), unique=True, min_size=2))),
)
def test_a_memo_that_forgets_what_changed_ranks_as_from_scratch(
    wins: set[tuple[str, str]], steps: list[tuple[tuple[str, str], list[str]]]
) -> None:
    """Between rankings one result flips (or appears) and the memo forgets its two items; the
    tied items ranked each time differ too, as they do when points move teams between ties."""
    diff = {item: float(ord(item) % 3) for item in ITEMS}
    criteria = [Key("first", lambda t: float(t in "aeg")), _head_to_head(wins)]
    criteria.append(Key("diff", lambda t: diff[t]))
    memo: Memo[str] = Memo()
    assert rank(ITEMS, criteria, memo) == rank(ITEMS, criteria)
    for (winner, loser), tied in steps:
        wins.discard((loser, winner))
        wins.add((winner, loser))
        memo.forget({winner, loser})
        assert rank(tied, criteria, memo) == rank(tied, criteria)
        assert rank(ITEMS, criteria, memo) == rank(ITEMS, criteria)
