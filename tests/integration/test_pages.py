"""The pages, in-process: every page renders, reads without JavaScript, escapes what people
type, carries no inline script under a strict CSP, and the match page stays small."""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from beerolympics.demo import DEMO_SLUG
from beerolympics.web.pages.assets import StaticAssets
from tests.factories import api_client, bearer, make_settings, new_team, new_tournament

Client = AsyncTestClient[Any]
EVIL = "<img src=x onerror=alert(1)>"
EVIL_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
STATIC = Path(__file__).parents[2] / "src" / "beerolympics" / "web" / "static"


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Client]:
    async with api_client(make_settings(tmp_path, demo=True)) as client:
        yield client


async def page(client: Client, path: str, status: int = 200, **kwargs: Any) -> str:
    response = await client.get(path, **kwargs)
    assert response.status_code == status, f"{path}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("text/html")
    return response.text


class _Tags(HTMLParser):
    """Every element's name and attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_no_inline_script(html: str, path: str) -> None:
    """Scripts come from files; data blocks are JSON; no handler or style attributes."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        if tag == "script":
            assert "src" in attrs or attrs.get("type") == "application/json", f"{path}: {attrs}"
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"{path}: <{tag}> has {handlers}"
        assert "style" not in attrs, f"{path}: <{tag}> has a style attribute (the CSP forbids it)"


async def demo_paths(client: Client) -> list[str]:
    api = f"/api/v1/tournaments/{DEMO_SLUG}"
    games = (await client.get(f"{api}/games")).json()["items"]
    teams = (await client.get(f"{api}/teams")).json()["items"]
    matches = (await client.get(f"{api}/matches?limit=200")).json()["items"]
    one_per_status = {m["status"]: m["id"] for m in matches}
    base = f"/t/{DEMO_SLUG}"
    return [
        "/",
        "/new",
        "/join",
        "/offline",
        base,
        f"{base}/schedule",
        f"{base}/leaderboard",
        f"{base}/leaderboard?game={games[0]['id']}",
        f"{base}/teams",
        f"{base}/tv",
        f"{base}/recap",
        f"{base}/reel",
        f"{base}/join",
        f"{base}/signin",
        f"{base}/me",
        f"{base}/admin",
        f"{base}/teams/{teams[0]['id']}",
        *(f"{base}/games/{g['id']}" for g in games),
        *(f"{base}/matches/{m}" for m in one_per_status.values()),
    ]


async def test_every_page_renders_with_a_strict_policy_and_no_inline_script(
    demo: Client,
) -> None:
    for path in await demo_paths(demo):
        response = await demo.get(path)
        assert response.status_code == 200, f"{path}: {response.text[:300]}"
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp, path
        assert "unsafe" not in csp, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert_no_inline_script(response.text, path)
        assert '<html lang="en">' in response.text
        assert 'name="viewport"' in response.text


async def test_pages_read_without_javascript(demo: Client) -> None:
    """What a page is for is in its HTML; buttons that need scripts say so."""
    base = f"/t/{DEMO_SLUG}"
    board = (await demo.get(f"/api/v1/tournaments/{DEMO_SLUG}/leaderboard")).json()
    html = await page(demo, f"{base}/leaderboard")
    for row in board["rows"]:
        assert row["team"]["name"] in html
    assert "<polyline" in html  # the points race is drawn on the server

    stations = (await demo.get(f"/api/v1/tournaments/{DEMO_SLUG}/stations")).json()
    html = await page(demo, f"{base}/schedule")
    for board_ in stations["stations"]:
        assert board_["station"]["name"] in html
    matches = (await demo.get(f"/api/v1/tournaments/{DEMO_SLUG}/matches?limit=200")).json()
    playing = next(m for m in matches["items"] if m["status"] in ("ready", "called"))
    html = await page(demo, f"{base}/matches/{playing['id']}")
    for slot in playing["slots"]:
        assert slot["team"]["name"] in html
    assert "Reporting needs JavaScript" in html

    html = await page(demo, f"{base}/tv")
    assert 'http-equiv="refresh"' in html  # inside <noscript>: a TV without scripts reloads
    assert "Leaderboard" in html
    assert "Now playing" in html
    assert "Points race" in html


