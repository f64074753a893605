"""Errors the domain raises when a command cannot be carried out.

Each error carries a stable machine ``code`` (what clients switch on) and a human ``message``.
The kind of error (the class) says what went wrong in general; the web edge maps kinds to HTTP
statuses in one place. A rejected command appends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    """A command was refused. ``code`` is stable; ``message`` is for people."""

    default_code: ClassVar[str] = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details: Mapping[str, Any] = details or {}


class Invalid(DomainError):
    """The command is well-formed but makes no sense (a rule of the game forbids it)."""

    default_code = "invalid"


class NotFound(DomainError):
    """The command or query names something that does not exist."""

    default_code = "not_found"


class Conflict(DomainError):
    """The command clashes with the current state (a taken name, a closed registration…)."""

    default_code = "conflict"


class VersionConflict(Conflict):
    """The client acted on a stale version; ``details['current']`` may carry the current state."""

    default_code = "version_conflict"


class Unauthenticated(DomainError):
    """No valid credential came with a command that needs one."""

    default_code = "unauthenticated"


class Forbidden(DomainError):
    """The credential's role does not allow the command."""

    default_code = "forbidden"


class RateLimited(DomainError):
    """Too many requests; ``details['retry_after']`` says how many seconds to wait."""

    default_code = "rate_limited"


class Unavailable(DomainError):
    """A backing service is unreachable; the command may be retried unchanged."""

    default_code = "unavailable"
