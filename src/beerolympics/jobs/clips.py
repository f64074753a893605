"""Clips: a poster and a 720p H.264 MP4 anyone's phone plays. Runs in a CPU process.

PyAV (FFmpeg's libraries, in its wheels) opens the upload; only MP4/MOV and WebM containers
with H.264, HEVC, VP8, VP9 or AV1 video are accepted, of at most ``max_seconds`` and
``max_pixels`` a frame. The video is decoded once: each frame is turned upright (the display
matrix phones write instead of rotating), scaled to fit 1280 × 720 (never up), at most 30
frames a second, and encoded to H.264 (yuv420p, ``+faststart`` so playback starts before the
download ends); sound becomes AAC. Nothing of the original container is copied — no location,
no device, no dates. A frame a second in (or the middle of a shorter clip) becomes the poster,
with the same variants as a photo. How far it got is written to ``progress`` in the output
folder, which the job reads and reports.
"""

from __future__ import annotations

import itertools
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import pyvips  # type: ignore[import-untyped]

from beerolympics.jobs.imaging import _variants, check_active_content, setup_process
from beerolympics.jobs.renditions import Limits, Processed, Rejected, Variant

CONTAINERS: Final = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "webm"}
CODECS: Final = {"h264", "hevc", "vp8", "vp9", "av1", "libdav1d"}
BOX: Final = (1280, 720)
MAX_FPS: Final = 30
#: Frames a clip may have per second of its stated duration before we call it a lie.
MAX_RATE: Final = 240


def process_clip(path: str, out_dir: str, limits: Limits) -> Processed:
    """Poster variants and ``video.mp4`` (in ``out_dir``) of the clip in ``path``."""
    setup_process()
    check_active_content(Path(path).read_bytes())
    try:
        source = av.open(path, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        raise Rejected("not_decodable", "this is not a clip we can read") from None
    with source:
        if source.format.name not in CONTAINERS:
            raise Rejected("unsupported", "only MP4, MOV and WebM clips")
        if not source.streams.video:
            raise Rejected("not_decodable", "the clip has no video")
        video = source.streams.video[0]
        if video.codec_context.name not in CODECS:
            raise Rejected("unsupported", f"{video.codec_context.name} video is not accepted")
        duration = _duration(source, video)
        if duration > limits.max_seconds:
            raise Rejected("too_long", f"{duration:.0f} s; at most {limits.max_seconds:g} s")
        width, height = video.codec_context.width, video.codec_context.height
        if width * height > limits.max_pixels or max(width, height) > 8192:
            raise Rejected("too_many_pixels", f"{width} × {height} is too large")
        try:
            return _transcode(source, video, duration, Path(out_dir), limits)
        except av.FFmpegError as exc:
            raise Rejected("not_decodable", f"the clip could not be decoded: {exc}") from None


def _duration(source: Any, video: Any) -> float:
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    if source.duration is not None:
        return float(source.duration / av.time_base)
    raise Rejected("not_decodable", "the clip does not say how long it is")


def _fit(width: int, height: int) -> tuple[int, int]:
    box_w, box_h = BOX if width >= height else BOX[::-1]
    scale = min(1.0, box_w / width, box_h / height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _graph(video: Any, rotation: int, size: tuple[int, int]) -> Any:
    graph = av.filter.Graph()
    chain = [graph.add_buffer(template=video)]
    turns = {
        90: ["transpose=cclock"],
        -270: ["transpose=cclock"],
        -90: ["transpose=clock"],
        270: ["transpose=clock"],
        180: ["hflip", "vflip"],
        -180: ["hflip", "vflip"],
    }
    for spec in [*turns.get(rotation, []), f"scale={size[0]}:{size[1]}", "format=yuv420p"]:
        name, _, args = spec.partition("=")
        chain.append(graph.add(name, args or None))
    chain.append(graph.add("buffersink"))
    for a, b in itertools.pairwise(chain):
        a.link_to(b)
    graph.configure()
    return graph


def _transcode(source: Any, video: Any, duration: float, out: Path, limits: Limits) -> Processed:
    audio = source.streams.audio[0] if source.streams.audio else None
    target = out / "video.mp4"
    progress = out / "progress"
    fps = min(MAX_FPS, float(video.average_rate or MAX_FPS))
    poster_at = min(1.0, duration / 2)
    with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as sink:
        encoder: Any = None
        graph: Any = None
        sound: Any = None
        resampler: Any = None
        if audio is not None:
            sound = sink.add_stream("aac", rate=48000)
            sound.layout = "stereo"
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        poster: pyvips.Image | None = None
        frames = written = 0
        next_time = 0.0
        reported = time.monotonic()
        streams = [video, audio] if audio is not None else [video]
        for packet in source.demux(*streams):
            for frame in packet.decode():
                if packet.stream.type == "audio":
                    for chunk in resampler.resample(frame):
                        chunk.pts = None
                        sink.mux(sound.encode(chunk))
                    continue
                frames += 1
                if frames > MAX_RATE * max(1.0, duration):
                    raise Rejected("too_many_frames", "the clip has more frames than it says")
                at = float(frame.time) if frame.time is not None else frames / fps
                if at + 1e-6 < next_time:
                    continue  # above 30 frames a second: drop
                next_time = max(next_time + 1 / fps, at)
                if graph is None:
                    rotation = int(getattr(frame, "rotation", 0) or 0)
                    sideways = rotation % 180 != 0
                    size = (
                        _fit(frame.height, frame.width)
                        if sideways
                        else _fit(frame.width, frame.height)
                    )
                    graph = _graph(video, rotation, size)
                    encoder = sink.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                    encoder.width, encoder.height, encoder.pix_fmt = size[0], size[1], "yuv420p"
                    encoder.options = {"preset": "veryfast", "crf": "23"}
                graph.push(frame)
                scaled = graph.pull()
                scaled.pts = written
                scaled.time_base = Fraction(1, 1) / Fraction(fps).limit_denominator(1001)
                written += 1
                if poster is None and at >= poster_at:
                    poster = _pixels(scaled)
                sink.mux(encoder.encode(scaled))
                if time.monotonic() - reported > 0.5:
                    progress.write_text(f"{min(0.99, at / max(duration, 0.001)):.3f}")
                    reported = time.monotonic()
        if encoder is None:
            raise Rejected("not_decodable", "the clip has no frames")
        sink.mux(encoder.encode())
        if sound is not None:
            sink.mux(sound.encode())
    if poster is None:
        raise Rejected("not_decodable", "the clip has no frames")
    stills = _variants(poster, "mp4", 1)
    movie = Variant("video", b"", encoder.width, encoder.height, "video/mp4")
    return Processed(
        kind="clip",
        format=CONTAINERS[source.format.name],
        width=encoder.width,
        height=encoder.height,
        variants=[*stills.variants, movie],
        placeholder=stills.placeholder,
        preview=stills.preview,
        duration=round(min(duration, written / fps), 3),
        extra={"video": str(target)},
    )


def _pixels(frame: Any) -> pyvips.Image:
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    width, height = rgb.width, rgb.height
    row = width * 3
    raw = bytes(plane)
    if plane.line_size != row:
        raw = b"".join(raw[y * plane.line_size : y * plane.line_size + row] for y in range(height))
    return pyvips.Image.new_from_memory(raw, width, height, 3, "uchar").copy_memory()
