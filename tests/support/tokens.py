"""Access tokens for tests of services other than identity.

A test key pair stands in for identity's: its public JWK goes into the `identity-jwks`
bucket (which every service watches), and tokens are signed the way identity signs them
(EdDSA, `kid` header, iss `lotse-identity`, aud `lotse`, sub, role, sid, iat, exp, and
`ver` when asked for).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from nats.js import JetStreamContext

from proto import subjects
from proto.envelope import new_id
from services.kernel.auth import ALGORITHM, AUDIENCE, ISSUER
from services.kernel.clock import Clock
from services.kernel.streams import ensure_kv


class TestIssuer:
    """Signs access tokens with a key that services trust once `publish` has run."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, clock: Clock, kid: str | None = None):
        self.clock = clock
        self.kid = kid or f"test-{new_id().lower()}"
        self._key = Ed25519PrivateKey.generate()

    def jwk(self) -> dict[str, str]:
        jwk = OKPAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    async def publish(self, js: JetStreamContext) -> None:
        kv = await ensure_kv(js, subjects.KV_JWKS)
        await kv.put(self.kid, json.dumps(self.jwk()).encode())

    def token(self, account_id: str, role: str = "member", *, lifetime: timedelta = timedelta(minutes=15),
              issued_at: datetime | None = None, session_id: str | None = None, version: int | None = None,
              scope: str | None = None) -> str:
        now = issued_at or self.clock.now()
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": account_id, "role": role, "sid": session_id or new_id(),
            "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp()), "jti": new_id(),
        }
        if version is not None:
            claims["ver"] = version  # the account version it was issued from, as identity signs it
        if scope is not None:
            claims["scp"] = scope  # a credential for one purpose, as identity's data-export grant
            del claims["sid"]
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})
