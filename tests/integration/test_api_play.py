"""More of play through the API: heats, Swiss rounds, double elimination, bonuses, referees,
tie-break settings, best-of-N, and a deadline that survives a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from beerolympics.runtime import Runtime
from tests.factories import (
    FakeClock,
    api_client,
    bearer,
    eventually,
    make_settings,
    new_team,
    new_tournament,
)
from tests.integration.test_api_games import World

Client = AsyncTestClient[Any]


async def make_world(client: Client, clock: FakeClock, teams: int) -> World:
    w = World(client, clock)
    t = await new_tournament(client, name="Play Cup", max_teams=64)
    w.tid, w.org = t["tournament"]["id"], bearer(t["token"])
    await client.patch(w.url(""), json={"rest_seconds": 0}, headers=w.org)
    for i in range(teams):
        w.teams.append(await new_team(client, t, name=f"Crew {i + 1:02d}"))
    return w


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    async with api_client(make_settings(tmp_path), clock) as client:
        yield await make_world(client, clock, 8)


async def official(w: World, key: str, result: dict[str, Any]) -> dict[str, Any]:
    r = await w.client.post(w.url(f"/matches/{key}/start"), headers=w.org)
    assert r.status_code == 200, r.text
    r = await w.client.post(w.url(f"/matches/{key}/result"), json=result, headers=w.org)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    assert data["match"]["status"] == "confirmed"
    return data


def slot_teams(match: dict[str, Any]) -> list[str]:
    return [s["team"]["id"] for s in match["slots"]]


async def test_heats_rank_by_time_and_pair_the_next_round(world: World) -> None:
    game = await world.add_game(
        name="Flip Cup",
        format="heats",
        options={"heat_size": 4, "rounds": 2, "advance_per_heat": 2},
        heat_scoring="lower",
        auto_call=False,
    )
    await world.start(game)
    heats = await world.matches(status="ready")
    assert len(heats) == 2
    first = heats[0]
    teams = slot_teams(first)
    rt: Runtime = world.client.app.state.runtime
    before = await rt.store.last_position()
    await world.client.post(world.url(f"/matches/{first['id']}/start"), headers=world.org)
    for bad in (
        {"places": {teams[0]: 1, teams[1]: 3, teams[2]: 4, teams[3]: 5}},
        {"places": {teams[0]: 1, teams[1]: 1, teams[2]: 2, teams[3]: 3}},
        {"places": {teams[0]: 1, teams[1]: 2, teams[2]: 3}},
        {"places": {teams[0]: 1, teams[1]: 2, teams[2]: 3, "tm_stranger": 4}},
    ):
        r = await world.client.post(
            world.url(f"/matches/{first['id']}/result"), json=bad, headers=world.org
        )
        assert (r.status_code, r.json()["code"]) == (422, "invalid_placements"), bad
    assert await rt.store.last_position() == before + 1  # only the start
    detail = await official(
        world, first["id"], {"values": {t: 10.0 + i for i, t in enumerate(teams)}}
    )
    assert [s["place"] for s in detail["match"]["slots"]] == [1, 2, 3, 4]
    second = heats[1]
    teams2 = slot_teams(second)
    await official(
        world, second["id"], {"places": {teams2[0]: 1, teams2[1]: 1, teams2[2]: 3, teams2[3]: 4}}
    )

    async def final_paired() -> bool:
        return len(await world.matches(game_id=game, status="ready")) == 1

    await eventually(final_paired)
    [final] = await world.matches(game_id=game, status="ready")
    assert set(slot_teams(final)) == {teams[0], teams[1], teams2[0], teams2[1]}


async def test_swiss_pairs_rounds_until_done(world: World) -> None:
    game = await world.add_game(
        name="Quarters", format="swiss", options={"rounds": 3}, auto_call=False
    )
    await world.start(game)
    for round_number in (1, 2, 3):

        async def round_ready(n: int = round_number) -> bool:
            ready = await world.matches(game_id=game, status="ready")
            return len(ready) == 4 and all(m["round"] == n for m in ready)

        await eventually(round_ready)
        for match in await world.matches(game_id=game, status="ready"):
            await official(world, match["id"], {"winner": slot_teams(match)[0]})
    standings = (await world.client.get(world.url(f"/games/{game}/standings"))).json()
    table = standings["tables"][0]
    assert table["complete"] is True
    assert sum(row["wins"] for row in table["rows"]) == 12
    assert {"buchholz", "median_buchholz", "sonneborn_berger"} <= set(table["rows"][0])
    assert len(standings["placements"]) == 8
    pairs = [frozenset(slot_teams(m)) for m in await world.matches(game_id=game)]
    assert len(pairs) == len(set(pairs)), "no rematches"


async def test_double_elimination_grand_final_reset_only_when_needed(tmp_path: Path) -> None:
    clock = FakeClock()
    async with api_client(make_settings(tmp_path), clock) as client:
        w = await make_world(client, clock, 4)
        game = await w.add_game(
            format="double_elimination", options={"grand_final": "reset"}, auto_call=False
        )
        await w.start(game)
        seen: set[str] = set()
        while True:
            ready = [
                m for m in await w.matches(game_id=game, status="ready") if m["id"] not in seen
            ]
            if not ready:
                break
            for match in ready:
                seen.add(match["id"])
                # The losers-bracket team (slot 1 of the grand final) wins the first final.
                winner_slot = 1 if match["section"] == "grand_final" else 0
                await official(w, match["id"], {"winner": slot_teams(match)[winner_slot]})
        bracket = await w.bracket(game)
        finals = [
            m
            for s in bracket["sections"]
            if s["name"] == "grand_final"
            for r in s["rounds"]
            for m in r["matches"]
        ]
        assert [m["status"] for m in finals] == ["confirmed", "confirmed"]
        assert bracket["status"] == "complete"
        losses: dict[str, int] = {}
        for section in bracket["sections"]:
            for rnd in section["rounds"]:
                for m in rnd["matches"]:
                    for s in m["slots"]:
                        if s["team"] is not None and m["status"] == "confirmed" and not s["winner"]:
                            losses[s["team"]["id"]] = losses.get(s["team"]["id"], 0) + 1
        champion = next(p["team"]["id"] for p in bracket["placements"] if p["place"] == 1)
        assert all(n == 2 for team, n in losses.items() if team != champion)
        assert losses[champion] == 1


async def test_bonus_challenges_add_points(world: World) -> None:
    r = await world.client.post(
        world.url("/bonuses"),
        json={"name": "Trick shot", "points": 15, "needs_approval": True, "max_completions": 1},
        headers=world.org,
    )
    assert r.status_code == 201, r.text
    bonus = r.json()["items"][0]["id"]
    team = world.teams[0]
    captain = bearer(team["token"])
    claim = await world.client.post(
        world.url(f"/bonuses/{bonus}/claims"), json={"note": "behind the back"}, headers=captain
    )
    assert claim.status_code == 201, claim.text
    assert claim.json()["status"] == "pending"
    again = await world.client.post(world.url(f"/bonuses/{bonus}/claims"), json={}, headers=captain)
    assert (again.status_code, again.json()["code"]) == (409, "bonus_maxed")
    forbidden = await world.client.post(
        world.url(f"/bonuses/{bonus}/claims/{claim.json()['claim_id']}/approve"), headers=captain
    )
    assert forbidden.status_code == 403
    approved = await world.client.post(
        world.url(f"/bonuses/{bonus}/claims/{claim.json()['claim_id']}/approve"), headers=world.org
    )
    assert approved.status_code == 200
    board = (await world.client.get(world.url("/leaderboard"))).json()
    row = next(r for r in board["rows"] if r["team"]["id"] == team["team"]["id"])
    assert (row["rank"], row["bonus_points"], row["points"]) == (1, 15, 15)


async def test_referee_records_results_but_cannot_run_the_tournament(world: World) -> None:
    r = await world.client.post(
        world.url("/credentials/referees"), json={"label": "Ref Sam"}, headers=world.org
    )
    assert r.status_code == 201, r.text
    referee = bearer(r.json()["token"])
    assert (await world.client.get(world.url("/me"), headers=referee)).json()["role"] == "referee"
    game = await world.add_game(format="round_robin", auto_call=False)
    await world.start(game)
    match = (await world.matches(status="ready"))[0]
    await world.client.post(world.url(f"/matches/{match['id']}/start"), headers=referee)
    r = await world.client.post(
        world.url(f"/matches/{match['id']}/result"),
        json={"winner": slot_teams(match)[1]},
        headers=referee,
    )
    assert r.json()["match"]["status"] == "confirmed"
    assert r.json()["history"][-1]["by"].startswith("referee ")
    r = await world.client.patch(world.url(""), json={"venue": "x"}, headers=referee)
    assert r.status_code == 403


async def test_tiebreak_order_is_configurable(world: World) -> None:
    r = await world.client.patch(
        world.url(""), json={"tiebreaks": ["point_diff", "point_diff"]}, headers=world.org
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_tiebreaks")
    r = await world.client.patch(
        world.url(""), json={"tiebreaks": ["point_diff", "head_to_head"]}, headers=world.org
    )
    assert r.status_code == 200, r.text
    board = (await world.client.get(world.url("/leaderboard"))).json()
    assert board["tiebreaks"] == ["point_diff", "head_to_head"]


async def test_best_of_three_final_needs_a_series_score(tmp_path: Path) -> None:
    async with api_client(make_settings(tmp_path), FakeClock()) as client:
        w = await make_world(client, FakeClock(), 2)
        game = await w.add_game(
            format="single_elimination", options={"final_best_of": 3}, auto_call=False
        )
        await w.start(game)
        [final] = await w.matches(status="ready")
        assert final["best_of"] == 3
        a, b = slot_teams(final)
        await w.client.post(w.url(f"/matches/{final['id']}/start"), headers=w.org)
        r = await w.client.post(
            w.url(f"/matches/{final['id']}/result"),
            json={"winner": a, "score": {a: 3, b: 1}},
            headers=w.org,
        )
        assert (r.status_code, r.json()["code"]) == (422, "invalid_outcome")
        await official(w, final["id"], {"winner": a, "score": {a: 2, b: 1}})


async def test_a_pending_deadline_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'events.db'}")
    clock = FakeClock()
    async with api_client(settings, clock) as client:
        w = await make_world(client, clock, 2)
        game = await w.add_game(format="round_robin", auto_call=False)
        await w.start(game)
        [match] = await w.matches(status="ready")
        a, _ = slot_teams(match)
        await client.post(w.url(f"/matches/{match['id']}/start"), headers=w.captain(a))
        r = await client.post(
            w.url(f"/matches/{match['id']}/result"), json={"winner": a}, headers=w.captain(a)
        )
        assert r.json()["match"]["status"] == "submitted"
    clock.advance(600)
    async with api_client(settings, clock) as client:

        async def confirmed() -> bool:
            r = await client.get(w.url(f"/matches/{match['id']}"))
            return bool(r.json()["match"]["status"] == "confirmed")

        await eventually(confirmed)


async def test_the_queue_looks_past_matches_whose_teams_are_busy(tmp_path: Path) -> None:
    """Six tables of one game take twelve of fourteen teams; the other game's one table gets
    the only match left between free teams, wherever it stands in that game's long queue."""
    clock = FakeClock()
    async with api_client(make_settings(tmp_path), clock) as client:
        w = await make_world(client, clock, 14)
        tables = [f"T{i}" for i in range(6)]
        busy = await w.add_game(name="Flip Cup", format="round_robin", stations=tables)
        await w.start(busy)

        async def called(game: str, count: int) -> bool:
            mine = await w.matches(status="called", game_id=game)
            return len(mine) == count

        await eventually(lambda: called(busy, 6))
        playing = {t for m in await w.matches(status="called") for t in slot_teams(m)}
        free = {t["team"]["id"] for t in w.teams} - playing
        assert len(free) == 2
        pong = await w.add_game(name="Beer Pong", format="round_robin", stations=["P1"])
        # Seeded so that the free teams' match comes late in the plan: its 85th of 91.
        order = [*sorted(free), *(t["team"]["id"] for t in w.teams if t["team"]["id"] in playing)]
        await w.start(pong, seeding="manual", teams=order)
        await eventually(lambda: called(pong, 1))
        [match] = await w.matches(status="called", game_id=pong)
        assert set(slot_teams(match)) == free
        ready = await w.matches(status="ready", game_id=pong)
        assert len(ready) == 90  # the other 90 of its 91 matches wait for busy teams


