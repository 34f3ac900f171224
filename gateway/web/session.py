"""The web client's session: identity's tokens, sealed into an HttpOnly cookie.

The cookie holds the access token (15 minutes) and the single-use refresh token, encrypted
and authenticated with the gateway's key (gateway/web/keys.py): script in the page cannot
read it (HttpOnly), another site cannot send it along on a form post (SameSite=Lax, plus
the CSRF check), and a gateway replica needs nothing but the key to read it — the gateway
keeps no session state of its own.

A page request uses the access token while it has more than `REFRESH_MARGIN` to live and
the token verifier (which watches identity's revocation list) still accepts it. Otherwise
the page trades the refresh token for a new pair and sends the new cookie with its answer.

A refresh token works once; identity ends the session of one used twice (it may have been
stolen). A browser loading a page and two fragments at once, all with the same expired
access token, would do just that — so refreshes are single-flight per refresh token in
this process, and the new pair is remembered for `REUSE_WINDOW` for requests that still
carry the old cookie. (Behind a load balancer, sticky sessions are not needed for
correctness but keep this window effective: requests of one browser that race on two
replicas within a second of expiry can still end the session, and the person signs in again.)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography.fernet import Fernet, InvalidToken

from proto import identity
from proto.client import LotseClient
from proto.common import Caller

REFRESH_MARGIN = timedelta(seconds=30)  # a token this close to its end might expire in flight
REUSE_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class WebSession:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime

    @classmethod
    def of(cls, session: identity.Session) -> "WebSession":
        return cls(session.access_token, session.access_expires_at, session.refresh_token,
                   session.refresh_expires_at)

    def seal(self, fernet: Fernet) -> str:
        body = {"a": self.access_token, "ae": self.access_expires_at.timestamp(),
                "r": self.refresh_token, "re": self.refresh_expires_at.timestamp()}
        return fernet.encrypt(json.dumps(body, separators=(",", ":")).encode()).decode()

    @classmethod
    def unseal(cls, fernet: Fernet, value: str) -> "WebSession | None":
        """None for anything that is not a cookie we sealed (tampered, another key, garbage)."""
        try:
            body = json.loads(fernet.decrypt(value.encode()))
            return cls(str(body["a"]), datetime.fromtimestamp(float(body["ae"]), timezone.utc),
                       str(body["r"]), datetime.fromtimestamp(float(body["re"]), timezone.utc))
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None

    def needs_refresh(self, now: datetime) -> bool:
        return self.access_expires_at - now < REFRESH_MARGIN


@dataclass
class Refresher:
    """Single-flight refreshes: one identity request per refresh token, its answer shared."""

    _inflight: dict[str, asyncio.Future[identity.Session]] = field(default_factory=dict)
    _recent: dict[str, tuple[datetime, identity.Session]] = field(default_factory=dict)

    async def refresh(self, client: LotseClient, refresh_token: str, caller: Caller,
                      now: datetime) -> identity.Session:
        key = hashlib.sha256(refresh_token.encode()).hexdigest()  # no raw token as a dict key
        self._forget_before(now)
        if (recent := self._recent.get(key)) is not None:
            return recent[1]
        if (pending := self._inflight.get(key)) is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[identity.Session] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            session = await client.identity.refresh_session(identity.RefreshSession(refresh_token=refresh_token),
                                                            caller)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as e:
            future.set_exception(e)
            future.exception()  # marked as retrieved: perhaps nobody else is waiting
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(session)
        self._recent[key] = (now + REUSE_WINDOW, session)
        return session

    def _forget_before(self, now: datetime) -> None:
        for key in [k for k, (until, _) in self._recent.items() if until <= now]:
            del self._recent[key]
