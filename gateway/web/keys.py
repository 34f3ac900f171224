"""The gateway's own secret: what seals the web client's session cookies and CSRF tokens.

Every gateway replica must read the same key (`LOTSE_SESSION_KEY`), or a cookie sealed by
one is noise to the next. On one machine (`lotse dev`) a random key is generated once into
the data directory. Two keys are derived from it, one per use, so neither use can be turned
against the other.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.kernel.logging import get_logger
from services.kernel.settings import Settings

log = get_logger("gateway.web")


def session_secret(settings: Settings) -> bytes:
    if settings.session_key is not None:
        return settings.session_key.get_secret_value().encode()
    path: Path = settings.data_dir / "session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another gateway process on this machine made it a moment ago
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(base64.urlsafe_b64encode(os.urandom(32)))
            log.info("web.session_key_generated", file=str(path))
    return path.read_bytes().strip()


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


@dataclass(frozen=True)
class WebKeys:
    cookies: Fernet  # seals the session cookie: encrypted and authenticated
    csrf: bytes  # HMAC key binding a form's CSRF token to the browser's CSRF cookie

    @classmethod
    def of(cls, settings: Settings) -> "WebKeys":
        secret = session_secret(settings)
        return cls(
            cookies=Fernet(base64.urlsafe_b64encode(_derive(secret, b"lotse web session cookie"))),
            csrf=_derive(secret, b"lotse web csrf"),
        )