async def test_teams_rest_between_matches_and_the_queue_wakes_when_they_have(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with api_client(make_settings(tmp_path), clock) as client:
        w = await make_world(client, clock, 4)
        r = await client.patch(w.url(""), json={"rest_seconds": 600}, headers=w.org)
        assert r.status_code == 200, r.text
        game = await w.add_game(name="Flip Cup", format="round_robin", stations=["F1"])
        await w.start(game)

        async def called() -> list[dict[str, Any]]:
            return await w.matches(status="called", game_id=game)

        async def one_called() -> bool:
            return len(await called()) == 1

        await eventually(one_called)
        [first] = await called()
        await official(w, first["id"], {"winner": slot_teams(first)[0]})
        await eventually(one_called)  # the two teams that have not played yet
        [second] = await called()
        assert not set(slot_teams(second)) & set(slot_teams(first))
        await official(w, second["id"], {"winner": slot_teams(second)[0]})
        await asyncio.sleep(1)  # a few looks of the queue: everyone is resting
        assert await called() == []
        clock.advance(601)  # no command: the queue wakes by itself
        await eventually(one_called)


async def test_a_games_count_of_played_matches_follows_results_and_reopening(
    world: World,
) -> None:
    game = await world.add_game(name="Pong", format="round_robin", auto_call=False)
    await world.start(game)

    async def counts() -> tuple[int, int]:
        view = (await world.client.get(world.url(f"/games/{game}"))).json()
        return view["matches"], view["matches_done"]

    assert await counts() == (28, 0)  # eight teams: 28 matches
    first, second = (await world.matches(game_id=game, status="ready"))[:2]
    await official(world, first["id"], {"winner": slot_teams(first)[0]})
    assert await counts() == (28, 1)
    await official(world, second["id"], {"winner": slot_teams(second)[1]})
    assert await counts() == (28, 2)
    r = await world.client.post(
        world.url(f"/matches/{first['id']}/reopen"), json={"reason": "typo"}, headers=world.org
    )
    assert r.status_code == 200, r.text
    assert await counts() == (28, 1)


async def test_a_knockouts_counts_follow_byes_resets_and_void_matches(world: World) -> None:
    """Eight teams in a double elimination, the losers' bracket champion taking the grand
    final (its reset is played) or not (void): the counts are what the matches say."""
    for champion_side in (1, 0):
        game = await world.add_game(
            name=f"Darts {champion_side}", format="double_elimination", auto_call=False
        )
        await world.start(game)
        while ready := await world.matches(game_id=game, status="ready"):
            match = ready[0]
            final = match["section"] == "grand_final"
            side = champion_side if final else 0
            await official(world, match["id"], {"winner": slot_teams(match)[side]})
            view = (await world.client.get(world.url(f"/games/{game}"))).json()
            listed = [
                m for m in await world.matches(game_id=game) if m["status"] not in ("bye", "void")
            ]
            done = [m for m in listed if m["status"] == "confirmed"]
            assert (view["matches"], view["matches_done"]) == (len(listed), len(done))
        assert view["matches"] == view["matches_done"] == 14 + champion_side


async def test_a_report_repeated_after_the_match_moved_on_answers_as_the_first_time(
    world: World,
) -> None:
    """A phone's outbox sends a report again with its Idempotency-Key when it never saw the
    answer; by then the other team may have confirmed it, and the state refuses a report. The
    repeat is answered as a success (with the match as it is now) and stores nothing; the key
    with another report is a 422."""
    game = await world.add_game(format="round_robin", auto_call=False)
    await world.start(game)
    [match, *_] = await world.matches(status="ready")
    a, b = slot_teams(match)
    url = world.url(f"/matches/{match['id']}")
    await world.client.post(f"{url}/start", headers=world.captain(a))
    key = {**world.captain(a), "Idempotency-Key": "outbox-7"}
    first = await world.client.post(f"{url}/result", json={"winner": a}, headers=key)
    assert first.json()["match"]["status"] == "submitted"
    r = await world.client.post(f"{url}/confirm", json={}, headers=world.captain(b))
    assert r.json()["match"]["status"] == "confirmed", r.text
    rt: Runtime = world.client.app.state.runtime
    position = await rt.store.last_position()

    refused = await world.client.post(f"{url}/result", json={"winner": a}, headers=world.captain(a))
    assert refused.status_code == 409, refused.text
    again = await world.client.post(f"{url}/result", json={"winner": a}, headers=key)
    assert again.status_code == 200
    assert again.json()["match"]["id"] == match["id"]
    assert again.json()["match"]["status"] == "confirmed"
    other = await world.client.post(f"{url}/result", json={"winner": b}, headers=key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert await rt.store.last_position() == position
