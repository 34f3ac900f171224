"""Password hashing and link/refresh secrets: what identity never stores in clear.

Passwords: argon2id (argon2-cffi's defaults follow RFC 9106's second recommendation).
Hashing runs in a worker thread so the event loop keeps answering while it works.
Link and refresh secrets: 256 random bits from `secrets`; only their SHA-256 is stored —
the secret is already uniformly random, so a slow hash adds nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when an identifier is unknown, so "no such account" costs as much time
# as "wrong password" and timing does not tell the two apart.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_of(value: str) -> str:
    """A KV key for a personal value (email, username, address): its hash, never the value."""
    return hashlib.sha256(value.encode()).hexdigest()


def split_refresh_token(token: str) -> tuple[str, str] | None:
    """`<session id>.<secret>` → (session id, secret); None when it isn't one."""
    session_id, dot, secret = token.partition(".")
    if not dot or not session_id or not secret or len(session_id) != 26:
        return None
    return session_id, secret
