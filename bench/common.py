"""Shared bits of the benchmarks: percentiles, tables, stores to measure on."""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from beerolympics.adapters.postgres.eventstore import split_schema
from beerolympics.runtime import Runtime
from beerolympics.settings import Settings

POSTGRES = os.environ.get(
    "BEEROLYMPICS_BENCH_POSTGRES",
    os.environ.get("BEEROLYMPICS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(latencies: Sequence[float]) -> str:
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    mean = statistics.fmean(latencies) * 1000
    return f"p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  mean {mean:6.2f} ms"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@asynccontextmanager
async def fresh_store(backend: str, folder: Path) -> AsyncIterator[str]:
    """The URL of a fresh, empty store of the named backend (SQLite in ``folder``; PostgreSQL
    in a new schema, dropped afterwards)."""
    if backend == "memory":
        yield "memory://"
    elif backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
    elif backend == "postgres":
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        try:
            yield f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}schema={schema}"
        finally:
            conn = await asyncpg.connect(split_schema(POSTGRES)[0])
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()
    else:
        raise ValueError(backend)


@asynccontextmanager
async def runtime_on(
    backend: str, *, start: bool = True, **settings: object
) -> AsyncIterator[Runtime]:
    """A runtime over a fresh, empty store of the named backend; ``start=False`` leaves the
    automatic steps (queue, deadlines) off, for benchmarks that drive everything themselves."""
    with tempfile.TemporaryDirectory() as tmp:
        async with fresh_store(backend, Path(tmp)) as url:
            values = {"data_dir": tmp, "database_url": url, "secret_key": "bench", **settings}
            rt = await Runtime.open(Settings.load(values, environ={}))
            if start:
                await rt.start()
            try:
                yield rt
            finally:
                await rt.close()
