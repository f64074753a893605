"""Snapshots of the projections: a restarted instance loads the newest one, then folds only the
events after it, instead of the whole log.

A snapshot is the state of every projection of a :class:`Projector` (their instance
attributes, pickled together) with the position it reflects and the stream and version of the
event at that position. It is generic: whatever the projections hold is saved, and a new
projection is included as soon as the projector has it.

**Versioned.** A snapshot is only valid for the code that made it. Its version is a hash of the
source of every module that shapes projection state — the ``domain`` and ``projections``
packages and the package of each projection's class — with the Python version and the snapshot
format. Change any of them (a new field, a fixed rule) and the old snapshot no longer matches:
the instance replays the log from scratch as before, and writes a new one.

**Checked against the log.** A snapshot is used only when the store still holds the event it
ends on (same stream, version and time): a log restored from an older backup or replaced is
replayed instead.

**Written** at shutdown and every ``snapshot_interval`` seconds, once ``snapshot_min_events``
events have been applied since the last one. Pickling a large read model takes a while (about
0.6 s per 100,000 events here), so a running instance forks: the child — a copy-on-write image
of the projections at that instant — pickles and writes the file while the instance carries on
serving. At shutdown it is written in process.

**Loaded fast.** Most of a large read model is small records (teams, members, credentials:
slotted dataclasses). Pickle's default for those is a fresh object plus a dict of its slots to
set one by one; a snapshot stores each as its class and the tuple of its fields instead, which
loads about a third faster, with a quarter less memory and file; counters (a leaderboard's
places) are rebuilt item by item in C rather than by ``Counter(dict)``. The collector is off
while millions of objects are made, and what start-up built is then frozen out of its scans
before it is back on (:func:`long_lived_state`).

Files are ``<snapshot_dir>/projections-<version>.snapshot``, replaced atomically (written
aside, then renamed); older versions are removed. They are read with :mod:`pickle`, so the
folder must be as trusted as the database itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import copyreg
import dataclasses
import datetime as dt
import gc
import hashlib
import importlib
import io
import logging
import os
import pickle
import sys
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import msgspec

from beerolympics.projections.projector import Projector

log = logging.getLogger("beerolympics.snapshots")

#: Bumped when the file layout changes.
FORMAT: Final = 1
_MAGIC: Final = b"BOSNAP1\n"
#: Packages whose code decides what projections hold.
_STATE_PACKAGES: Final = ("beerolympics.domain", "beerolympics.projections")


class Header(msgspec.Struct, frozen=True):
    version: str
    position: int
    #: The event at ``position``: the snapshot is used only if the store holds the same one.
    stream_id: str
    stream_version: int
    recorded_at: dt.datetime
    taken_at: dt.datetime
    projections: list[str]


@dataclass(frozen=True, slots=True)
class _Ref:
    """Stands for a projection referenced by another one (``Play`` holds the ``Catalog``)."""

    index: int


def _package_files(package: str) -> Iterator[Path]:
    module = importlib.import_module(package)
    for folder in getattr(module, "__path__", []):
        yield from sorted(Path(folder).rglob("*.py"))
    if not hasattr(module, "__path__") and module.__file__:
        yield Path(module.__file__)


def code_version(projector: Projector) -> str:
    """The hash of everything a snapshot of ``projector`` depends on (see the module doc)."""
    packages = set(_STATE_PACKAGES)
    names = []
    for projection in projector.projections:
        cls = type(projection)
        names.append(f"{cls.__module__}.{cls.__qualname__}")
        packages.add(cls.__module__.rpartition(".")[0] or cls.__module__)
    digest = hashlib.sha256(f"{FORMAT} {sys.version_info[:2]} {names}".encode())
    files = {path for package in packages for path in _package_files(package)}
    for path in sorted(files):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


class SnapshotUnusable(Exception):
    """A projection's state cannot go into a snapshot (see :meth:`Snapshots.encode`)."""


