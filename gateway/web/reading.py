"""Read: the feed (`/news`), upcoming events (`/events`) and funding programmes (`/funding`).

Thin like resolvers: each page turns its query string into a `proto.news` request and asks
the news service as the person (or anonymously), so the service decides what they may see:
members-only items for signed-in people, published ones for everyone.

What to read: a region (the picker: state → district → municipality), topics, and on the
feed kinds and languages. A signed-in person who chose nothing reads "for me": what their
follows name — regions, topics, actors and kinds of item, the notifications service's
`follows`, the same that decide what they are told (a membership's regions are followed
from the start). An item shows when it matches ANY follow, as a notification would: the
list is the merge of one query per kind of follow (`Merged`), newest first, paged with one
cursor that holds each query's own. A followed region reads as the region filter does: with
what is published for the district or state around it, which concerns it too (a notification
is only for what is published in it). Someone who follows nothing is asked to, with links,
and meanwhile reads everything; `all=1` shows everything instead. Someone signed out picks.

The three lists answer htmx with their results fragment and the full page otherwise (the
`Vary: HX-Request` of every page). A list a signed-in person reads is kept offline only
while they stay signed in (`members`, see headers.py): it may hold members-only items.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from gateway.web.page import Page, page_of
from gateway.web.regions import RegionChoice, region_choice
from proto import directory, news
from proto.common import Empty
from proto.errors import ErrorCode, LotseError

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_REGIONS = 20  # news.NewsFilter takes at most twenty
LISTS = ("news", "events", "funding")
T = TypeVar("T")


@dataclass(frozen=True)
class Interests:
    """A signed-in person's follows, by kind of target: (key, name) pairs. `none`: they follow
    nothing (the page asks them to)."""

    regions: list[tuple[str, str]]
    topics: list[str]
    actors: list[tuple[str, str]]
    kinds: list[str]

    @property
    def none(self) -> bool:
        return not (self.regions or self.topics or self.actors or self.kinds)

    @property
    def names(self) -> list[str]:
        """The regions' and actors' names (topics and kinds are labelled in the page's
        language by `followed_names`)."""
        return [name for _, name in self.regions] + [name for _, name in self.actors]


@dataclass(frozen=True)
class Reading:
    """What a list shows: the chosen filters, or the person's follows when nothing is chosen."""

    choice: RegionChoice
    topics: list[str]
    kinds: list[str]
    languages: list[str]
    mine: Interests | None
    everything: bool

    @property
    def region_chosen(self) -> bool:
        """A region the person picked — not the only state, which the picker picks for them."""
        region = self.choice.region
        if region is None:
            return False
        return not (region.level == "state" and len(self.choice.levels[0].options) == 1)

    @property
    def for_me(self) -> bool:
        """Read by the person's follows (they follow something and chose no region or topic)."""
        return self.mine is not None and not self.mine.none

    @property
    def regions(self) -> list[str]:
        return [self.choice.ags] if self.choice.ags else []

    @property
    def chosen(self) -> int:
        """How many filters the person set (the only state, picked for them, is none)."""
        return len(self.topics) + len(self.kinds) + len(self.languages) + (1 if self.region_chosen else 0)

    def params(self) -> list[tuple[str, str]]:
        return [*self.choice.params().items(), *[("topic", t) for t in self.topics],
                *[("kind", k) for k in self.kinds], *[("language", code) for code in self.languages],
                *([("all", "1")] if self.everything else [])]

    def url(self, path: str, **more: str) -> str:
        query = urlencode([*self.params(), *more.items()])
        return f"{path}?{query}" if query else path

    def subscription(self, feed: str) -> str | None:
        """The matching feed (gateway/feeds.py), to subscribe to in a calendar app or a feed
        reader: iCalendar for events and deadlines, Atom for the news. None for "for me": a
        feed's filters narrow (region AND topic), follows widen (any of them), and a feed that
        showed less than the page would mislead; the follows' mail tells the person instead."""
        if self.for_me:
            return None
        kinds = [("kind", k) for k in self.kinds] if feed == "news" else []
        query = urlencode([*[("region", r) for r in self.regions], *[("topic", t) for t in self.topics], *kinds])
        return f"/feeds/{feed}.{'atom' if feed == 'news' else 'ics'}" + (f"?{query}" if query else "")


