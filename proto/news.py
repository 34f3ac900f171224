"""News' contract: articles, press releases, events and funding programmes; feeds.

An item belongs to one publishing actor of the directory; its owners and editors write it.
Lifecycle: draft → published (now, or scheduled for a later time, then published by the
service at that time) → withdrawn. Edits after publishing are kept in the history.

Vocabularies are the directory's (topics, actor kinds); regions are the directory's keys
(AGS), with the same semantics: an item for a region concerns every region inside it, so a
reader in a municipality sees the district's and the state's items too.

Partial updates (`update_item`): a field that is null (or not sent) stays as it is; a value
replaces it (an empty list empties it; `event` and `funding` replace the whole block);
an optional field is emptied by naming it in `clear` — as in the directory.

Text an editor writes: `body` is Markdown, rendered to sanitised HTML by the service (no
script, no event handler, no `javascript:` link, no remote image: an image becomes a link
with its alt text). `title`, `summary` and the other fields are plain text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from proto.common import Endpoint, Reply, Request
from proto.directory import ActorKind, Ags, Cursor, Id, PostalAddress, RegionRef, Url
from proto.envelope import Event
from proto.privacy import PersonalDataContract

SERVICE = "news"

# ---- vocabularies -----------------------------------------------------------------------

ItemKind = Literal["article", "press-release", "event", "funding-programme"]
ITEM_KINDS: tuple[str, ...] = ("article", "press-release", "event", "funding-programme")
Visibility = Literal["public", "members"]  # members: signed-in people only, never in a feed
ItemStatus = Literal["draft", "scheduled", "published", "withdrawn"]
FundingStatus = Literal["open", "closing-soon", "closed"]

DEFAULT_TIME_ZONE = "Europe/Berlin"

# ---- limits -------------------------------------------------------------------------------
# A reply carrying an item must fit one NATS message (1 MB) with its translations.
TITLE_MAX = 200
SUMMARY_MAX = 1000
BODY_MAX = 20_000  # characters of Markdown: a long article is a third of that
TRANSLATIONS_MAX = 5
TAGS_MAX = 20

# ---- field types ------------------------------------------------------------------------

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, max_length=SUMMARY_MAX)]
# Longer bodies than BODY_MAX pass the shape check so that the domain can refuse them by
# name ("body: at most 20,000 characters") instead of pydantic's generic message.
Body = Annotated[str, Field(max_length=4 * BODY_MAX)]
Language = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)]
TopicSlug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Rrule = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
TimeZone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Euros = Annotated[int, Field(ge=0, le=10_000_000_000)]
First = Annotated[int, Field(ge=1, le=100)]
Preferred = Annotated[list[Language], Field(max_length=10)]


# ---- field groups: an item's fields, spelled once -----------------------------------------

class Image(BaseModel):
    """A picture for the item: shown by clients that choose to load it; `alt` says what it shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Url
    alt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class Translation(BaseModel):
    """The item's words in another language than its original."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Language
    title: Title
    summary: Summary = ""
    body: Body = ""


class OccurrenceChange(BaseModel):
    """One occurrence of a recurring event, cancelled or moved. `occurrence`: its start as the
    rule makes it (local time in the event's time zone); moved: its new start and end."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    occurrence: datetime
    cancelled: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class EventDetails(BaseModel):
    """When and where. Times are local wall-clock times in `time_zone` (an offset sent along is
    converted to it); all-day events use the dates only, `ends_at` being the last day.
    `recurrence`: an RFC 5545 RRULE (`FREQ=WEEKLY;BYDAY=TU;UNTIL=20260630`) that ends — by UNTIL
    or COUNT, within two years and 500 occurrences."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts_at: datetime
    ends_at: datetime
    all_day: bool = False
    time_zone: TimeZone = DEFAULT_TIME_ZONE
    recurrence: Rrule | None = None
    changed_occurrences: Annotated[list[OccurrenceChange], Field(max_length=100)] = []
    place_name: Text | None = None
    address: PostalAddress | None = None
    online_url: Url | None = None
    organiser: Text | None = None
    registration_url: Url | None = None
    # Registration through Lotse itself arrives with its own issue; the flag is kept now so
    # that items written today need no migration then.
    registration_on_lotse: bool = False
    cancelled: bool = False


class FundingDetails(BaseModel):
    """Who funds what, how much, until when, for whom. Either a `deadline` (the last day to
    apply) or `rolling` (applications any time). Amounts in whole euros."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    funder: Text
    amount_min: Euros | None = None
    amount_max: Euros | None = None
    budget: Euros | None = None
    deadline: date | None = None
    rolling: bool = False
    eligible_applicants: Annotated[list[ActorKind], Field(max_length=20)] = []


class ItemContent(BaseModel):
    """Everything an editor writes about an item, as one value (events carry it whole)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Title
    summary: Summary = ""
    body: Body = ""
    language: Language = "de"
    topics: Annotated[list[TopicSlug], Field(max_length=40)] = []
    regions: Annotated[list[Ags], Field(max_length=100)] = []
    link: Url | None = None  # the canonical address, when the item is published elsewhere first
    tags: Annotated[list[Tag], Field(max_length=4 * TAGS_MAX)] = []
    image: Image | None = None
    visibility: Visibility = "public"
    translations: Annotated[list[Translation], Field(max_length=4 * TRANSLATIONS_MAX)] = []
    event: EventDetails | None = None
    funding: FundingDetails | None = None


class NoticeText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str
    title: str
    summary: str


class Notice(BaseModel):
    """What a consumer of `news.events.>` needs to decide whom to tell, without asking back.

    `region_scope`: the item's regions with every region inside and around them, at the time
    of the event — a follow of any region in it concerns the item. `path`: the item's address
    on Lotse, relative to the platform's public URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ItemKind
    actor_id: str
    actor_name: str
    language: str
    title: str
    summary: str
    translations: list[NoticeText] = []
    topics: list[str]
    regions: list[str]
    region_scope: list[str]
    visibility: Visibility
    link: str | None
    path: str
    starts_at: datetime | None = None  # events: the first occurrence, in UTC
    deadline: date | None = None  # funding programmes


# ---- replies ------------------------------------------------------------------------------

class ActorRef(Reply):
    id: str
    name: str
    slug: str


class Person(Reply):
    """An author, shown to signed-in callers only (a name is personal data)."""

    id: str
    display_name: str | None


class Occurrence(Reply):
    """One occurrence of an event, in UTC and as local wall-clock time of the event's zone."""

    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    local_end: datetime
    all_day: bool
    cancelled: bool
    moved: bool
    recurrence_id: datetime | None  # the original local start of a recurring event's occurrence


class EventInfo(Reply, EventDetails):
    """The event as written, and what follows from it."""

    model_config = ConfigDict(extra="ignore", frozen=False)

    next_occurrence: Occurrence | None = None
    occurrence_count: int = 0


class FundingInfo(Reply, FundingDetails):
    model_config = ConfigDict(extra="ignore", frozen=False)

    status: FundingStatus


class TranslationInfo(Reply):
    language: str
    title: str


class NewsItem(Reply):
    """An item as the caller may see it, in the language they asked for (`language`), or the
    original when there is no version in it. `body`/`body_html` are null in lists (ask by id).
    `version` is what update/publish/schedule send back as `expected_version`."""

    id: str
    kind: ItemKind
    status: ItemStatus
    actor: ActorRef
    author: Person | None
    language: str
    original_language: str
    available_languages: list[str]
    title: str
    summary: str
    body: str | None = None
    body_html: str | None = None
    topics: list[str]
    regions: list[RegionRef]
    link: str | None
    tags: list[str]
    image: Image | None
    visibility: Visibility
    translations: list[TranslationInfo]
    event: EventInfo | None
    funding: FundingInfo | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    scheduled_for: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    version: int
    may_edit: bool
    path: str


class NewsItemList(Reply):
    items: list[NewsItem]


class PageInfo(Reply):
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


class NewsEdge(Reply):
    cursor: str
    node: NewsItem


class NewsConnection(Reply):
    edges: list[NewsEdge]
    page_info: PageInfo


class OccurrenceEdge(Reply):
    cursor: str
    occurrence: Occurrence
    item: NewsItem


class OccurrenceConnection(Reply):
    edges: list[OccurrenceEdge]
    page_info: PageInfo


class HistoryEntry(Reply):
    version: int
    type: str  # e.g. "item_updated"
    occurred_at: datetime
    by: str | None
    by_display_name: str | None
    changes: list[str]  # camelCase field names


class ItemHistory(Reply):
    entries: list[HistoryEntry]  # newest first


class FeedStamp(Reply):
    """What a feed's conditional GET needs: `tag` changes whenever the feed's content would,
    `last_modified` is the latest change to any item the feed holds or held."""

    tag: str
    last_modified: datetime | None


class FeedEntry(Reply):
    id: str
    kind: ItemKind
    title: str
    summary: str
    body_html: str
    language: str
    link: str | None
    path: str
    actor_name: str
    topics: list[str]
    tags: list[str]
    published_at: datetime
    updated_at: datetime


class FeedPage(Reply):
    stamp: FeedStamp
    entries: list[FeedEntry]
    next_after: str | None


class CalendarPage(Reply):
    """iCalendar text: `head` (VCALENDAR properties and the VTIMEZONEs, on the first page
    only), then the events' components; the feed is `head` + every page's components +
    `END:VCALENDAR`."""

    stamp: FeedStamp
    head: str
    components: list[str]
    next_after: str | None


# ---- requests: reading --------------------------------------------------------------------

class NewsFilter(BaseModel):
    """`regions`: items for any of them, for a region around them (state- and district-wide
    items) or inside them. `from_`/`to`: published in that time. `status`: anonymous callers
    and members see published items; the actor's editors also its drafts, scheduled and
    withdrawn items; admins everything. Unset: published."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kinds: Annotated[list[ItemKind], Field(max_length=4)] = []
    topics: Annotated[list[TopicSlug], Field(max_length=40)] = []
    regions: Annotated[list[Ags], Field(max_length=20)] = []
    actors: Annotated[list[Id], Field(max_length=50)] = []
    languages: Annotated[list[Language], Field(max_length=20)] = []
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None
    status: Annotated[list[ItemStatus], Field(max_length=4)] = []


class GetNewsFeed(Request):
    """Newest first; `query`: full text fit for German (umlauts and ß match their ASCII
    spellings, parts of compounds match), in every language version. `lang`: the languages
    the reader prefers, best first."""

    filter: NewsFilter = NewsFilter()
    query: Annotated[str, Field(max_length=200)] | None = None
    first: First = 20
    after: Cursor | None = None
    lang: Preferred = []


class GetNewsItem(Request):
    id: Id
    lang: Preferred = []


class GetNewsItems(Request):
    """For DataLoaders: the visible ones among `ids`, with their bodies, in no promised order."""

    ids: Annotated[list[Id], Field(max_length=10)]  # with bodies: ten fit one NATS message
    lang: Preferred = []
    # Answer once this replica's view holds the stream up to this sequence: a live push names
    # the event it came from, and the replica asked may not have applied it yet.
    at_least: Annotated[int, Field(ge=0)] | None = None


class GetUpcomingEvents(Request):
    """Occurrences (recurring events expanded) that end after `from_` (default: now) and start
    before `to`, ordered by start; cancelled ones included, marked."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    region: Ags | None = None
    topics: Annotated[list[TopicSlug], Field(max_length=40)] = []
    actors: Annotated[list[Id], Field(max_length=50)] = []
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None
    first: First = 20
    after: Cursor | None = None
    lang: Preferred = []


class GetFundingProgrammes(Request):
    """Open programmes first (by deadline, rolling ones after), then closed ones (latest first)."""

    filter: NewsFilter = NewsFilter()
    first: First = 20
    after: Cursor | None = None
    lang: Preferred = []


class GetItemHistory(Request):
    item_id: Id


FeedKind = Literal["news", "events", "funding"]


class FeedQuery(BaseModel):
    """A feed's filter, as its query parameters give it; public items only, whoever asks."""

    model_config = ConfigDict(extra="forbid")

    regions: Annotated[list[Ags], Field(max_length=20)] = []
    topics: Annotated[list[TopicSlug], Field(max_length=40)] = []
    actors: Annotated[list[Id], Field(max_length=50)] = []
    kinds: Annotated[list[ItemKind], Field(max_length=4)] = []
    item_id: Id | None = None  # one event's calendar
    lang: Preferred = []


class GetFeed(Request):
    """One page of a feed. The window is bounded: the newest `limit` items (news), the events
    of the past 30 days and the next 400 (events), deadlines from 30 days ago on (funding).
    `stamp_only`: only the stamp, for a conditional GET."""

    feed: FeedKind
    query: FeedQuery = FeedQuery()
    limit: Annotated[int, Field(ge=1, le=5000)] | None = None  # default: 50 news, 1,000 events or deadlines
    after: Cursor | None = None
    stamp_only: bool = False


# ---- requests: writing --------------------------------------------------------------------

class CreateNewsItem(Request, ItemContent):
    """A draft of the actor's; the caller must be one of its owners or editors. `kind` is fixed
    from now on: an event needs `event`, a funding programme `funding`."""

    actor_id: Id
    kind: ItemKind


ItemClearable = Literal["link", "image", "event", "funding"]


class UpdateNewsItem(Request):
    """`expected_version`: the `version` the editor saw; a newer one answers CONFLICT."""

    item_id: Id
    expected_version: int
    clear: Annotated[list[ItemClearable], Field(max_length=4)] = []
    title: Title | None = None
    summary: Summary | None = None
    body: Body | None = None
    language: Language | None = None
    topics: Annotated[list[TopicSlug], Field(max_length=40)] | None = None
    regions: Annotated[list[Ags], Field(max_length=100)] | None = None
    link: Url | None = None
    tags: Annotated[list[Tag], Field(max_length=4 * TAGS_MAX)] | None = None
    image: Image | None = None
    visibility: Visibility | None = None
    translations: Annotated[list[Translation], Field(max_length=4 * TRANSLATIONS_MAX)] | None = None
    event: EventDetails | None = None
    funding: FundingDetails | None = None


class PublishNewsItem(Request):
    item_id: Id
    expected_version: int | None = None


class ScheduleNewsItem(Request):
    """`publish_at` in the future; null takes a schedule back (the item is a draft again)."""

    item_id: Id
    publish_at: datetime | None
    expected_version: int | None = None


class WithdrawNewsItem(Request):
    """The actor's editors withdraw its items; administrators any item, with a reason, which
    the actor's owners are mailed."""

    item_id: Id
    reason: Reason | None = None


class News(PersonalDataContract):
    """news' endpoints: `client.news.<verb>(request, caller)`; `News.<verb>` describes one.
    News holds personal data (its copy of authors' accounts): it answers the export and the
    erasure check (proto/privacy.py)."""

    service = SERVICE

    news_feed = Endpoint(
        GetNewsFeed, NewsConnection, "Items, newest first: filters and German full text.",
        repeatable=True,
    )
    get_item = Endpoint(GetNewsItem, NewsItem, "One item by id, in the language asked for.", repeatable=True)
    get_items = Endpoint(
        GetNewsItems, NewsItemList, "Visible items by id, with bodies (for DataLoaders).",
        repeatable=True,
    )
    upcoming_events = Endpoint(GetUpcomingEvents, OccurrenceConnection, "Event occurrences by start.", repeatable=True)
    funding_programmes = Endpoint(
        GetFundingProgrammes, NewsConnection, "Funding programmes, open ones first.",
        repeatable=True,
    )
    item_history = Endpoint(GetItemHistory, ItemHistory, "Editors and admins: who changed what, when.", repeatable=True)
    feed = Endpoint(GetFeed, FeedPage, "A page of the Atom feed's entries, or only its stamp.", repeatable=True)
    calendar = Endpoint(GetFeed, CalendarPage, "A page of an iCalendar feed, or only its stamp.", repeatable=True)
    create_item = Endpoint(CreateNewsItem, NewsItem, "Owners and editors: write a draft for the actor.")
    update_item = Endpoint(UpdateNewsItem, NewsItem, "Owners and editors: change an item (kept in its history).")
    publish_item = Endpoint(PublishNewsItem, NewsItem, "Owners and editors of an approved actor: publish now.")
    schedule_item = Endpoint(ScheduleNewsItem, NewsItem, "Owners and editors: publish at a later time.")
    withdraw_item = Endpoint(WithdrawNewsItem, NewsItem, "Editors, or admins with a reason: withdraw an item.")


ENDPOINTS = News.endpoints()


# ---- events: subject news.events.item.<item_id> --------------------------------------------
# Every event names its item. Published, updated (while published) and withdrawn items carry
# a `Notice`: what notifications need to decide whom to tell.

AGGREGATE_ITEM = "item"


class ItemCreated(Event):
    """A draft."""

    TYPE = "news.item_created"
    item_id: str
    actor_id: str
    kind: ItemKind
    author_id: str
    content: ItemContent


class ItemUpdated(Event):
    """The whole content after the change; `changed` names what differs (snake_case).
    `notice` when the item is published (a change readers may be told about)."""

    TYPE = "news.item_updated"
    item_id: str
    content: ItemContent
    changed: list[str]
    notice: Notice | None = None


class ItemScheduled(Event):
    """To be published at `publish_at` (UTC) by the service."""

    TYPE = "news.item_scheduled"
    item_id: str
    publish_at: datetime


class ScheduleCancelled(Event):
    """A draft again: taken back by an editor, or by the service when the time came and the
    actor could not publish (`reason` says why)."""

    TYPE = "news.schedule_cancelled"
    item_id: str
    reason: str | None = None


class ItemPublished(Event):
    """Public from now on (`scheduled`: by the service, at the time an editor set)."""

    TYPE = "news.item_published"
    item_id: str
    notice: Notice
    scheduled: bool = False


class ItemWithdrawn(Event):
    """Gone from every feed and search at once; `by_admin`: an administrator withdrew it."""

    TYPE = "news.item_withdrawn"
    item_id: str
    notice: Notice
    reason: str | None = None
    by_admin: bool = False
