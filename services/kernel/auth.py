"""Verifying access tokens in every service, with identity's public keys and revocation list.

Identity publishes its public keys (JWKs, one per `kid`) in the `identity-jwks` bucket, and
the access tokens it voids before they expire (ended sessions, per-account cutoffs) in the
`identity-revocations` bucket; each process watches both (services/kernel/kvwatch.py), so
a key rotation or a sign-out reaches every replica at once. Nothing trusts a claim it
cannot verify: EdDSA only (no `none`, no HMAC confusion), our issuer and audience, expiry
checked against the platform clock, and no token of an ended session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jwt
from nats.aio.client import Client as NATS
from nats.js.kv import KeyValue

from proto import subjects
from proto.errors import Forbidden, Unauthenticated
from proto.identity import REVOCATION_RETENTION
from services.kernel.clock import Clock
from services.kernel.kvwatch import BucketWatch
from services.kernel.logging import get_logger
from services.kernel.revocations import RevocationList
from services.kernel.streams import ensure_kv

log = get_logger("auth")

ISSUER = "lotse-identity"
AUDIENCE = "lotse"
ALGORITHM = "EdDSA"


SESSION_ENDED = "this session has ended; sign in again"


class TokenRevoked(Unauthenticated):
    """UNAUTHENTICATED because identity voided the token: its session ended, or its role changed."""


@dataclass(frozen=True)
class Principal:
    account_id: str
    role: Literal["admin", "member"]
    session_id: str | None
    # The account's version (stream sequence of its last event) the token was issued
    # from, its `ver` claim: 0 for tokens from before the claim existed.
    issued_at_version: int = 0
    scope: str | None = None  # None for an access token; else the one thing the token is for

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
        self.revocations = RevocationList(clock)
        self._watches: list[BucketWatch] = []

    async def start(self, nc: NATS) -> None:
        """Returns once both buckets' current entries are in: no token is judged on half a list."""
        js = nc.jetstream()
        jwks = await ensure_kv(js, subjects.KV_JWKS, replicas=self._replicas)
        revocations = await ensure_kv(js, subjects.KV_REVOCATIONS, ttl=REVOCATION_RETENTION,
                                      replicas=self._replicas)
        for kv, on_entry, name in ((jwks, self._on_key, "jwks"),
                                   (revocations, self.revocations.apply, "revocations")):
            watch = BucketWatch(nc, kv, on_entry, name)
            await watch.start()
            self._watches.append(watch)

    async def stop(self) -> None:
        for watch in self._watches:
            await watch.stop()
        self._watches.clear()

    def _on_key(self, entry: KeyValue.Entry) -> None:
        if entry.operation in ("DEL", "PURGE") or not entry.value:
            self._keys.pop(entry.key, None)
            return
        try:
            self._keys[entry.key] = jwt.PyJWK(json.loads(entry.value), algorithm=ALGORITHM)
        except (ValueError, jwt.PyJWTError):
            log.error("auth.unreadable_key", kid=entry.key)

    def on_revocation(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(account_id)` whenever a revocation for that account arrives."""
        return self.revocations.listen(listener)

    def revoked(self, principal: Principal) -> bool:
        return self.revocations.refuses(principal.account_id, principal.session_id, principal.issued_at_version)

    @property
    def key_ids(self) -> set[str]:
        return set(self._keys)

    def verify(self, token: str | None) -> Principal:
        """An access token's caller; a scoped credential is refused here."""
        principal = self._verify(token)
        if principal.scope is not None:
            raise Unauthenticated("the access token is not valid; sign in again")
        return principal

    def verify_scoped(self, token: str | None, scope: str) -> Principal:
        """The caller of a credential issued for `scope` alone; an access token is refused."""
        principal = self._verify(token)
        if principal.scope != scope:
            raise Unauthenticated("this needs a credential for this purpose; open the link again")
        return principal

    def _verify(self, token: str | None) -> Principal:
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
        version = claims.get("ver", 0)
        scope = claims.get("scp")
        if claims["role"] not in ("admin", "member") or type(version) is not int or (
                scope is not None and type(scope) is not str):
            raise Unauthenticated("the access token is not valid; sign in again")
        principal = Principal(account_id=str(claims["sub"]), role=claims["role"], session_id=claims.get("sid"),
                              issued_at_version=version, scope=scope)
        if self.revoked(principal):
            raise TokenRevoked(SESSION_ENDED)
        return principal