def clean(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


async def interests(page: Page) -> Interests | None:
    """The person's follows; None signed out, or when the notifications service is away (then
    they read everything, as someone signed out would)."""
    if not page.signed_in:
        return None
    found = await page.attempt(page.gateway.client.notifications.follows, lambda: Empty())
    if isinstance(found, LotseError):
        return None
    targets = [(f.target, f.target_name) for f in found.follows]
    return Interests(regions=[(t.key, name) for t, name in targets if t.type == "region"],
                     topics=[t.key for t, _ in targets if t.type == "topic"],
                     actors=[(t.key, name) for t, name in targets if t.type == "actor"],
                     kinds=[t.key for t, _ in targets if t.type == "kind"])


async def reading_of(page: Page, *, topic: list[str], kind: list[str], language: list[str], state: str | None,
                     district: str | None, municipality: str | None, region: str | None,
                     everything: str) -> Reading:
    choice = await region_choice(page, state, district, municipality, region)
    topics, kinds, languages = clean(topic), clean(kind), clean(language)
    reading = Reading(choice, topics, kinds, languages, None, everything == "1")
    if reading.region_chosen or topics or reading.everything:
        return reading
    return Reading(choice, topics, kinds, languages, await interests(page), reading.everything)


# ---- "for me": one query per kind of follow, merged ------------------------------------------

def chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[n:n + size] for n in range(0, len(values), size)]


@dataclass(frozen=True)
class Stream:
    """One query of a merged list: a name (stable while the follows stay) and what it asks."""

    name: str
    filter: dict[str, Any]


def streams(mine: Interests, *, kinds: list[str], languages: list[str], all_kinds: str | None = None
            ) -> list[Stream]:
    """The queries whose union is what the follows name. `kinds`/`languages`: what the person
    chose on top, applied to each. `all_kinds`: the list's only kind (events, funding): a follow
    of it names the whole list — one query without filter — and others are beside the point."""
    extra: dict[str, Any] = {"kinds": kinds, "languages": languages}
    found = [Stream(f"region{n}", {**extra, "regions": part})
             for n, part in enumerate(chunks([key for key, _ in mine.regions], MAX_REGIONS))]
    found += [Stream(f"topic{n}", {**extra, "topics": part}) for n, part in enumerate(chunks(mine.topics, 40))]
    found += [Stream(f"actor{n}", {**extra, "actors": part})
              for n, part in enumerate(chunks([key for key, _ in mine.actors], 50))]
    if all_kinds is not None:
        if all_kinds in mine.kinds:
            return [Stream("kind", extra)]  # every item of the list: nothing else can add one
    elif mine.kinds:
        wanted = [k for k in mine.kinds if not kinds or k in kinds]
        if wanted:
            found.append(Stream("kind", {**extra, "kinds": wanted}))
    return found


