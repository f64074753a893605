from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.factories import bearer, new_team, new_tournament

Client = AsyncTestClient[Any]


async def test_register_team_makes_the_caller_captain(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    response = await client.post(
        f"/api/v1/tournaments/{tid}/teams",
        json={
            "join_code": t["join_code"].lower(),
            "name": "Hop Stars",
            "colour": "#e4572e",
            "flag": "🇮🇪",
            "motto": "Foam is where the heart is",
            "captain_name": "Aoife",
        },
    )
    assert response.status_code == 201
    body = response.json()
    team = body["team"]
    assert team["name"] == "Hop Stars"
    assert team["colour"] == "#E4572E"
    assert team["captain_id"] == body["member_id"]
    assert team["members"][0]["name"] == "Aoife"
    assert team["members"][0]["captain"] is True
    assert len(body["invite_code"]) == 6
    assert f"bo_{tid}=" in response.headers["set-cookie"]
    me = await client.get(f"/api/v1/tournaments/{tid}/me", headers=bearer(body["token"]))
    assert me.json()["role"] == "captain"
    assert me.json()["team_id"] == team["id"]


async def test_join_with_invite_code_and_one_roster(client: Client) -> None:
    t = await new_tournament(client, max_team_size=3)
    tid = t["tournament"]["id"]
    team = await new_team(client, t)
    invite = team["invite_code"]
    joined = await client.post(
        f"/api/v1/tournaments/{tid}/members", json={"invite_code": invite.lower(), "name": "Niamh"}
    )
    assert joined.status_code == 201
    player = joined.json()
    assert player["team"]["id"] == team["team"]["id"]
    me = await client.get(f"/api/v1/tournaments/{tid}/me", headers=bearer(player["token"]))
    assert me.json()["role"] == "player"
    client.cookies.clear()
    third = await client.post(
        f"/api/v1/tournaments/{tid}/members", json={"invite_code": invite, "name": "Ciarán"}
    )
    assert third.status_code == 201
    client.cookies.clear()
    full = await client.post(
        f"/api/v1/tournaments/{tid}/members", json={"invite_code": invite, "name": "Late"}
    )
    assert full.status_code == 409
    assert full.json()["code"] == "team_full"
    roster = (await client.get(f"/api/v1/tournaments/{tid}/teams/{team['team']['id']}")).json()
    assert [m["name"] for m in roster["members"]] == [
        team["team"]["members"][0]["name"],
        "Niamh",
        "Ciarán",
    ]


async def test_a_device_in_a_team_cannot_join_another(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    a = await new_team(client, t)
    b = await new_team(client, t)
    r = await client.post(
        f"/api/v1/tournaments/{tid}/members",
        json={"invite_code": b["invite_code"], "name": "Switcher"},
        headers=bearer(a["token"]),
    )
    assert r.status_code == 409
    assert r.json()["code"] == "already_joined"


async def test_team_names_are_unique_ignoring_case_and_blanks(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    await new_team(client, t, name="Hop Stars")
    r = await client.post(
        f"/api/v1/tournaments/{tid}/teams",
        json={
            "join_code": t["join_code"],
            "name": "  hop   STARS ",
            "colour": "#000000",
            "captain_name": "X",
        },
    )
    assert r.status_code == 409
    assert r.json()["code"] == "team_name_taken"


async def test_closed_and_full_tournaments_refuse_teams(client: Client) -> None:
    t = await new_tournament(client, max_teams=2)
    tid, auth = t["tournament"]["id"], bearer(t["token"])
    await new_team(client, t)
    await new_team(client, t)
    r = await client.post(
        f"/api/v1/tournaments/{tid}/teams",
        json={
            "join_code": t["join_code"],
            "name": "Third",
            "colour": "#000000",
            "captain_name": "X",
        },
    )
    assert r.status_code == 409
    assert r.json()["code"] == "tournament_full"
    await client.patch(f"/api/v1/tournaments/{tid}", json={"max_teams": 3}, headers=auth)
    await client.post(f"/api/v1/tournaments/{tid}/registration", json={"open": False}, headers=auth)
    r = await client.post(
        f"/api/v1/tournaments/{tid}/teams",
        json={
            "join_code": t["join_code"],
            "name": "Third",
            "colour": "#000000",
            "captain_name": "X",
        },
    )
    assert r.status_code == 409
    assert r.json()["code"] == "registration_closed"
    # The organizer can still add a late team, without the join code, and keeps their cookie.
    r = await client.post(
        f"/api/v1/tournaments/{tid}/teams",
        json={"name": "Third", "colour": "#000000", "captain_name": "X"},
        headers=auth,
    )
    assert r.status_code == 201
    assert "set-cookie" not in r.headers


async def test_invite_code_of_another_tournament_is_refused(client: Client) -> None:
    a = await new_tournament(client)
    b = await new_tournament(client)
    team_a = await new_team(client, a)
    r = await client.post(
        f"/api/v1/tournaments/{b['tournament']['id']}/members",
        json={"invite_code": team_a["invite_code"], "name": "Sneaky"},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "invalid_invite_code"
    r = await client.post(
        f"/api/v1/tournaments/{b['tournament']['id']}/teams",
        json={
            "join_code": a["join_code"],
            "name": "Sneaky",
            "colour": "#000000",
            "captain_name": "S",
        },
    )
    assert r.status_code == 403
    assert r.json()["code"] == "invalid_join_code"


async def test_captain_edits_team_and_hands_over(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    team = await new_team(client, t, name="Old Name")
    team_id, captain = team["team"]["id"], bearer(team["token"])
    mate = (
        await client.post(
            f"/api/v1/tournaments/{tid}/members",
            json={"invite_code": team["invite_code"], "name": "Mate"},
        )
    ).json()
    client.cookies.clear()
    r = await client.patch(
        f"/api/v1/tournaments/{tid}/teams/{team_id}",
        json={"name": "New Name", "motto": "Onwards"},
        headers=captain,
    )
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["motto"]) == ("New Name", "Onwards")
    # A player may not edit or appoint.
    r = await client.patch(
        f"/api/v1/tournaments/{tid}/teams/{team_id}",
        json={"motto": "x"},
        headers=bearer(mate["token"]),
    )
    assert r.status_code == 403
    # The captain cannot leave before handing over.
    r = await client.delete(
        f"/api/v1/tournaments/{tid}/teams/{team_id}/members/{team['member_id']}", headers=captain
    )
    assert r.status_code == 409
    assert r.json()["code"] == "captain_must_transfer"
    r = await client.post(
        f"/api/v1/tournaments/{tid}/teams/{team_id}/captain",
        json={"member_id": mate["member_id"]},
        headers=captain,
    )
    assert r.json()["captain_id"] == mate["member_id"]
    me = await client.get(f"/api/v1/tournaments/{tid}/me", headers=bearer(mate["token"]))
    assert me.json()["role"] == "captain"
    me = await client.get(f"/api/v1/tournaments/{tid}/me", headers=captain)
    assert me.json()["role"] == "player"


async def test_removed_member_loses_access(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    team = await new_team(client, t)
    team_id = team["team"]["id"]
    mate = (
        await client.post(
            f"/api/v1/tournaments/{tid}/members",
            json={"invite_code": team["invite_code"], "name": "Mate"},
        )
    ).json()
    client.cookies.clear()
    r = await client.delete(
        f"/api/v1/tournaments/{tid}/teams/{team_id}/members/{mate['member_id']}",
        headers=bearer(team["token"]),
    )
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["members"]] == [team["member_id"]]
    r = await client.get(f"/api/v1/tournaments/{tid}/me", headers=bearer(mate["token"]))
    assert r.status_code == 401


async def test_team_list_pages_in_registration_order(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    names = [f"Squad {i}" for i in range(7)]
    for name in names:
        await new_team(client, t, name=name)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(f"/api/v1/tournaments/{tid}/teams", params=params)).json()
        assert page["total"] == 7
        seen += [team["name"] for team in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names
    filtered = (
        await client.get(f"/api/v1/tournaments/{tid}/teams", params={"q": "SQUAD 3"})
    ).json()
    assert [team["name"] for team in filtered["items"]] == ["Squad 3"]
