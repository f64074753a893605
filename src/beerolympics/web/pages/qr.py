"""QR codes as SVG, drawn on the server with segno: scanning one opens a page of this site."""

from __future__ import annotations

import io
from typing import Any

import segno
from litestar import Request, Response

SVG = "image/svg+xml"


def site_url(request: Request[Any, Any, Any], path: str) -> str:
    """An absolute URL of this site as the phone that asked sees it."""
    return str(request.base_url).rstrip("/") + path


def qr_svg(data: str, title: str) -> bytes:
    """A scalable QR code (``viewBox``, no fixed size) with a title for screen readers."""
    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=1,
        border=2,
        xmldecl=False,
        omitsize=True,
        title=title,
        svgclass="qr",
        lineclass=None,
        dark="#000",
        light="#fff",
    )
    return out.getvalue()


def qr_response(data: str, title: str) -> Response[bytes]:
    # Private: join and invite codes are secrets of the tournament's members.
    return Response(
        qr_svg(data, title),
        media_type=SVG,
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