class Merged:
    """Several newest-first (or soonest-first) lists read as one: each step takes the head
    that comes first by `key`; an item two queries share is shown once. The cursor is each
    query's own cursor (None: from its start, "": done), so the next page goes on from
    exactly where each one stopped — nothing skipped, nothing twice.

    `key` ends with the item's id, to break ties; the service breaks them its own way, so
    among items of one moment (`key` without its last part) a shared item can sit at one
    query's head and behind another of that moment in the next. Within a page it is then
    passed over as seen; across pages, the cursor also carries the ids already shown of the
    moment the page ended on."""

    def __init__(self, names: list[str], cursor: str | None) -> None:
        self.names = names
        self.positions: dict[str, str | None] = dict.fromkeys(names)
        self.moment: str | None = None  # the last shown item's moment, and the ids shown of it
        self.shown: set[str] = set()
        held: Any = {}
        if cursor:
            try:
                held = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            except (ValueError, binascii.Error):
                held = {}
        if isinstance(held, dict) and isinstance(held.get("p"), dict):
            self.positions.update({k: v for k, v in held["p"].items() if k in self.positions
                                   and (v is None or isinstance(v, str))})
            tie = held.get("t")
            if isinstance(tie, list) and len(tie) == 2 and isinstance(tie[1], list):
                self.moment, self.shown = str(tie[0]), {str(i) for i in tie[1]}

    def pending(self) -> list[str]:
        return [name for name in self.names if self.positions[name] != ""]

    def merge(self, answers: dict[str, tuple[list[tuple[str, T]], bool]], key: Callable[[T], tuple[Any, ...]],
              identity: Callable[[T], str], limit: int) -> tuple[list[T], str | None]:
        """`answers`: per query, its edges (cursor, value) and whether it has more. The page's
        values and the cursor of the next page (None: nothing more)."""
        heads = {name: list(edges) for name, (edges, _) in answers.items()}
        taken: list[T] = []
        seen: set[str] = set(self.shown)
        while len(taken) < limit:
            ready = [name for name in heads if heads[name]]
            if not ready or any(not heads[name] and more for name, (_, more) in answers.items()):
                break  # a query ran out of what it answered: its next could come first
            first = min(ready, key=lambda name: key(heads[name][0][1]))
            value = heads[first][0][1]
            for name in ready:  # the same item at another query's head: taken with it
                if identity(heads[name][0][1]) == identity(value):
                    self.positions[name] = heads[name].pop(0)[0]
            moment = repr(key(value)[:-1])
            if moment != self.moment:
                self.moment, self.shown = moment, set()
            self.shown.add(identity(value))
            if identity(value) not in seen:
                seen.add(identity(value))
                taken.append(value)
        for name, (_, more) in answers.items():
            if not heads[name] and not more:
                self.positions[name] = ""
        if not self.pending():
            return taken, None
        held = {"p": self.positions, "t": [self.moment, sorted(self.shown)]}
        raw = json.dumps(held, separators=(",", ":")).encode()
        return taken, base64.urlsafe_b64encode(raw).decode().rstrip("=")


def newest_first(item: news.NewsItem) -> tuple[float, str]:
    moment = item.published_at or item.updated_at
    return (-moment.timestamp(), item.id)


def soonest_first(entry: "Upcoming") -> tuple[datetime, str]:
    return (entry.occurrence.starts_at, entry.item.id)


def deadline_first(item: news.NewsItem) -> tuple[bool, int, str]:
    """As the news service orders programmes: open ones by deadline (rolling ones after), then
    closed ones, the latest deadline first."""
    deadline = item.funding.deadline if item.funding else None
    closed = bool(item.funding and item.funding.status == "closed")
    if closed:
        return (True, -(deadline.toordinal() if deadline else 0), item.id)
    return (False, deadline.toordinal() if deadline else date.max.toordinal(), item.id)


def with_more(reading: Reading, path: str, cursor: str | None) -> str | None:
    return reading.url(path, after=cursor) if cursor else None


async def merged_items(page: Page, reading: Reading, path: str, queries: list[Stream],
                       ask: Callable[[Stream, str | None], Awaitable[object]],
                       key: Callable[[news.NewsItem], tuple[Any, ...]], after: str | None,
                       ) -> tuple[list[news.NewsItem], str | None, LotseError | None]:
    """A "for me" list of items: each query asked from where it stopped, side by side, and
    merged; (the page's items, the link to the next page, a filter the service refused)."""
    merged = Merged([q.name for q in queries], after)
    asked = [q for q in queries if q.name in merged.pending()]
    answers = await asyncio.gather(*[ask(q, merged.positions[q.name]) for q in asked])
    problem = next((refused(page, a) for a in answers if isinstance(a, LotseError)), None)
    if problem is not None:
        return [], None, problem
    items, cursor = merged.merge(
        {q.name: ([(e.cursor, e.node) for e in a.edges], a.page_info.has_next_page)
         for q, a in zip(asked, answers, strict=True) if isinstance(a, news.NewsConnection)},
        key, lambda item: item.id, PAGE_SIZE)
    return items, with_more(reading, path, cursor), None


def refused(page: Page, result: object) -> LotseError | None:
    """A filter the service refuses is shown on the page (400); any other refusal is a problem page."""
    if isinstance(result, LotseError):
        if result.code != ErrorCode.INVALID_INPUT:
            raise page.problem(result)
        return result
    return None


def more_of(reading: Reading, path: str, info: news.PageInfo | None) -> str | None:
    if info is None or not info.has_next_page or not info.end_cursor:
        return None
    return reading.url(path, after=info.end_cursor)


