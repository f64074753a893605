"""Run every benchmark with short settings: ``python -m bench`` (or ``make bench``)."""

from __future__ import annotations

import asyncio

from bench import (
    commands,
    highlights,
    http_leaderboard,
    http_stack,
    leaderboard,
    queue,
    rebuild,
    recap,
    tournament,
)

if __name__ == "__main__":
    asyncio.run(commands.main(["memory", "sqlite", "postgres"], 2.0, [1, 16, 64]))
    print()
    asyncio.run(http_stack.main(3000))
    print()
    asyncio.run(rebuild.main(100_000, "sqlite"))
    print()
    asyncio.run(tournament.main("sqlite", 128, 7))
    print()
    leaderboard.main(128, 500)
    print()
    asyncio.run(queue.main(128, 48, [0, 1000, 4000], 8, 20))
    print()
    asyncio.run(highlights.main(128, 7, 1))
    print()
    asyncio.run(recap.main(128, 7, 20))
    print()
    http_leaderboard.main(6, 32, 128)
