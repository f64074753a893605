"""Snapshots of the projections: a restart loads the newest one and folds only the rest."""

from __future__ import annotations

import asyncio
import io
import pickle
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from beerolympics.demo import load_demo
from beerolympics.projections import snapshots
from beerolympics.runtime import Runtime
from beerolympics.settings import Settings
from tests.factories import api_client, bearer

TID = "backyard-olympics"
READS = ("", "/leaderboard", "/games", "/matches?limit=200", "/stations", "/teams")


def on_disk(tmp_path: Path, **overrides: Any) -> Settings:
    values = {
        "data_dir": str(tmp_path / "data"),
        "secret_key": "snapshot-secret",
        "snapshot_min_events": 1,
        "demo": True,
        **overrides,
    }
    return Settings.load(values, environ={})


def organizer_token(rt: Runtime) -> str:
    state = rt.catalog.get(TID)
    [credential] = [c for c in state.credentials.values() if c.role == "organizer"]
    return rt.signer.sign(TID, credential.id)


async def reads(settings: Settings, venue: str | None = None) -> dict[str, Any]:
    """What phones read about the demo tournament (after changing its venue, if given) and
    where the runtime started from."""
    async with api_client(settings) as client:
        rt: Runtime = client.app.state.runtime
        assert rt.snapshots is not None
        loaded = rt.snapshots.position
        api = f"/api/v1/tournaments/{TID}"
        if venue is not None:
            changed = await client.patch(
                api, json={"venue": venue}, headers=bearer(organizer_token(rt))
            )
            assert changed.status_code == 200, changed.text
        got: dict[str, Any] = {path: (await client.get(api + path)).json() for path in READS}
        got["position"] = rt.projector.position
        got["digest"] = rt.catalog.digest()
        got["loaded"] = loaded
        return got


async def test_a_restart_loads_the_snapshot_and_folds_the_rest(tmp_path: Path) -> None:
    first = await reads(on_disk(tmp_path))  # the demo is written, then a snapshot at shutdown
    folder = tmp_path / "data" / "snapshots"
    [snapshot] = folder.glob("projections-*.snapshot")
    assert first["loaded"] == 0

    again = await reads(on_disk(tmp_path))
    assert again == {**first, "loaded": first["position"]}

    # Events appended after the snapshot (and not snapshotted) are folded on top of it.
    later = await reads(on_disk(tmp_path, snapshot_min_events=10**6), venue="The garage")
    assert later["loaded"] == first["position"]
    assert later["position"] > first["position"]
    assert later[""]["venue"] == "The garage"
    replayed = await reads(on_disk(tmp_path, snapshot_dir=str(tmp_path / "none")))
    assert replayed["loaded"] == 0
    assert {**replayed, "loaded": None} == {**later, "loaded": None}
    assert snapshot.exists()


async def test_another_code_version_replays_and_replaces_the_old_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await reads(on_disk(tmp_path))
    folder = tmp_path / "data" / "snapshots"
    [old] = folder.glob("*.snapshot")
    # What a change to a projection's code does: a different version.
    monkeypatch.setattr(snapshots, "FORMAT", snapshots.FORMAT + 1)
    changed = await reads(on_disk(tmp_path))
    assert changed["loaded"] == 0  # replayed from the log
    assert {**changed, "loaded": 0} == {**first, "loaded": 0}
    [new] = folder.glob("*.snapshot")
    assert new != old
    assert not old.exists()


async def test_a_snapshot_the_log_does_not_match_is_ignored(tmp_path: Path) -> None:
    await reads(on_disk(tmp_path))
    # The log is replaced (restored from elsewhere): the snapshot no longer describes it.
    for path in (tmp_path / "data").glob("beerolympics.db*"):
        if path.is_file():  # (not the folder of lock files beside it)
            path.unlink()
    fresh = await reads(on_disk(tmp_path))
    assert fresh["loaded"] == 0
    assert fresh["position"] > 0


async def test_a_forked_child_writes_a_snapshot_while_the_instance_goes_on(
    tmp_path: Path,
) -> None:
    settings = on_disk(tmp_path, snapshot_min_events=10**6)
    rt = await Runtime.open(settings)
    try:
        await rt.start()
        await load_demo(rt)
        assert rt.snapshots is not None
        position = rt.projector.position
        assert await rt.snapshots.save_in_background()
        assert not await rt.snapshots.save_in_background()  # one child at a time
        async with asyncio.timeout(30):
            while rt.snapshots.position != position:  # noqa: ASYNC110 - set by the reaper
                await asyncio.sleep(0.05)
    finally:
        await rt.close()
    assert (await reads(on_disk(tmp_path)))["loaded"] == position


def test_the_version_follows_the_code_of_the_projections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from beerolympics.adapters.memory.eventstore import MemoryEventStore
    from beerolympics.domain.events import EventCodec
    from beerolympics.projections.catalog import Catalog
    from beerolympics.projections.projector import Projector

    projector = Projector(MemoryEventStore(), EventCodec(), [Catalog()])
    before = snapshots.code_version(projector)
    assert snapshots.code_version(projector) == before
    source = tmp_path / "catalog.py"
    real = snapshots._package_files

    def edited(package: str) -> Any:
        for path in real(package):
            if path.name == "catalog.py":
                source.write_bytes(path.read_bytes() + b"\n# a changed fold\n")
                yield source
            else:
                yield path

    monkeypatch.setattr(snapshots, "_package_files", edited)
    assert snapshots.code_version(projector) != before


@dataclass(slots=True)
class _Record:
    name: str
    tags: list[str] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class _Frozen:
    at: int


@dataclass(slots=True)
class _Checked:
    value: int
    doubled: int = field(init=False)

    def __post_init__(self) -> None:
        self.doubled = self.value * 2


@dataclass(slots=True, kw_only=True)
class _Named:
    value: int


def test_records_are_stored_as_their_fields_and_other_classes_as_pickle_does() -> None:
    assert snapshots._init_fields(_Record) == ("name", "tags")
    assert snapshots._init_fields(_Frozen) == ("at",)
    assert snapshots._init_fields(_Checked) is None  # __post_init__ must not run again
    assert snapshots._init_fields(_Named) is None  # takes keywords only
    shared = _Record("Hop Stars", ["fast"])
    places = Counter({1: 2, 3: 1})
    values = [shared, shared, _Frozen(3), _Checked(4), _Named(value=5), {"k": _Record("x")}]
    values += [places, places, Counter()]
    buffer = io.BytesIO()
    snapshots._Pickler(buffer, []).dump(values)
    loaded = pickle.loads(buffer.getvalue())  # noqa: S301 - made just above
    assert loaded == values
    assert loaded[0] is loaded[1]  # one object, as in the read model
    assert type(loaded[6]) is Counter
    assert loaded[6] is loaded[7]
    assert loaded[6][2] == 0  # still a Counter: a missing place counts 0
    # Stored as the class and its values: the field names are not written per record.
    assert b"tags" in pickle.dumps(_Record("x"), pickle.HIGHEST_PROTOCOL)
    assert b"tags" not in buffer.getvalue()


def test_a_projection_below_the_top_of_a_state_is_refused() -> None:
    from beerolympics.projections.catalog import Catalog

    catalog = Catalog()
    with pytest.raises(snapshots.SnapshotUnusable):
        snapshots._Pickler(io.BytesIO(), [catalog]).dump({"nested": [catalog]})
