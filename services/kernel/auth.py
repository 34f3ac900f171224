"""Verifying access tokens in every service, with identity's public keys.

Identity publishes its public keys (JWKs, one per `kid`) in the `identity-jwks` bucket; each
process watches it, so a rotation reaches every replica at once. Nothing trusts a claim it
cannot verify: EdDSA only (no `none`, no HMAC confusion), our issuer and audience, expiry
checked against the platform clock.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Literal

import jwt
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from proto import subjects
from proto.errors import Forbidden, Unauthenticated
from services.kernel.clock import Clock
from services.kernel.logging import get_logger
from services.kernel.streams import ensure_kv

log = get_logger("auth")

ISSUER = "lotse-identity"
AUDIENCE = "lotse"
ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class Principal:
    account_id: str
    role: Literal["admin", "member"]
    session_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only platform administrators may do this")


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TokenVerifier:
    def __init__(self, clock: Clock, replicas: int = 1):
        self._clock = clock
        self._replicas = replicas
        self._keys: dict[str, jwt.PyJWK] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self, js: JetStreamContext) -> None:
        kv = await ensure_kv(js, subjects.KV_JWKS, replicas=self._replicas)
        self._task = asyncio.create_task(self._watch(kv), name="jwks-watch")
        await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def _watch(self, kv: KeyValue) -> None:
        while True:
            try:
                watcher = await kv.watchall()
                async for entry in watcher:
                    if entry is None:  # initial values delivered
                        self._ready.set()
                        continue
                    if entry.operation in ("DEL", "PURGE") or not entry.value:
                        self._keys.pop(entry.key, None)
                    else:
                        self._keys[entry.key] = jwt.PyJWK(json.loads(entry.value), algorithm=ALGORITHM)
                    self._ready.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("auth.jwks_watch_failed")
                await asyncio.sleep(1)

    @property
    def key_ids(self) -> set[str]:
        return set(self._keys)

    def verify(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("sign in first")
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(str(header.get("kid")))
            if key is None or header.get("alg") != ALGORITHM:
                raise Unauthenticated("the access token is not valid; sign in again")
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                # Expiry is ours to check, against the platform clock that tests can move.
                options={"require": ["exp", "iat", "sub", "role"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise Unauthenticated("the access token is not valid; sign in again") from None
        if claims["exp"] <= self._clock.now().timestamp():
            raise Unauthenticated("the access token has expired; refresh the session")
        if claims["role"] not in ("admin", "member"):
            raise Unauthenticated("the access token is not valid; sign in again")
        return Principal(account_id=str(claims["sub"]), role=claims["role"], session_id=claims.get("sid"))
