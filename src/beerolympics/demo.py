"""The demo tournament: what ``beerolympics serve --demo`` loads into an empty store.

Everything goes through the same services a phone uses, so the demo is ordinary events.
"""

from __future__ import annotations

import datetime as dt
import logging

from beerolympics.domain.commands import CreateTournament, JoinTeam, RegisterTeam
from beerolympics.domain.identity import SPECTATOR, Actor
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
    # Visitors of the demo may still join with a team of their own.
    await rt.tournaments.set_registration(state.id, organizer, open_=True)
    log.info("demo tournament %r loaded with %d teams", state.id, len(state.teams))
    return True
