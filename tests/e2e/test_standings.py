"""Standings mid-game, as a guest sees them: the two teams still racing lead on what they have
secured, a team that has not played has no place, and the leaderboard, the front page, team
pages and the TV say the same — also after a live update, without a reload."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import Api, phone, wait_live


def _heats_half_run(api: Api) -> tuple[dict[str, Any], dict[str, str], str, str]:
    """Twelve teams in two heats of six, one from each goes through: ten are out, two race on;
    a thirteenth team joined after the start."""
    t = api.tournament(max_teams=16)
    tid = t["tournament"]["id"]
    teams = {
        api.team(t, f"Crew {n:02}", f"Cap {n}")["team"]["id"]: f"Crew {n:02}" for n in range(12)
    }
    game = api.game(
        t,
        name="Chug Race",
        format="heats",
        options={"heat_size": 6, "rounds": 2, "advance_per_heat": 1},
        heat_scoring="lower",
        auto_call=False,
    )
    api.start_game(t, game["id"])
    for heat in api.matches(tid, game_id=game["id"]):
        ids = [s["team"]["id"] for s in heat["slots"]]
        api.call(
            "POST",
            f"/tournaments/{tid}/matches/{heat['id']}/result",
            t["token"],
            {"values": {team: 10.0 + i for i, team in enumerate(ids)}},
        )
    late = api.team(t, "Late Larks", "Lou")["team"]["id"]
    final = next(
        m for m in api.matches(tid, game_id=game["id"]) if m["round"] == 2 and m["slots"][0]["team"]
    )
    return t, teams, late, final["id"]


def _rows(page: Any, selector: str) -> list[str]:
    texts: list[str] = page.locator(f"{selector} tbody tr").all_inner_texts()
    return [re.sub(r"\s+", " ", text).strip() for text in texts]


def test_standings_mid_game_agree_everywhere_and_follow_live(
    browser: Any, server: Server, api: Api
) -> None:
    t, teams, late, final = _heats_half_run(api)
    tid = t["tournament"]["id"]
    board_rows = api.leaderboard(tid)["rows"]
    racing = [r["team"]["name"] for r in board_rows[:2]]
    assert [(r["rank"], r["points"], r["max_points"]) for r in board_rows[:2]] == [
        (1, 75.0, 100.0),
        (1, 75.0, 100.0),
    ]
    assert board_rows[-1]["team"]["id"] == late
    assert board_rows[-1]["rank"] is None

    guest = phone(browser, server.url)
    tv = phone(browser, server.url, viewport={"width": 1920, "height": 1080})
    try:
        board = guest.new_page()
        board.goto(f"/t/{tid}/leaderboard")
        rows = _rows(board, "#board")
        assert [row.split(" ")[0] for row in rows[:3]] == ["1", "1", "3"]
        for name, row in zip(racing, rows[:2], strict=True):
            assert name in row
            assert "75" in row
            assert "→100" in row
        assert rows[-1].startswith("–")
        assert "Late Larks" in rows[-1]
        expect(board.locator("[data-board-legend]")).to_be_visible()
        # The points race fits the phone, its times said once each.
        race = board.locator("svg.race-phone")
        expect(race).to_be_visible()
        box = race.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 390
        labels = race.locator(".axis text").all_text_contents()
        times = [x for x in labels if ":" in x]
        assert times
        assert len(times) == len(set(times))

        home = guest.new_page()
        home.goto(f"/t/{tid}")
        assert _rows(home, "#leaders") == rows[:5]

        team = guest.new_page()
        racer = next(i for i, name in teams.items() if name == racing[0])
        team.goto(f"/t/{tid}/teams/{racer}")
        expect(team.locator("[data-standing]")).to_have_text(
            "Joint 1st place · 75 points so far, up to 100 still possible"
        )
        team.goto(f"/t/{tid}/teams/{late}")
        expect(team.locator("[data-standing]")).to_contain_text("Not ranked yet")

        screen = tv.new_page()
        screen.goto(f"/t/{tid}/tv?slide=leaderboard")
        assert _rows(screen, "#tv-leaders") == rows[:10]

        # The final is run: the page and the TV follow live, and show what a reload shows.
        for page in (board, screen):
            wait_live(page)
            page.evaluate("() => { window.__noReload = true; }")
        ids = [s["team"]["id"] for s in api.match(tid, final)["match"]["slots"]]
        api.call(
            "POST",
            f"/tournaments/{tid}/matches/{final}/result",
            t["token"],
            {"values": {ids[0]: 9.5, ids[1]: 11.0}},
        )
        winner = teams[ids[0]]
        expect(board.locator("#board tbody tr").first).to_contain_text(winner)
        expect(board.locator("#board tbody tr").first.locator(".pts")).to_have_text("100")
        expect(screen.locator("#tv-leaders tbody tr").first.locator(".pts")).to_have_text("100")
        expect(board.locator("[data-board-legend]")).to_be_hidden()
        live_rows, live_tv = _rows(board, "#board"), _rows(screen, "#tv-leaders")
        assert board.evaluate("() => window.__noReload") is True
        assert screen.evaluate("() => window.__noReload") is True
        board.reload()
        screen.reload()
        assert _rows(board, "#board") == live_rows
        assert _rows(screen, "#tv-leaders") == live_tv
    finally:
        guest.close()
        tv.close()
