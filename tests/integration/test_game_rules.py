"""Game rules through the API where they used to misbehave: a reset final no longer needed, a
Swiss round paired on old scores, a reopened match holding its teams, a game started twice,
reports on played matches, path ids, and who a request acts as."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import FakeClock, api_client, bearer, eventually, make_settings
from tests.integration.test_api_games import World
from tests.integration.test_api_play import make_world, official, slot_teams


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    async with api_client(make_settings(tmp_path), clock) as client:
        yield await make_world(client, clock, 4)


async def _post(w: World, path: str, body: Any = None, **headers: str) -> Any:
    return await w.client.post(w.url(path), json=body or {}, headers=headers or w.org)


async def _play_out(w: World, game: str, winner_slot: Any) -> None:
    """Every ready match to the end, by an official; ``winner_slot(match)`` picks the winner."""
    seen: set[str] = set()
    while ready := [
        m for m in await w.matches(game_id=game, status="ready") if m["id"] not in seen
    ]:
        for match in ready:
            seen.add(match["id"])
            await official(w, match["id"], {"winner": slot_teams(match)[winner_slot(match)]})


async def test_a_reset_final_no_longer_needed_is_void_at_once(tmp_path: Path) -> None:
    async with api_client(make_settings(tmp_path), FakeClock()) as client:
        w = await make_world(client, FakeClock(), 4)
        game = await w.add_game(
            format="double_elimination", options={"grand_final": "reset"}, auto_call=False
        )
        await w.start(game)
        # The losers-bracket team wins the first final, so the reset is played too.
        await _play_out(w, game, lambda m: 1 if m["id"].endswith("GF1") else 0)
        gf1, gf2 = f"{game}.GF1", f"{game}.GF2"
        assert (await w.match(gf2))["match"]["status"] == "confirmed"
        r = await _post(w, f"/matches/{gf1}/reopen", {"reason": "scoresheet mix-up"})
        assert r.status_code == 200, r.text
        assert (await w.match(gf2))["match"]["status"] == "flagged"
        winners_champion = slot_teams((await w.match(gf1))["match"])[0]
        r = await _post(
            w,
            f"/matches/{gf1}/override",
            {"result": {"winner": winners_champion}, "reason": "the winners' champion won"},
        )
        assert r.status_code == 200, r.text
        reset = (await w.match(gf2))["match"]
        assert reset["status"] == "void"
        assert [s["team"] for s in reset["slots"]] == [None, None]  # nobody plays it
        for action, body in (
            ("result", {"winner": winners_champion}),
            ("override", {"result": {"winner": winners_champion}, "reason": "try"}),
        ):
            r = await _post(w, f"/matches/{gf2}/{action}", body)
            assert (r.status_code, r.json()["code"]) == (409, "match_not_played")
            assert "not needed" in r.json()["detail"]
        bracket = await w.bracket(game)
        assert bracket["status"] == "complete"
        champion = next(p["team"]["id"] for p in bracket["placements"] if p["place"] == 1)
        assert champion == winners_champion


async def test_a_swiss_round_is_paired_again_after_a_correction_unless_it_started(
    tmp_path: Path,
) -> None:
    async with api_client(make_settings(tmp_path), FakeClock()) as client:
        w = await make_world(client, FakeClock(), 8)
        game = await w.add_game(format="swiss", options={"rounds": 3}, auto_call=False)
        await w.start(game)
        first = await w.matches(game_id=game, status="ready")
        for match in first:
            await official(w, match["id"], {"winner": slot_teams(match)[0]})

        async def round_two() -> list[dict[str, Any]]:
            return [m for m in await w.matches(game_id=game) if m["round"] == 2]

        async def paired() -> bool:
            return len(await round_two()) == 4

        await eventually(paired)
        # The first result was the wrong way round: its loser won.
        fixed = first[0]
        loser = slot_teams(fixed)[1]
        r = await _post(
            w,
            f"/matches/{fixed['id']}/override",
            {"result": {"winner": loser}, "reason": "wrong team entered"},
        )
        assert r.status_code == 200, r.text

        async def paired_on_the_new_scores() -> bool:
            won = {slot_teams(m)[0] for m in first if m["id"] != fixed["id"]} | {loser}
            matches = await round_two()
            return len(matches) == 4 and all(
                (slot_teams(m)[0] in won) == (slot_teams(m)[1] in won) for m in matches
            )

        await eventually(paired_on_the_new_scores)
        history = (await w.match(fixed["id"]))["history"]
        assert history[-1]["type"] == "ResultOverridden"

        # Once a match of round 2 has started, a correction flags it instead.
        started = (await round_two())[0]
        r = await _post(w, f"/matches/{started['id']}/start")
        assert r.status_code == 200, r.text
        other = first[1]
        r = await _post(
            w,
            f"/matches/{other['id']}/override",
            {"result": {"winner": slot_teams(other)[1]}, "reason": "appeal"},
        )
        assert r.status_code == 200, r.text
        now = (await w.match(started["id"]))["match"]
        assert now["status"] == "flagged"
        assert "after round 2 was paired" in now["flagged"]
        assert {m["id"] for m in await round_two()} == {m["id"] for m in await round_two()}


async def test_a_reopened_match_waits_for_its_result_without_holding_its_teams(
    world: World,
) -> None:
    w = world
    game = await w.add_game(format="round_robin", auto_call=False)
    await w.start(game)
    matches = await w.matches(game_id=game, status="ready")
    first = matches[0]
    a, b = slot_teams(first)
    await official(w, first["id"], {"winner": a})
    r = await _post(w, f"/matches/{first['id']}/reopen", {"reason": "wrong winner"})
    assert r.status_code == 200, r.text
    reopened = (await w.match(first["id"]))["match"]
    assert reopened["status"] == "reopened"
    # Nobody is at a table for it: its teams may play their next match meanwhile.
    nxt = next(m for m in matches if m["id"] != first["id"] and a in slot_teams(m))
    r = await _post(w, f"/matches/{nxt['id']}/start")
    assert r.status_code == 200, r.text
    # The right result goes in without a start.
    r = await _post(w, f"/matches/{first['id']}/result", {"winner": b})
    assert r.status_code == 200, r.text
    assert r.json()["match"]["status"] == "confirmed"


async def test_starting_a_game_twice_is_refused_and_its_seeding_is_reported(world: World) -> None:
    w = world
    game = await w.add_game(format="single_elimination", auto_call=False)
    teams = [t["team"]["id"] for t in w.teams]
    await w.start(game, seeding="manual", teams=list(reversed(teams)))
    assert (await w.client.get(w.url(f"/games/{game}"))).json()["options"]["seeding"] == "manual"
    r = await _post(w, f"/games/{game}/start", {"teams": teams[:2]})
    assert (r.status_code, r.json()["code"]) == (409, "game_started")
    shuffled = await w.add_game(name="Darts", format="single_elimination", auto_call=False)
    await w.start(shuffled, seeding="random")
    view = (await w.client.get(w.url(f"/games/{shuffled}"))).json()
    assert view["options"]["seeding"] == "random"


async def test_reporting_on_a_played_match_says_how_to_change_it(world: World) -> None:
    w = world
    game = await w.add_game(format="single_elimination", auto_call=False)
    await w.start(game)
    semi = (await w.matches(game_id=game, status="ready"))[0]
    await w.play(semi["id"])
    winner = slot_teams(semi)[0]
    for headers in (w.org, w.captain(winner)):
        r = await _post(w, f"/matches/{semi['id']}/result", {"winner": winner}, **headers)
        assert (r.status_code, r.json()["code"]) == (409, "match_already_played")
        assert "/override" in r.json()["detail"]


async def test_game_names_are_unique_also_when_renamed(world: World) -> None:
    w = world
    await w.add_game(name="Beer Pong", format="round_robin")
    darts = await w.add_game(name="Darts", format="round_robin")
    r = await w.client.patch(w.url(f"/games/{darts}"), json={"name": "beer pong"}, headers=w.org)
    assert (r.status_code, r.json()["code"]) == (409, "game_name_taken")
    schema = (await w.client.get("/api/v1/openapi.json")).json()
    add_game = schema["components"]["schemas"]["AddGame"]["properties"]["name"]
    assert "unique" in add_game["description"]
    match_param = next(
        p
        for p in schema["paths"]["/api/v1/tournaments/{tournament_id}/matches/{match}"]["get"][
            "parameters"
        ]
        if p["name"] == "match"
    )
    assert "{game_id}.{short}" in match_param["description"]


async def test_path_ids_are_checked_never_a_500(world: World) -> None:
    w = world
    for method, path in (
        ("DELETE", "/api/v1/tournaments/%C3%A9/sessions/current"),
        ("GET", "/api/v1/tournaments/%C3%A9/leaderboard"),
        ("GET", f"/api/v1/tournaments/{w.tid}/teams/%C3%A9"),
        ("GET", f"/api/v1/tournaments/{w.tid}/games/a%20b"),
        ("GET", f"/api/v1/tournaments/{w.tid}/matches/no-dot"),
    ):
        for headers in ({}, w.org):
            r = await w.client.request(method, path, headers=headers)
            assert r.status_code in (404, 422), (method, path, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    r = await w.client.delete("/api/v1/tournaments/no-such-cup/sessions/current")
    assert (r.status_code, r.json()["code"]) == (404, "tournament_not_found")


async def test_a_bearer_header_wins_over_a_cookie(tmp_path: Path) -> None:
    """A client that keeps cookies acts as the last credential a cookie named — unless it says
    who it is with a Bearer header."""
    async with api_client(make_settings(tmp_path)) as client:
        created = (await client.post("/api/v1/tournaments", json={"name": "Cookie Cup"})).json()
        tid = created["tournament"]["id"]
        teams = f"/api/v1/tournaments/{tid}/teams"
        team = {"name": "Hop Stars", "colour": "#123456", "captain_name": "Aoife"}
        # The organizer's cookie is kept: no join code is asked for.
        first = await client.post(teams, json=team)
        assert first.status_code == 201, first.text
        # The team's cookie replaced it; a Bearer header says who is asking, whatever the jar.
        other = {**team, "name": "Lager Legends", "captain_name": "Jonas"}
        r = await client.post(teams, json=other, headers=bearer(first.json()["token"]))
        assert r.status_code >= 400
        r = await client.post(teams, json=other, headers=bearer(created["token"]))
        assert r.status_code == 201, r.text
