"""``/api/v1/tournaments/{id}/media``: photos and clips; ``/media/<key>``: their files.

An upload is the raw bytes of one photo or clip as the request body (``POST …/media?subject=
match:<id>``), streamed to disk and capped as it arrives: a body over the cap is refused with
413 — at once when its Content-Length says so — without being held in memory. The answer is a
202 with the new media, ``processing``; its processing is a background job, and its result
(``ready`` with variants, or ``failed``) arrives live. ``Idempotency-Key`` (the pages send
the SHA-256 of the file) makes a repeated upload return the first one without sending the
bytes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Annotated, Any, Final

import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.exceptions import HTTPException, InternalServerException
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Stream

from beerolympics.domain.errors import Forbidden, Invalid, NotFound
from beerolympics.domain.identity import Actor
from beerolympics.ports.mediastore import IMMUTABLE, MediaNotFound, check_key
from beerolympics.ports.ratelimiter import Rate
from beerolympics.projections.media import MediaItem, MediaView, media_view
from beerolympics.projections.views import Page
from beerolympics.runtime import Runtime
from beerolympics.services.media import MediaOutcome, StagedUpload
from beerolympics.web.api.tournaments import ERRORS, SECURITY, Cursor, Limit, TournamentId
from beerolympics.web.context import actor, public_read, runtime
from beerolympics.web.http import (
    decode_cursor,
    encode_cursor,
    idempotency_key,
    json_response,
)
from beerolympics.web.ratelimit import check

MediaId = Annotated[str, PathParameter(max_length=40, description="The photo's or clip's id.")]
Subject = Annotated[
    str,
    QueryParameter(
        max_length=120,
        description="What it shows: `tournament`, `team:<team id>` or `match:<match id>`.",
    ),
]
SNIFF_BYTES: Final = 32
#: ISO media brands of still images (HEIC, AVIF); any other brand is a video container.
IMAGE_BRANDS: Final = {
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"mif1",
    b"msf1",
    b"avif",
    b"avis",
}


def sniff(head: bytes) -> tuple[str, str] | None:
    """What the first bytes look like: (``image`` or ``video``, an extension), or None.

    Only a first sorting, to choose the size cap: what a file is, is decided by decoding it.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in IMAGE_BRANDS:
            return "image", "avif" if brand.startswith(b"avi") else "heic"
        return "video", "mov" if brand == b"qt  " else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "webm"
    return None


def _too_large(limit: int, what: str) -> HTTPException:
    return HTTPException(status_code=413, detail=f"a {what} may be at most {limit // 1_000_000} MB")


