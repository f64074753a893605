"""The demo tournament: what ``beerolympics serve --demo`` loads into an empty store.

Everything goes through the same services a phone uses, so the demo is ordinary events.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from beerolympics.domain.commands import (
    AddGame,
    CreateTournament,
    JoinTeam,
    RegisterTeam,
    ReportResult,
    StartGame,
    UpdateGame,
    UpdateTournament,
)
from beerolympics.domain.identity import SPECTATOR, Actor
from beerolympics.domain.matches import match_key
from beerolympics.runtime import Runtime

log = logging.getLogger("beerolympics.demo")

DEMO_SLUG = "backyard-olympics"

#: (team, colour, flag, motto, captain, teammates)
DEMO_TEAMS: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    ("Hop Stars", "#E4572E", "🇮🇪", "Foam is where the heart is", "Aoife", ("Ciarán", "Niamh")),
    ("Lager Legends", "#29335C", "🇩🇪", "Prost and win", "Jonas", ("Lena", "Felix")),
    ("Pong Dynasty", "#F3A712", "🇺🇸", "In cups we trust", "Madison", ("Tyler",)),
    ("The Flip Side", "#A8C686", "🇨🇦", "Sorry, not sorry", "Logan", ("Chloé", "Owen")),
    ("Ale Mary", "#669BBC", "🇬🇧", "Last-second heroes", "Harriet", ("Ollie",)),
    ("Stout Hearts", "#7B2D26", "🇦🇺", "No worries, all cups", "Mia", ("Jack", "Ruby")),
    ("Brew Crew", "#2A9D8F", "🇳🇿", "Kia kaha, kia chug", "Aroha", ("Nikau",)),
    ("Cornhole Kings", "#E9C46A", "🇧🇪", "Bags of talent", "Lotte", ("Wout", "Mila")),
    ("Pils Pilots", "#264653", "🇨🇿", "Cleared for landing", "Tomáš", ("Eliška",)),
    ("Saison Sisters", "#F4A261", "🇫🇷", "Joie de boire", "Camille", ("Léa", "Inès")),
    ("Hefe Heroes", "#8338EC", "🇦🇹", "Servus, cups", "Valentina", ("Lukas",)),
    ("Tap Dancers", "#FF006E", "🇧🇷", "Samba and sip", "Beatriz", ("Rafael", "Lívia")),
)


async def load_demo(rt: Runtime) -> bool:
    """Create the demo tournament unless the store already has tournaments."""
    if rt.catalog.tournaments:
        log.info("demo skipped: the store already has tournaments")
        return False
    created = await rt.tournaments.create_tournament(
        CreateTournament(
            name="Backyard Olympics",
            slug=DEMO_SLUG,
            date=dt.date.today(),
            venue="The back garden",
            rules="Two players per match. Captains report results; the other side confirms.",
            max_teams=16,
            max_team_size=6,
            open_registration=True,
        )
    )
    state = rt.catalog.get(created.tournament_id)
    organizer = Actor("organizer", state.id, created.credential_id)
    for name, colour, flag, motto, captain, mates in DEMO_TEAMS:
        team = await rt.tournaments.register_team(
            state.id,
            SPECTATOR,
            RegisterTeam(
                join_code=state.join_code,
                name=name,
                colour=colour,
                flag=flag,
                motto=motto,
                captain_name=captain,
            ),
        )
        invite = state.team(team.team_id or "").invite_code
        for mate in mates:
            await rt.tournaments.join_team(
                state.id, SPECTATOR, JoinTeam(invite_code=invite, name=mate)
            )
    await rt.tournaments.start_tournament(state.id, organizer)
    await play_demo_games(rt, organizer, random.Random(2026))
    log.info("demo tournament %r loaded with %d teams", state.id, len(state.teams))
    return True


def demo_links(rt: Runtime, base: str) -> list[str]:
    """Sign-in links to try the demo as its organizer and as a captain (printed at start-up:
    whoever runs the demo is the party's organizer)."""
    state = rt.catalog.tournaments.get(DEMO_SLUG)
    if state is None:
        return []
    live = [c for c in state.credentials.values() if not c.revoked]
    organizer = next((c for c in live if c.role == "organizer"), None)
    team = next(iter(state.teams.values()), None)
    captain = next((c for c in live if team is not None and c.member_id == team.captain_id), None)
    page = f"{base}/t/{DEMO_SLUG}"
    links = []
    if organizer is not None:
        token = rt.signer.sign(state.id, organizer.id)
        links.append(f"the organizer (control room): {page}/signin#token={token}")
    if captain is not None and team is not None:
        token = rt.signer.sign(state.id, captain.id)
        links.append(f"the captain of {team.name}: {page}/signin#token={token}")
    return links


#: The demo's games; the queue is off while the demo enters results.
DEMO_GAMES: tuple[AddGame, ...] = (
    AddGame(
        name="Beer Pong",
        format="double_elimination",
        options={"grand_final": "reset"},
        stations=["Table 1", "Table 2"],
        auto_call=False,
    ),
    AddGame(
        name="Flip Cup Relay",
        format="heats",
        options={"heat_size": 4, "rounds": 2, "advance_per_heat": 2},
        stations=["Lane A"],
        heat_scoring="lower",
        auto_call=False,
    ),
    AddGame(
        name="Cornhole",
        format="groups_playoffs",
        options={"groups": 4, "advance_per_group": 2},
        stations=["Board 1", "Board 2"],
        auto_call=False,
    ),
    AddGame(
        name="Quarters",
        format="swiss",
        options={"rounds": 3},
        stations=["Table 3"],
        auto_call=False,
    ),
    AddGame(
        name="Chug Race",
        format="heats",
        options={"heat_size": 4, "rounds": 2, "advance_per_heat": 1},
        stations=["Bar"],
        heat_scoring="lower",
        auto_call=False,
    ),
)
#: How many results of each game the demo has already played.
DEMO_RESULTS = {"Beer Pong": 6, "Flip Cup Relay": 3, "Cornhole": 12, "Quarters": 6, "Chug Race": 2}


async def play_demo_games(rt: Runtime, organizer: Actor, rng: random.Random) -> None:
    """Set up the demo's games and play some of their matches, as an official would."""
    tid = organizer.tournament_id or ""
    await rt.tournaments.update_tournament(tid, organizer, UpdateTournament(rest_seconds=0))
    game_ids = []
    for game in DEMO_GAMES:
        created = await rt.games.add_game(tid, organizer, game)
        game_ids.append(created.id)
        await rt.games.start_game(tid, organizer, created.id, StartGame(seeding="random"))
        for _ in range(DEMO_RESULTS[game.name]):
            ready = _ready(rt, tid, created.id)
            if not ready:
                await rt.games.add_round(tid, created.id)
                ready = _ready(rt, tid, created.id)
            if not ready:
                break
            spec_id, teams, kind = ready[0]
            key = match_key(created.id, spec_id)
            await rt.matches.start_match(tid, organizer, key)
            await rt.matches.report(tid, organizer, key, _result(rng, teams, kind))
    # Only now the queue may call matches: while results were entered, nobody was at a table.
    for game_id in game_ids:
        await rt.games.update_game(tid, organizer, game_id, UpdateGame(auto_call=True))
    await rt.tournaments.update_tournament(tid, organizer, UpdateTournament(rest_seconds=60))


def _ready(rt: Runtime, tid: str, game_id: str) -> list[tuple[str, tuple[str, ...], str]]:
    run = rt.play.get(tid).games[game_id]
    assert run.resolution is not None
    return [
        (spec_id, resolved.teams, run.specs[spec_id].kind)
        for spec_id, resolved in run.resolution.matches.items()
        if resolved.state == "ready"
    ]


def _result(rng: random.Random, teams: tuple[str, ...], kind: str) -> ReportResult:
    if kind == "heat":
        return ReportResult(values={t: round(rng.uniform(8, 20), 2) for t in teams})
    winner = rng.choice(teams)
    loser = teams[1] if winner == teams[0] else teams[0]
    return ReportResult(winner=winner, score={winner: 10, loser: rng.randint(0, 9)})