async def test_every_user_supplied_text_is_escaped(client: Client) -> None:
    t = await new_tournament(client, name=f"Cup {EVIL}"[:60], venue=EVIL)
    tid, org = t["tournament"]["id"], bearer(t["token"])
    evil = await new_team(
        client, t, name=EVIL, captain_name='"><svg onload=alert(1)>', motto="</script><script>x"
    )
    await new_team(client, t, name="Plain Team")
    game = await client.post(
        f"/api/v1/tournaments/{tid}/games",
        json={"name": f"Pong {EVIL}"[:60], "format": "round_robin", "stations": [EVIL[:40]]},
        headers=org,
    )
    assert game.status_code == 201, game.text
    game_id = game.json()["id"]
    await client.post(f"/api/v1/tournaments/{tid}/games/{game_id}/start", json={}, headers=org)
    await client.post(
        f"/api/v1/tournaments/{tid}/announcements", json={"message": EVIL}, headers=org
    )
    await client.post(
        f"/api/v1/tournaments/{tid}/bonuses", json={"name": EVIL, "points": 5}, headers=org
    )
    match = (await client.get(f"/api/v1/tournaments/{tid}/matches")).json()["items"][0]
    base = f"/t/{tid}"
    paths = [
        base,
        f"{base}/schedule",
        f"{base}/leaderboard",
        f"{base}/teams",
        f"{base}/tv",
        f"{base}/recap",
        f"{base}/reel",
        f"{base}/games/{game_id}",
        f"{base}/matches/{match['id']}",
        f"{base}/teams/{evil['team']['id']}",
        "/",
    ]
    for path in paths:
        html = await page(client, path)
        assert "<img src=x" not in html, path
        assert "<svg onload" not in html, path
        assert "</script><script>x" not in html, path
        assert EVIL_ESCAPED in html or "&lt;img src=x" in html, path
        assert_no_inline_script(html, path)
    admin = await page(client, f"{base}/admin", headers=org)
    assert "<img src=x" not in admin
    assert EVIL_ESCAPED in admin


async def test_the_match_page_scripts_and_styles_stay_under_100_kb(demo: Client) -> None:
    """Everything the match page loads (its module graph and the stylesheet), as served
    (gzip), is far below the 100 KB budget; even uncompressed it fits."""
    html = await page(demo, f"/t/{DEMO_SLUG}/schedule")
    match_path = re.search(r'href="(/t/[^"]+/matches/[^"]+)"', html)
    assert match_path is not None
    html = await page(demo, match_path.group(1))
    css = re.search(r'href="(/static/([0-9a-f]+)/css/app\.css)"', html)
    assert css is not None
    assert f'src="/static/{css.group(2)}/js/app.js"' in html
    names = {"css/app.css"} | module_graph(["js/app.js", "js/pages/match.js"])
    transferred = raw = 0
    for name in sorted(names):
        response = await demo.get(
            f"/static/{css.group(2)}/{name}", headers={"Accept-Encoding": "gzip"}
        )
        assert response.status_code == 200, name
        assert response.headers.get("content-encoding") == "gzip", name
        raw += len(response.content)
        transferred += response.num_bytes_downloaded
    assert raw < 100_000, f"{raw} bytes uncompressed"
    assert transferred < 100_000, f"{transferred} bytes transferred"


def module_graph(entries: list[str]) -> set[str]:
    """The ES modules reachable from ``entries`` by static and literal dynamic imports."""
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = (STATIC / name).read_text()
        for spec in re.findall(r'(?:from|import)\s*\(?\s*"(\.{1,2}/[^"]+\.js)"', source):
            folder = Path(name).parent
            todo.append((STATIC / folder / spec).resolve().relative_to(STATIC.resolve()).as_posix())
    return seen


