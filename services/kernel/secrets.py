"""The platform secret: LOTSE_SECRET_KEY, or on one machine a random one generated once into
the data dir. Every replica of every service derives its own keys from it (identity: the
key that encrypts its signing keys; notifications: the key of its unsubscribe links)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from services.kernel.logging import get_logger
from services.kernel.settings import Settings

log = get_logger("secrets")


def platform_secret(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path: Path = settings.data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()  # another service of the same process made it just now
        with os.fdopen(fd, "wb") as f:
            f.write(base64.urlsafe_b64encode(os.urandom(32)))
        log.info("secret.generated", file=str(path))
    return path.read_bytes().strip()
