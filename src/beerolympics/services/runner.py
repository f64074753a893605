"""Runs commands: decide against current state, append atomically, retry, replay repeats.

Every use case goes through :meth:`CommandRunner.run`, which gives all of them the same
guarantees: a repeated idempotency key returns the first outcome and appends nothing; a decision
taken on stale state is retried on fresh state (unless the client pinned a version); a refused
command appends nothing; and when ``run`` returns, this instance's projections include the
command's events, so the caller reads its own writes.

A command with an idempotency key is decided before its key is looked up: the append stores
the key with the events, and refuses, atomically, to append for a key already stored (handing
back its first outcome), so a repeat is caught there without a read of the store on the way;
only a repeat the current state refuses (its first run changed that state) is looked up.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

import msgspec

from beerolympics.domain.errors import (
    Conflict,
    DomainError,
    Invalid,
    Unavailable,
    VersionConflict,
)
from beerolympics.domain.events import Event, EventCodec
from beerolympics.ports.eventstore import (
    AppendResult,
    EventStore,
    Idempotency,
    IdempotencyKeyReused,
    StoredOutcome,
    StoreUnavailable,
    StreamWrite,
    WrongExpectedVersion,
)
from beerolympics.projections.projector import Projector

R = TypeVar("R", bound=msgspec.Struct)

MAX_ATTEMPTS: Final = 8


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's ``Idempotency-Key`` and the fingerprint of the request it came with."""

    key: str
    fingerprint: str


@dataclass(slots=True)
class Decision(Generic[R]):
    """What a command decided: its outcome, events per stream with the version each stream
    must still be at, and the scope (tournament) the events belong to."""

    outcome: R
    writes: list[tuple[str, Sequence[Event], int]] = field(default_factory=list)
    scope: str = ""


class StaleState(Exception):
    """Raised by a decision that needs state newer than this instance has seen yet."""


def check_version(
    current: int, expected: int | None, *, fresh: bool, describe: Callable[[], Any], what: str
) -> None:
    """Enforce a client's ``If-Match`` version on state at version ``current``.

    A version newer than this instance has seen asks for a catch-up first (``fresh`` says one
    was done); after it, any difference is the client's stale view: a conflict carrying the
    current state (``describe()``) so the client can show it.
    """
    if expected is None or expected == current:
        return
    if expected > current and not fresh:
        raise StaleState
    raise VersionConflict(
        f"the {what} is at version {current}, not {expected}",
        details={"current": describe(), "version": current},
    )


class CommandRunner:
    """Executes decisions against the event store on behalf of the services."""

    def __init__(self, store: EventStore, codec: EventCodec, projector: Projector) -> None:
        self.store = store
        self.codec = codec
        self.projector = projector
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._committed: list[Callable[[int], None]] = []

    def on_committed(self, hook: Callable[[int], None]) -> None:
        """Call ``hook(last_position)`` after every append this instance makes."""
        self._committed.append(hook)

    async def adopt(self, result: AppendResult) -> None:
        """Treat an append made outside :meth:`run` (a job worker's, say) as this instance's
        own: announce it and apply its events to the projections now."""
        for hook in self._committed:
            hook(result.last_position)
        await self.projector.advance(result.events)

    def _lock(self, stream: str) -> asyncio.Lock:
        lock = self._locks.get(stream)
        if lock is None:
            lock = self._locks[stream] = asyncio.Lock()
        return lock

    async def run(
        self,
        *,
        decide: Callable[[], Decision[R]],
        outcome_type: type[R],
        lock: str | Collection[str],
        exclusive: bool = False,
        idempotency: IdempotencyKey | None = None,
        idempotency_scope: str = "",
        metadata: Mapping[str, Any] | None = None,
    ) -> R:
        """Decide and append, retrying on concurrent changes; return the command's outcome.

        ``lock`` names what the decision reads (one name or several): commands sharing a
        name take turns in this instance, so they do not fail each other's expected versions
        (between instances the retry resolves it). A decision that reads beyond the streams it
        writes — no expected version would catch a change there — is ``exclusive``: it also
        holds the store's locks of those names, so it takes turns with every instance, and
        catches up before deciding.
        ``idempotency_scope`` is where the key is unique.
        """
        names = sorted({lock} if isinstance(lock, str) else set(lock))
        async with AsyncExitStack() as held:
            for name in names:
                await held.enter_async_context(self._lock(name))
            if not exclusive:
                return await self._run(
                    decide, outcome_type, idempotency, idempotency_scope, metadata
                )
            try:
                async with self.store.exclusive(*names):
                    await self.projector.catch_up()
                    return await self._run(
                        decide, outcome_type, idempotency, idempotency_scope, metadata
                    )
            except StoreUnavailable as exc:
                raise _unavailable() from exc

    async def _run(
        self,
        decide: Callable[[], Decision[R]],
        outcome_type: type[R],
        idempotency: IdempotencyKey | None,
        key_scope: str,
        metadata: Mapping[str, Any] | None,
    ) -> R:
        try:
            refused_once = False
            for attempt in range(MAX_ATTEMPTS):
                try:
                    decision = decide()
                except StaleState:
                    await self.projector.catch_up()
                    continue
                except DomainError:
                    if idempotency is not None:
                        # A repeat whose first run changed what it decides on: answer as then.
                        stored = await self.store.get_outcome(key_scope, idempotency.key)
                        if stored is not None:
                            return await self._replay(stored, idempotency, outcome_type)
                    # Refused on what this instance knows; another instance may just have
                    # stored what makes the command valid (a game created through it a moment
                    # ago). A refusal costs one look at the log, and decides again only if
                    # there was something new.
                    before = self.projector.position
                    if refused_once or await self.projector.catch_up() == before:
                        raise
                    refused_once = True
                    continue
                writes = [
                    StreamWrite(stream, [self.codec.encode(e, metadata) for e in events], expected)
                    for stream, events, expected in decision.writes
                ]
                record = None
                if idempotency is not None:
                    record = Idempotency(
                        key_scope,
                        idempotency.key,
                        idempotency.fingerprint,
                        msgspec.json.encode(decision.outcome),
                    )
                try:
                    result = await self.store.append(
                        writes, scope=decision.scope, idempotency=record
                    )
                except WrongExpectedVersion:
                    # Another instance won the race: catch up and decide again.
                    await self.projector.catch_up()
                    await asyncio.sleep(random.uniform(0, 0.005 * attempt))
                    continue
                if result.replayed is not None and idempotency is not None:
                    return await self._replay(result.replayed, idempotency, outcome_type)
                await self.adopt(result)
                return decision.outcome
        except IdempotencyKeyReused as exc:
            raise self._key_reused() from exc
        except StoreUnavailable as exc:
            raise _unavailable() from exc
        raise Conflict("too many concurrent changes; try again", code="too_much_contention")

    async def _replay(
        self, stored: StoredOutcome, idempotency: IdempotencyKey, outcome_type: type[R]
    ) -> R:
        """The first outcome of a repeated key, once this instance has applied its events."""
        if stored.fingerprint != idempotency.fingerprint:
            raise self._key_reused()
        await self.projector.catch_up(until=stored.position)
        return msgspec.json.decode(stored.outcome, type=outcome_type)

    @staticmethod
    def _key_reused() -> Invalid:
        return Invalid(
            "this Idempotency-Key was already used for a different request",
            code="idempotency_key_reused",
        )


def _unavailable() -> Unavailable:
    return Unavailable("the event store is unavailable; try again", code="store_unavailable")