def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The fields ``cls(*values)`` takes back, for a slotted dataclass whose ``__init__`` does
    nothing but set them; None for every other class (pickled as pickle does it)."""
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        return None
    if not cls.__dataclass_params__.init:  # type: ignore[attr-defined]  # an __init__ of its own
        return None
    for name in ("__post_init__", "__getstate__", "__setstate__", "__reduce__", "__reduce_ex__"):
        for base in cls.__mro__[:-1]:  # not object's own
            found = vars(base).get(name)
            # dataclasses gives frozen slotted classes a __getstate__ of its own: harmless here
            if found is not None and getattr(found, "__module__", None) != "dataclasses":
                return None
    fields = dataclasses.fields(cls)
    if not all(f.init and f.kw_only is not True for f in fields):
        return None
    return tuple(f.name for f in fields)


class _Pickler(pickle.Pickler):
    """Pickles slotted dataclass records as ``(class, field values)``; refuses projections
    (see :meth:`Snapshots.encode`)."""

    def __init__(self, file: io.BytesIO, projections: Sequence[object]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._projections = {type(p) for p in projections}
        self._records: dict[type, tuple[str, ...] | None] = {}

    def reducer_override(self, obj: object) -> Any:
        cls = type(obj)
        if cls is Counter:
            # Counter's own reduce calls Counter(dict) on load: Python code per counter.
            # Made bare and filled item by item instead, it loads in C.
            return copyreg.__newobj__, (Counter,), None, None, iter(obj.items())  # type: ignore[attr-defined]
        if cls in self._projections:
            raise SnapshotUnusable(
                f"{cls.__name__} is referenced below the top of a projection's state"
            )
        try:
            names = self._records[cls]
        except KeyError:
            names = self._records[cls] = _init_fields(cls)
        if names is None:
            return NotImplemented
        return cls, tuple([getattr(obj, name) for name in names])


class Snapshots:
    """Saves and loads the projections of one projector to and from a folder."""

    def __init__(self, folder: Path, projector: Projector) -> None:
        self.folder = folder
        self.projector = projector
        self.version = code_version(projector)
        self.path = folder / f"projections-{self.version}.snapshot"
        #: The position of the newest snapshot this instance loaded or wrote.
        self.position = 0
        self._child: int | None = None

    # -- encoding --------------------------------------------------------------------------

    def encode(self, header: Header) -> bytes:
        """The file's bytes: magic, header, then the pickled projection states.

        A projection may refer to another at the top of its state (``self.catalog``); such
        references are relinked on load. One buried deeper would be pickled as a copy, so it
        is refused (:class:`SnapshotUnusable`).
        """
        projections = self.projector.projections
        index = {id(p): i for i, p in enumerate(projections)}
        states = [
            {k: _Ref(index[id(v)]) if id(v) in index else v for k, v in vars(p).items()}
            for p in projections
        ]

        buffer = io.BytesIO()
        buffer.write(_MAGIC)
        head = msgspec.json.encode(header)
        buffer.write(len(head).to_bytes(4, "big") + head)
        with _no_gc():
            _Pickler(buffer, projections).dump(states)
        return buffer.getvalue()

    @staticmethod
    def read_header(data: bytes) -> tuple[Header, int]:
        """The header of a snapshot file and where its body starts."""
        if not data.startswith(_MAGIC):
            raise ValueError("not a snapshot file")
        start = len(_MAGIC) + 4
        size = int.from_bytes(data[len(_MAGIC) : start], "big")
        return msgspec.json.decode(data[start : start + size], type=Header), start + size

    # -- saving ----------------------------------------------------------------------------

    async def _header(self) -> Header | None:
        position = self.projector.position
        if position == 0:
            return None
        [event] = await self.projector.store.read_all(position - 1, 1)
        return Header(
            self.version,
            position,
            event.stream_id,
            event.version,
            event.recorded_at,
            dt.datetime.now(dt.UTC),
            [type(p).__name__ for p in self.projector.projections],
        )

    async def save(self) -> bool:
        """Write a snapshot of the projections now, in this process; False when there is
        nothing new to save or it cannot be saved."""
        header = await self._header()
        if header is None or header.position <= self.position:
            return False
        started = time.perf_counter()
        try:
            data = self.encode(header)
        except (SnapshotUnusable, pickle.PicklingError, TypeError) as exc:
            log.error("no snapshot: %s", exc)
            return False
        await asyncio.to_thread(self._write, data)
        self.position = header.position
        log.info(
            "snapshot at position %d written (%.1f MB in %.2fs)",
            header.position,
            len(data) / 1e6,
            time.perf_counter() - started,
        )
        return True

    async def save_in_background(self) -> bool:
        """Fork; the child writes a snapshot of the projections as they are at this instant.

        The instance goes on at once: the child works on its own copy-on-write image of the
        memory. False when a child is still writing or there is nothing new to save.
        """
        if self._child is not None or not hasattr(os, "fork"):
            return False
        header = await self._header()
        if header is None or header.position <= self.position:
            return False
        with warnings.catch_warnings():
            # Python 3.12+ warns that a forked child of a threaded process may deadlock on a
            # lock another thread held. This child takes none: it pickles, writes a file of
            # its own and leaves with os._exit (no logging, no cleanup, no event loop).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: never returns, never runs the event loop
            code = 1
            with contextlib.suppress(BaseException):
                self._write(self.encode(header))
                code = 0
            os._exit(code)
        self._child = pid
        asyncio.get_running_loop().create_task(self._reap(pid, header.position))
        return True

    async def _reap(self, pid: int, position: int) -> None:
        _, status = await asyncio.to_thread(os.waitpid, pid, 0)
        self._child = None
        if os.waitstatus_to_exitcode(status) == 0:
            self.position = max(self.position, position)
            log.info("snapshot at position %d written in the background", position)
        else:
            log.error("writing a snapshot failed (exit status %s)", status)

    def _write(self, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        aside = self.path.with_suffix(f".{os.getpid()}.tmp")
        with aside.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        aside.replace(self.path)
        for other in self.folder.glob("projections-*.snapshot"):
            if other != self.path:
                other.unlink(missing_ok=True)

    # -- loading ---------------------------------------------------------------------------

    async def load(self) -> Header | None:
        """Load the snapshot of this code version into the (empty) projections, if there is a
        usable one; return its header. The projector then stands at its position."""
        if self.projector.position != 0:
            raise RuntimeError("a snapshot is loaded into fresh projections only")
        try:
            data = await asyncio.to_thread(self.path.read_bytes)
        except FileNotFoundError:
            return None
        try:
            header, body = self.read_header(data)
        except (ValueError, msgspec.DecodeError) as exc:
            log.warning("ignored %s: %s", self.path, exc)
            return None
        found = await self.projector.store.read_all(header.position - 1, 1)
        if not found or (found[0].stream_id, found[0].version, found[0].recorded_at) != (
            header.stream_id,
            header.stream_version,
            header.recorded_at,
        ):
            log.warning(
                "ignored the snapshot at position %d: the event log does not hold the event"
                " it ends on (restored or replaced since?)",
                header.position,
            )
            return None
        projections = self.projector.projections
        try:
            with _no_gc():
                states = pickle.loads(memoryview(data)[body:])  # noqa: S301 - our own file
        except Exception as exc:
            log.warning("ignored %s: %s", self.path, exc)
            return None
        for projection, state in zip(projections, states, strict=True):
            projection.__dict__.update(
                {k: projections[v.index] if isinstance(v, _Ref) else v for k, v in state.items()}
            )
        self.projector.position = self.position = header.position
        return header


@contextlib.asynccontextmanager
async def long_lived_state() -> AsyncIterator[None]:
    """Build the read model (load a snapshot, replay the log) with the cycle collector off,
    then freeze what was built out of its scans (:func:`gc.freeze`).

    Millions of records made at start-up live as long as the process. Left to the collector,
    each full collection walks all of them again: the first events after a snapshot load
    took ten times as long, and a running instance would pause for a whole walk now and then.
    Frozen, they are freed by reference counting as ever; only a reference cycle among them
    that becomes garbage later is never reclaimed (the read model keeps no such cycles).
    """
    with _no_gc():
        try:
            yield
        finally:
            # Frozen before the collector is back on: its first run would otherwise walk all
            # that was just made (they are all still in the youngest generation).
            gc.freeze()


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Millions of objects made or walked at once: cycle collections in between would scan
    them over and over (a load took 15 times as long with them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
