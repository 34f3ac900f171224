"""Answers shaped from the view: follows with their targets' names, inbox pages."""

from __future__ import annotations

from collections.abc import Sequence

from proto import notifications as api
from services.kernel.readers import Database
from services.notifications import views
from services.notifications.domain import FollowState


async def follows(db: Database, found: Sequence[FollowState]) -> list[api.Follow]:
    names = await views.target_names(db, [f.target for f in found])
    return [api.Follow(id=f.id, target=f.target, target_name=names[(f.target.type, f.target.key)], email=f.email,
                       automatic=f.automatic, created_at=f.created_at) for f in found]


def connection(rows: Sequence[views.InboxRow], *, first: int, after: str | None,
               unread: int) -> api.NotificationConnection:
    page = rows[:first]
    edges = [api.NotificationEdge(cursor=row.id, node=row.reply()) for row in page]
    return api.NotificationConnection(edges=edges, unread_count=unread, page_info=api.PageInfo(
        has_next_page=len(rows) > first, has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))


def mail_settings(settings: api.MailSettings) -> api.MailSettingsInfo:
    return api.MailSettingsInfo(**settings.model_dump())
