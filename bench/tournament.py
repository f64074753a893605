"""A 128-team tournament with 6 games of mixed formats, played out through the service layer.

Every result is reported by an official (start + result: the result counts at once) with random
winners, until every game is complete. Reported:

- confirmed results per second and the latency of the command that confirms (p50/p99);
- what a confirmed result costs the read model: the play projection's update for that event
  (resolve that one game, its placements, the changed teams' points and head-to-head), of which
  the leaderboard's own part (taking the game's places and results), and the re-ranking,
  measured apart from the rest of the command.

    python -m bench.tournament [--backend memory|sqlite|postgres] [--teams 128]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from beerolympics.domain import events as ev
from beerolympics.domain.commands import (
    AddGame,
    CreateTournament,
    RegisterTeam,
    ReportResult,
    StartGame,
    UpdateTournament,
)
from beerolympics.domain.identity import SPECTATOR, Actor
from beerolympics.domain.matches import match_key
from beerolympics.ports.eventstore import RecordedEvent
from beerolympics.projections.play import Play
from beerolympics.runtime import Runtime
from bench.common import percentile, runtime_on, summary_ms, table

GAMES = (
    AddGame(name="Beer Pong", format="double_elimination", auto_call=False),
    AddGame(
        name="Cornhole",
        format="groups_playoffs",
        options={"groups": 16, "advance_per_group": 2},
        auto_call=False,
    ),
    AddGame(name="Quarters", format="swiss", auto_call=False),
    AddGame(
        name="Flip Cup",
        format="heats",
        options={"heat_size": 4, "rounds": 3, "advance_per_heat": 2},
        auto_call=False,
    ),
    AddGame(
        name="Darts", format="single_elimination", options={"third_place": True}, auto_call=False
    ),
    AddGame(
        name="Chug Race",
        format="heats",
        options={"heat_size": 8, "rounds": 2, "advance_per_heat": 1},
        heat_scoring="lower",
        auto_call=False,
    ),
)


class TimedPlay:
    """Wraps the play projection to time what a confirmed result costs it, and how much of
    that is the leaderboard's own work (handing it the game's places and results)."""

    def __init__(self, play: Play) -> None:
        self.play = play
        self.apply_costs: list[float] = []
        self.score_costs: list[float] = []
        self.rank_costs: list[float] = []
        self._scoring = 0.0
        score = play._score

        def timed_score(*args: Any) -> None:
            started = time.perf_counter()
            score(*args)
            self._scoring += time.perf_counter() - started

        play._score = timed_score  # type: ignore[method-assign]

    def apply(self, event: ev.Event, recorded: RecordedEvent) -> None:
        if not isinstance(event, ev.ResultConfirmed):
            self.play.apply(event, recorded)
            return
        self._scoring = 0.0
        started = time.perf_counter()
        self.play.apply(event, recorded)
        applied = time.perf_counter()
        self.play.tournaments[recorded.scope].leaderboard.rows()
        self.apply_costs.append(applied - started)
        self.score_costs.append(self._scoring)
        self.rank_costs.append(time.perf_counter() - applied)


async def setup(rt: Runtime, teams: int) -> tuple[Actor, list[str]]:
    created = await rt.tournaments.create_tournament(
        CreateTournament(name="Bench Olympics", max_teams=1024)
    )
    tid = created.tournament_id
    organizer = Actor("organizer", tid, created.credential_id)
    await rt.tournaments.update_tournament(tid, organizer, UpdateTournament(rest_seconds=0))
    code = rt.catalog.get(tid).join_code
    for i in range(teams):
        await rt.tournaments.register_team(
            tid,
            SPECTATOR,
            RegisterTeam(join_code=code, name=f"Team {i:03d}", colour="#336699", captain_name="C"),
        )
    game_ids = [(await rt.games.add_game(tid, organizer, game)).id for game in GAMES]
    for game_id in game_ids:
        await rt.games.start_game(tid, organizer, game_id, StartGame(seeding="random"))
    return organizer, game_ids


def ready(rt: Runtime, tid: str, game_id: str) -> list[tuple[str, tuple[str, ...], str]]:
    run = rt.play.get(tid).games[game_id]
    assert run.resolution is not None
    return [
        (spec, m.teams, run.specs[spec].kind)
        for spec, m in run.resolution.matches.items()
        if m.state == "ready"
    ]


async def play_out(
    rt: Runtime, organizer: Actor, game_ids: list[str], rng: random.Random
) -> list[float]:
    tid = organizer.tournament_id or ""
    latencies: list[float] = []
    open_games = list(game_ids)
    while open_games:
        game_id = rng.choice(open_games)
        matches = ready(rt, tid, game_id)
        if not matches:
            await rt.games.add_round(tid, game_id)
            matches = ready(rt, tid, game_id)
        if not matches:
            open_games.remove(game_id)
            continue
        spec, teams, kind = rng.choice(matches)
        key = match_key(game_id, spec)
        if kind == "heat":
            result = ReportResult(values={t: round(rng.uniform(5, 30), 2) for t in teams})
        else:
            winner = rng.choice(teams)
            loser = teams[0] if winner == teams[1] else teams[1]
            result = ReportResult(winner=winner, score={winner: 10, loser: rng.randint(0, 9)})
        await rt.matches.start_match(tid, organizer, key)
        started = time.perf_counter()
        await rt.matches.report(tid, organizer, key, result)
        latencies.append(time.perf_counter() - started)
    return latencies


async def main(backend: str, teams: int, seed: int) -> None:
    async with runtime_on(backend, start=False) as rt:
        timed = TimedPlay(rt.play)
        rt.projector.projections[rt.projector.projections.index(rt.play)] = timed  # type: ignore[call-overload]
        organizer, game_ids = await setup(rt, teams)
        began = time.perf_counter()
        latencies = await play_out(rt, organizer, game_ids, random.Random(seed))
        elapsed = time.perf_counter() - began
        tid = organizer.tournament_id or ""
        runs = rt.play.get(tid).games
        assert all(runs[g].complete for g in game_ids), "every game is played out"
        print(f"{teams} teams, {len(GAMES)} games on {backend}: {len(latencies)} results confirmed")
        print(
            table(
                ["measure", "count", "rate", "latency"],
                [
                    [
                        "report + confirm (service)",
                        len(latencies),
                        f"{len(latencies) / elapsed:,.0f}/s (incl. start)",
                        summary_ms(latencies),
                    ],
                    [
                        "projection: apply event",
                        len(timed.apply_costs),
                        "",
                        summary_ms(timed.apply_costs),
                    ],
                    [
                        "  of which the leaderboard",
                        len(timed.score_costs),
                        "",
                        summary_ms(timed.score_costs),
                    ],
                    [
                        "leaderboard: re-rank",
                        len(timed.rank_costs),
                        "",
                        summary_ms(timed.rank_costs),
                    ],
                ],
            )
        )
        for name, parts in (
            ("projection + re-rank per confirmed result", timed.apply_costs),
            ("leaderboard alone (update + re-rank)", timed.score_costs),
        ):
            total = [a + r for a, r in zip(parts, timed.rank_costs, strict=True)]
            print(
                f"{name}: p50 {percentile(total, 50) * 1e3:.3f} ms,"
                f" p99 {percentile(total, 99) * 1e3:.3f} ms, max {max(total) * 1e3:.3f} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--teams", type=int, default=128)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.backend, args.teams, args.seed))
