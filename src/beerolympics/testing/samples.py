"""Media made on the spot for tests and benchmarks: photos, clips and an upload attack corpus.

Nothing is downloaded: a "photo" is a synthetic scene (sky, ground, texture) that compresses
like a real one (a 12 MP JPEG is about 5 MB), carrying the EXIF a phone writes — orientation
and GPS position — so tests can check both are handled; a "clip" is an H.264 MP4 encoded with
PyAV, with the location atom a phone writes.
"""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from typing import Any, Final

from PIL import Image, ImageDraw

#: Where the sample photos say they were taken (Warsaw), to be found if it leaks.
LATITUDE: Final = (52.0, 13.0, 47.3)
LONGITUDE: Final = (21.0, 0.0, 44.4)
#: What a phone writes into a clip's metadata: ISO 6709, the same place.
LOCATION: Final = "+52.2298+021.0123/"
#: The latitude as a phone's (big-endian) EXIF stores it: the bytes to look for in a file.
GPS_BYTES: Final = struct.pack(">IIIIII", 52, 1, 13, 1, 473, 10)
SCRIPT: Final = b"<html><body><script>alert(document.cookie)</script></body></html>"


def scene(width: int, height: int, seed: int = 1) -> Image.Image:
    """A picture with the texture of a photo: gradients, shapes and grain."""
    sky = Image.linear_gradient("L").resize((width, height))
    base = Image.merge(
        "RGB",
        (
            sky.point(lambda v: 90 + v // 3),
            sky.point(lambda v: 140 + v // 4),
            sky.point(lambda v: 230 - v // 5),
        ),
    )
    draw = ImageDraw.Draw(base)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(70, 120, 50))
    for i in range(12):
        x = (seed * 7919 + i * 104729) % width
        y = (seed * 15485863 + i * 32452843) % height
        r = width // 20 + (i * 37) % (width // 12)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(200 - i * 9, 60 + i * 11, 40 + i * 13))
    grain = Image.effect_noise((width, height), 40).convert("RGB")
    return Image.blend(base, grain, 0.2)


def _gps_exif(orientation: int, gps: bool) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "BeerPhone"  # Make
    exif[0x0110] = "BeerPhone 12"  # Model
    exif[0x0112] = orientation
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd[1] = "N"
        ifd[2] = tuple(Fraction(v).limit_denominator(100) for v in LATITUDE)
        ifd[3] = "E"
        ifd[4] = tuple(Fraction(v).limit_denominator(100) for v in LONGITUDE)
    return exif


def photo(
    width: int = 4000,
    height: int = 3000,
    *,
    orientation: int = 1,
    gps: bool = True,
    quality: int = 92,
    seed: int = 1,
) -> bytes:
    """A JPEG as a phone saves it: EXIF orientation (6 = turn 90° clockwise to view) and GPS."""
    out = io.BytesIO()
    exif = _gps_exif(orientation, gps)
    scene(width, height, seed).save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def heic(width: int = 4032, height: int = 3024, *, gps: bool = True, seed: int = 2) -> bytes:
    """An HEIC photo as iPhones send them (HEVC inside HEIF), with GPS in its EXIF."""
    from pillow_heif import from_pillow

    image = scene(width, height, seed)
    image.info["exif"] = _gps_exif(1, gps).tobytes()
    out = io.BytesIO()
    from_pillow(image).save(out, quality=80, enc_params={"preset": "ultrafast"})
    return out.getvalue()


def png(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    scene(width, height).save(out, "PNG")
    return out.getvalue()


def clip(
    seconds: float = 3.0,
    width: int = 1920,
    height: int = 1080,
    *,
    fps: int = 30,
    container: str = "mp4",
    location: bool = True,
    rotation: int = 0,
) -> bytes:
    """A clip with moving content, H.264 (VP8 for WebM), no sound. ``rotation`` is what a
    phone held upright writes instead of turning the pixels: a display matrix (90: turn the
    picture a quarter counter-clockwise to show it)."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format=container) as muxer:
        if location:
            muxer.metadata["location"] = LOCATION
            muxer.metadata["com.apple.quicktime.location.ISO6709"] = LOCATION
        codec = "libvpx" if container == "webm" else "libx264"
        stream: Any = muxer.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "28"}
        if rotation:
            stream.set_display_rotation(rotation)
        backdrop = scene(width, height)
        for index in range(round(seconds * fps)):
            frame = backdrop.copy()
            x = (index * 17) % width
            ImageDraw.Draw(frame).rectangle(
                (x, height // 3, x + width // 8, height // 2), fill=(250, 220, 40)
            )
            picture = av.VideoFrame.from_image(frame)  # type: ignore[no-untyped-call]
            for packet in stream.encode(picture):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
    return out.getvalue()


# -- the attack corpus ----------------------------------------------------------------------


def truncated_jpeg() -> bytes:
    whole = photo(1600, 1200)
    return whole[: len(whole) // 2]


def html_as_jpeg() -> bytes:
    return b"<!DOCTYPE html>\n" + SCRIPT


def polyglot() -> bytes:
    """A valid JPEG that is also an HTML page: the markup sits in a comment segment."""
    image = photo(320, 240, gps=False)
    comment = b"\xff\xfe" + struct.pack(">H", len(SCRIPT) + 2) + SCRIPT
    return image[:2] + comment + image[2:]


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"'
        b' onload="alert(1)"><script>alert(document.cookie)</script>'
        b'<rect width="100" height="100" fill="red"/></svg>'
    )


def png_bomb(side: int = 20000) -> bytes:
    """A PNG of ``side``² pixels (400 megapixels at 20,000) in about 50 KB: all zeros."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def gif_frames(count: int = 10_000) -> bytes:
    """A 2×2 animated GIF of ``count`` frames."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", 2, 2, 0x80, 0, 0))
    out += b"\x00\x00\x00\xff\xff\xff"  # two colours
    out += b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for index in range(count):
        out += b"!\xf9\x04\x04" + struct.pack("<H", 2) + b"\x00\x00"  # 20 ms, keep
        out += b"," + struct.pack("<HHHHB", 0, 0, 2, 2, 0)
        out += b"\x02\x02" + (b"\x4c\x01" if index % 2 else b"\x44\x01") + b"\x00"
    out += b";"
    return bytes(out)
