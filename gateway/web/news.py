"""An item's page (`/news/<id>`): where the feeds' entries and calendar events link to.

Thin like a resolver: the news service decides what the person may see (a members-only
item for signed-in people, a draft for the actor's editors) and answers NOT_FOUND for the
rest, which is the usual problem page. The body is the news service's sanitised rendering
(markdown-it-py, then nh3), the only text the template marks safe. A page that anyone may
see is cacheable; any other is personal (no-store), as the directory's pages are.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gateway.web.page import Page, page_of
from proto import news

router = APIRouter(include_in_schema=False)


def occurrence_text(page: Page, item: news.NewsItem) -> str | None:
    """When an event takes place next (or took place last), in its own time zone."""
    event = item.event
    if event is None:
        return None
    upcoming = event.next_occurrence
    start: datetime = upcoming.local_start if upcoming else event.starts_at
    end: datetime = upcoming.local_end if upcoming else event.ends_at
    if event.all_day:
        last = end.strftime("%d.%m.%Y") if page.lang == "de" else end.strftime("%Y-%m-%d")
        first = start.strftime("%d.%m.%Y") if page.lang == "de" else start.strftime("%Y-%m-%d")
        return first if first == last else f"{first} – {last}"
    day = start.strftime("%d.%m.%Y" if page.lang == "de" else "%Y-%m-%d")
    return f"{day}, {start:%H:%M}–{end:%H:%M} ({event.time_zone})"


@router.get("/news/{item_id}")
async def news_item(item_id: str, read: str = "", page: Page = Depends(page_of)) -> Response:
    """`read`: the version to read (one of the item's languages); else the page's language
    when the item has it, else its original. The other versions are links on the page."""
    wanted = [code for code in (read.strip().lower(), page.lang) if code]
    item = await page.ask(page.gateway.client.news.get_item,
                          lambda: news.GetNewsItem(id=item_id, lang=list(dict.fromkeys(wanted))))
    public = item.status == "published" and item.visibility == "public"
    members_only = item.status == "published" and item.visibility == "members"
    event = item.kind == "event" and public
    return page.render("news_item.html", title=item.title, item=item, when=occurrence_text(page, item),
                       ics=f"/events/{item.id}.ics" if event else None, saveable=event, chosen=bool(read.strip()),
                       editable=f"/contribute/news/{item.id}" if item.may_edit else None,
                       personal=not (public or members_only) or item.may_edit, members=members_only)
