"""Pillow (+ pillow-heif) against pyvips (pyvips-binary) on the same photos, side by side.

For each library, the whole job a photo gets: decode once (at a reduced scale where the
format allows), apply the EXIF orientation, make the three variants (large 1920, medium 800,
thumb 150 square) as WebP, and the placeholder. Also: the large variant as AVIF, and an HEIC
photo. Each library runs in a fresh process of its own, alternating, so their peak memory is
their own; the figures are p50/p95 over ``--runs`` runs of a 12 MP JPEG (about 5 MB).

    python -m bench.imaging [--runs 15]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = {"large": 1920, "medium": 800}
CACHE = Path(tempfile.gettempdir()) / "beerolympics-bench-media"


def sample(name: str) -> Path:
    """A sample made once and kept for later runs (an HEIC takes seconds to encode)."""
    from beerolympics.testing import samples

    CACHE.mkdir(exist_ok=True)
    path = CACHE / name
    if not path.exists():
        made = {
            "photo-12mp.jpg": lambda: samples.photo(4000, 3000, orientation=6, quality=94),
            "photo-12mp.heic": lambda: samples.heic(4032, 3024),
        }[name]()
        path.write_bytes(made)
    return path


def pillow_job(data: bytes, avif: bool) -> dict[str, int]:
    import blurhash
    from PIL import Image, ImageOps
    from pillow_heif import register_heif_opener

    register_heif_opener()
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (SIZES["large"], SIZES["large"]))  # JPEG: decode at 1/2, 1/4… scale
    image = ImageOps.exif_transpose(image).convert("RGB")
    out: dict[str, int] = {}
    large = image.copy()
    large.thumbnail((SIZES["large"],) * 2, Image.Resampling.LANCZOS)
    medium = large.copy()
    medium.thumbnail((SIZES["medium"],) * 2, Image.Resampling.LANCZOS)
    thumb = ImageOps.fit(medium, (150, 150), Image.Resampling.LANCZOS)
    for name, variant in (("large", large), ("medium", medium), ("thumb", thumb)):
        buffer = io.BytesIO()
        variant.save(buffer, "WEBP", quality=80, method=4)
        out[name] = len(buffer.getvalue())
    if avif:
        buffer = io.BytesIO()
        large.save(buffer, "AVIF", quality=60, speed=8)
        out["large_avif"] = len(buffer.getvalue())
    tiny = thumb.resize((32, 32))
    out["placeholder"] = len(blurhash.encode(list(_rows(tiny)), 4, 3))
    return out


def _rows(image: Any) -> Any:
    width, height = image.size
    data = list(image.getdata())
    for y in range(height):
        yield [list(p) for p in data[y * width : (y + 1) * width]]


def vips_job(data: bytes, avif: bool) -> dict[str, int]:
    import blurhash
    import pyvips

    large = pyvips.Image.thumbnail_buffer(data, SIZES["large"], height=SIZES["large"], size="down")
    medium = large.thumbnail_image(SIZES["medium"], height=SIZES["medium"], size="down")
    thumb = medium.thumbnail_image(150, height=150, crop="centre")
    out: dict[str, int] = {}
    for name, variant in (("large", large), ("medium", medium), ("thumb", thumb)):
        out[name] = len(variant.webpsave_buffer(Q=80, keep="none"))
    if avif:
        out["large_avif"] = len(large.heifsave_buffer(Q=60, compression="av1", effort=2))
    tiny = thumb.thumbnail_image(32, height=32, size="force")
    pixels = tiny.write_to_memory()
    rows = [
        [list(pixels[(y * 32 + x) * 3 : (y * 32 + x) * 3 + 3]) for x in range(32)]
        for y in range(32)
    ]
    out["placeholder"] = len(blurhash.encode(rows, 4, 3))
    return out


def shipped_job(data: bytes, avif: bool) -> dict[str, int]:
    """What the product runs (``beerolympics.jobs.imaging``): libvips, and pillow-heif for
    HEIC; with its checks (active content, limits) and its placeholder PNG."""
    from beerolympics.jobs.imaging import process_photo
    from beerolympics.jobs.renditions import Limits

    with tempfile.NamedTemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        done = process_photo(handle.name, Limits())
    return {v.name: len(v.data) for v in done.variants}


def child(library: str, path: str, runs: int, avif: bool) -> None:
    """Run one library's job ``runs`` times on one file; print timings and peak RSS."""
    job = {"pillow": pillow_job, "pyvips": vips_job, "shipped": shipped_job}[library]
    data = Path(path).read_bytes()
    times, result, error = [], {}, ""
    for _ in range(runs):
        started = time.perf_counter()
        try:
            result = job(data, avif)
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
            break
        times.append(time.perf_counter() - started)
    print(json.dumps({"times": times, "sizes": result, "rss_mb": peak_rss_mb(), "error": error}))


def peak_rss_mb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def measure(library: str, path: Path, runs: int, avif: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.imaging", "--child", library, str(path)]
    command += ["--runs", str(runs)] + (["--avif"] if avif else [])
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(label: str, found: dict[str, Any]) -> None:
    if found["error"]:
        print(f"  {label:<26} cannot: {found['error']}")
        return
    times = [t * 1000 for t in found["times"]]
    shown = {k: v for k, v in found["sizes"].items() if k != "placeholder"}
    sizes = ", ".join(f"{k} {v / 1024:.0f} KB" for k, v in shown.items())
    print(
        f"  {label:<26} p50 {statistics.median(times):6.0f} ms  p95 {p(times, 0.95):6.0f} ms"
        f"  peak RSS {found['rss_mb']:4d} MB  ({sizes})"
    )


def main(runs: int) -> None:
    jpeg, heic = sample("photo-12mp.jpg"), sample("photo-12mp.heic")
    print(
        f"bench.imaging: decode once, orient, 3 WebP variants + blurhash; {runs} runs each,"
        f" one process per library, alternating"
    )
    print(f"12 MP JPEG ({jpeg.stat().st_size / 1e6:.1f} MB, EXIF orientation 6 + GPS):")
    results: dict[str, list[float]] = {"pillow": [], "pyvips": []}
    found: dict[str, dict[str, Any]] = {}
    for _ in range(3):  # alternate, so drift on a shared machine hits both
        for library in results:
            found[library] = measure(library, jpeg, max(1, runs // 3))
            results[library] += found[library]["times"]
    for library in results:
        report(library, {**found[library], "times": results[library]})
    ratio = statistics.median(results["pillow"]) / statistics.median(results["pyvips"])
    print(f"  Pillow / pyvips time (p50): {ratio:.2f}")
    print("the same with the large variant also as AVIF:")
    for library in results:
        report(library, measure(library, jpeg, max(1, runs // 3), avif=True))
    print(f"12 MP HEIC ({heic.stat().st_size / 1e6:.1f} MB):")
    for library in results:
        report(library, measure(library, heic, max(1, runs // 3)))
    print("what the product runs (beerolympics.jobs.imaging: libvips, pillow-heif for HEIC):")
    report("JPEG", measure("shipped", jpeg, max(1, runs // 3)))
    report("HEIC", measure("shipped", heic, max(1, runs // 3)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--child", nargs=2, metavar=("LIBRARY", "PATH"))
    parser.add_argument("--avif", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.runs, args.avif)
    else:
        main(args.runs)
