"""Keeps in-memory projections up to date with the event log.

Each app instance folds the whole log into its projections at start-up and then tails it:
after its own appends (so a client reads its own writes) and whenever it hears of, or polls
for, newer positions. Every projection is a pure fold; the projector owns the position they
all reflect, so state and position always move together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from beerolympics.domain.events import Event, EventCodec
from beerolympics.ports.eventstore import EventStore, RecordedEvent

PAGE = 2000
log = logging.getLogger("beerolympics.projections")

Listener = Callable[[Sequence[tuple[Event, RecordedEvent]]], None]


class ProjectionFailed(RuntimeError):
    """A projection raised while applying an event: the read model can no longer be trusted.

    The instance stops applying events (and reports not ready) rather than serve a model that
    applied an event halfway; a restart replays the log from scratch.
    """


class Projection(Protocol):
    """A fold of events into a read model."""

    def apply(self, event: Event, recorded: RecordedEvent) -> None:
        """Fold one event in. Must not do I/O and must not raise for events it ignores."""
        ...


class Projector:
    """Feeds stored events, in position order and exactly once, into a set of projections."""

    def __init__(
        self, store: EventStore, codec: EventCodec, projections: Sequence[Projection]
    ) -> None:
        self.store = store
        self.codec = codec
        self.projections = list(projections)
        self.position = 0
        self.failed: BaseException | None = None
        self._lock = asyncio.Lock()
        #: Reads of the log begun, and the last of them that found its end.
        self._reads = 0
        self._reached_end = 0
        self._listeners: list[Listener] = []

    def on_applied(self, listener: Listener) -> None:
        """Call ``listener`` with every page of events (decoded, with their records) right
        after it was applied to the projections."""
        self._listeners.append(listener)

    async def catch_up(self, until: int | None = None) -> int:
        """Apply everything stored after the current position; return the new position.

        With ``until``, return as soon as that position has been applied (maybe by another
        caller that was already catching up).
        """
        if until is not None and self.position >= until:
            return self.position
        arrived = self._reads
        async with self._lock:
            while until is None or self.position < until:
                if until is None and self._reached_end > arrived:
                    # A read that began after this call found the end of the log: what was
                    # stored before the call is applied (callers waiting together share it).
                    break
                self._reads += 1
                read = self._reads
                page = await self.store.read_all(self.position, PAGE)
                if not page:
                    self._reached_end = read
                    break
                self.apply_page(page)
        return self.position

    async def advance(self, appended: Sequence[RecordedEvent]) -> int:
        """Catch up to the end of ``appended``, events this instance has just stored.

        When nothing else was stored in between they are applied as they are, saving a read.
        """
        if not appended:
            return self.position
        async with self._lock:
            if self.position == appended[0].position - 1:
                self.apply_page(appended)
        return await self.catch_up(until=appended[-1].position)

    def apply_page(self, page: Sequence[RecordedEvent]) -> None:
        if self.failed is not None:
            raise ProjectionFailed("projections stopped after an earlier failure") from self.failed
        applied: list[tuple[Event, RecordedEvent]] = []
        for recorded in page:
            if recorded.position != self.position + 1:
                raise ProjectionFailed(
                    f"event log out of order: at {self.position}, got {recorded.position}"
                )
            try:
                event = self.codec.decode(recorded)
                for projection in self.projections:
                    projection.apply(event, recorded)
            except Exception as exc:
                self.failed = exc
                raise ProjectionFailed(f"applying event {recorded.position} failed") from exc
            self.position = recorded.position
            applied.append((event, recorded))
        for listener in self._listeners:
            try:
                listener(applied)
            except Exception:
                # The projections are fine; a listener's bug must not fail the command.
                log.exception("a listener of the projector failed")

    async def replay(self, progress: Callable[[int], None] | None = None) -> tuple[int, float]:
        """Fold the whole log from the current position; return (events applied, seconds)."""
        started = time.perf_counter()
        applied = 0
        async with self._lock:
            while True:
                page = await self.store.read_all(self.position, PAGE)
                if not page:
                    break
                self.apply_page(page)
                applied += len(page)
                if progress is not None:
                    progress(len(page))
        return applied, time.perf_counter() - started
