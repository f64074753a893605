"""The job queue port: the durable transport that carries job messages to workers.

What a job is, and where it stands, lives in the event log (``beerolympics.jobs``): a job is
queued, started, failed or done when an event says so. This port only moves small messages
("run attempt 2 of job jb_…") from whoever queued a job to whichever worker is free, now or
at a given time, and lets workers say they are alive.

Delivery: at most once. A message pushed is returned by at most one :meth:`JobQueue.pop`, of
any handle on the same backend; popping removes it, so a consumer that dies after popping
loses it. The job system turns that into at-least-once: the log says which jobs are unfinished,
and a supervisor pushes again what was lost (a started job whose worker stopped beating, a
queued job no message is waiting for). Consumers must therefore expect the same message more
than once, and messages for work that is already done.

Order: ready messages come out in the order they were pushed, as far as one backend orders
concurrent pushes; a delayed message joins the ready ones once it is due.

Time: ``at`` and heartbeats are wall-clock seconds since the epoch (``time.time()``); every
process sharing a backend needs a synchronised clock.

Durability: what was pushed survives closing and reopening the backend, and every handle on
the same backend (other processes) sees the same queue — except ``memory://``, which lives
and dies with its process and is for tests and single-process runs.

Every adapter implements :class:`JobQueue` with exactly these semantics and passes the one
contract suite in ``beerolympics.testing.jobqueue_contract``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

#: The largest message, in bytes: a message names a job, it does not carry its data.
MAX_MESSAGE_BYTES: Final = 4096


class JobQueueError(Exception):
    """Base of every error a job queue raises; adapters translate driver errors into these."""


class JobQueueUnavailable(JobQueueError):
    """The backend could not be reached or failed; the call may be retried.

    A :meth:`JobQueue.push` that raised this may or may not have stored the message.
    """


@dataclass(frozen=True, slots=True)
class Depth:
    """Messages waiting: ``ready`` to be popped now, ``delayed`` until their time comes."""

    ready: int
    delayed: int


def check_message(message: bytes) -> bytes:
    """Return ``message`` when it is 1 to :data:`MAX_MESSAGE_BYTES` bytes; raise otherwise."""
    if not isinstance(message, bytes):
        raise TypeError(f"a message is bytes, not {type(message).__name__}")
    if not 1 <= len(message) <= MAX_MESSAGE_BYTES:
        raise ValueError(f"a message has 1 to {MAX_MESSAGE_BYTES} bytes, got {len(message)}")
    return message


class JobQueue(Protocol):
    """A durable queue of small messages with delayed delivery and worker heartbeats."""

    async def push(self, message: bytes, *, at: float | None = None) -> None:
        """Store ``message``: ready at once, or from wall-clock time ``at`` on.

        ``TypeError``/``ValueError`` for a message that is not 1 to 4096 bytes. Raises
        :class:`JobQueueUnavailable` when the backend cannot take it.
        """
        ...

    async def pop(self, wait: float = 0.0) -> bytes | None:
        """Take the oldest ready message, waiting up to ``wait`` seconds for one; ``None``
        when none came. Delayed messages that are due become ready first.

        A message pushed by any handle while a pop waits is returned within about a quarter of
        a second. A pop cancelled while it waits loses nothing: a message it had already taken
        goes back to the queue.
        """
        ...

    async def depth(self) -> Depth:
        """How many messages wait, ready and delayed."""
        ...

    async def beat(self, worker: str, at: float) -> None:
        """Record that ``worker`` was alive at wall-clock time ``at``; replaces its last beat."""
        ...

    async def beats(self) -> dict[str, float]:
        """The last beat of every worker that beat and was not forgotten, from every handle."""
        ...

    async def forget(self, worker: str) -> None:
        """Drop ``worker``'s beat (it stopped cleanly). Forgetting an unknown worker is a no-op."""
        ...

    async def ping(self) -> None:
        """Return when the backend answers; raise :class:`JobQueueUnavailable` otherwise."""
        ...

    async def close(self) -> None:
        """Release connections and threads. The queue is unusable afterwards; closing twice
        does nothing."""
        ...
