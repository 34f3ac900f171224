"""Time as the platform sees it. Expiry rules ask this clock, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        """Tests only: every later `now()` is `delta` later."""
        self._offset += delta


clock = Clock()
