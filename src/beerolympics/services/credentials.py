"""Signed credentials and organizer passwords.

A credential token is ``(tournament id, credential id)`` signed with the instance secret. The
signature proves the token was issued here; the tournament's state says whether the credential
is still valid (revocation is an event) and which role it has now.
"""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer

from beerolympics.domain.identity import SPECTATOR, Actor
from beerolympics.projections.catalog import Catalog


class CredentialSigner:
    """Issues and checks bearer tokens."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="beerolympics.credential")
        # A phone sends its token with every request, and checking a signature costs more
        # than the rest of a small command; the answer for a token never changes.
        self._verified = functools.lru_cache(maxsize=8192)(self._verify)

    def sign(self, tournament_id: str, credential_id: str) -> str:
        return str(self._serializer.dumps([tournament_id, credential_id]))

    def verify(self, token: str) -> tuple[str, str] | None:
        """``(tournament_id, credential_id)`` of a genuine token, else ``None``."""
        return self._verified(token)

    def _verify(self, token: str) -> tuple[str, str] | None:
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(part, str) for part in value)
        ):
            return value[0], value[1]
        return None


class Authenticator:
    """Turns a token into the :class:`Actor` it speaks for right now."""

    def __init__(self, signer: CredentialSigner, catalog: Catalog) -> None:
        self.signer = signer
        self.catalog = catalog

    def actor(self, token: str | None) -> Actor | None:
        """The actor for a token; ``SPECTATOR`` without one; ``None`` when it is not valid."""
        if not token:
            return SPECTATOR
        ids = self.signer.verify(token)
        if ids is None:
            return None
        state = self.catalog.tournaments.get(ids[0])
        return None if state is None else state.actor_for(ids[1])


class PasswordHashing:
    """argon2id hashing, off the event loop (a hash takes tens of milliseconds on purpose)."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return bool(self._hasher.verify(password_hash, password))
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)
