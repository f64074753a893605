"""Photos and clips through the API: upload, processing in a job, serving, moderation.

One app for the module (its job worker's CPU process starts once); every test makes its own
tournament.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from beerolympics.app import create_app
from beerolympics.testing import samples
from tests.factories import bearer, eventually, make_settings, new_team, new_tournament

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = make_settings(
        tmp_path_factory.mktemp("media"),
        job_processes=1,
        rate_limit_uploads="1000/minute",
        rate_limit_api="100000/minute",  # the tests poll for the end of processing
        media_max_photo_mb=8,
    )
    async with AsyncTestClient(create_app(settings), timeout=30) as c:
        yield c


async def upload(
    client: AsyncTestClient[Any], tid: str, body: bytes, auth: dict[str, str], **params: str
) -> Any:
    return await client.post(
        f"/api/v1/tournaments/{tid}/media", content=body, headers=auth, params=params
    )


async def settled(
    client: AsyncTestClient[Any], tid: str, media_id: str, auth: dict[str, str]
) -> Any:
    url = f"/api/v1/tournaments/{tid}/media/{media_id}"

    async def done() -> bool:
        return (await client.get(url, headers=auth)).json()["status"] != "processing"

    await eventually(done, within=60)
    return (await client.get(url, headers=auth)).json()


def webp_chunks(data: bytes) -> list[bytes]:
    """The RIFF chunk names of a WebP file."""
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    names, at = [], 12
    while at + 8 <= len(data):
        name, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        names.append(name)
        at += 8 + size + (size & 1)
    return names


async def test_a_photo_is_accepted_at_once_processed_and_served_without_its_metadata(
    client: AsyncTestClient[Any],
) -> None:
    t = await new_tournament(client)
    tid, organizer = t["tournament"]["id"], bearer(t["token"])
    team = await new_team(client, t)
    captain = bearer(team["token"])
    original = samples.photo(2000, 1500, orientation=6)
    assert samples.GPS_BYTES in original
    assert b"BeerPhone" in original
    r = await upload(client, tid, original, captain, subject=f"team:{team['team']['id']}")
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status"] == "processing"
    media = await settled(client, tid, accepted["id"], captain)
    assert media["status"] == "ready"
    assert (media["kind"], media["width"], media["height"]) == ("photo", 1440, 1920)  # upright
    assert media["placeholder"]
    assert media["preview"].startswith("data:image/png;base64,")
    sizes = {name: (v["width"], v["height"]) for name, v in media["variants"].items()}
    assert sizes == {"large": (1440, 1920), "medium": (600, 800), "thumb": (150, 150)}
    for variant in media["variants"].values():
        served = await client.get(variant["url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/webp"
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert served.headers["x-content-type-options"] == "nosniff"
        body = served.content
        # No metadata at all, GPS first: only image data chunks, and none of the EXIF's bytes.
        assert set(webp_chunks(body)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
        for needle in (b"Exif", samples.GPS_BYTES, b"BeerPhone", b"XMP", b"ICCP"):
            assert needle not in body
        again = await client.get(variant["url"], headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304
    large = media["variants"]["large"]["url"]
    part = await client.get(large, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"].startswith("bytes 100-199/")
    assert len(part.content) == 100
    # The original, GPS and all, only for organizers, and only as a download.
    url = f"/api/v1/tournaments/{tid}/media/{media['id']}/original"
    assert (await client.get(url, headers=captain)).status_code == 403
    exported = await client.get(url, headers=organizer)
    assert exported.status_code == 200
    assert exported.content == original
    assert exported.headers["content-disposition"].startswith("attachment")
    key = media["variants"]["large"]["url"].removeprefix("/media/")
    assert (await client.get("/media/" + key.replace("v/", "o/", 1))).status_code == 404
    listed = (await client.get(f"/api/v1/tournaments/{tid}/media")).json()
    assert [m["id"] for m in listed["items"]] == [media["id"]]


async def test_a_repeated_upload_returns_the_first_without_its_bytes(
    client: AsyncTestClient[Any],
) -> None:
    t = await new_tournament(client)
    tid, organizer = t["tournament"]["id"], bearer(t["token"])
    photo = samples.photo(400, 300, seed=3)
    key = {"Idempotency-Key": "sha256-of-the-photo"}
    first = await upload(client, tid, photo, {**organizer, **key})
    again = await upload(client, tid, b"", {**organizer, **key})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert (await client.get(f"/api/v1/tournaments/{tid}/media")).json()["total"] == 1


async def test_who_may_upload(client: AsyncTestClient[Any]) -> None:
    t, other = await new_tournament(client), await new_tournament(client)
    tid, organizer = t["tournament"]["id"], bearer(t["token"])
    photo = samples.photo(320, 240, seed=4)
    r = await upload(client, tid, photo, {})
    assert (r.status_code, r.json()["code"]) == (401, "uploads_need_credential")
    r = await upload(client, tid, photo, bearer(other["token"]))
    assert r.status_code == 403  # a credential of another tournament
    r = await upload(client, tid, photo, organizer, subject="match:gm_nope.W1-1")
    assert r.status_code == 404
    r = await upload(client, tid, photo, organizer, subject="somewhere")
    assert (r.status_code, r.json()["code"]) == (422, "invalid_subject")
    gallery = f"/api/v1/tournaments/{tid}/gallery"
    team = await new_team(client, t)
    r = await client.put(gallery, json={"spectator_uploads": True}, headers=bearer(team["token"]))
    assert r.status_code == 403
    r = await client.put(gallery, json={"spectator_uploads": True}, headers=organizer)
    assert r.json()["spectator_uploads"] is True
    r = await upload(client, tid, photo, {})
    assert r.status_code == 202


async def test_organizers_hide_show_and_delete(client: AsyncTestClient[Any]) -> None:
    t = await new_tournament(client)
    tid, organizer = t["tournament"]["id"], bearer(t["token"])
    team = await new_team(client, t)
    media = await settled(
        client, tid, (await upload(client, tid, samples.png(), organizer)).json()["id"], organizer
    )
    base = f"/api/v1/tournaments/{tid}/media/{media['id']}"
    thumb = media["variants"]["thumb"]["url"]
    assert (await client.post(f"{base}/hide", headers=bearer(team["token"]))).status_code == 403
    assert (await client.post(f"{base}/hide", headers=organizer)).json()["hidden"] is True
    assert (await client.get(f"/api/v1/tournaments/{tid}/media")).json()["total"] == 0
    assert (await client.get(thumb)).status_code == 404
    everything = await client.get(f"/api/v1/tournaments/{tid}/media?all=true", headers=organizer)
    assert everything.json()["total"] == 1
    assert (await client.post(f"{base}/show", headers=organizer)).json()["hidden"] is False
    assert (await client.get(thumb)).status_code == 200
    assert (await client.delete(base, headers=organizer)).status_code == 204
    assert (await client.get(base, headers=organizer)).status_code == 404
    assert (await client.get(thumb)).status_code == 404
    store = client.app.state.runtime.media_store
    key = thumb.removeprefix("/media/")

    async def purged() -> bool:
        return await store.stat(key) is None

    await eventually(purged, within=30)


async def test_a_clip_becomes_an_upright_poster_and_720p_mp4_without_its_location(
    client: AsyncTestClient[Any],
) -> None:
    t = await new_tournament(client)
    tid, organizer = t["tournament"]["id"], bearer(t["token"])
    clip = samples.clip(2, 1280, 960, container="mov", rotation=90)  # held upright
    assert samples.LOCATION.encode() in clip
    r = await upload(client, tid, clip, organizer)
    assert r.status_code == 202, r.text
    media = await settled(client, tid, r.json()["id"], organizer)
    assert media["status"] == "ready", media
    assert media["kind"] == "clip"
    assert media["duration"] == pytest.approx(2.0, abs=0.1)
    video = media["variants"]["video"]
    # Turned upright (as FFmpeg turns it) and fit into 720 × 1280.
    assert (video["width"], video["height"], video["content_type"]) == (720, 960, "video/mp4")
    assert (media["variants"]["large"]["width"], media["variants"]["large"]["height"]) == (720, 960)
    assert {"large", "medium", "thumb"} <= set(media["variants"])
    served = await client.get(video["url"])
    assert served.headers["content-type"] == "video/mp4"
    assert samples.LOCATION.encode() not in served.content
    assert b"BeerPhone" not in served.content
    head = await client.get(video["url"], headers={"Range": "bytes=0-1023"})
    assert head.status_code == 206
    assert head.content == served.content[:1024]
    assert b"ftyp" in head.content[:16]


async def test_an_heic_photo(client: AsyncTestClient[Any]) -> None:
    t = await new_tournament(client)
    tid, organizer = t["tournament"]["id"], bearer(t["token"])
    r = await upload(client, tid, samples.heic(640, 480), organizer)
    media = await settled(client, tid, r.json()["id"], organizer)
    assert (media["status"], media["width"], media["height"]) == ("ready", 640, 480)
    body = (await client.get(media["variants"]["large"]["url"])).content
    assert set(webp_chunks(body)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
    assert b"Exif" not in body


async def test_the_quota_and_the_upload_rate_are_kept(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, media_quota_gb=0.001, rate_limit_uploads="3/minute")
    async with AsyncTestClient(create_app(settings)) as small:
        t = await new_tournament(small)
        tid, organizer = t["tournament"]["id"], bearer(t["token"])
        photo = samples.photo(800, 600, seed=5)
        assert (await upload(small, tid, photo, organizer)).status_code == 202
        refused = await upload(small, tid, photo + b"\0" * 900_000, organizer)
        assert (refused.status_code, refused.json()["code"]) == (409, "media_quota_exceeded")
        assert (await upload(small, tid, photo, organizer)).status_code == 202
        limited = await upload(small, tid, photo, organizer)
        assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
        assert int(limited.headers["retry-after"]) > 0
