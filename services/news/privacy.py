"""What news holds about a person, and how it lets go of it (services/kernel/privacy.py).

Held: its copy of the account (address, display name, locale: for authors' bylines and the
mail to an actor's owners), which actors the account writes for (its copy of the
directory's memberships), and the account's id on the items it created and in their
history (who changed what).

Erasure drops the copy and the memberships. The items stay — they are the actor's
publications, not the person's — and so does the account id on them and on their events:
an opaque id that names nobody once the copy is gone. Bylines and history then say
`proto.privacy.FORMER_MEMBER`. Nothing blocks erasing an account here: a last owner is the
directory's concern.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import aiosqlite

from proto.privacy import ErasureBlocker, JsonObject
from services.kernel.logging import get_logger
from services.news import views

if TYPE_CHECKING:
    from services.news.service import NewsService

log = get_logger("news.privacy")


class NewsPersonalData:
    def __init__(self, service: NewsService):
        self._service = service

    async def export(self, account_id: str) -> JsonObject:
        db = self._service.db
        account = (await views.accounts_by_ids(db, [account_id])).get(account_id)
        items = await views.items_by_author(db, account_id)
        history = await views.history_by(db, account_id)
        titles = {s.id: s.content.title for s in (await views.load_items(db, list({r[0] for r in history}))).values()}
        return {
            "account": {"email": account.email, "display_name": account.display_name, "locale": account.locale}
            if account else None,
            "writes_for": [{"actor_id": actor_id, "actor_name": name, "role": role}
                           for actor_id, name, role in await views.memberships_of(db, account_id)],
            "items_written": [{"id": s.id, "title": s.content.title, "kind": s.kind, "status": s.status,
                               "actor_id": s.actor_id, "created_at": s.created_at.isoformat()} for s in items],
            "history": [{"item_id": r[0], "item_title": titles.get(r[0]), "version": r[1], "type": r[2],
                         "occurred_at": r[3], "changes": json.loads(r[4])} for r in history],
        }

    async def blockers(self, account_id: str) -> list[ErasureBlocker]:
        return []

    async def erase(self, account_id: str, db: aiosqlite.Connection) -> None:
        await views.forget_account(db, account_id)
        log.info("news.person_erased", account_id=account_id)
