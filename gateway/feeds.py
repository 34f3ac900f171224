"""Feeds for people and tools that don't speak GraphQL: news as Atom, events and funding
deadlines as iCalendar.

- `GET /feeds/news.atom`: the newest published items (50, `limit` up to 200), Atom 1.0 by
  feedgen: each entry with its summary, its body as sanitised HTML, the actor as author,
  topics as categories and its page on Lotse as link.
- `GET /feeds/events.ics`: the events of the past 30 days and the next 400 (up to 1,000
  events, `limit` up to 5,000), repeating ones as one series with their overrides.
- `GET /feeds/funding.ics`: funding programmes' application deadlines as all-day events.
- `GET /events/<id>.ics`: one event, all of it.

Query parameters, each repeatable or comma-separated: `region` (AGS; includes the regions
inside it and the state- and district-wide items that cover it), `topic`, `actor`, `kind`
(news only), `lang` (else Accept-Language), `limit`. Public items only, whoever asks: no
token is looked at, so nothing a feed carries depends on who fetched it.

Caching: a strong ETag (the news service's stamp over the feed's items and their versions,
so it changes exactly when the content would) and Last-Modified; If-None-Match (or, without
it, If-Modified-Since) answers 304 after one small request to news, without rendering.
`Cache-Control: public, no-cache`: shared caches may keep a feed but must ask again each
time — cheap with 304 — so a withdrawn item is gone from every reader's next fetch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator
from pydantic import ValidationError

from gateway.exports import caller_of, etag_matches
from gateway.languages import preferred
from gateway.state import Gateway
from proto import news as contract
from proto.errors import ErrorCode, Invalid, LotseError
from proto.validation import invalid_from
from services.kernel.logging import get_logger

log = get_logger("gateway.feeds")

router = APIRouter(include_in_schema=False)

CACHE = "public, no-cache"
ATOM = "application/atom+xml; charset=utf-8"
ICS = "text/calendar; charset=utf-8"
CALENDAR_END = "END:VCALENDAR\r\n"
MAX_PAGES = 100  # a bound, not an expectation: stops a cursor that never ends
PARAMETERS = {"region": "regions", "topic": "topics", "actor": "actors", "kind": "kinds"}


def _values(request: Request, name: str) -> list[str]:
    found: list[str] = []
    for raw in request.query_params.getlist(name):
        found += [part.strip() for part in raw.split(",") if part.strip()]
    return found


def feed_query(request: Request, *, kinds: bool, item_id: str | None = None) -> contract.FeedQuery:
    """The feed's filter from its query parameters; Invalid names the parameter."""
    unknown = sorted(set(request.query_params) - {*PARAMETERS, "lang", "limit"})
    if unknown:
        raise Invalid(f"unknown parameter “{unknown[0]}”; feeds take region, topic, actor, kind, lang and limit",
                      unknown[0])
    values: dict[str, object] = {field: _values(request, name) for name, field in PARAMETERS.items()}
    if values["kinds"] and not kinds:
        raise Invalid("a calendar holds one kind already; leave out “kind”", "kind")
    values["kinds"] = [str(k).lower().replace("_", "-") for k in values["kinds"]]  # type: ignore[attr-defined]
    values["lang"] = list(preferred(request.query_params.get("lang"), request.headers.get("accept-language")))
    if item_id is not None:
        values["item_id"] = item_id
    try:
        return contract.FeedQuery.model_validate(values)
    except ValidationError as e:
        error = invalid_from(e)
        name = next((n for n, f in PARAMETERS.items() if (error.field or "").startswith(f)), error.field)
        raise Invalid(error.message, name) from None


def limit_of(request: Request) -> int | None:
    raw = request.query_params.get("limit")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 5000:
        raise Invalid("limit is a number from 1 to 5000", "limit")
    return int(raw)


