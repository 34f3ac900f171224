"""structlog, configured once per process; everyone else calls `get_logger()`.

JSON lines in production, readable lines on a terminal. The correlation id and request id
are bound in contextvars, so every line of one piece of work carries them, across NATS
(the proto client sends the correlation id as a header, the endpoint helper binds it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys whose values never reach a log line, whoever logs them.
SECRET_KEYS = frozenset(
    {"password", "new_password", "current_password", "token", "refresh_token", "access_token",
     "authorization", "secret", "secret_key", "smtp_password", "password_hash", "token_hash"}
)

_configured = False


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event.keys() & SECRET_KEYS:
        event[key] = "[redacted]"
    return event


def configure(level: str = "info", fmt: str = "auto") -> None:
    global _configured
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _configured = True


def get_logger(name: str | None = None) -> Any:
    if not _configured:
        configure()
    return structlog.get_logger(name) if name else structlog.get_logger()
