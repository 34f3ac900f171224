"""What notifications holds about a person, and how it lets go of it (services/kernel/privacy.py).

Held: whom and what the person follows and how it is mailed, their mail settings, their
inbox and read marks, their digests, and a copy of their address, name and locale (for the
mail). Erasure removes all of that from the view, and the person's own events (follows,
settings, read marks, digests: the subscriber subject) from the NOTIFICATIONS stream. The
delivery events that told them of items keep only their opaque account id beside everyone
else's; a rebuilt view skips it (the tombstone is noted). Nothing here blocks an erasure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiosqlite

from proto import notifications as api
from proto.privacy import ErasureBlocker, JsonObject
from services.kernel.logging import get_logger
from services.notifications import views

if TYPE_CHECKING:
    from services.notifications.service import NotificationsService

log = get_logger("notifications.privacy")


class NotificationsPersonalData:
    def __init__(self, service: NotificationsService):
        self._service = service

    async def export(self, account_id: str) -> JsonObject:
        return await views.export(self._service.db, account_id)  # type: ignore[return-value]

    async def blockers(self, account_id: str) -> list[ErasureBlocker]:
        return []

    async def erase(self, account_id: str, db: aiosqlite.Connection) -> None:
        store = self._service.store
        assert store is not None
        stored = await store.events_of(api.AGGREGATE_SUBSCRIBER, account_id)
        await store.erase([event.seq for event in stored])
        await views.forget(db, account_id)
        log.info("notifications.person_erased", account_id=account_id)
