"""News' GraphQL object types, each made from its `proto.news` reply.

An item is read in the caller's language (`lang`, else the request's Accept-Language),
falling back to its original; `language` says which one it is. Lists carry no bodies:
`body` and `bodyHtml` of a listed item are loaded by id, batched, when a query asks for them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from gateway.context import GatewayInfo
from gateway.news_live import Publication
from gateway.schema.directory_types import Actor, PostalAddress, RegionRef, query_request
from gateway.schema.errors import ask
from gateway.schema.loaders import actor_loader, news_item_loader
from proto import news as contract
from proto.news import News


@strawberry.enum(description="What an item is.")
class NewsKind(Enum):
    ARTICLE = "article"
    PRESS_RELEASE = "press-release"
    EVENT = "event"
    FUNDING_PROGRAMME = "funding-programme"


@strawberry.enum(description="Where an item stands: drafts and scheduled items are the actor's editors' only.")
class NewsStatus(Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@strawberry.enum(description="PUBLIC: anyone, feeds included. MEMBERS: signed-in people only, never in a feed.")
class NewsVisibility(Enum):
    PUBLIC = "public"
    MEMBERS = "members"


@strawberry.enum(description="Derived from the deadline: CLOSING_SOON within 14 days, CLOSED after it.")
class FundingStatus(Enum):
    OPEN = "open"
    CLOSING_SOON = "closing-soon"
    CLOSED = "closed"


@strawberry.type(description="The actor an item is published by.")
class NewsActor:
    id: strawberry.ID
    name: str
    slug: str

    @strawberry.field(description="The actor's directory entry; null when the caller may not see it.")
    async def entry(self, info: GatewayInfo) -> Actor | None:
        found = await actor_loader(info).load(str(self.id))
        return Actor.of(found) if found is not None else None


@strawberry.type(description="Who wrote an item (signed-in callers only: a name is personal data).")
class NewsAuthor:
    id: strawberry.ID
    display_name: str | None


@strawberry.type
class NewsImage:
    url: str
    alt: str


@strawberry.type(description="A language version of an item.")
class NewsTranslation:
    language: str
    title: str


@strawberry.type(description="One occurrence of an event: UTC, and the wall-clock time where it takes place.")
class EventOccurrence:
    starts_at: datetime
    ends_at: datetime
    local_start: datetime = strawberry.field(description="Local time in the event's time zone (no offset).")
    local_end: datetime
    all_day: bool
    cancelled: bool
    moved: bool
    recurrence_id: datetime | None = strawberry.field(
        description="For a repeating event: the local start the rule gave this occurrence (its RECURRENCE-ID).")

    @classmethod
    def of(cls, o: contract.Occurrence) -> "EventOccurrence":
        return cls(starts_at=o.starts_at, ends_at=o.ends_at, local_start=o.local_start, local_end=o.local_end,
                   all_day=o.all_day, cancelled=o.cancelled, moved=o.moved, recurrence_id=o.recurrence_id)


@strawberry.type(description="An occurrence of a repeating event that is cancelled or moved.")
class ChangedOccurrence:
    occurrence: datetime = strawberry.field(description="Its start as the rule gives it (local time).")
    cancelled: bool
    starts_at: datetime | None
    ends_at: datetime | None


@strawberry.type(description="When and where an event takes place. Times are local to `timeZone`.")
class NewsEvent:
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    time_zone: str
    recurrence: str | None = strawberry.field(description="The RRULE, as stored (UNTIL in UTC).")
    changed_occurrences: list[ChangedOccurrence]
    place_name: str | None
    address: PostalAddress | None
    online_url: str | None
    organiser: str | None
    registration_url: str | None
    registration_on_lotse: bool = strawberry.field(
        description="Registration through Lotse itself (arrives with its own feature).")
    cancelled: bool
    next_occurrence: EventOccurrence | None = strawberry.field(description="The next one that has not ended.")
    occurrence_count: int

    @classmethod
    def of(cls, e: contract.EventInfo) -> "NewsEvent":
        return cls(
            starts_at=e.starts_at, ends_at=e.ends_at, all_day=e.all_day, time_zone=e.time_zone,
            recurrence=e.recurrence,
            changed_occurrences=[ChangedOccurrence(occurrence=c.occurrence, cancelled=c.cancelled,
                                                   starts_at=c.starts_at, ends_at=c.ends_at)
                                 for c in e.changed_occurrences],
            place_name=e.place_name, address=PostalAddress.of(e.address), online_url=e.online_url,
            organiser=e.organiser, registration_url=e.registration_url,
            registration_on_lotse=e.registration_on_lotse, cancelled=e.cancelled,
            next_occurrence=EventOccurrence.of(e.next_occurrence) if e.next_occurrence else None,
            occurrence_count=e.occurrence_count,
        )


@strawberry.type(description="Who funds what, how much, until when, for whom. Amounts in euros.")
class NewsFunding:
    funder: str
    amount_min: int | None
    amount_max: int | None
    budget: int | None
    deadline: date | None = strawberry.field(description="The last day to apply; null when rolling.")
    rolling: bool
    eligible_applicants: list[str] = strawberry.field(description="Actor-kind slugs (see `actorKinds`).")
    status: FundingStatus

    @classmethod
    def of(cls, f: contract.FundingInfo) -> "NewsFunding":
        return cls(funder=f.funder, amount_min=f.amount_min, amount_max=f.amount_max, budget=f.budget,
                   deadline=f.deadline, rolling=f.rolling, eligible_applicants=list(f.eligible_applicants),
                   status=FundingStatus(f.status))


@strawberry.type(description="One change of an item: which event, when, by whom, which fields.")
class NewsHistoryEntry:
    version: int
    type: str = strawberry.field(description="What happened, e.g. item_updated, item_published.")
    occurred_at: datetime
    by_id: strawberry.ID | None
    by_display_name: str | None
    changes: list[str] = strawberry.field(description="The changed fields (camelCase).")


@strawberry.type(description="An article, press release, event or funding programme, as the caller may see it.")
class NewsItem:
    id: strawberry.ID
    kind: NewsKind
    status: NewsStatus
    version: int = strawberry.field(description="Send back as `expectedVersion` when updating.")
    actor: NewsActor
    author: NewsAuthor | None
    language: str = strawberry.field(description="The language of this version (asked for, or the original).")
    original_language: str
    available_languages: list[str]
    translations: list[NewsTranslation]
    title: str
    summary: str
    topics: list[str]
    regions: list[RegionRef]
    link: str | None = strawberry.field(description="The canonical address, when published elsewhere first.")
    tags: list[str]
    image: NewsImage | None
    visibility: NewsVisibility
    event: NewsEvent | None
    funding: NewsFunding | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    scheduled_for: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None = strawberry.field(description="For the actor's editors and admins.")
    may_edit: bool = strawberry.field(description="Whether the caller is an owner or editor of the actor.")
    reply: strawberry.Private[contract.NewsItem]
    lang: strawberry.Private[tuple[str, ...]]

    async def _full(self, info: GatewayInfo) -> contract.NewsItem | None:
        if self.reply.body is not None:
            return self.reply
        return await news_item_loader(info, self.lang).load(str(self.id))

    @strawberry.field(description="The text as written (Markdown).")
    async def body(self, info: GatewayInfo) -> str | None:
        full = await self._full(info)
        return full.body if full else None

    @strawberry.field(description="The text rendered to sanitised HTML: no script, no remote images; "
                                  "links carry rel=\"nofollow noopener noreferrer\".")
    async def body_html(self, info: GatewayInfo) -> str | None:
        full = await self._full(info)
        return full.body_html if full else None

    @strawberry.field(description="The item's page on Lotse.")
    def url(self, info: GatewayInfo) -> str:
        return info.context.gateway.settings.link(self.reply.path)

    @strawberry.field(description="Events: the event as an iCalendar file (public, published events).")
    def ics_url(self, info: GatewayInfo) -> str | None:
        if self.reply.kind != "event":
            return None
        return info.context.gateway.settings.link(f"/events/{self.id}.ics")

    @strawberry.field(description="The actor's editors and admins: who changed what, when (newest first).")
    async def history(self, info: GatewayInfo) -> list[NewsHistoryEntry]:
        request = query_request(lambda: contract.GetItemHistory(item_id=str(self.id)))
        reply = await ask(info, request, News.item_history)
        return [NewsHistoryEntry(version=e.version, type=e.type, occurred_at=e.occurred_at,
                                 by_id=strawberry.ID(e.by) if e.by else None, by_display_name=e.by_display_name,
                                 changes=e.changes) for e in reply.entries]

    @classmethod
    def of(cls, item: contract.NewsItem, lang: tuple[str, ...] = ()) -> "NewsItem":
        return cls(
            id=strawberry.ID(item.id), kind=NewsKind(item.kind), status=NewsStatus(item.status), version=item.version,
            actor=NewsActor(id=strawberry.ID(item.actor.id), name=item.actor.name, slug=item.actor.slug),
            author=NewsAuthor(id=strawberry.ID(item.author.id), display_name=item.author.display_name)
            if item.author else None,
            language=item.language, original_language=item.original_language,
            available_languages=item.available_languages,
            translations=[NewsTranslation(language=t.language, title=t.title) for t in item.translations],
            title=item.title, summary=item.summary, topics=item.topics,
            regions=[RegionRef.of(r) for r in item.regions], link=item.link, tags=item.tags,
            image=NewsImage(url=item.image.url, alt=item.image.alt) if item.image else None,
            visibility=NewsVisibility(item.visibility),
            event=NewsEvent.of(item.event) if item.event else None,
            funding=NewsFunding.of(item.funding) if item.funding else None,
            created_at=item.created_at, updated_at=item.updated_at, published_at=item.published_at,
            scheduled_for=item.scheduled_for, withdrawn_at=item.withdrawn_at,
            withdrawal_reason=item.withdrawal_reason, may_edit=item.may_edit, reply=item, lang=lang,
        )


@strawberry.type
class NewsPageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, info: contract.PageInfo) -> "NewsPageInfo":
        return cls(has_next_page=info.has_next_page, has_previous_page=info.has_previous_page,
                   start_cursor=info.start_cursor, end_cursor=info.end_cursor)


@strawberry.type
class NewsItemEdge:
    cursor: str
    node: NewsItem


@strawberry.type(description="A page of items (Relay connection).")
class NewsItemConnection:
    edges: list[NewsItemEdge]
    page_info: NewsPageInfo

    @classmethod
    def of(cls, reply: contract.NewsConnection, lang: tuple[str, ...]) -> "NewsItemConnection":
        return cls(edges=[NewsItemEdge(cursor=e.cursor, node=NewsItem.of(e.node, lang)) for e in reply.edges],
                   page_info=NewsPageInfo.of(reply.page_info))


@strawberry.type
class EventOccurrenceEdge:
    cursor: str
    node: EventOccurrence
    item: NewsItem


@strawberry.type(description="Occurrences of events by start (repeating events expanded).")
class EventOccurrenceConnection:
    edges: list[EventOccurrenceEdge]
    page_info: NewsPageInfo

    @classmethod
    def of(cls, reply: contract.OccurrenceConnection, lang: tuple[str, ...]) -> "EventOccurrenceConnection":
        return cls(edges=[EventOccurrenceEdge(cursor=e.cursor, node=EventOccurrence.of(e.occurrence),
                                              item=NewsItem.of(e.item, lang)) for e in reply.edges],
                   page_info=NewsPageInfo.of(reply.page_info))


@strawberry.type(description="An item that was just published (pushed by `newsPublished`).")
class NewsPublication:
    item_id: strawberry.ID
    kind: NewsKind
    title: str = strawberry.field(description="In the subscriber's language when the item has it.")
    summary: str
    language: str
    topics: list[str]
    region_keys: list[str] = strawberry.field(description="The item's regions (AGS).")
    actor_id: strawberry.ID
    actor_name: str
    published_at: datetime
    scheduled: bool = strawberry.field(description="Published by the platform at the time its editors set.")
    path: strawberry.Private[str]
    lang: strawberry.Private[tuple[str, ...]]
    seq: strawberry.Private[int]

    @strawberry.field(description="The item's page on Lotse.")
    def url(self, info: GatewayInfo) -> str:
        return info.context.gateway.settings.link(self.path)

    @strawberry.field(description="The whole item, as the subscriber may see it.")
    async def item(self, info: GatewayInfo) -> NewsItem | None:
        found = await news_item_loader(info, self.lang, at_least=self.seq).load(str(self.item_id))
        return NewsItem.of(found, self.lang) if found is not None else None

    @classmethod
    def of(cls, publication: Publication, lang: tuple[str, ...]) -> "NewsPublication":
        notice = publication.notice
        versions = {notice.language: (notice.title, notice.summary),
                    **{t.language: (t.title, t.summary) for t in notice.translations}}
        language = next((code for code in lang if code in versions), notice.language)
        title, summary = versions[language]
        return cls(item_id=strawberry.ID(publication.item_id), kind=NewsKind(notice.kind), title=title,
                   summary=summary, language=language, topics=list(notice.topics), region_keys=list(notice.regions),
                   actor_id=strawberry.ID(notice.actor_id), actor_name=notice.actor_name,
                   published_at=publication.published_at, scheduled=publication.scheduled, path=notice.path,
                   lang=lang, seq=publication.seq)