def followed_names(page: Page, mine: Interests | None) -> list[str]:
    """What "for you" names, in the page's language: regions, actors, topics, kinds."""
    if mine is None:
        return []
    labels = {t.slug: (t.de if page.lang == "de" else t.en) for t in directory.TOPICS}
    return [*mine.names, *[labels.get(t, t) for t in mine.topics], *[page.t(f"news.kind.{k}") for k in mine.kinds]]


def render_list(page: Page, template: str, reading: Reading, *, problem: LotseError | None, **values: Any
                ) -> Response:
    return page.render(template, fragment="_reading_results.html", status=400 if problem else 200,
                       reading=reading, choice=reading.choice, problem=problem, topics=directory.TOPICS,
                       kinds=news.ITEM_KINDS, named=followed_names(page, reading.mine),
                       members=page.signed_in, **values)


# ---- the three lists ----------------------------------------------------------------------

@router.get("/news")
async def feed(
    page: Page = Depends(page_of), topic: list[str] = Query([]), kind: list[str] = Query([]),
    language: list[str] = Query([]), state: str | None = None, district: str | None = None,
    municipality: str | None = None, region: str | None = None, after: str | None = None,
    everything: str = Query("", alias="all"),
) -> Response:
    reading = await reading_of(page, topic=topic, kind=kind, language=language, state=state, district=district,
                               municipality=municipality, region=region, everything=everything)
    client = page.gateway.client.news

    def ask(news_filter: dict[str, Any], cursor: str | None) -> Callable[[], news.GetNewsFeed]:
        return lambda: news.GetNewsFeed.model_validate({"filter": news_filter, "first": PAGE_SIZE,
                                                        "after": cursor, "lang": [page.lang]})

    problem: LotseError | None = None
    items: list[news.NewsItem] = []
    more: str | None = None
    if reading.for_me:
        assert reading.mine is not None
        items, more, problem = await merged_items(
            page, reading, "/news", streams(reading.mine, kinds=reading.kinds, languages=reading.languages),
            lambda q, cursor: page.attempt(client.news_feed, ask(q.filter, cursor)), newest_first, after)
    else:
        found = await page.attempt(client.news_feed, ask(
            {"kinds": reading.kinds, "topics": reading.topics, "regions": reading.regions,
             "languages": reading.languages}, after or None))
        problem = refused(page, found)
        if isinstance(found, news.NewsConnection):
            items = [e.node for e in found.edges]
            more = more_of(reading, "/news", found.page_info)
    return render_list(page, "reading.html", reading, problem=problem, list_name="news",
                       title=page.t("reading.news.title"), items=items, more=more,
                       subscribe=reading.subscription("news"))


@dataclass(frozen=True)
class Upcoming:
    occurrence: news.Occurrence
    item: news.NewsItem


async def upcoming(page: Page, reading: Reading, after: str | None) -> tuple[list[Upcoming], str | None]:
    """The next occurrences: of the chosen region and topics, or what the person's follows
    name. The service takes one region a request: each followed region is a query of its own."""
    client = page.gateway.client.news

    def ask(region_key: str | None, topics: list[str], actors: list[str], cursor: str | None
            ) -> Callable[[], news.GetUpcomingEvents]:
        return lambda: news.GetUpcomingEvents(region=region_key, topics=topics, actors=actors, first=PAGE_SIZE,
                                              after=cursor, lang=[page.lang])

    if not reading.for_me:
        regions = reading.regions
        found = await page.attempt(client.upcoming_events, ask(regions[0] if regions else None, reading.topics, [],
                                                               after or None))
        if isinstance(found, LotseError):
            raise _Refused(found)
        return [Upcoming(e.occurrence, e.item) for e in found.edges], more_of(reading, "/events", found.page_info)
    assert reading.mine is not None
    queries: list[Stream] = []
    for q in streams(reading.mine, kinds=[], languages=[], all_kinds="event"):
        if q.filter.get("regions"):
            queries += [Stream(f"{q.name}.{n}", {"region": key}) for n, key in enumerate(q.filter["regions"])]
        else:
            queries.append(Stream(q.name, {"topics": q.filter.get("topics", []), "actors": q.filter.get("actors", [])}))
    merged = Merged([q.name for q in queries], after)
    asked = [q for q in queries if q.name in merged.pending()]
    answers = await asyncio.gather(*[
        page.attempt(client.upcoming_events, ask(q.filter.get("region"), q.filter.get("topics", []),
                                                 q.filter.get("actors", []), merged.positions[q.name]))
        for q in asked])
    for answer in answers:
        if isinstance(answer, LotseError):
            raise _Refused(answer)
    found_all, cursor = merged.merge(
        {q.name: ([(e.cursor, Upcoming(e.occurrence, e.item)) for e in a.edges], a.page_info.has_next_page)
         for q, a in zip(asked, answers, strict=True) if isinstance(a, news.OccurrenceConnection)},
        soonest_first, lambda u: f"{u.item.id}@{u.occurrence.starts_at.isoformat()}", PAGE_SIZE)
    return found_all, with_more(reading, "/events", cursor)


