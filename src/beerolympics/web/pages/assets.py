"""Static assets: CSS, JavaScript modules, icons, the service worker and the web app manifest.

Every file under ``web/static`` is read once per app and served from memory under
``/static/<build>/…``, where ``build`` is a hash of all of them: a changed file gives every URL a
new prefix, so browsers and proxies may keep a URL forever (``immutable``). ES modules import
each other by relative URL and so stay inside one build. A request naming an older build gets
the current file with ``no-cache``, so a page cached before an upgrade still loads.

The service worker is served at ``/sw.js`` (its scope is then the whole site) with the build and
the list of assets to pre-cache filled in; a new build changes its bytes, which is what makes
browsers install the new worker and drop the old caches.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, get
from litestar.params import PathParameter

STATIC_DIR: Final = Path(__file__).parents[1] / "static"
IMMUTABLE: Final = "public, max-age=31536000, immutable"
#: Files at the root of ``static`` that are served at the site root, not under ``/static``.
_ROOT_FILES: Final = frozenset({"sw.js", "manifest.webmanifest"})
_TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
}
#: Compressing these gains nothing (already compressed).
_INCOMPRESSIBLE: Final = frozenset({".png"})


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file in memory, with its gzip form when that is smaller."""

    body: bytes
    gzipped: bytes | None
    media_type: str


class StaticAssets:
    """The static files of one app, their build hash and their URLs."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        digest = hashlib.sha256()
        files: dict[str, Asset] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root).as_posix()
            body = path.read_bytes()
            digest.update(relative.encode() + b"\0" + body + b"\0")
            media_type = _TYPES.get(path.suffix) or (
                mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            )
            packed = None
            if path.suffix not in _INCOMPRESSIBLE:
                packed = gzip.compress(body, compresslevel=9, mtime=0)
                if len(packed) >= len(body):
                    packed = None
            files[relative] = Asset(body, packed, media_type)
        self.files = files
        self.build = digest.hexdigest()[:12]
        self.prefix = f"/static/{self.build}"

    def url(self, relative: str) -> str:
        """The versioned URL of a file under ``static`` (``css/app.css``)."""
        if relative not in self.files:
            raise KeyError(f"no static file {relative!r}")
        return f"{self.prefix}/{relative}"

    def precache(self) -> list[str]:
        """URLs the service worker fetches on install: everything but the root files."""
        return [self.url(name) for name in sorted(self.files) if name not in _ROOT_FILES]

    def response(
        self, request: Request[Any, Any, Any], relative: str, *, cache_control: str
    ) -> Response[bytes]:
        asset = self.files.get(relative)
        if asset is None or relative in _ROOT_FILES:
            return Response(b"not found", status_code=404, media_type="text/plain")
        return _send(request, asset.body, asset.gzipped, asset.media_type, cache_control)

    def service_worker(self) -> bytes:
        # The build and the prefix are hex and path characters: safe inside string literals.
        source = self.files["sw.js"].body.decode()
        return (
            source.replace('["__PRECACHE__"]', msgspec.json.encode(self.precache()).decode())
            .replace("__BUILD__", self.build)
            .replace("__STATIC__", self.prefix)
            .encode()
        )

    def manifest(self) -> bytes:
        source = self.files["manifest.webmanifest"].body.decode()
        return source.replace("__STATIC__", self.prefix).encode()


def _send(
    request: Request[Any, Any, Any],
    body: bytes,
    gzipped: bytes | None,
    media_type: str,
    cache_control: str,
) -> Response[bytes]:
    headers = {
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = gzipped
    return Response(body, media_type=media_type, headers=headers)


def assets(request: Request[Any, Any, Any]) -> StaticAssets:
    """The app's static assets, loaded on first use and kept on the app's state."""
    found: StaticAssets | None = getattr(request.app.state, "page_assets", None)
    if found is None:
        found = StaticAssets()
        request.app.state.page_assets = found
    return found


@get("/static/{build:str}/{path:path}", include_in_schema=False)
async def static_file(
    request: Request[Any, Any, Any],
    build: Annotated[str, PathParameter(max_length=64)],
    path: Annotated[str, PathParameter(max_length=300)],
) -> Response[bytes]:
    """A static file; immutable under the current build, revalidated under any other."""
    current = assets(request)
    cache = IMMUTABLE if build == current.build else "no-cache"
    return current.response(request, path.lstrip("/"), cache_control=cache)


@get("/sw.js", include_in_schema=False)
async def service_worker(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The service worker, at the root so that it controls every page."""
    current = assets(request)
    body = current.service_worker()
    return _send(
        request,
        body,
        gzip.compress(body, mtime=0),
        "text/javascript; charset=utf-8",
        "no-cache",
    )


@get("/manifest.webmanifest", include_in_schema=False)
async def manifest(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The web app manifest: what makes the app installable."""
    body = assets(request).manifest()
    return _send(request, body, None, "application/manifest+json", "no-cache")
