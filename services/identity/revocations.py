"""Writing the revocation list: identity voids access tokens the moment a session ends.

Refresh tokens end with the event itself (the view marks the session ended); access
tokens are checked by every verifier without asking identity, so what an event voids
(`domain.revocation`) goes into the `identity-revocations` bucket, which every verifier
watches (services/kernel/revocations.py reads it).

It is written *before* the event is appended (IdentityService._change). A crash between
the two then leaves a revocation without its event — tokens refused that could have
stayed valid, and the person signs in again — never an event without its revocation,
which would leave a signed-out session's token working for up to 15 minutes with nothing
to correct it. Reconciling from the stream at start instead would leave that hole open
until some identity replica restarts. A retried command (wrong last sequence) decides
again on the fresh state and writes again; every write is idempotent or only raises a cutoff.
"""

from __future__ import annotations

import nats.js.errors
from nats.js.kv import KeyValue

from proto import subjects
from proto.errors import Unavailable
from proto.identity import REVOCATION_RETENTION, RevokedSession, RevokedTokens
from services.identity.domain import Revocation
from services.kernel.clock import Clock
from services.kernel.logging import get_logger

log = get_logger("identity.revocations")

CUTOFF_ATTEMPTS = 5  # compare-and-set rounds against other replicas raising the same cutoff


class Revoker:
    def __init__(self, kv: KeyValue, clock: Clock):
        self._kv = kv
        self._clock = clock

    async def write(self, account_id: str, revocation: Revocation) -> None:
        until = self._clock.now() + REVOCATION_RETENTION
        for session_id in sorted(revocation.sessions):
            entry = RevokedSession(account_id=account_id, until=until)
            await self._kv.put(subjects.revoked_session_key(session_id), entry.model_dump_json().encode())
        if revocation.issued_up_to is not None:
            await self._raise_cutoff(account_id, RevokedTokens(issued_up_to=revocation.issued_up_to, until=until))
        log.info("identity.tokens_revoked", account_id=account_id, sessions=len(revocation.sessions),
                 issued_up_to=revocation.issued_up_to)

    async def _raise_cutoff(self, account_id: str, cutoff: RevokedTokens) -> None:
        """Set the account's cutoff to at least `cutoff`, never lower: two replicas may race."""
        key = subjects.revoked_tokens_key(account_id)
        value = cutoff.model_dump_json().encode()
        for _ in range(CUTOFF_ATTEMPTS):
            try:
                entry = await self._kv.get(key)
            except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                entry = None
            try:
                if entry is None or not entry.value:
                    await self._kv.create(key, value)
                    return
                if RevokedTokens.model_validate_json(entry.value).issued_up_to > cutoff.issued_up_to:
                    return  # a later change already voided more
                await self._kv.update(key, value, last=entry.revision)
                return
            except nats.js.errors.KeyWrongLastSequenceError:
                continue  # someone wrote in between: read again
        raise Unavailable("signing out is busy right now; try again in a moment")
