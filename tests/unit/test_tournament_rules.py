"""The tournament's rules as pure functions: state in, events out (or a refusal)."""

from __future__ import annotations

import datetime as dt

import pytest

from beerolympics.domain import events as ev
from beerolympics.domain import teams
from beerolympics.domain import tournament as rules
from beerolympics.domain.codes import CODE_ALPHABET, name_key, new_code, slugify
from beerolympics.domain.commands import CreateTournament, JoinTeam, RegisterTeam, UpdateTournament
from beerolympics.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated
from beerolympics.domain.identity import SPECTATOR, Actor

AT = dt.datetime(2026, 7, 4, 12, 0, tzinfo=dt.UTC)
ORG = Actor("organizer", "cup", "cr_org")


def fold(events: list[ev.Event]) -> rules.TournamentState:
    first, *rest = events
    assert isinstance(first, ev.TournamentCreated)
    state = rules.start(first, AT)
    for event in rest:
        rules.evolve(state, event, AT)
    return state


def new_state(**overrides: object) -> rules.TournamentState:
    cmd = CreateTournament(name="Cup", **overrides)  # type: ignore[arg-type]
    return fold(
        rules.create(
            cmd, tournament_id="cup", join_code="ABCDEF", credential_id="cr_org", password_hash=None
        )
    )


def add_team(state: rules.TournamentState, name: str, n: int) -> list[ev.Event]:
    events = teams.register_team(
        state,
        SPECTATOR,
        RegisterTeam(join_code="abcdef", name=name, colour="#aabbcc", captain_name=f"Cap {n}"),
        team_id=f"tm_{n}",
        member_id=f"mb_{n}",
        credential_id=f"cr_{n}",
        invite_code=f"INV{n:03d}",
    )
    for event in events:
        rules.evolve(state, event, AT)
    return events


def test_create_opens_registration_and_issues_the_organizer_credential() -> None:
    state = new_state()
    assert state.status == "registration"
    assert state.registration_open
    assert state.actor_for("cr_org") == ORG
    assert state.version == 3


def test_registering_a_team_appoints_the_captain() -> None:
    state = new_state()
    events = add_team(state, "Hop Stars", 1)
    assert [type(e).__name__ for e in events] == [
        "TeamRegistered",
        "MemberJoined",
        "CaptainAppointed",
        "CredentialIssued",
    ]
    assert state.teams["tm_1"].colour == "#AABBCC"
    assert state.actor_for("cr_1") == Actor("captain", "cup", "cr_1", "tm_1", "mb_1")


def test_refusals() -> None:
    state = new_state(max_teams=2, max_team_size=2)
    add_team(state, "A", 1)
    with pytest.raises(Conflict, match="already exists") as taken:
        add_team(state, " a ", 2)
    assert taken.value.code == "team_name_taken"
    add_team(state, "B", 2)
    with pytest.raises(Conflict) as full:
        add_team(state, "C", 3)
    assert full.value.code == "tournament_full"
    with pytest.raises(Forbidden) as wrong_code:
        teams.register_team(
            state,
            SPECTATOR,
            RegisterTeam(join_code="ZZZZZZ", name="D", colour="#000000", captain_name="x"),
            team_id="t",
            member_id="m",
            credential_id="c",
            invite_code="I",
        )
    assert wrong_code.value.code == "invalid_join_code"
    with pytest.raises(Unauthenticated):
        rules.update(state, SPECTATOR, UpdateTournament(venue="x"))
    with pytest.raises(Forbidden):
        rules.update(
            state, Actor("captain", "cup", "cr_1", "tm_1", "mb_1"), UpdateTournament(venue="x")
        )
    with pytest.raises(Forbidden):
        rules.update(state, Actor("organizer", "other", "cr_x"), UpdateTournament(venue="x"))


def test_team_full_and_join() -> None:
    state = new_state(max_team_size=2)
    add_team(state, "A", 1)
    events = teams.join_team(
        state,
        SPECTATOR,
        JoinTeam(invite_code="inv001", name="Mate"),
        member_id="mb_x",
        credential_id="cr_x",
    )
    for event in events:
        rules.evolve(state, event, AT)
    assert state.actor_for("cr_x") == Actor("player", "cup", "cr_x", "tm_1", "mb_x")
    with pytest.raises(Conflict) as full:
        teams.join_team(
            state,
            SPECTATOR,
            JoinTeam(invite_code="INV001", name="Third"),
            member_id="m",
            credential_id="c",
        )
    assert full.value.code == "team_full"


def test_removing_a_member_revokes_their_devices() -> None:
    state = new_state()
    add_team(state, "A", 1)
    for event in teams.join_team(
        state,
        SPECTATOR,
        JoinTeam(invite_code="INV001", name="Mate"),
        member_id="mb_x",
        credential_id="cr_x",
    ):
        rules.evolve(state, event, AT)
    captain = state.actor_for("cr_1")
    assert captain is not None
    events = teams.remove_member(state, captain, "tm_1", "mb_x")
    assert [type(e).__name__ for e in events] == ["MemberRemoved", "CredentialRevoked"]
    for event in events:
        rules.evolve(state, event, AT)
    assert state.actor_for("cr_x") is None
    with pytest.raises(NotFound):
        teams.remove_member(state, captain, "tm_1", "mb_x")


def test_the_last_captain_may_leave_an_empty_team() -> None:
    state = new_state()
    add_team(state, "A", 1)
    captain = state.actor_for("cr_1")
    assert captain is not None
    events = teams.remove_member(state, captain, "tm_1", "mb_1")
    assert isinstance(events[0], ev.MemberRemoved)
    assert events[0].reason == "left"


def test_update_records_only_changes_and_is_a_noop_otherwise() -> None:
    state = new_state()
    assert rules.update(state, ORG, UpdateTournament(name="Cup", venue="")) == []
    [event] = rules.update(state, ORG, UpdateTournament(name=" New  Cup ", venue="Garden"))
    assert isinstance(event, ev.TournamentUpdated)
    assert (event.name, event.venue) == ("New Cup", "Garden")
    rules.evolve(state, event, AT)
    assert state.name == "New Cup"


def test_registration_toggle_is_idempotent() -> None:
    state = new_state(open_registration=False)
    assert state.status == "draft"
    [opened] = rules.set_registration(state, ORG, open_=True)
    rules.evolve(state, opened, AT)
    assert state.status == "registration"
    assert rules.set_registration(state, ORG, open_=True) == []


def test_codes_and_names() -> None:
    code = new_code()
    assert len(code) == 6
    assert set(code) <= set(CODE_ALPHABET)
    assert not set("01IO") & set(CODE_ALPHABET)
    assert slugify("Backyard Games 2026!") == "backyard-games-2026"
    assert slugify("Ünïcodé Çup") == "unicode-cup"
    assert slugify("🍺") == "tournament"
    assert name_key("  Hop   STARS ") == name_key("hop stars")
