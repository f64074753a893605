"""The in-process benches still run end to end and print figures (short settings).

They drive the app through its public API, so a change of the API or of a default (a rate
limit, a format's smallest field) can break one without any other test noticing; ``python -m
bench`` then stops at the first. The benches that need a server of their own, a browser or
another machine's tools (live_load, party, chaos, page_bytes, http_leaderboard, media) are
left to their own runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURE = re.compile(r"\d[\d,.]*\s?(?:µs|ms|s|/s|MB|KB)\b")

RUNS = {
    "http_stack": ["--requests", "200"],
    "match_flow": [
        "--results",
        "200",
        "--concurrency",
        "16",
        "--stores",
        "sqlite,memory",
        "--keys",
        "without,with",
    ],
    "commands": ["--seconds", "0.3", "--backends", "memory,sqlite", "--writers", "1,16"],
    "rebuild": ["--events", "2000"],
    "tournament": ["--teams", "32"],
    "leaderboard": ["--teams", "32", "--runs", "20"],
    "highlights": ["--teams", "32", "--repeat", "1"],
    "recap": ["--teams", "32", "--repeat", "2"],
    "queue": ["--teams", "32", "--tables", "8", "--results", "0,100", "--repeat", "3"],
}


@pytest.mark.slow
@pytest.mark.parametrize("bench", sorted(RUNS))
def test_the_bench_runs_and_prints_figures(bench: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{bench}", *RUNS[bench]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Figures with their units: times, rates, sizes.
    assert FIGURE.search(done.stdout), done.stdout
