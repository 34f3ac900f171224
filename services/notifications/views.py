"""Notifications' SQLite view. Its stream holds no events yet, so the view holds no tables
beyond the projector's own bookkeeping."""

from __future__ import annotations

import aiosqlite

from proto.envelope import Envelope


class NotificationsView:
    SCHEMA = ""

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        return None
