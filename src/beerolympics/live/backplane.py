"""The backplane between instances: "I committed up to position N", and who is online.

Each instance holds ONE subscription (to both topics) and fans out locally through its hub.
Only notifications travel here; the events themselves are read from the event store, in order,
so a lost notification costs latency (the poller catches up), never a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import msgspec

from beerolympics.domain.codes import new_id
from beerolympics.live.presence import Presence, Summary
from beerolympics.ports.pubsub import PubSub, PubSubError
from beerolympics.projections.projector import Projector

log = logging.getLogger("beerolympics.backplane")

EVENTS: Final = "beerolympics.events"
PRESENCE: Final = "beerolympics.presence"


class Committed(msgspec.Struct, frozen=True, tag="committed"):
    instance: str
    position: int


class Online(msgspec.Struct, frozen=True, tag="online"):
    instance: str
    tournament: str
    summary: Summary


Note = Committed | Online
_decode = msgspec.json.Decoder(Note).decode
_encode = msgspec.json.Encoder().encode


def committed_note(instance: str, position: int) -> bytes:
    """What an instance publishes on :data:`EVENTS` after storing events up to ``position``
    (a standalone job worker, which has no backplane of its own, publishes it too)."""
    return _encode(Committed(instance, position))


class Backplane:
    """Publishes this instance's commits and presence; follows the others'."""

    def __init__(
        self, pubsub: PubSub, projector: Projector, presence: Presence, heartbeat: float
    ) -> None:
        self.pubsub = pubsub
        self.projector = projector
        self.presence = presence
        self.heartbeat = heartbeat
        self.instance = new_id("in", 8)
        self._committed = 0
        self._published = 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._dirty: set[str] = set()
        self.connected = asyncio.Event()

    def start(self) -> None:
        self.presence.on_change(self._presence_changed)
        self._tasks = [
            asyncio.create_task(self._listen(), name="backplane-listen"),
            asyncio.create_task(self._publish(), name="backplane-publish"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def committed(self, position: int) -> None:
        """This instance stored events up to ``position`` (called after each append)."""
        if position > self._committed:
            self._committed = position
            self._wake.set()

    def _presence_changed(self, tournament_id: str, local: bool) -> None:
        if local:  # others tell about their own people
            self._dirty.add(tournament_id)
            self._wake.set()

    async def _publish(self) -> None:
        # Latest position only: a burst of commits is one notification.
        while True:
            try:
                async with asyncio.timeout(self.heartbeat):
                    await self._wake.wait()
            except TimeoutError:
                # Re-announce presence before the others' copies expire.
                self._dirty.update(self.presence.tournaments())
            self._wake.clear()
            try:
                if self._committed > self._published:
                    position = self._committed
                    await self.pubsub.publish(EVENTS, committed_note(self.instance, position))
                    self._published = position
                dirty, self._dirty = self._dirty, set()
                for tid in dirty:
                    note = Online(self.instance, tid, self.presence.local(tid))
                    await self.pubsub.publish(PRESENCE, _encode(note))
            except PubSubError as exc:
                log.warning("backplane publish failed: %s", exc)
                await asyncio.sleep(1)

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                async with self.pubsub.subscribe(EVENTS, PRESENCE) as subscription:
                    self.connected.set()
                    delay = 0.5
                    # Whatever was announced while we were not listening is in the store.
                    await self.projector.catch_up()
                    async for _, data in subscription:
                        await self._heard(data)
            except PubSubError as exc:
                self.connected.clear()
                log.warning("backplane subscription lost (%s); again in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _heard(self, data: bytes) -> None:
        try:
            note = _decode(data)
        except msgspec.DecodeError:
            log.warning("ignored a backplane message that is not ours")
            return
        if note.instance == self.instance:
            return
        if isinstance(note, Committed):
            if note.position > self.projector.position:
                try:
                    await self.projector.catch_up()
                except Exception:
                    log.exception("catching up after a notification failed")
        else:
            self.presence.heard(note.instance, note.tournament, note.summary)