class _Refused(Exception):
    def __init__(self, error: LotseError) -> None:
        super().__init__(error.message)
        self.error = error


@router.get("/events")
async def events(
    page: Page = Depends(page_of), topic: list[str] = Query([]), state: str | None = None,
    district: str | None = None, municipality: str | None = None, region: str | None = None,
    after: str | None = None, everything: str = Query("", alias="all"),
) -> Response:
    reading = await reading_of(page, topic=topic, kind=[], language=[], state=state, district=district,
                               municipality=municipality, region=region, everything=everything)
    problem: LotseError | None = None
    try:
        found, more = await upcoming(page, reading, after)
    except _Refused as e:
        problem, found, more = refused(page, e.error), [], None
    return render_list(page, "reading.html", reading, problem=problem, list_name="events",
                       title=page.t("reading.events.title"), occurrences=found, more=more,
                       subscribe=reading.subscription("events"))


@router.get("/funding")
async def funding(
    page: Page = Depends(page_of), topic: list[str] = Query([]), language: list[str] = Query([]),
    state: str | None = None, district: str | None = None, municipality: str | None = None,
    region: str | None = None, after: str | None = None, everything: str = Query("", alias="all"),
) -> Response:
    reading = await reading_of(page, topic=topic, kind=[], language=language, state=state, district=district,
                               municipality=municipality, region=region, everything=everything)
    client = page.gateway.client.news

    def ask(news_filter: dict[str, Any], cursor: str | None) -> Callable[[], news.GetFundingProgrammes]:
        return lambda: news.GetFundingProgrammes.model_validate({"filter": news_filter, "first": PAGE_SIZE,
                                                                 "after": cursor, "lang": [page.lang]})

    problem: LotseError | None = None
    items: list[news.NewsItem] = []
    more: str | None = None
    if reading.for_me:
        assert reading.mine is not None
        items, more, problem = await merged_items(
            page, reading, "/funding",
            streams(reading.mine, kinds=[], languages=reading.languages, all_kinds="funding-programme"),
            lambda q, cursor: page.attempt(client.funding_programmes, ask(q.filter, cursor)), deadline_first, after)
    else:
        found = await page.attempt(client.funding_programmes, ask(
            {"topics": reading.topics, "regions": reading.regions, "languages": reading.languages}, after or None))
        problem = refused(page, found)
        if isinstance(found, news.NewsConnection):
            items = [e.node for e in found.edges]
            more = more_of(reading, "/funding", found.page_info)
    return render_list(page, "reading.html", reading, problem=problem, list_name="funding",
                       title=page.t("reading.funding.title"), items=items, more=more,
                       subscribe=reading.subscription("funding"))


# ---- a region's page: its news and upcoming events ---------------------------------------

REGION_NEWS = 5


async def region_news(page: Page, ags: str) -> tuple[list[news.NewsItem] | None, list[Upcoming] | None]:
    """The newest items and next events for a region (and the regions around it). A region's
    page shows without them when news cannot answer (None: "cannot be shown right now")."""
    client = page.gateway.client.news
    latest, upcoming_events = await asyncio.gather(
        page.attempt(client.news_feed, lambda: news.GetNewsFeed.model_validate(
            {"filter": {"regions": [ags]}, "first": REGION_NEWS, "lang": [page.lang]})),
        page.attempt(client.upcoming_events, lambda: news.GetUpcomingEvents(
            region=ags, first=REGION_NEWS, lang=[page.lang])))
    return (None if isinstance(latest, LotseError) else [e.node for e in latest.edges],
            None if isinstance(upcoming_events, LotseError)
            else [Upcoming(e.occurrence, e.item) for e in upcoming_events.edges])