class Staging:
    """Writes an upload to a file as it arrives, hashing it on the way (off the loop)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix="upload-")
        self.path = Path(name)
        self.file: IO[bytes] = open(handle, "wb")  # noqa: SIM115 (closed in close())
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.digest.update(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        self.file.close()

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


async def receive(request: Request[Any, Any, Any], rt: Runtime, staging: Staging) -> StagedUpload:
    """Stream the body into ``staging``, refusing it past the cap of what it turns out to be."""
    settings = rt.settings
    photo_cap = settings.media_max_photo_mb * 1_000_000
    clip_cap = settings.media_max_clip_mb * 1_000_000
    declared = request.headers.get("content-length")
    announced = int(declared) if declared and declared.isdigit() else None
    if announced is not None and announced > max(photo_cap, clip_cap):
        raise _too_large(max(photo_cap, clip_cap), "photo or clip")
    head = b""
    found: tuple[str, str] | None = None
    cap = max(photo_cap, clip_cap)
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            if found is None:
                head += chunk
                if len(head) < SNIFF_BYTES:
                    continue
                found = _sorted(head)
                cap = photo_cap if found[0] == "image" else clip_cap
                if announced is not None and announced > cap:
                    raise _too_large(cap, "photo" if found[0] == "image" else "clip")
                chunk, head = head, b""
            if staging.size + len(chunk) > cap:
                raise _too_large(cap, "photo" if found[0] == "image" else "clip")
            await asyncio.to_thread(staging.write, chunk)
    except InternalServerException as exc:  # the client went away mid-upload
        raise Invalid("the upload was interrupted", code="upload_interrupted") from exc
    if found is None:
        if not head:
            raise Invalid("the upload is empty", code="empty_upload")
        found = _sorted(head)
        await asyncio.to_thread(staging.write, head)
    await asyncio.to_thread(staging.close)
    kind, extension = found
    return StagedUpload(staging.path, staging.size, staging.digest.hexdigest(), kind, extension)


def _sorted(head: bytes) -> tuple[str, str]:
    found = sniff(head)
    if found is None:
        raise HTTPException(
            status_code=415,
            detail="this is not a photo (JPEG, PNG, WebP, GIF, HEIC, AVIF) or a clip (MP4,"
            " MOV, WebM)",
        )
    return found


def url_for(rt: Runtime) -> Callable[[str], str]:
    def build(key: str) -> str:
        return rt.media_store.public_url(key) or f"/media/{key}"

    return build


def view(rt: Runtime, item: MediaItem) -> MediaView:
    return media_view(item, url_for(rt))


def _visible(item: MediaItem, who: Actor) -> bool:
    if item.listed:
        return True
    official = who.in_tournament(item.tournament) and who.role == "organizer"
    return official or (bool(item.uploader) and who.credential_id == item.uploader)


@post(
    "/",
    summary="Upload a photo or clip",
    tags=["media"],
    status_code=202,
    security=SECURITY,
    request_max_body_size=None,
    responses=ERRORS,
)
async def upload_media(
    request: Request[Any, Any, Any], tournament_id: TournamentId, subject: Subject = "tournament"
) -> Response[MediaView]:
    """The body is the file itself (any Content-Type: the content decides). Members of the
    tournament upload; spectators only when the organizers allow it. 202: stored, processing."""
    rt = runtime(request)
    who = actor(request, tournament_id)
    rt.media.may_upload(tournament_id, who)
    subject = rt.media.check_subject(tournament_id, subject)
    client = request.client.host if request.client else "unknown"
    rate = Rate.parse(rt.settings.rate_limit_uploads)
    await check(rt, "uploads", rate, who.credential_id or client)
    idempotency = idempotency_key(request, "upload", {"subject": subject})
    if idempotency is not None:
        stored = await rt.store.get_outcome(tournament_id, idempotency.key)
        if stored is not None and stored.fingerprint == idempotency.fingerprint:
            # Sent before: answer without reading the bytes again.
            await rt.projector.catch_up(until=stored.position)
            first = msgspec.json.decode(stored.outcome, type=MediaOutcome)
            return json_response(view(rt, rt.media.get(tournament_id, first.media_id)), status=202)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        rt.media.check_quota(tournament_id, int(declared))
    staging = Staging(rt.settings.data_dir / "uploads")
    try:
        staged = await receive(request, rt, staging)
        outcome = await rt.media.upload(
            tournament_id, who, subject, staged, idempotency=idempotency
        )
    finally:
        await asyncio.to_thread(staging.discard)
    return json_response(view(rt, rt.media.get(tournament_id, outcome.media_id)), status=202)


@get("/", summary="Photos and clips", tags=["media"], responses={404: ERRORS[404]})
async def list_media(
    request: Request[Any, Any, Any],
    tournament_id: TournamentId,
    subject: Annotated[
        str | None, QueryParameter(max_length=120, description="Only those of this subject.")
    ] = None,
    everything: Annotated[
        bool,
        QueryParameter(name="all", description="Organizers: hidden and failed ones too."),
    ] = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response[Page[MediaView]]:
    """Newest first: processing and ready ones (``all=true``: every one, for organizers)."""
    rt = runtime(request)
    rt.catalog.get(tournament_id)
    if everything:
        who = actor(request, tournament_id)
        if not (who.in_tournament(tournament_id) and who.role == "organizer"):
            raise Forbidden("only organizers see hidden and failed media")

    def build() -> Page[MediaView]:
        items = [
            i
            for i in rt.media_states.of(tournament_id)
            if not i.deleted
            and (everything or i.listed)
            and (subject is None or i.subject == subject)
        ]
        before = decode_cursor(cursor)
        rest = [i for i in items if before is None or i.position < before]
        page = rest[:limit]
        more = len(rest) > limit
        return Page(
            items=[view(rt, i) for i in page],
            next_cursor=encode_cursor(page[-1].position) if more else None,
            total=len(items),
        )

    if everything:
        return json_response(build())
    return public_read(request, tournament_id, ("media", subject, cursor, limit), build)


@get("/{media_id:str}", summary="A photo or clip", tags=["media"], responses={404: ERRORS[404]})
async def get_media(
    request: Request[Any, Any, Any], tournament_id: TournamentId, media_id: MediaId
) -> Response[MediaView]:
    """Processing and ready ones for everyone; hidden and failed ones for organizers and
    the uploader."""
    rt = runtime(request)
    item = rt.media.get(tournament_id, media_id)
    if not _visible(item, actor(request, tournament_id)):
        raise NotFound(f"no photo or clip {media_id!r}", code="media_not_found")
    return json_response(view(rt, item))


@get(
    "/{media_id:str}/original",
    summary="The original file",
    tags=["media"],
    security=SECURITY,
    responses=ERRORS,
)
async def get_original(
    request: Request[Any, Any, Any], tournament_id: TournamentId, media_id: MediaId
) -> Stream:
    """Organizers only, as a download: the bytes as uploaded, metadata (GPS!) included."""
    rt = runtime(request)
    who = actor(request, tournament_id)
    if not (who.in_tournament(tournament_id) and who.role == "organizer"):
        raise Forbidden("only organizers export originals")
    item = rt.media.get(tournament_id, media_id)
    extension = item.original.rpartition(".")[2]
    return Stream(
        rt.media_store.stream(item.original),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{item.id}.{extension}"',
            "Content-Length": str(item.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


async def _moderate(request: Request[Any, Any, Any], tid: str, media_id: str, action: str) -> Any:
    rt = runtime(request)
    await rt.media.moderate(tid, media_id, actor(request, tid), action)
    return rt


@post("/{media_id:str}/hide", summary="Hide", tags=["media"], security=SECURITY, responses=ERRORS)
async def hide_media(
    request: Request[Any, Any, Any], tournament_id: TournamentId, media_id: MediaId
) -> Response[MediaView]:
    """Organizers: gone from every gallery, live; kept, and can be shown again."""
    rt = await _moderate(request, tournament_id, media_id, "hide")
    return json_response(view(rt, rt.media.get(tournament_id, media_id)))


@post(
    "/{media_id:str}/show",
    summary="Show again",
    tags=["media"],
    security=SECURITY,
    responses=ERRORS,
)
async def show_media(
    request: Request[Any, Any, Any], tournament_id: TournamentId, media_id: MediaId
) -> Response[MediaView]:
    rt = await _moderate(request, tournament_id, media_id, "show")
    return json_response(view(rt, rt.media.get(tournament_id, media_id)))


@delete("/{media_id:str}", summary="Delete", tags=["media"], security=SECURITY, responses=ERRORS)
async def delete_media(
    request: Request[Any, Any, Any], tournament_id: TournamentId, media_id: MediaId
) -> None:
    """Organizers: gone everywhere, live, and its files are removed."""
    await _moderate(request, tournament_id, media_id, "delete")


class GallerySettings(msgspec.Struct, frozen=True):
    spectator_uploads: bool


class GalleryView(msgspec.Struct, frozen=True):
    spectator_uploads: bool
    items: int
    used_bytes: int
    quota_bytes: int


def _gallery(rt: Runtime, tid: str) -> GalleryView:
    return GalleryView(
        spectator_uploads=rt.media_states.spectator_uploads.get(tid, False),
        items=sum(1 for i in rt.media_states.of(tid) if not i.deleted),
        used_bytes=rt.media_states.usage[tid],
        quota_bytes=rt.media.quota_bytes,
    )


@get("/", summary="Gallery settings and usage", tags=["media"], responses={404: ERRORS[404]})
async def get_gallery(
    request: Request[Any, Any, Any], tournament_id: TournamentId
) -> Response[GalleryView]:
    rt = runtime(request)
    rt.catalog.get(tournament_id)
    return json_response(_gallery(rt, tournament_id))


@put("/", summary="Gallery settings", tags=["media"], security=SECURITY, responses=ERRORS)
async def put_gallery(
    request: Request[Any, Any, Any], tournament_id: TournamentId, data: JSONBody[GallerySettings]
) -> Response[GalleryView]:
    """Organizers: whether spectators (no credential) may upload too."""
    rt = runtime(request)
    await rt.media.set_spectator_uploads(
        tournament_id, actor(request, tournament_id), data.spectator_uploads
    )
    return json_response(_gallery(rt, tournament_id))


# -- the files --------------------------------------------------------------------------------

_RANGE: Final = re.compile(r"bytes=(\d*)-(\d*)")


@get("/media/{key:path}", include_in_schema=False)
async def media_file(
    request: Request[Any, Any, Any], key: Annotated[str, PathParameter(max_length=300)]
) -> Response[Any]:
    """A variant, served by the app (the embedded shape, or a bucket nobody serves directly):
    immutable, with Range for clips. Hidden and deleted media and originals are not served."""
    rt = runtime(request)
    key = key.lstrip("/")
    try:
        check_key(key)
    except ValueError:
        raise NotFound("nothing here", code="not_found") from None
    users = rt.media_states.users.get(key, set())
    if not key.startswith("v/") or not any(rt.media_states.items[m].listed for m in users):
        raise NotFound("nothing here", code="not_found")
    found = await rt.media_store.stat(key)
    if found is None:
        raise NotFound("nothing here", code="not_found")
    tag = '"' + key.rsplit("/", 1)[-1].partition(".")[0] + '"'
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": tag,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if request.headers.get("if-none-match") == tag:
        return Response(content=b"", status_code=304, headers=headers)
    start, end, status = 0, found.size, 200
    wanted = request.headers.get("range")
    if wanted:
        match = _RANGE.fullmatch(wanted.strip())
        if match is None or not any(match.groups()):
            raise HTTPException(status_code=416, detail="only one bytes range is served")
        first, last = match.groups()
        if first:
            start, end = int(first), min(found.size, int(last) + 1) if last else found.size
        else:
            start, end = max(0, found.size - int(last)), found.size
        if start >= found.size or start >= end:
            return Response(
                content=b"",
                status_code=416,
                headers={**headers, "Content-Range": f"bytes */{found.size}"},
            )
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{found.size}"
        status = 206
    headers["Content-Length"] = str(end - start)
    return Stream(
        _chunks(rt, key, start, end),
        status_code=status,
        media_type=found.content_type,
        headers=headers,
    )


async def _chunks(rt: Runtime, key: str, start: int, end: int) -> AsyncIterator[bytes]:
    try:
        async for chunk in rt.media_store.stream(key, start, end):
            yield chunk
    except MediaNotFound:
        return


router = Router(
    path="/tournaments/{tournament_id:str}/media",
    route_handlers=[
        upload_media,
        list_media,
        get_media,
        get_original,
        hide_media,
        show_media,
        delete_media,
    ],
)
gallery_router = Router(
    path="/tournaments/{tournament_id:str}/gallery", route_handlers=[get_gallery, put_gallery]
)
