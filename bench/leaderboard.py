"""The overall leaderboard alone: 128 teams, 6 knockout games played, then single changes.

Reported, per change: a reopened final of one game (its champion and runner-up swap, a third
place drops out) with the re-rank; a cached ``rows()``; and the worst case, a match between two
teams of the biggest group level on points, which head-to-head must settle again.

    python -m bench.leaderboard [--teams 128] [--runs 500]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from beerolympics.domain.scoring import Leaderboard, PointsTable

TABLE = PointsTable()


def knockout(board: Leaderboard, game: str, teams: list[str], rng: random.Random) -> dict[str, int]:
    """Play a knockout, record its matches and return the final places (1, 2, 3, 3, 5...)."""
    places: dict[str, int] = {}
    alive = teams[:]
    round_ = 0
    while len(alive) > 1:
        round_ += 1
        survivors = []
        for index in range(0, len(alive), 2):
            a, b = alive[index], alive[index + 1]
            winner, loser = (a, b) if rng.random() < 0.5 else (b, a)
            board.record_match((game, round_, index), a, b, winner, 10.0, rng.randrange(10))
            places[loser] = len(alive) // 2 + 1
            survivors.append(winner)
        alive = survivors
    places[alive[0]] = 1
    return places


def main(count: int, runs: int) -> None:
    rng = random.Random(7)
    teams = [f"team-{n:03}" for n in range(count)]
    board = Leaderboard()
    for team in teams:
        board.add_team(team)
    finals = {}
    for game in [f"game-{n}" for n in range(6)]:
        finals[game] = knockout(board, game, rng.sample(teams, len(teams)), rng)
        board.set_game(game, TABLE, teams, finals[game])
    board.rows()
    base = finals["game-0"]
    champion, runner_up = sorted(base, key=base.__getitem__)[:2]
    changed = {**base, champion: 2, runner_up: 1}
    del changed[next(team for team, place in base.items() if place == 3)]
    variants = [changed, base]
    start = time.perf_counter()
    for n in range(runs):
        board.set_game("game-0", TABLE, teams, variants[n % 2])
        board.rows()
    per_update = (time.perf_counter() - start) / runs
    start = time.perf_counter()
    for _ in range(runs):
        board.rows()
    per_cached = (time.perf_counter() - start) / runs
    biggest, size = Counter(row.points for row in board.rows()).most_common(1)[0]
    a, b = [row.team for row in board.rows() if row.points == biggest][:2]
    start = time.perf_counter()
    for n in range(runs // 10):
        board.record_match("extra", a, b, (a, b)[n % 2], 1.0, 0.0)
        board.rows()
    per_big_tie = (time.perf_counter() - start) / (runs // 10)
    print(f"leaderboard, {count} teams, 6 knockout games ({6 * (count - 1)} matches):")
    print(f"  a reopened final (set_game) + rows(): {per_update * 1e6:,.0f} µs")
    print(f"  cached rows(): {per_cached * 1e6:,.1f} µs")
    print(
        f"  a match inside the biggest tie ({size} teams on {biggest:g} points) + rows():"
        f" {per_big_tie * 1e6:,.0f} µs"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teams", type=int, default=128)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    main(args.teams, args.runs)
