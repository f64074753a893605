"""Rank items by an ordered list of tie-break criteria, sharing ranks where ties remain.

A criterion is either a plain :class:`Key` (one number per item, compared the same way whatever
else is tied) or a :class:`MiniTable` (a number per item computed among *exactly* the items still
tied, e.g. head-to-head points). A mini-table is re-evaluated on every smaller tied subset it
produces, so a 3-way tie that head-to-head splits into 1 + 2 is settled between the remaining two
by their own game, not by the 3-team table. A circular tie (A beat B, B beat C, C beat A) does not
split and falls through to the next criterion. Items still tied after the last criterion share a
rank (1, 2, 2, 4) and keep their input order, so callers pass items in seed order.

Used by the format standings and later by the overall leaderboard; it knows nothing about either.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Key(Generic[T]):
    """A criterion that gives each item a value independent of which items are tied."""

    name: str
    value: Callable[[T], float]
    higher_is_better: bool = True


@dataclass(frozen=True, slots=True)
class MiniTable(Generic[T]):
    """A criterion evaluated among exactly the tied items (head-to-head and similar).

    ``values`` receives the tied items and returns a value for each of them.
    """

    name: str
    values: Callable[[Sequence[T]], Mapping[T, float]]
    higher_is_better: bool = True


Criterion = Key[T] | MiniTable[T]


@dataclass(frozen=True, slots=True)
class Ranked(Generic[T]):
    """An item with its 1-based rank (shared with the items it is still tied with).

    ``decided_by`` names the criterion that last separated the item from its neighbours, or is
    ``None`` when no criterion was needed or the item is still tied.
    """

    item: T
    rank: int
    decided_by: str | None = None


Parts = list[tuple[list[T], str | None]]


class Memo(Generic[T]):
    """Splits of tied subsets remembered between calls to :func:`rank`.

    A split reads only its items' own values, so it stays right until one of them changes;
    the caller says which did with :meth:`forget`. A new result that moves one team out of a
    big tie then recomputes the subsets around that team, not the whole tie.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._splits: dict[tuple[tuple[T, ...], int, str | None], tuple[frozenset[T], Parts[T]]]
        self._splits = {}

    def forget(self, changed: Collection[T]) -> None:
        """Drop every remembered split that involves an item of ``changed``."""
        if changed:
            self._splits = {
                key: entry for key, entry in self._splits.items() if entry[0].isdisjoint(changed)
            }

    def clear(self) -> None:
        self._splits.clear()

    def split(
        self,
        group: list[T],
        criteria: Sequence[Criterion[T]],
        index: int,
        decided_by: str | None,
    ) -> Parts[T]:
        key = (tuple(group), index, decided_by)
        entry = self._splits.get(key)
        if entry is None:
            if len(self._splits) >= self._limit:
                self._splits.clear()
            entry = (frozenset(group), _split(group, criteria, index, decided_by, self))
            self._splits[key] = entry
        return entry[1]


def rank(
    items: Sequence[T], criteria: Sequence[Criterion[T]], memo: Memo[T] | None = None
) -> list[Ranked[T]]:
    """Order ``items`` best first by ``criteria`` and give each a (possibly shared) rank.

    Ties left after every criterion share a rank; within a shared rank the input order is kept.
    With ``memo`` (whose :meth:`Memo.forget` the caller keeps up to date), subsets split before
    are not split again.
    """
    ordered: list[Ranked[T]] = []
    position = 1
    parts = _descend(list(items), criteria, 0, None, memo)
    for group, decided_by in parts:
        decided = None if len(group) > 1 else decided_by
        ordered.extend(Ranked(item, position, decided) for item in group)
        position += len(group)
    return ordered


def _descend(
    group: list[T],
    criteria: Sequence[Criterion[T]],
    index: int,
    decided_by: str | None,
    memo: Memo[T] | None,
) -> Parts[T]:
    if len(group) == 1 or index == len(criteria):
        return [(group, decided_by)]
    if memo is not None:
        return memo.split(group, criteria, index, decided_by)
    return _split(group, criteria, index, decided_by, memo)


def _split(
    group: list[T],
    criteria: Sequence[Criterion[T]],
    index: int,
    decided_by: str | None,
    memo: Memo[T] | None,
) -> Parts[T]:
    criterion = criteria[index]
    if isinstance(criterion, Key):
        values = {item: criterion.value(item) for item in group}
    else:
        values = dict(criterion.values(group))
    sign = -1.0 if criterion.higher_is_better else 1.0
    # sorted() is stable, so items that stay tied keep their input (seed) order.
    ordered = sorted(group, key=lambda item: sign * values[item])
    parts: list[list[T]] = []
    for item in ordered:
        if parts and values[parts[-1][0]] == values[item]:
            parts[-1].append(item)
        else:
            parts.append([item])
    if len(parts) == 1:
        return _descend(group, criteria, index + 1, decided_by, memo)
    result: Parts[T] = []
    for part in parts:
        if isinstance(criterion, MiniTable) and len(part) > 1:
            # A smaller tied subset gets its own mini-table before moving on.
            result.extend(_descend(part, criteria, index, criterion.name, memo))
        else:
            result.extend(_descend(part, criteria, index + 1, criterion.name, memo))
    return result
