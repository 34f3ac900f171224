"""Read: the feed (`/news`), upcoming events (`/events`) and funding programmes (`/funding`).

Thin like resolvers: each page turns its query string into a `proto.news` request and asks
the news service as the person (or anonymously), so the service decides what they may see:
members-only items for signed-in people, published ones for everyone.

What to read: a region (the picker: state → district → municipality), topics, and on the
feed kinds and languages. A signed-in person who chose nothing reads "for me": the regions
and topics of the actors they belong to (the directory's `my_actors` — what the platform
knows about a person's work); `all=1` shows everything instead. Someone signed out picks.

The three lists answer htmx with their results fragment and the full page otherwise (the
`Vary: HX-Request` of every page). A list a signed-in person reads is kept offline only
while they stay signed in (`members`, see headers.py): it may hold members-only items.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from gateway.web.page import Page, page_of
from gateway.web.regions import RegionChoice, region_choice
from proto import directory, news
from proto.errors import ErrorCode, LotseError

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_REGIONS = 20  # news.NewsFilter takes at most twenty
LISTS = ("news", "events", "funding")


@dataclass(frozen=True)
class Interests:
    """A signed-in person's regions and topics: those of the actors they belong to."""

    regions: list[directory.RegionRef]
    topics: list[str]


@dataclass(frozen=True)
class Reading:
    """What a list shows: the chosen filters, or the person's interests when nothing is chosen."""

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
    def regions(self) -> list[str]:
        if self.mine and self.mine.regions and not self.region_chosen:
            return [r.ags for r in self.mine.regions][:MAX_REGIONS]
        return [self.choice.ags] if self.choice.ags else []

    @property
    def asked_topics(self) -> list[str]:
        return self.topics or (self.mine.topics if self.mine else [])

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

    def subscription(self, feed: str) -> str:
        """The matching feed (gateway/feeds.py), to subscribe to in a calendar app or a feed
        reader: iCalendar for events and deadlines, Atom for the news."""
        kinds = [("kind", k) for k in self.kinds] if feed == "news" else []
        query = urlencode([*[("region", r) for r in self.regions], *[("topic", t) for t in self.asked_topics],
                           *kinds])
        return f"/feeds/{feed}.{'atom' if feed == 'news' else 'ics'}" + (f"?{query}" if query else "")


def clean(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


async def interests(page: Page) -> Interests | None:
    if not page.signed_in:
        return None
    mine = await page.attempt(page.gateway.client.directory.my_actors, lambda: directory.MyActors())
    if isinstance(mine, LotseError):
        return None  # the directory is away: the person reads everything, as someone signed out would
    regions = list({r.ags: r for actor in mine.actors for r in actor.regions}.values())
    topics = list(dict.fromkeys(t for actor in mine.actors for t in actor.topics))
    return Interests(regions, topics) if regions or topics else None


async def reading_of(page: Page, *, topic: list[str], kind: list[str], language: list[str], state: str | None,
                     district: str | None, municipality: str | None, region: str | None,
                     everything: str) -> Reading:
    choice = await region_choice(page, state, district, municipality, region)
    topics, kinds, languages = clean(topic), clean(kind), clean(language)
    reading = Reading(choice, topics, kinds, languages, None, everything == "1")
    if reading.region_chosen or topics or reading.everything:
        return reading
    return Reading(choice, topics, kinds, languages, await interests(page), reading.everything)


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


def render_list(page: Page, template: str, reading: Reading, *, problem: LotseError | None, **values: Any
                ) -> Response:
    return page.render(template, fragment="_reading_results.html", status=400 if problem else 200,
                       reading=reading, choice=reading.choice, problem=problem, topics=directory.TOPICS,
                       kinds=news.ITEM_KINDS,
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
    found = await page.attempt(page.gateway.client.news.news_feed, lambda: news.GetNewsFeed.model_validate({
        "filter": {"kinds": reading.kinds, "topics": reading.asked_topics, "regions": reading.regions,
                   "languages": reading.languages},
        "first": PAGE_SIZE, "after": after or None, "lang": [page.lang]}))
    problem = refused(page, found)
    result = found if isinstance(found, news.NewsConnection) else None
    return render_list(page, "reading.html", reading, problem=problem, list_name="news",
                       title=page.t("reading.news.title"), items=[e.node for e in result.edges] if result else [],
                       more=more_of(reading, "/news", result.page_info if result else None),
                       subscribe=reading.subscription("news"))


@dataclass(frozen=True)
class Upcoming:
    occurrence: news.Occurrence
    item: news.NewsItem


async def upcoming(page: Page, reading: Reading, after: str | None) -> tuple[list[Upcoming], str | None]:
    """The next occurrences. The service takes one region a request: for a person's several
    regions each is asked for its first page and the answers merged by start (no more link)."""
    client = page.gateway.client.news

    def ask(region_key: str | None, cursor: str | None) -> Callable[[], news.GetUpcomingEvents]:
        return lambda: news.GetUpcomingEvents(region=region_key, topics=reading.asked_topics, first=PAGE_SIZE,
                                              after=cursor, lang=[page.lang])

    regions = reading.regions
    if len(regions) <= 1:
        found = await page.attempt(client.upcoming_events, ask(regions[0] if regions else None, after or None))
        if isinstance(found, LotseError):
            raise _Refused(found)
        return [Upcoming(e.occurrence, e.item) for e in found.edges], more_of(reading, "/events", found.page_info)
    answers = await asyncio.gather(*[page.attempt(client.upcoming_events, ask(r, None)) for r in regions])
    seen: dict[tuple[str, str], Upcoming] = {}
    for answer in answers:
        if isinstance(answer, LotseError):
            raise _Refused(answer)
        for edge in answer.edges:
            seen.setdefault((edge.item.id, edge.occurrence.starts_at.isoformat()), Upcoming(edge.occurrence, edge.item))
    ordered = sorted(seen.values(), key=lambda u: (u.occurrence.starts_at, u.item.id))
    return ordered[:PAGE_SIZE], None


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
    found = await page.attempt(page.gateway.client.news.funding_programmes,
                               lambda: news.GetFundingProgrammes.model_validate({
                                   "filter": {"topics": reading.asked_topics, "regions": reading.regions,
                                              "languages": reading.languages},
                                   "first": PAGE_SIZE, "after": after or None, "lang": [page.lang]}))
    problem = refused(page, found)
    result = found if isinstance(found, news.NewsConnection) else None
    return render_list(page, "reading.html", reading, problem=problem, list_name="funding",
                       title=page.t("reading.funding.title"), items=[e.node for e in result.edges] if result else [],
                       more=more_of(reading, "/funding", result.page_info if result else None),
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
