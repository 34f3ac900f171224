"""What identity holds about a person, and how it lets go of it (services/kernel/privacy.py).

Exported: the account as its owner sees it, and its live sessions (ids and how long their
refresh tokens last; never a token or a hash). Erasure: `delete_account` appends the
tombstone, the view drops the row with it, and this erases every earlier event on the
account's subject, each message with its bytes overwritten. The username and address
claims were given back by `delete_account` already.
"""

from __future__ import annotations

from collections.abc import Callable

import aiosqlite

from proto.identity import AccountDeleted
from proto.privacy import ErasureBlocker, JsonObject
from services.identity import domain, replies, views
from services.kernel.eventstore import EventStore
from services.kernel.logging import get_logger
from services.kernel.readers import Database

log = get_logger("identity.privacy")

ACCOUNT = "account"  # the aggregate


class IdentityPersonalData:
    def __init__(self, reader: Callable[[], Database], store: Callable[[], EventStore]):
        self._reader = reader
        self._store = store

    async def export(self, account_id: str) -> JsonObject:
        state = await views.by_id(self._reader(), account_id)
        if state is None:
            return {}
        return {
            "account": replies.account(state).model_dump(mode="json"),
            "sessions": [
                {"id": session.id, "refresh_token_expires_at": session.expires_at.isoformat()}
                for session in sorted(state.sessions.values(), key=lambda s: s.expires_at)
            ],
        }

    async def blockers(self, account_id: str) -> list[ErasureBlocker]:
        state = await views.by_id(self._reader(), account_id)
        if state is None:
            return []
        blocker = domain.erasure_blocker(state, admins=await views.admin_count(self._reader()))
        return [blocker] if blocker else []

    async def erase(self, account_id: str, db: aiosqlite.Connection) -> None:
        store = self._store()
        earlier = [stored.seq for stored in await store.events_of(ACCOUNT, account_id)
                   if stored.envelope is None or stored.envelope.type != AccountDeleted.TYPE]
        erased = await store.erase(earlier)
        log.info("identity.account_events_erased", account_id=account_id, erased=erased)
