"""What processing a photo or clip gives back, and why it refuses one — without libvips or
FFmpeg, so the process that runs jobs (and serves phones) never loads them: only the CPU
processes that decode do (:mod:`~beerolympics.jobs.imaging`, :mod:`~beerolympics.jobs.clips`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Rejected(Exception):
    """The upload is not something we show: ``code`` says why, for people and for clients."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Limits:
    max_pixels: int = 50_000_000
    max_frames: int = 300
    max_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    data: bytes
    width: int
    height: int
    content_type: str = "image/webp"


@dataclass(frozen=True, slots=True)
class Processed:
    """What came out: the kind, the upright size, the variants and the placeholder."""

    kind: str
    format: str
    width: int
    height: int
    variants: list[Variant]
    placeholder: str
    preview: str = ""
    frames: int = 1
    duration: float | None = None
    extra: dict[str, str] = field(default_factory=dict)