async def test_static_files_are_versioned_and_immutable(demo: Client) -> None:
    html = await page(demo, "/")
    css = re.search(r'href="(/static/[0-9a-f]+/css/app\.css)"', html)
    assert css is not None
    response = await demo.get(css.group(1), headers={"Accept-Encoding": "gzip"})
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["content-type"].startswith("text/css")
    stale = await demo.get("/static/000000000000/css/app.css")
    assert stale.status_code == 200
    assert stale.headers["cache-control"] == "no-cache"
    assert (await demo.get(css.group(1).replace("app.css", "nope.css"))).status_code == 404

    worker = await demo.get("/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    assert "__BUILD__" not in worker.text
    assert "__PRECACHE__" not in worker.text
    assert css.group(1) in worker.text  # pre-cached by the service worker
    assert StaticAssets().build in worker.text  # the worker changes with every build


async def test_the_app_is_installable(demo: Client) -> None:
    manifest = (await demo.get("/manifest.webmanifest")).json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    sizes = {}
    for icon in manifest["icons"]:
        response = await demo.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            width, height = struct.unpack(">II", response.content[16:24])
            assert icon["sizes"] == f"{width}x{height}"
            sizes[icon["purpose"]] = max(sizes.get(icon["purpose"], 0), width)
    assert sizes == {"any": 512, "maskable": 512}


async def test_join_by_code_works_without_javascript(demo: Client) -> None:
    code = (await demo.get(f"/api/v1/tournaments/{DEMO_SLUG}/teams")).json()  # public
    assert code["total"] == 12
    html = await page(demo, "/join?code=ZZZZZZ", status=404)
    assert "We don't know the code" in html
    # The demo's join code is only known to members; take it from the read model.
    runtime = demo.app.state.runtime
    join_code = runtime.catalog.get(DEMO_SLUG).join_code
    response = await demo.get(f"/join?code={join_code.lower()}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{DEMO_SLUG}/join?code={join_code}"
    response = await demo.get(f"/join/{join_code}", follow_redirects=False)
    assert response.status_code == 303


async def test_qr_codes_and_exports_are_for_those_allowed(client: Client) -> None:
    t = await new_tournament(client)
    tid, org = t["tournament"]["id"], bearer(t["token"])
    team = await new_team(client, t, name="=HYPERLINK(1)")
    other = await new_team(client, t)
    follow = await client.get(f"/t/{tid}/qr/follow.svg")
    assert follow.status_code == 200
    assert follow.text.startswith("<svg")
    assert (await client.get(f"/t/{tid}/qr/join.svg")).status_code == 401
    joined = await client.get(f"/t/{tid}/qr/join.svg", headers=org)
    assert joined.status_code == 200
    assert "image/svg+xml" in joined.headers["content-type"]
    mine = await client.get(f"/t/{tid}/qr/team/{team['team']['id']}", headers=bearer(team["token"]))
    assert mine.status_code == 200
    theirs = await client.get(
        f"/t/{tid}/qr/team/{team['team']['id']}", headers=bearer(other["token"])
    )
    assert theirs.status_code == 404

    assert (await client.get(f"/t/{tid}/admin/results.csv")).status_code == 401
    csv = await client.get(f"/t/{tid}/admin/results.csv", headers=org)
    assert csv.status_code == 200
    assert "attachment" in csv.headers["content-disposition"]
    assert "'=HYPERLINK(1)" in csv.text  # a spreadsheet shows it, never runs it
    export = await client.get(f"/t/{tid}/admin/export.json", headers=org)
    assert msgspec.json.decode(export.content)["tournament"]["id"] == tid


async def test_signing_in_with_a_link_keeps_the_credential_as_a_cookie(client: Client) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    html = await page(client, f"/t/{tid}/admin")
    assert "Sign in first" in html or "Organizer sign-in" in html
    response = await client.post(
        f"/t/{tid}/signin", data={"token": t["token"]}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{tid}/admin"
    assert f"bo_{tid}" in response.headers["set-cookie"]
    assert "Control room" in await page(client, f"/t/{tid}/admin")
    client.cookies.clear()
    refused = await client.post(f"/t/{tid}/signin", data={"token": "forged"})
    assert refused.status_code == 401
    assert "doesn't work" in refused.text
    cross = await client.post(
        f"/t/{tid}/signin", data={"token": t["token"]}, headers={"Origin": "https://evil.test"}
    )
    assert cross.status_code == 403


async def test_pages_revalidate_cheaply_and_change_when_the_tournament_does(
    client: Client,
) -> None:
    t = await new_tournament(client)
    tid = t["tournament"]["id"]
    first = await client.get(f"/t/{tid}/leaderboard")
    tag = first.headers["etag"]
    again = await client.get(f"/t/{tid}/leaderboard", headers={"If-None-Match": tag})
    assert again.status_code == 304
    await new_team(client, t, name="Late Arrivals")
    after = await client.get(f"/t/{tid}/leaderboard", headers={"If-None-Match": tag})
    assert after.status_code == 200
    assert "Late Arrivals" in after.text


async def test_refusals_are_pages_too(client: Client) -> None:
    html = await page(client, "/t/no-such-cup", status=404)
    assert "Can&#39;t find that" in html
    assert "tournament_not_found" in html
    t = await new_tournament(client)
    html = await page(client, f"/t/{t['tournament']['id']}/matches/gm_x.W1-1", status=404)
    assert "match_not_found" in html
    assert (
        (await client.get("/api/v1/tournaments/no-such-cup"))
        .headers["content-type"]
        .startswith("application/problem+json")
    )  # the API keeps its one error shape
