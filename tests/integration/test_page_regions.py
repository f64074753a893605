"""Pages answer a refresh with the regions that changed, in-process: a result re-sends its
table's card, not the board; nothing changed is a 204; a header that is not ours (another
build, garbage) gets the page whole, never an error; pages are rendered once per version."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
import zstandard

from tests.integration.test_pages_read import Client, _ids, _party, client

__all__ = ["client"]


def _held(html: str) -> str:
    build = re.search(r'data-build="([^"]+)"', html)
    assert build is not None
    tops = re.findall(r'<[a-z0-9]+ [^>]*\bid="([^"]+)" data-v="([^"]+)"', html)
    assert tops
    return " ".join([build[1], *(f"{rid}={v}" for rid, v in tops)])


async def _game(client: Client) -> Any:
    p = await _party(client)
    await client.patch(p.api(""), json={"rest_seconds": 0}, headers=p.org)
    game = await p.post(
        "/games",
        {"name": "Cornhole", "format": "round_robin", "stations": ["Board 1", "Board 2"]},
    )
    await p.post(f"/games/{game['id']}/start")
    return p, game


@pytest.mark.parametrize("path", ["", "/schedule", "/tv", "/leaderboard", "/games/{game}"])
async def test_a_result_sends_the_regions_it_changed_and_nothing_else(
    client: Client, path: str
) -> None:
    p, game = await _game(client)
    url = f"/t/{p.tid}{path.format(game=game['id'])}"
    page = await client.get(url)
    held = _held(page.text)
    same = await client.get(url, headers={"X-Regions": held})
    assert same.status_code == 204
    assert "no-store" in same.headers["cache-control"]
    assert "X-Regions" in same.headers["vary"]

    called = await p.matches(game_id=game["id"], status="called")
    await p.post(f"/matches/{called[0]['id']}/result", {"winner": _ids(called[0])[0]})

    changed = await client.get(url, headers={"X-Regions": held})
    whole = await client.get(url)
    if _held(whole.text) == held:  # nothing this page shows changed
        assert changed.status_code == 204
        return
    assert changed.status_code == 200, changed.text
    assert changed.headers["content-type"].startswith("application/json")
    assert "no-store" in changed.headers["cache-control"]
    answer = json.loads(changed.content)
    assert answer
    assert len(changed.content) < len(page.content) / 2
    for top, (version, patches) in answer.items():
        assert f'id="{top}" data-v="{version}"' in whole.text
        for rid, body, *inner in patches:
            assert f'id="{rid}"' in whole.text
            if isinstance(body, str) and not inner:
                assert body.startswith("<")
                assert f'id="{rid}"' in body
            elif isinstance(body, str):  # only what is inside the region
                assert body in whole.text or "data-keep" in body
            else:  # runs of the regions in it
                assert all(isinstance(x, str) or len(x) == 2 for x in body)


async def test_a_station_card_is_sent_alone(client: Client) -> None:
    p, game = await _game(client)
    url = f"/t/{p.tid}"
    held = _held((await client.get(url)).text)
    stations = [
        b["station"]["id"] for b in (await client.get(p.api("/stations"))).json()["stations"]
    ]
    called = await p.matches(game_id=game["id"], status="called")
    await p.post(f"/matches/{called[0]['id']}/result", {"winner": _ids(called[0])[0]})
    answer = (await client.get(url, headers={"X-Regions": held})).json()
    _, patches = answer["stations"]
    # Tables are told their next matches (moved from table to table) in runs; what is sent as
    # markup is the table where the result was (its match now) and a match new to the board.
    assert {rid for rid, *_ in patches} <= {f"st-{i + 1}" for i in range(len(stations))}
    markup = [
        x
        for _, body, *_ in patches
        for x in (body if isinstance(body, list) else [body])
        if isinstance(x, str) and x.startswith(("<", "\n"))
    ]
    assert 1 <= len(markup) <= 2
    assert {"news", "photos"}.isdisjoint(answer)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "nope stations=abc",
        "{build} stations",
        "{build} stations=<script>",
        "{build} " + "x=y " * 2000,
        "{build} stations=AAAAAAAA leaders=- games=zzzzzzzz nothing=AAAAAAAA",
        "{build} =",
        "{build} stations==",
        "{build} st\u00e9=AAAAAAAA",
    ],
)
async def test_a_header_that_is_not_ours_still_gets_a_right_answer(
    client: Client, header: str
) -> None:
    p, _ = await _game(client)
    url = f"/t/{p.tid}"
    html = (await client.get(url)).text
    build = re.search(r'data-build="([^"]+)"', html)
    assert build is not None
    sent = header.format(build=build[1]).encode()  # not only ASCII, as a client may send
    response = await client.get(url, headers={b"X-Regions": sent})
    assert response.status_code in (200, 204), response.text
    if response.headers.get("content-type", "").startswith("text/html"):
        assert 'data-region="stations"' in response.text
    elif response.status_code == 200:
        answer = response.json()
        # Unknown versions: the regions come whole; a region kept by the page is never sent.
        assert "leaders" not in answer
        assert answer["stations"][1][0][0] == "stations"


async def test_a_page_is_rendered_once_per_version(client: Client) -> None:
    p, _ = await _game(client)
    url = f"/t/{p.tid}/schedule"
    first = await client.get(url)
    regions = client.app.state.pages.regions
    key = ("testserver.local", f"/t/{p.tid}/schedule", "", first.headers["etag"])
    kept = regions.page(key)
    assert kept is not None
    again = await client.get(url)
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert regions.page(key) is kept


async def test_a_refresh_comes_compressed_against_the_page_it_links_as_its_dictionary(
    client: Client,
) -> None:
    p, game = await _game(client)
    url = f"/t/{p.tid}"
    page = await client.get(url)
    link = re.fullmatch(
        r'<(/dictionaries/[0-9a-f]{64})\?page=([^>]+)>; rel="compression-dictionary"',
        page.headers["link"],
    )
    assert link is not None
    assert link[2] == url  # (a proxy may send a page and its dictionary to one instance)
    held = _held(page.text)
    dictionary = await client.get(link[1])
    assert dictionary.status_code == 200
    assert dictionary.headers["use-as-dictionary"] == f'match="{url}", match-dest=("")'
    assert "immutable" in dictionary.headers["cache-control"]
    data = dictionary.content
    # The page's markup as a JSON string spells it (the answers' markup is JSON-escaped).
    assert json.loads(data) == page.text
    digest = hashlib.sha256(data).digest()
    assert link[1].endswith(digest.hex())

    called = await p.matches(game_id=game["id"], status="called")
    await p.post(f"/matches/{called[0]['id']}/result", {"winner": _ids(called[0])[0]})
    holds = {
        "X-Regions": held,
        "Available-Dictionary": f":{base64.b64encode(digest).decode()}:",
        "Accept-Encoding": "gzip, br, zstd, dcz",
    }
    plain = await client.get(url, headers={"X-Regions": held, "Accept-Encoding": "gzip, br"})
    assert plain.headers["content-encoding"] == "br"
    packed = await client.get(url, headers=holds)
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "dcz"
    assert "Available-Dictionary" in packed.headers["vary"]
    body = packed.content  # (the client knows no dcz: the bytes as sent)
    assert body[:8] == bytes.fromhex("5e2a4d1820000000")
    assert body[8:40] == digest
    prefix = zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    answer = zstandard.ZstdDecompressor(dict_data=prefix).decompress(body[40:])
    assert json.loads(answer) == plain.json()
    assert len(body) < int(plain.headers["content-length"]) * 0.8
    # Nothing changed since: 204, nothing to compress.
    current = _held((await client.get(url)).text)
    same = await client.get(url, headers={**holds, "X-Regions": current})
    assert same.status_code == 204
    assert "content-encoding" not in same.headers

    # A dictionary this instance does not hold: brotli, as before.
    unknown = f":{base64.b64encode(hashlib.sha256(b'elsewhere').digest()).decode()}:"
    other = await client.get(url, headers={**holds, "Available-Dictionary": unknown})
    assert other.headers["content-encoding"] == "br"
    assert other.json() == plain.json()
    # A page of another build gets itself whole, compressed as pages are.
    whole = await client.get(url, headers={**holds, "X-Regions": "0ld " + held.partition(" ")[2]})
    assert whole.headers["content-type"].startswith("text/html")
    assert whole.headers["content-encoding"] == "br"
    assert whole.text == (await client.get(url)).text
    missing = await client.get("/dictionaries/" + "0" * 64)
    assert missing.status_code == 404
    # The leaderboard redraws itself from the live patches and seldom asks: it links none.
    assert "link" not in (await client.get(f"{url}/leaderboard")).headers
