"""Games played through the API: the queue calls matches, captains report and confirm,
brackets advance, and the leaderboard adds it all up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.factories import (
    FakeClock,
    api_client,
    bearer,
    eventually,
    make_settings,
    new_team,
    new_tournament,
)

Client = AsyncTestClient[Any]


class World:
    def __init__(self, client: Client, clock: FakeClock) -> None:
        self.client = client
        self.clock = clock
        self.tid = ""
        self.org: dict[str, str] = {}
        self.teams: list[dict[str, Any]] = []

    def url(self, path: str) -> str:
        return f"/api/v1/tournaments/{self.tid}{path}"

    def captain(self, team_id: str) -> dict[str, str]:
        team = next(t for t in self.teams if t["team"]["id"] == team_id)
        return bearer(team["token"])

    async def add_game(self, **body: Any) -> str:
        body.setdefault("name", "Beer Pong")
        r = await self.client.post(self.url("/games"), json=body, headers=self.org)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def start(self, game_id: str, **body: Any) -> None:
        r = await self.client.post(self.url(f"/games/{game_id}/start"), json=body, headers=self.org)
        assert r.status_code == 200, r.text

    async def bracket(self, game_id: str) -> dict[str, Any]:
        r = await self.client.get(self.url(f"/games/{game_id}/bracket"))
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    async def matches(self, **params: Any) -> list[dict[str, Any]]:
        r = await self.client.get(self.url("/matches"), params={"limit": 200, **params})
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    async def match(self, key: str) -> dict[str, Any]:
        r = await self.client.get(self.url(f"/matches/{key}"))
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    async def play(self, key: str, winner_slot: int = 0, score: tuple[int, int] = (10, 4)) -> None:
        """Start, report (by the winner) and confirm (by the loser) a head-to-head match."""
        m = (await self.match(key))["match"]
        teams = [s["team"]["id"] for s in m["slots"]]
        winner, loser = teams[winner_slot], teams[1 - winner_slot]
        r = await self.client.post(self.url(f"/matches/{key}/start"), headers=self.captain(winner))
        assert r.status_code == 200, r.text
        r = await self.client.post(
            self.url(f"/matches/{key}/result"),
            json={"winner": winner, "score": {winner: score[0], loser: score[1]}},
            headers=self.captain(winner),
        )
        assert r.status_code == 200, r.text
        assert r.json()["match"]["status"] == "submitted"
        r = await self.client.post(self.url(f"/matches/{key}/confirm"), headers=self.captain(loser))
        assert r.status_code == 200, r.text
        assert r.json()["match"]["status"] == "confirmed"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    async with api_client(make_settings(tmp_path), clock) as client:
        w = World(client, clock)
        t = await new_tournament(client, name="Games Night", max_teams=32)
        w.tid, w.org = t["tournament"]["id"], bearer(t["token"])
        r = await client.patch(w.url(""), json={"rest_seconds": 0}, headers=w.org)
        assert r.status_code == 200, r.text
        for i in range(4):
            w.teams.append(await new_team(client, t, name=f"Team {i + 1}"))
        yield w


async def test_single_elimination_is_played_to_the_end(world: World) -> None:
    game = await world.add_game(
        format="single_elimination", options={"third_place": True}, stations=["T1", "T2"]
    )
    await world.start(game)
    bracket = await world.bracket(game)
    assert [s["name"] for s in bracket["sections"]] == ["winners", "third_place"]

    async def both_semis_called() -> bool:
        return len(await world.matches(status="called")) == 2

    await eventually(both_semis_called)
    semis = await world.matches(status="called")
    assert {m["station"]["name"] for m in semis} == {"T1", "T2"}
    for semi in semis:
        await world.play(semi["id"])

    async def finals_called() -> bool:
        return len(await world.matches(status="called")) == 2

    await eventually(finals_called)
    for final in await world.matches(status="called"):
        await world.play(final["id"], winner_slot=1)
    bracket = await world.bracket(game)
    assert bracket["status"] == "complete"
    assert [p["place"] for p in bracket["placements"]] == [1, 2, 3, 4]
    board = (await world.client.get(world.url("/leaderboard"))).json()
    assert [row["points"] for row in board["rows"]] == [100, 75, 50, 25]
    assert [row["rank"] for row in board["rows"]] == [1, 2, 3, 4]
    assert board["rows"][0]["first_places"] == 1


async def test_results_wait_for_the_other_side_or_the_deadline(world: World) -> None:
    game = await world.add_game(format="round_robin", stations=["T1"], auto_call=False)
    await world.start(game)
    [first, *_] = await world.matches(status="ready")
    key = first["id"]
    a, b = (s["team"]["id"] for s in first["slots"])
    r = await world.client.post(
        world.url(f"/matches/{key}/result"), json={"winner": a}, headers=world.captain(a)
    )
    assert r.status_code == 409
    assert r.json()["code"] == "match_not_in_progress"
    assert (
        await world.client.post(world.url(f"/matches/{key}/start"), headers=world.captain(b))
    ).status_code == 200
    r = await world.client.post(
        world.url(f"/matches/{key}/result"),
        json={"winner": a, "score": {a: 3, b: 7}},
        headers=world.captain(a),
    )
    assert r.status_code == 422
    assert r.json()["code"] == "score_contradicts_winner"
    r = await world.client.post(
        world.url(f"/matches/{key}/result"), json={"draw": True}, headers=world.captain(a)
    )
    assert r.json()["code"] == "ties_not_allowed"
    outsider = next(t for t in world.teams if t["team"]["id"] not in (a, b))
    r = await world.client.post(
        world.url(f"/matches/{key}/result"), json={"winner": a}, headers=bearer(outsider["token"])
    )
    assert (r.status_code, r.json()["code"]) == (403, "not_in_match")
    r = await world.client.post(
        world.url(f"/matches/{key}/result"), json={"winner": a}, headers=world.captain(a)
    )
    assert r.status_code == 200
    deadline = r.json()["match"]["deadline"]
    assert deadline is not None
    r = await world.client.post(
        world.url(f"/matches/{key}/result"), json={"winner": b}, headers=world.captain(b)
    )
    assert (r.status_code, r.json()["code"]) == (409, "result_pending")
    r = await world.client.post(world.url(f"/matches/{key}/confirm"), headers=world.captain(a))
    assert (r.status_code, r.json()["code"]) == (403, "cannot_confirm_own_result")
    world.clock.advance(301)
    world.client.app.state.runtime.conductor.wake()

    async def confirmed() -> bool:
        return (await world.match(key))["match"]["status"] == "confirmed"

    await eventually(confirmed)
    history = (await world.match(key))["history"]
    assert history[-1]["summary"] == "confirmed automatically after the deadline"


async def test_a_called_match_or_an_officials_report_needs_no_start(world: World) -> None:
    game = await world.add_game(format="round_robin", stations=["T1"], auto_call=False)
    await world.start(game)
    first, second, *_ = await world.matches(status="ready")
    a, b = (s["team"]["id"] for s in first["slots"])
    table = (await world.client.get(world.url(f"/games/{game}"))).json()["stations"][0]["id"]
    r = await world.client.post(
        world.url(f"/matches/{first['id']}/call"), json={"station_id": table}, headers=world.org
    )
    assert r.status_code == 200
    r = await world.client.post(
        world.url(f"/matches/{first['id']}/result"), json={"winner": b}, headers=world.captain(a)
    )
    assert (r.status_code, r.json()["match"]["status"]) == (200, "submitted")
    stations = (await world.client.get(world.url("/stations"))).json()
    assert stations["stations"][0]["now_playing"] is None  # the report frees the table
    # An official records a match nobody called (a paper score sheet): it counts at once.
    winner = second["slots"][1]["team"]["id"]
    r = await world.client.post(
        world.url(f"/matches/{second['id']}/result"), json={"winner": winner}, headers=world.org
    )
    assert (r.status_code, r.json()["match"]["status"]) == (200, "confirmed")
    assert [h["type"] for h in (await world.match(second["id"]))["history"]] == ["ResultConfirmed"]


async def test_dispute_then_organizer_overrides(world: World) -> None:
    game = await world.add_game(format="round_robin", stations=["T1"], auto_call=False)
    await world.start(game)
    key = (await world.matches(status="ready"))[0]["id"]
    m = (await world.match(key))["match"]
    a, b = (s["team"]["id"] for s in m["slots"])
    await world.client.post(world.url(f"/matches/{key}/start"), headers=world.captain(a))
    await world.client.post(
        world.url(f"/matches/{key}/result"), json={"winner": a}, headers=world.captain(a)
    )
    r = await world.client.post(
        world.url(f"/matches/{key}/dispute"),
        json={"reason": "we won 10-8"},
        headers=world.captain(b),
    )
    assert r.json()["match"]["status"] == "disputed"
    r = await world.client.post(
        world.url(f"/matches/{key}/resolution"),
        json={
            "action": "override",
            "reason": "checked the cups",
            "result": {"winner": b, "score": {a: 8, b: 10}},
        },
        headers=world.org,
    )
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["match"]["status"] == "confirmed"
    assert [s["winner"] for s in detail["match"]["slots"]] == [False, True]
    assert [h["type"] for h in detail["history"]] == [
        "MatchStarted",
        "ResultSubmitted",
        "ResultDisputed",
        "ResultOverridden",
    ]


async def test_reopening_resets_unplayed_and_flags_played_dependents(world: World) -> None:
    game = await world.add_game(format="single_elimination", stations=["T1", "T2"], auto_call=False)
    await world.start(game)
    semis = await world.matches(status="ready")
    for semi in semis:
        await world.play(semi["id"])
    [final] = await world.matches(status="ready")
    finalists = {s["team"]["id"] for s in final["slots"]}
    # Call the final, then reopen a semifinal: the final goes back to the queue.
    r = await world.client.post(
        world.url(f"/matches/{final['id']}/call"),
        json={
            "station_id": final["station"]["id"]
            if final["station"]
            else (await world.client.get(world.url(f"/games/{game}"))).json()["stations"][0]["id"]
        },
        headers=world.org,
    )
    assert r.status_code == 200, r.text
    r = await world.client.post(
        world.url(f"/matches/{semis[0]['id']}/reopen"),
        json={"reason": "wrong winner entered"},
        headers=world.org,
    )
    assert r.status_code == 200, r.text
    final_now = await world.match(final["id"])
    assert final_now["match"]["status"] == "pending"
    assert final_now["history"][-1]["type"] == "MatchReset"
    # Correct the semifinal: the final is ready again with the other finalist.
    loser_of_first = [s["team"]["id"] for s in semis[0]["slots"]][1]
    r = await world.client.post(
        world.url(f"/matches/{semis[0]['id']}/override"),
        json={"result": {"winner": loser_of_first}, "reason": "scoresheet"},
        headers=world.org,
    )
    assert r.status_code == 200, r.text
    final_now = await world.match(final["id"])
    assert final_now["match"]["status"] == "ready"
    assert {s["team"]["id"] for s in final_now["match"]["slots"]} != finalists
    # Play the final, then change the other semifinal: the played final is flagged.
    await world.play(final["id"])
    other = semis[1]
    loser = [s["team"]["id"] for s in other["slots"]][1]
    r = await world.client.post(
        world.url(f"/matches/{other['id']}/override"),
        json={"result": {"winner": loser}, "reason": "appeal"},
        headers=world.org,
    )
    assert r.status_code == 200, r.text
    flagged = await world.match(final["id"])
    assert flagged["match"]["status"] == "flagged"
    assert flagged["match"]["flagged"] == f"the result of {other['id'].split('.')[1]} changed"


async def test_withdrawn_team_forfeits_its_matches(world: World) -> None:
    game = await world.add_game(format="round_robin", stations=["T1"], auto_call=False)
    await world.start(game)
    gone = world.teams[0]["team"]["id"]
    r = await world.client.post(
        world.url(f"/teams/{gone}/withdrawal"),
        json={"reason": "went home"},
        headers=world.captain(gone),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"

    async def forfeited() -> bool:
        mine = await world.matches(team_id=gone)
        return all(m["status"] == "confirmed" for m in mine)

    await eventually(forfeited)
    standings = (await world.client.get(world.url(f"/games/{game}/standings"))).json()
    row = next(r for r in standings["tables"][0]["rows"] if r["team"]["id"] == gone)
    assert row["losses"] == 3


async def test_match_commands_check_the_version(world: World) -> None:
    game = await world.add_game(format="round_robin", stations=["T1"], auto_call=False)
    await world.start(game)
    key = (await world.matches(status="ready"))[0]["id"]
    m = await world.client.get(world.url(f"/matches/{key}"))
    etag = m.headers["etag"]
    a = m.json()["match"]["slots"][0]["team"]["id"]
    r = await world.client.post(
        world.url(f"/matches/{key}/start"), headers={**world.captain(a), "If-Match": etag}
    )
    assert r.status_code == 200
    r = await world.client.post(
        world.url(f"/matches/{key}/start"), headers={**world.captain(a), "If-Match": etag}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "version_conflict"
    assert r.json()["current"]["match"]["status"] == "in_progress"


async def test_points_race_records_every_change(world: World) -> None:
    game = await world.add_game(format="single_elimination", auto_call=False)
    await world.start(game)
    for semi in await world.matches(status="ready"):
        await world.play(semi["id"])
    race = (await world.client.get(world.url("/leaderboard/history"))).json()
    assert len(race["teams"]) == 4
    totals = [sum(sample["points"].values()) for sample in race["samples"]]
    assert totals == sorted(totals), "points only grow here"
    positions = [sample["position"] for sample in race["samples"]]
    assert positions == sorted(positions)
    last = race["samples"][-1]["points"]
    board = (await world.client.get(world.url("/leaderboard"))).json()
    assert {row["team"]["id"]: row["points"] for row in board["rows"]} == last
