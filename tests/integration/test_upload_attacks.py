"""The upload attack corpus against a real server: each one refused cleanly, the server healthy
after each, and the one honest photo in it stripped of its GPS position."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from beerolympics.testing import samples
from tests.servers import ServeProcess


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    env = {
        "BEEROLYMPICS_MEDIA_MAX_PHOTO_MB": "3",
        "BEEROLYMPICS_RATE_LIMIT_UPLOADS": "100/minute",
        "BEEROLYMPICS_RATE_LIMIT_API": "100000/minute",  # the tests poll for results
    }
    with ServeProcess(tmp_path_factory.mktemp("attacks"), env=env) as server:
        created = httpx.post(f"{server.url}/api/v1/tournaments", json={"name": "Attack Cup"})
        body = created.json()
        yield {
            "url": server.url,
            "port": server.port,
            "media": f"{server.url}/api/v1/tournaments/{body['tournament']['id']}/media",
            "auth": {"Authorization": f"Bearer {body['token']}"},
        }


def healthy(served: dict[str, Any]) -> None:
    assert httpx.get(f"{served['url']}/readyz").status_code == 200


def outcome(served: dict[str, Any], media_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found: dict[str, Any] = httpx.get(
            f"{served['media']}/{media_id}", headers=served["auth"]
        ).json()
        if found["status"] != "processing":
            return found
        time.sleep(0.05)
    raise AssertionError("still processing")


REFUSED_AT_ONCE: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "zero bytes": (lambda: b"", 422, "empty_upload"),
    "HTML saved as .jpg": (samples.html_as_jpeg, 415, "unsupported_media_type"),
    "SVG with a script": (samples.svg_with_script, 415, "unsupported_media_type"),
}
REFUSED_BY_ITS_JOB: dict[str, tuple[Callable[[], bytes], str]] = {
    "a truncated JPEG": (samples.truncated_jpeg, "not_decodable"),
    "a JPEG/HTML polyglot": (samples.polyglot, "active_content"),
    "a 20000 × 20000 PNG bomb": (samples.png_bomb, "too_many_pixels"),
    "a GIF of 10,000 frames": (samples.gif_frames, "too_many_frames"),
}


@pytest.mark.parametrize("name", list(REFUSED_AT_ONCE))
def test_refused_at_once(served: dict[str, Any], name: str) -> None:
    make, status, code = REFUSED_AT_ONCE[name]
    r = httpx.post(
        served["media"], content=make(), headers={**served["auth"], "Content-Type": "image/jpeg"}
    )
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    healthy(served)


@pytest.mark.parametrize("name", list(REFUSED_BY_ITS_JOB))
def test_refused_by_its_job(served: dict[str, Any], name: str) -> None:
    make, reason = REFUSED_BY_ITS_JOB[name]
    r = httpx.post(served["media"], content=make(), headers=served["auth"], timeout=30)
    assert r.status_code == 202
    found = outcome(served, r.json()["id"])
    assert (found["status"], found["reason"]) == ("failed", reason)
    assert found["variants"] == {}
    public = httpx.get(f"{served['media']}/{found['id']}")
    assert public.status_code == 404  # a failed upload is shown to nobody but its senders
    healthy(served)


def test_a_body_over_the_cap_is_refused_before_it_is_read(served: dict[str, Any]) -> None:
    """101 MB announced: the answer comes after the first 64 KB, not after 101 MB."""
    head = (
        f"POST {served['media'].removeprefix(served['url'])} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: {served['auth']['Authorization']}\r\n"
        f"Content-Type: video/mp4\r\nContent-Length: {101 * 1_000_000}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", served["port"]), timeout=10) as conn:
        conn.sendall(head + b"\0" * 65536)
        status, body = _response(conn)
    assert status == 413
    assert json.loads(body)["code"] == "payload_too_large"
    healthy(served)


def test_a_chunked_body_is_cut_off_at_its_cap(served: dict[str, Any]) -> None:
    """No length announced: a JPEG is refused once it passes the photo cap (3 MB here) — the
    answer comes while the body has not ended."""
    path = served["media"].removeprefix(served["url"])
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {served['auth']['Authorization']}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"\xff\xd8\xff\xe0" + b"\0" * (256 * 1024 - 4)
    with socket.create_connection(("127.0.0.1", served["port"]), timeout=10) as conn:
        conn.sendall(head)
        for _ in range(16):  # 4 MB, and no closing chunk
            conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        status, body = _response(conn)
    assert status == 413
    assert json.loads(body)["code"] == "payload_too_large"
    healthy(served)


def test_a_photo_with_gps_is_accepted_and_served_without_it(served: dict[str, Any]) -> None:
    original = samples.photo(1200, 900)
    assert samples.GPS_BYTES in original
    r = httpx.post(served["media"], content=original, headers=served["auth"])
    found = outcome(served, r.json()["id"])
    assert found["status"] == "ready"
    for variant in found["variants"].values():
        body = httpx.get(served["url"] + variant["url"]).content
        assert samples.GPS_BYTES not in body
        assert b"Exif" not in body
        assert b"BeerPhone" not in body
    healthy(served)


def _response(conn: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            break
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += conn.recv(65536)
    return int(head.split(b" ", 2)[1]), rest[:length]
