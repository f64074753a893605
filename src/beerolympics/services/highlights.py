"""Use cases of highlights: reading them, organizers hiding and showing one, and recording
what the projection finds.

:class:`HighlightRecorder` follows the projector like the notifications reactor: whenever a
tournament's highlights projection owes events (highlights found but not in the log yet, or
recorded ones whose result stopped counting) it appends them to ``highlights:<tournament>`` as
a command of the system, at the stream's expected version. Highlight ids come from the
confirmation they were found in, so two instances that both find one record it once: the
second fails the expected version, catches up and finds nothing owed. At start-up it records
what the last hour's results still owe (an instance stopped between a result and its
highlights); older ones are left unrecorded: a highlight from yesterday is no news.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Final

import msgspec

from beerolympics.domain import events as ev
from beerolympics.domain.errors import NotFound
from beerolympics.domain.highlights import stream_id
from beerolympics.domain.identity import Actor, require_organizer
from beerolympics.ports.eventstore import RecordedEvent
from beerolympics.projections.catalog import Catalog
from beerolympics.projections.highlights import HighlightRecord, Highlights
from beerolympics.services.runner import CommandRunner, Decision
from beerolympics.services.tournaments import metadata_for

log = logging.getLogger("beerolympics.highlights")

Clock = Callable[[], dt.datetime]
#: Highlights found this long before a start-up (by the log's clock) are still recorded.
WINDOW: Final = dt.timedelta(hours=1)
SYSTEM: Final = {"role": "system", "credential": "system"}


class Appended(msgspec.Struct, frozen=True):
    events: int


class HighlightService:
    """Reading highlights, and organizers hiding or showing one."""

    def __init__(self, runner: CommandRunner, catalog: Catalog, highlights: Highlights) -> None:
        self.runner = runner
        self.catalog = catalog
        self.highlights = highlights

    def list(self, tournament_id: str, actor: Actor) -> list[HighlightRecord]:
        """In time order; hidden ones too for the tournament's organizers."""
        self.catalog.get(tournament_id)
        return self.highlights.highlights(tournament_id, hidden=_organizer(actor, tournament_id))

    def get(self, tournament_id: str, actor: Actor, highlight_id: str) -> HighlightRecord:
        self.catalog.get(tournament_id)
        record = self.highlights.of(tournament_id).records.get(highlight_id)
        if (
            record is None
            or record.retracted
            or (record.hidden and not _organizer(actor, tournament_id))
        ):
            raise NotFound(f"no highlight {highlight_id!r}", code="highlight_not_found")
        return record

    async def set_hidden(
        self, tournament_id: str, actor: Actor, highlight_id: str, hidden: bool
    ) -> HighlightRecord:
        """Organizers only. Hiding a hidden one (or showing a shown one) changes nothing."""
        self.catalog.get(tournament_id)
        require_organizer(actor, tournament_id)
        self.get(tournament_id, actor, highlight_id)
        stream = stream_id(tournament_id)

        def decide() -> Decision[Appended]:
            th = self.highlights.of(tournament_id)
            record = th.records[highlight_id]
            if record.retracted or record.hidden == hidden:
                return Decision(Appended(0))
            event: ev.Event = (
                ev.HighlightHidden(highlight_id=highlight_id)
                if hidden
                else ev.HighlightShown(highlight_id=highlight_id)
            )
            return Decision(Appended(1), [(stream, [event], th.version)], tournament_id)

        await self.runner.run(
            decide=decide, outcome_type=Appended, lock=stream, metadata=metadata_for(actor)
        )
        return self.highlights.of(tournament_id).records[highlight_id]


def _organizer(actor: Actor, tournament_id: str) -> bool:
    return actor.in_tournament(tournament_id) and actor.role == "organizer"


class HighlightRecorder:
    """Appends the highlight events the projection owes (one per instance, started after the
    replay)."""

    def __init__(self, highlights: Highlights, runner: CommandRunner, clock: Clock | None = None):
        self.highlights = highlights
        self.runner = runner
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._dirty: set[str] = set()
        self._changed = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        #: Highlights found too long before the start to be news: never recorded.
        self._old: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        since = self.clock() - WINDOW
        for tid, th in self.highlights.tournaments.items():
            self._old.update(h for h, p in th.pending.items() if p.at < since)
            if th.owing:
                self._dirty.add(tid)
        self._task = asyncio.create_task(self._loop(), name="highlight-recorder")
        self._wake()

    def notice(self, page: Sequence[tuple[ev.Event, RecordedEvent]]) -> None:
        """Projector listener."""
        if self._task is None:
            return
        for _, recorded in page:
            tid = recorded.scope
            if tid and self.highlights.of(tid).owing:
                self._dirty.add(tid)
        self._wake()

    def _wake(self) -> None:
        if self._dirty:
            self._idle.clear()
            self._changed.set()

    async def idle(self) -> None:
        """Return once everything noticed so far is recorded (tests, benchmarks)."""
        await self._idle.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            while self._dirty:
                tid = self._dirty.pop()
                try:
                    await self.record(tid)
                except Exception:
                    log.exception("recording the highlights of %s failed; retrying", tid)
                    self._dirty.add(tid)
                    await asyncio.sleep(2.0)
            if not self._dirty:
                self._idle.set()

    async def record(self, tournament_id: str) -> int:
        """Append what the tournament's highlights owe; how many events that took."""
        stream = stream_id(tournament_id)

        def decide() -> Decision[Appended]:
            th = self.highlights.of(tournament_id)
            events: list[ev.Event] = [
                p.event for hid, p in th.pending.items() if hid not in self._old
            ]
            events.extend(
                ev.HighlightRetracted(highlight_id=hid, reason=reason)
                for hid, reason in th.stale.items()
            )
            if not events:
                return Decision(Appended(0))
            return Decision(Appended(len(events)), [(stream, events, th.version)], tournament_id)

        outcome = await self.runner.run(
            decide=decide, outcome_type=Appended, lock=stream, metadata=SYSTEM
        )
        return outcome.events
