"""Join codes, invite codes, identifiers and slugs."""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Final

#: No 0/O, 1/I: codes are read off a TV and typed on a phone.
CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH: Final = 6
_ID_ALPHABET: Final = "abcdefghijkmnpqrstuvwxyz23456789"
#: A tournament's slug: lower-case letters, digits and inner dashes.
SLUG_PATTERN: Final = r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"
#: Any other id (``tm_8kq2m4xw7p``, ``st_…``): letters, digits, ``_`` and ``-``.
ID_PATTERN: Final = r"^[A-Za-z0-9_-]+$"
#: A match: its game's id, a dot, and its short id in the game's plan (``gm_k2x9.W1-3``).
MATCH_PATTERN: Final = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"


def new_code() -> str:
    """A fresh random code of :data:`CODE_LENGTH` characters from :data:`CODE_ALPHABET`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """Codes are case-insensitive: compare them upper-cased."""
    return code.strip().upper()


def new_id(prefix: str, length: int = 10) -> str:
    """A random identifier like ``tm_8kq2m4xw7p``: short, URL-safe, unguessable enough."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def slugify(text: str, max_length: int = 40) -> str:
    """A URL slug from a name: ``"Backyard Games 2026!"`` → ``"backyard-games-2026"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug if len(slug) >= 3 else f"tournament-{slug}".rstrip("-")


def clean_line(text: str) -> str:
    """A name as stored: NFC, trimmed, inner runs of blanks folded to one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def name_key(name: str) -> str:
    """The key names are compared by: case-insensitive and blank-insensitive."""
    return clean_line(name).casefold()