def problem(error: LotseError) -> Response:
    if error.code in (ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL):
        log.warning("feeds.service_error", code=error.code.value, error=error.message)
        return Response("News cannot be reached right now; try again shortly.\n", status_code=503,
                        media_type="text/plain", headers={"Retry-After": "30", "Cache-Control": "no-store"})
    if error.code == ErrorCode.NOT_FOUND:
        return Response("Not found\n", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"})
    field = error.field or "the request"
    return Response(f"{field}: {error.message}\n", status_code=400, media_type="text/plain; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; If-Modified-Since only without it."""
    if request.headers.get("if-none-match") is not None:
        return etag_matches(request.headers.get("if-none-match"), etag)
    since = request.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= when


def headers_of(stamp: contract.FeedStamp) -> dict[str, str]:
    headers = {"ETag": f'"{stamp.tag}"', "Cache-Control": CACHE, "Vary": "Accept-Language",
               "X-Content-Type-Options": "nosniff"}
    if stamp.last_modified is not None:
        headers["Last-Modified"] = http_date(stamp.last_modified)
    return headers


# ---- Atom ------------------------------------------------------------------------------------

def atom(gateway: Gateway, request: Request, entries: list[contract.FeedEntry], stamp: contract.FeedStamp,
         language: str) -> bytes:
    link = gateway.settings.link
    fg = FeedGenerator()
    fg.id(link("/feeds/news.atom"))
    fg.title("Lotse – Neuigkeiten" if language == "de" else "Lotse – News")
    fg.subtitle("Nachrichten, Veranstaltungen und Förderprogramme für Migration und Integration"
                if language == "de" else "News, events and funding programmes on migration and integration")
    fg.link(href=link(request.url.path + (f"?{request.url.query}" if request.url.query else "")), rel="self")
    fg.link(href=link("/"), rel="alternate")
    fg.language(language)
    fg.author(name="Lotse")
    fg.generator("Lotse")
    fg.updated(stamp.last_modified or datetime(2026, 1, 1, tzinfo=UTC))
    for entry in entries:
        fe = fg.add_entry(order="append")
        url = link(entry.path)
        fe.id(url)
        fe.title(entry.title)
        fe.link(href=url, rel="alternate")
        if entry.link:
            fe.link(href=entry.link, rel="related")
        if entry.summary:
            fe.summary(entry.summary)
        if entry.body_html:
            fe.content(entry.body_html, type="html")
        fe.published(entry.published_at)
        fe.updated(entry.updated_at)
        fe.author(name=entry.actor_name or "Lotse")
        for topic in entry.topics:
            fe.category(term=topic, scheme=link("/topics"))
    return fg.atom_str(pretty=False)


@router.get("/feeds/news.atom")
async def news_atom(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    try:
        query, limit = feed_query(request, kinds=True), limit_of(request)
        first = await gateway.client.news.feed(contract.GetFeed(feed="news", query=query, limit=limit,
                                                                stamp_only=True), caller_of(request))
        headers = headers_of(first.stamp)
        if not_modified(request, headers["ETag"], first.stamp.last_modified):
            return Response(status_code=304, headers=headers)
        entries: list[contract.FeedEntry] = []
        after: str | None = None
        stamp = first.stamp
        for n in range(MAX_PAGES):
            page = await gateway.client.news.feed(contract.GetFeed(feed="news", query=query, limit=limit,
                                                                   after=after), caller_of(request))
            stamp = page.stamp if n == 0 else stamp
            entries += page.entries
            if page.next_after is None:
                break
            after = page.next_after
    except LotseError as e:
        return problem(e)
    language = query.lang[0] if query.lang else "de"
    return Response(atom(gateway, request, entries, stamp, language), media_type=ATOM, headers=headers_of(stamp))


# ---- iCalendar -------------------------------------------------------------------------------

async def calendar(request: Request, feed: contract.FeedKind, item_id: str | None = None) -> Response:
    gateway: Gateway = request.app.state.gateway
    try:
        query, limit = feed_query(request, kinds=False, item_id=item_id), limit_of(request)
        first = await gateway.client.news.calendar(contract.GetFeed(feed=feed, query=query, limit=limit,
                                                                    stamp_only=True), caller_of(request))
        headers = headers_of(first.stamp)
        if not_modified(request, headers["ETag"], first.stamp.last_modified):
            return Response(status_code=304, headers=headers)
        parts: list[str] = []
        after: str | None = None
        stamp = first.stamp
        for n in range(MAX_PAGES):
            page = await gateway.client.news.calendar(contract.GetFeed(feed=feed, query=query, limit=limit,
                                                                       after=after), caller_of(request))
            if n == 0:
                stamp = page.stamp
                parts.append(page.head)
            parts += page.components
            if page.next_after is None:
                break
            after = page.next_after
    except LotseError as e:
        return problem(e)
    parts.append(CALENDAR_END)
    headers = headers_of(stamp)
    if item_id is not None:
        headers["Content-Disposition"] = f'inline; filename="{item_id}.ics"'
    return Response("".join(parts).encode(), media_type=ICS, headers=headers)


@router.get("/feeds/events.ics")
async def events_ics(request: Request) -> Response:
    return await calendar(request, "events")


@router.get("/feeds/funding.ics")
async def funding_ics(request: Request) -> Response:
    return await calendar(request, "funding")


@router.get("/events/{item_id}.ics")
async def event_ics(request: Request, item_id: str) -> Response:
    return await calendar(request, "events", item_id=item_id)
