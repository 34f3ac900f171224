"""Unsubscribe links: a token that names one person's follow (or one digest cadence of theirs)
and proves the platform made it — no sign-in, nothing stored.

The token is `<account>.<scope>.<mac>`: scope `f-<follow id>` (that follow's mail) or
`d-daily` / `d-weekly` (the follows mailed in that digest); the MAC is HMAC-SHA256 under a
key derived from the platform secret (LOTSE_SECRET_KEY, shared by every replica), cut to
128 bits. A token never expires (a mail read months later must still unsubscribe) and
grants nothing but turning mail off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from proto.errors import Invalid

INVALID = "this unsubscribe link is not valid (it may be cut short: open it from the mail again)"


@dataclass(frozen=True)
class Scope:
    account_id: str
    follow_id: str | None = None
    digest: str | None = None  # "daily" | "weekly"


class UnsubscribeLinks:
    def __init__(self, secret: bytes):
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                         info=b"lotse unsubscribe links").derive(secret)

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def token(self, scope: Scope) -> str:
        part = f"f-{scope.follow_id}" if scope.follow_id else f"d-{scope.digest}"
        text = f"{scope.account_id}.{part}"
        return f"{text}.{self._mac(text)}"

    def read(self, token: str) -> Scope:
        """The scope a token names; Invalid (field `token`) for anything the platform did not make."""
        account_id, _, rest = token.strip().partition(".")
        part, _, mac = rest.partition(".")
        text = f"{account_id}.{part}"
        if not account_id or not mac or not hmac.compare_digest(mac, self._mac(text)):
            raise Invalid(INVALID, "token")
        kind, _, value = part.partition("-")
        if kind == "f" and value:
            return Scope(account_id, follow_id=value)
        if kind == "d" and value in ("daily", "weekly"):
            return Scope(account_id, digest=value)
        raise Invalid(INVALID, "token")
