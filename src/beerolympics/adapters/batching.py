"""The append rules, shared by every event store adapter.

Adapters that write through one writer (SQLite's thread, PostgreSQL's writer task) take several
pending appends at once and commit them in one transaction. :func:`plan_batch` decides, without
I/O, what each append does given the current stream versions and idempotency records, so all
adapters apply the same rules in the same way: one failed append never fails the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from beerolympics.ports.eventstore import (
    ANY_VERSION,
    AppendResult,
    EventStoreError,
    Idempotency,
    IdempotencyKeyReused,
    RecordedEvent,
    StoredOutcome,
    StreamWrite,
    WrongExpectedVersion,
)

_json_encoder = msgspec.json.Encoder()


def encode_json(value: Mapping[str, Any]) -> bytes:
    """JSON bytes of event data or metadata; raises ``TypeError`` for non-JSON values."""
    try:
        return _json_encoder.encode(value)
    except (TypeError, msgspec.EncodeError) as exc:
        raise TypeError(f"event data is not JSON-serialisable: {exc}") from exc


@dataclass(slots=True)
class PendingAppend:
    """One ``append`` call waiting for the writer."""

    writes: Sequence[StreamWrite]
    scope: str
    idempotency: Idempotency | None
    future: asyncio.Future[AppendResult] | None = None

    def stream_ids(self) -> set[str]:
        return {write.stream_id for write in self.writes}


@dataclass(slots=True)
class PlannedRow:
    """A new event with its encoded payloads, ready to insert."""

    event: RecordedEvent
    data_json: bytes
    metadata_json: bytes


@dataclass(slots=True)
class BatchPlan:
    """What a batch will store, and what each append answers once it is committed."""

    rows: list[PlannedRow] = field(default_factory=list)
    outcomes: list[tuple[Idempotency, int]] = field(default_factory=list)
    results: list[AppendResult | EventStoreError] = field(default_factory=list)


def plan_batch(
    batch: Sequence[PendingAppend],
    *,
    versions: Mapping[str, int],
    stored_outcomes: Mapping[tuple[str, str], StoredOutcome],
    last_position: int,
    now: datetime,
) -> BatchPlan:
    """Apply the append rules to ``batch`` in order.

    ``versions`` holds the committed version of every stream the batch writes (missing means
    0), ``stored_outcomes`` every committed idempotency record for the batch's keys. Appends later
    in the batch see the effects of earlier ones (versions and keys).
    """
    plan = BatchPlan()
    current = dict(versions)
    outcomes = dict(stored_outcomes)
    position = last_position
    for pending in batch:
        idem = pending.idempotency
        if idem is not None:
            stored = outcomes.get((idem.scope, idem.key))
            if stored is not None:
                if stored.fingerprint != idem.fingerprint:
                    plan.results.append(IdempotencyKeyReused(idem.scope, idem.key))
                else:
                    plan.results.append(AppendResult(position, position, {}, replayed=stored))
                continue
        after: dict[str, int] = {}
        conflict: WrongExpectedVersion | None = None
        for write in pending.writes:
            version = after.get(write.stream_id, current.get(write.stream_id, 0))
            if write.expected_version not in (ANY_VERSION, version):
                conflict = WrongExpectedVersion(write.stream_id, write.expected_version, version)
                break
            after[write.stream_id] = version + len(write.events)
        if conflict is not None:
            plan.results.append(conflict)
            continue
        try:
            rows = _rows(pending, current, position, now)
        except TypeError as exc:
            plan.results.append(_InvalidEventData(str(exc)))
            continue
        plan.rows.extend(rows)
        first = position + 1 if rows else position
        position += len(rows)
        current.update(after)
        if idem is not None:
            outcomes[(idem.scope, idem.key)] = StoredOutcome(
                idem.fingerprint, idem.outcome, position
            )
            plan.outcomes.append((idem, position))
        plan.results.append(AppendResult(first, position, after, events=[r.event for r in rows]))
    return plan


class _InvalidEventData(EventStoreError, TypeError):
    """Event data that cannot be stored as JSON: a programming error in the caller."""


def _rows(
    pending: PendingAppend, current: Mapping[str, int], position: int, now: datetime
) -> list[PlannedRow]:
    rows: list[PlannedRow] = []
    versions: dict[str, int] = {}
    for write in pending.writes:
        version = versions.get(write.stream_id, current.get(write.stream_id, 0))
        for event in write.events:
            position += 1
            version += 1
            data_json = encode_json(event.data)
            metadata_json = encode_json(event.metadata)
            recorded = RecordedEvent(
                position=position,
                stream_id=write.stream_id,
                version=version,
                scope=pending.scope,
                type=event.type,
                # Decoding what was encoded gives every adapter the same JSON semantics.
                data=msgspec.json.decode(data_json),
                metadata=msgspec.json.decode(metadata_json),
                recorded_at=now,
            )
            rows.append(PlannedRow(recorded, data_json, metadata_json))
        versions[write.stream_id] = version
    return rows


def settle(batch: Sequence[PendingAppend], plan: BatchPlan) -> None:
    """Resolve each pending append's future with its result (call on the event loop)."""
    for pending, result in zip(batch, plan.results, strict=True):
        future = pending.future
        if future is None or future.done():
            continue
        if isinstance(result, EventStoreError):
            future.set_exception(result)
        else:
            future.set_result(result)


def fail(batch: Sequence[PendingAppend], error: BaseException) -> None:
    """Fail every pending append of a batch that could not be committed."""
    for pending in batch:
        if pending.future is not None and not pending.future.done():
            pending.future.set_exception(error)
