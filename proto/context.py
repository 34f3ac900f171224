"""Ambient request context carried across NATS: the correlation id of the current work."""

from __future__ import annotations

from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("lotse_correlation_id", default=None)
