"""Identity's signing keys: Ed25519, rotated with overlap, shared by every identity replica.

- `identity-signing-keys` holds each private key encrypted with the platform secret
  (Fernet; the secret comes from LOTSE_SECRET_KEY or, on a single machine, a generated
  file) and `current`, the kid that signs now.
- `identity-jwks` holds the public JWK of every kid that may still have live tokens; every
  service watches it (kernel/auth.py).
A key signs for ROTATION; after that it stays published for OVERLAP so tokens it signed
keep verifying until they expire, then its public key is removed.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import nats.js.errors
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwt.algorithms import OKPAlgorithm
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from proto import subjects
from proto.envelope import new_id
from services.kernel.auth import ALGORITHM, AUDIENCE, ISSUER
from services.kernel.clock import Clock
from services.kernel.logging import get_logger
from services.kernel.secrets import platform_secret
from services.kernel.settings import Settings
from services.kernel.streams import ensure_kv

log = get_logger("identity.keys")

ROTATION = timedelta(days=30)
OVERLAP = timedelta(hours=1)  # > access-token lifetime, with room for clock skew
CURRENT = "current"


def fernet_for(secret: bytes) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lotse signing keys").derive(secret)
    return Fernet(base64.urlsafe_b64encode(derived))


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey
    created_at: datetime


class KeyRing:
    def __init__(self, js: JetStreamContext, settings: Settings, clock: Clock):
        self._js = js
        self._clock = clock
        self._replicas = settings.nats_stream_replicas
        self._fernet = fernet_for(platform_secret(settings))
        self._current: SigningKey | None = None
        self._private: KeyValue | None = None
        self._public: KeyValue | None = None

    async def start(self) -> None:
        self._private = await ensure_kv(self._js, subjects.KV_SIGNING_KEYS, replicas=self._replicas)
        self._public = await ensure_kv(self._js, subjects.KV_JWKS, replicas=self._replicas)
        await self.refresh()

    async def refresh(self) -> None:
        """Load the current key; rotate when it is due; unpublish keys past their overlap."""
        assert self._private is not None and self._public is not None
        now = self._clock.now()
        try:
            entry = await self._private.get(CURRENT)
            pointer = json.loads(entry.value or b"null")
        except nats.js.errors.KeyNotFoundError:
            entry, pointer = None, None
        if pointer is None or now - datetime.fromisoformat(pointer["created_at"]) >= ROTATION:
            await self._rotate(entry.revision or 0 if entry else 0, now)
            return await self.refresh()
        if self._current is None or self._current.kid != pointer["kid"]:
            stored = await self._private.get(f"key.{pointer['kid']}")
            pem = self._fernet.decrypt(stored.value or b"")
            private = serialization.load_pem_private_key(pem, password=None)
            assert isinstance(private, Ed25519PrivateKey)
            self._current = SigningKey(pointer["kid"], private, datetime.fromisoformat(pointer["created_at"]))
        await self._prune(now)

    async def _rotate(self, last_revision: int, now: datetime) -> None:
        assert self._private is not None and self._public is not None
        kid = new_id()
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        await self._private.put(f"key.{kid}", self._fernet.encrypt(pem))
        jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
        jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig", "created_at": now.isoformat()})
        # Publish before it signs: a token must never reach a service before its key does.
        await self._public.put(kid, json.dumps(jwk).encode())
        pointer = json.dumps({"kid": kid, "created_at": now.isoformat()}).encode()
        try:
            if last_revision:
                await self._private.update(CURRENT, pointer, last=last_revision)
            else:
                await self._private.create(CURRENT, pointer)
            log.info("identity.key_rotated", kid=kid)
        except nats.js.errors.KeyWrongLastSequenceError:
            # Another replica rotated at the same moment; theirs wins, ours is withdrawn.
            await self._public.delete(kid)
            await self._private.delete(f"key.{kid}")

    async def _prune(self, now: datetime) -> None:
        """Withdraw public keys that were replaced more than OVERLAP ago."""
        assert self._public is not None and self._private is not None and self._current is not None
        try:
            kids = await self._public.keys()
        except nats.js.errors.NoKeysError:
            return
        published = []
        for kid in kids:
            entry = await self._public.get(kid)
            try:
                published.append((datetime.fromisoformat(json.loads(entry.value or b"{}")["created_at"]), kid))
            except (ValueError, KeyError, TypeError):
                # Not one of ours (put there by an operator, or a test's issuer): never
                # withdrawn here, and no reason to stop withdrawing ours.
                log.warning("identity.key_not_ours", kid=kid)
        published.sort()
        # A key was replaced when the next newer key was created.
        for (created, kid), (replaced_at, _) in zip(published, published[1:]):
            if kid != self._current.kid and now - replaced_at > OVERLAP:
                await self._public.delete(kid)
                await self._private.delete(f"key.{kid}")
                log.info("identity.key_withdrawn", kid=kid)

    def sign(self, claims: dict[str, object]) -> str:
        assert self._current is not None
        payload = {"iss": ISSUER, "aud": AUDIENCE, **claims}
        return jwt.encode(payload, self._current.private, algorithm=ALGORITHM, headers={"kid": self._current.kid})

    @property
    def current_kid(self) -> str | None:
        return self._current.kid if self._current else None
