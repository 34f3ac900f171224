"""News' endpoints: parse, authorise, decide with `domain`, append, reply — and the scheduler.

Every write runs through `_change`: load the item and its actor from the view once, refuse
callers who may not see it (NOT_FOUND), decide, append with the item's version as the
expected sequence, evolve the loaded state by the appended event for the reply. Reads
answer from the view, shaped for the caller (language, visibility, whether they may edit).

Scheduled publishing, exactly once across replicas and restarts: every replica looks for
due items every second (and at start, for items that fell due while no replica ran) and
appends the publication with the item's version as the expected sequence. Only one append
can succeed; the others lose the race, catch up, find the item published and append
nothing. No timer is kept in memory, so nothing is lost when a replica stops.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


from proto import directory as vocab
from proto import identity
from proto import news as api
from proto.envelope import Event, new_id
from proto.privacy import FORMER_MEMBER
from proto.errors import Forbidden, Invalid, LotseError, NotFound, Unavailable
from services.kernel.auth import Principal
from services.kernel.clock import Clock
from services.kernel.commands import Decision
from services.kernel.endpoints import RequestContext
from services.kernel.folding import terms
from services.kernel.follower import Follower
from services.kernel.logging import get_logger
from services.kernel import privacy
from services.kernel.outbox import enqueue
from services.kernel.runtime import ServiceRuntime
from services.kernel.settings import Settings
from services.news import domain, ical, mails, views
from services.news.privacy import NewsPersonalData
from services.news.domain import ActorFacts, ItemState
from services.news.reactions import AccountsView, DirectoryFacts
from services.news.views import NewsView

log = get_logger("news")

SCHEDULE_INTERVAL = 1.0  # seconds between a replica's looks for due items
PAGE_BYTES = 600_000  # a feed page's entries stop growing here: a reply must fit one NATS message
DEFAULT_LIMIT = {"news": 50, "events": 1000, "funding": 1000}
MAX_LIMIT = {"news": 200, "events": 5000, "funding": 5000}
EVENTS_BEHIND = timedelta(days=30)  # the events feed's window: 30 days back,
EVENTS_AHEAD = timedelta(days=400)  # and a little over a year ahead
CALENDAR_NAMES = {"events": "Lotse – Veranstaltungen", "funding": "Lotse – Förderfristen"}
WINDOWS_KEPT = 64  # feeds whose item lists a replica keeps, by stamp, for their next pages

Decide = Callable[[ItemState, ActorFacts | None], "Event | None | Awaitable[Event | None]"]


@dataclass(frozen=True)
class Changed:
    state: ItemState
    changed: bool
    event: Event | None


# ---- cursors: opaque to callers --------------------------------------------------------------

def _encode(*parts: object) -> str:
    return base64.urlsafe_b64encode(":".join(str(p) for p in parts).encode()).decode().rstrip("=")


def _decode(value: str | None, kind: str, size: int, field: str = "after") -> list[int] | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        head, *numbers = raw.split(":")
        if head != kind or len(numbers) != size:
            raise ValueError(raw)
        return [int(n) for n in numbers]
    except (ValueError, UnicodeDecodeError):
        raise Invalid("this cursor is not one this service gave out", field) from None


class NewsService(ServiceRuntime):
    name = "news"

    def __init__(self, settings: Settings, clock: Clock):
        super().__init__(settings, clock, NewsView(settings.link), api.ENDPOINTS)
        self.directory: Follower | None = None
        self.accounts: Follower | None = None
        self._scheduler: asyncio.Task[None] | None = None
        self.schedule_interval = SCHEDULE_INTERVAL
        # (feed, query, stamp) → the feed's items: a stamp names one content, so a kept list is
        # never stale; it only saves listing the window again for the next page.
        self._windows: dict[tuple[str, str, str], list[tuple[int, str]]] = {}

    # ---- lifecycle -------------------------------------------------------------------------

    async def on_start(self) -> None:
        assert self.js is not None and self.projector is not None
        self.directory = await self.follow_stream(vocab.SERVICE, DirectoryFacts())
        self.accounts = await self.follow_stream(identity.SERVICE, AccountsView())
        # Items that fell due while no replica ran go out now, before any request is answered;
        # while a view is being rebuilt (requests are refused then), once it has caught up.
        if not self.catching_up:
            await self.projector.catch_up()
            await self.directory.projector.catch_up()
            await self.publish_due()
        self._scheduler = asyncio.create_task(self._schedule(), name="news-scheduler")

    async def on_stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
            try:
                await self._scheduler
            except asyncio.CancelledError:
                pass
            self._scheduler = None

    async def _schedule(self) -> None:
        while True:
            await asyncio.sleep(self.schedule_interval)
            if self.catching_up:
                continue  # a view missing items or actors would decide wrongly
            try:
                await self.publish_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The next look tries again: the item stays scheduled until it is out.
                log.exception("news.schedule_failed")

    async def publish_due(self) -> int:
        """Publish every item whose time has come; how many this replica published."""
        published = 0
        now = self.clock.now()
        for item_id in await views.due_items(self.db, now):
            async def decide(state: ItemState, actor: ActorFacts | None) -> Event | None:
                return domain.decide_due(state, actor, now=now, scope=await views.scope(
                    self.db, state.content.regions))

            try:
                outcome = await self._change(item_id, None, decide)
            except LotseError as e:
                log.warning("news.schedule_refused", item_id=item_id, code=e.code.value, error=e.message)
                continue
            if outcome.changed and isinstance(outcome.event, api.ItemPublished):
                published += 1
                log.info("news.published_on_schedule", item_id=item_id)
        return published

    def personal_data(self) -> NewsPersonalData:
        return NewsPersonalData(self)

    # ---- helpers ---------------------------------------------------------------------------

    async def _change(self, item_id: str, principal: Principal | None, decide: Decide) -> Changed:
        """Run one command on an item: load it and its actor once, decide once, append, and
        evolve the loaded state by the appended event (only a lost race loads again)."""
        decided: list[tuple[ItemState, Event | None]] = []

        async def decision() -> Decision | None:
            state = await views.load_item(self.db, item_id)
            if state is None:
                raise NotFound("there is no such item", "itemId")
            actor = await views.actor(self.db, state.actor_id)
            event = decide(state, actor)
            if inspect.isawaitable(event):
                event = await event
            decided[:] = [(state, event)]
            if event is None:
                return None
            return Decision(api.AGGREGATE_ITEM, item_id, event, state.version)

        assert self.commands is not None
        appended = await self.commands.run(decision, by=principal.account_id if principal else None)
        state, event = decided[0]
        if appended is None or event is None:
            return Changed(state, changed=False, event=None)
        after = domain.evolve(state, event, version=appended.seq, at=appended.envelope.occurred_at)
        return Changed(after, changed=True, event=event)

    async def _known(self, keys: Sequence[str]) -> set[str]:
        return await views.known_regions(self.db, keys)

    def _preferred(self, codes: Sequence[str]) -> list[str]:
        return [domain.check_language(c, "lang") for c in codes]

    async def _replies(self, states: Sequence[ItemState], viewer: Principal | None, lang: Sequence[str], *,
                       with_body: bool) -> list[api.NewsItem]:
        actors = await views.actors(self.db, {s.actor_id for s in states})
        refs = await views.region_refs(self.db, {a for s in states for a in s.content.regions})
        authors = await self._names({s.author_id for s in states}) if viewer else {}
        words = await views.texts(self.db, [s.id for s in states])
        now = self.clock.now()
        upcoming = await views.next_occurrences(self.db, [s.id for s in states if s.content.event], now)
        today = domain.local_today(now)
        return [self._reply(state, actors.get(state.actor_id), viewer, lang, refs=refs, authors=authors,
                            words=words.get(state.id, {}), upcoming=upcoming.get(state.id, (None, 0)), today=today,
                            with_body=with_body)
                for state in states]

    async def _names(self, account_ids: set[str]) -> dict[str, str]:
        """Account id → display name; an erased account's is FORMER_MEMBER."""
        found = {a.id: a.display_name for a in (await views.accounts_by_ids(self.db, account_ids)).values()}
        return found | dict.fromkeys(await privacy.erased(self.db, account_ids - set(found)), FORMER_MEMBER)

    def _reply(self, state: ItemState, actor: ActorFacts | None, viewer: Principal | None,
               lang: Sequence[str], *, refs: dict[str, vocab.RegionRef], authors: dict[str, str],
               words: dict[str, views.Text], upcoming: tuple[api.Occurrence | None, int], today: date,
               with_body: bool) -> api.NewsItem:
        content = state.content
        versions = views.texts_of(content)
        available = [v[0] for v in versions]
        language = views.pick_language(available, content.language, lang)
        _, _, title, summary, body = next(v for v in versions if v[0] == language)
        rendered = words.get(language)
        event_info = None
        if content.event is not None:
            event_info = api.EventInfo(**content.event.model_dump(), next_occurrence=upcoming[0],
                                       occurrence_count=upcoming[1])
        funding_info = None
        if content.funding is not None:
            funding_info = api.FundingInfo(**content.funding.model_dump(),
                                           status=domain.funding_status(content.funding, today))
        author = authors.get(state.author_id)
        editor = domain.may_edit(actor, viewer)
        return api.NewsItem(
            id=state.id, kind=state.kind, status=state.status,
            actor=api.ActorRef(id=state.actor_id, name=actor.name if actor else "", slug=actor.slug if actor else ""),
            author=api.Person(id=state.author_id, display_name=author) if viewer is not None else None,
            language=language, original_language=content.language, available_languages=available,
            title=title, summary=summary,
            body=body if with_body else None,
            body_html=(rendered.body_html if rendered else None) if with_body else None,
            topics=list(content.topics), regions=[refs[a] for a in content.regions if a in refs],
            link=content.link, tags=list(content.tags), image=content.image, visibility=content.visibility,
            translations=[api.TranslationInfo(language=v[0], title=v[2]) for v in versions],
            event=event_info, funding=funding_info, created_at=state.created_at, updated_at=state.updated_at,
            published_at=state.published_at, scheduled_for=state.publish_at,
            withdrawn_at=state.withdrawn_at,
            withdrawal_reason=state.withdrawal_reason if editor or (viewer and viewer.is_admin) else None,
            version=state.version, may_edit=editor, path=domain.path_of(state.id),
        )

    async def _one(self, state: ItemState, viewer: Principal | None, lang: Sequence[str]) -> api.NewsItem:
        return (await self._replies([state], viewer, lang, with_body=True))[0]

    async def _query(self, f: api.NewsFilter, viewer: Principal | None, words: list[str]) -> views.ItemQuery:
        if unknown := [r for r in f.regions if r not in await self._known(f.regions)]:
            raise Invalid(f"“{unknown[0]}” is not a known region key (AGS)", "filter.regions")
        return views.ItemQuery(
            reader=views.Reader(statuses=tuple(dict.fromkeys(f.status)) or ("published",),
                                account_id=viewer.account_id if viewer else None,
                                admin=viewer is not None and viewer.is_admin),
            kinds=list(dict.fromkeys(f.kinds)), topics=domain.check_topics(f.topics, "filter.topics"),
            regions=list(dict.fromkeys(f.regions)), actors=list(dict.fromkeys(f.actors)),
            languages=domain.check_languages(f.languages, "filter.languages"),
            since=f.from_, until=f.to, words=words,
        )

    # ---- reading ---------------------------------------------------------------------------

    async def news_feed(self, req: api.GetNewsFeed, ctx: RequestContext) -> api.NewsConnection:
        viewer = ctx.optional_principal()
        lang = self._preferred(req.lang)
        query = await self._query(req.filter, viewer, terms(req.query or ""))
        position = _decode(req.after, "k", 2)
        rows = await views.feed(self.db, query, before=(position[0], position[1]) if position else None,
                                limit=req.first + 1)
        page, more = rows[: req.first], len(rows) > req.first
        nodes = await self._replies([r[0] for r in page], viewer, lang, with_body=False)
        edges = [api.NewsEdge(cursor=_encode("k", r[1], r[2]), node=node) for r, node in zip(page, nodes, strict=True)]
        return api.NewsConnection(edges=edges, page_info=api.PageInfo(
            has_next_page=more, has_previous_page=position is not None,
            start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))

    async def get_item(self, req: api.GetNewsItem, ctx: RequestContext) -> api.NewsItem:
        viewer = ctx.optional_principal()
        lang = self._preferred(req.lang)
        state = await views.load_item(self.db, req.id)
        if state is None and self.commands and await self.commands.caught_up_further():
            state = await views.load_item(self.db, req.id)  # written through another replica just now
        actor = await views.actor(self.db, state.actor_id) if state else None
        if state is None or not domain.can_read(state, actor, viewer):
            raise NotFound("there is no such item", "id")
        return await self._one(state, viewer, lang)

    async def get_items(self, req: api.GetNewsItems, ctx: RequestContext) -> api.NewsItemList:
        viewer = ctx.optional_principal()
        lang = self._preferred(req.lang)
        if req.at_least:
            assert self.projector is not None
            try:
                await self.projector.wait_for(req.at_least, timeout=5.0)
            except TimeoutError:
                raise Unavailable("the service is catching up; try again in a moment") from None
        states = await views.load_items(self.db, list(dict.fromkeys(req.ids)))
        actors = await views.actors(self.db, {s.actor_id for s in states.values()})
        visible = [s for s in states.values() if domain.can_read(s, actors.get(s.actor_id), viewer)]
        return api.NewsItemList(items=await self._replies(visible, viewer, lang, with_body=True))

    async def upcoming_events(self, req: api.GetUpcomingEvents, ctx: RequestContext) -> api.OccurrenceConnection:
        viewer = ctx.optional_principal()
        lang = self._preferred(req.lang)
        regions = [req.region] if req.region else []
        if req.region and not await self._known(regions):
            raise Invalid(f"“{req.region}” is not a known region key (AGS)", "region")
        query = await self._query(api.NewsFilter(kinds=["event"], topics=req.topics, actors=req.actors), viewer, [])
        query = views.ItemQuery(**{**query.__dict__, "regions": regions})
        since = req.from_ or self.clock.now()
        if req.to is not None and req.to <= since:
            raise Invalid("`to` must come after `from`", "to")
        position = _decode(req.after, "u", 3)
        rows = await views.upcoming(self.db, query, since=since, until=req.to,
                                    after=(position[0], position[1], position[2]) if position else None,
                                    limit=req.first + 1)
        page, more = rows[: req.first], len(rows) > req.first
        unique = list({r.state.id: r.state for r in page}.values())
        nodes = {n.id: n for n in await self._replies(unique, viewer, lang, with_body=False)}
        edges = [api.OccurrenceEdge(cursor=_encode("u", *r.key), occurrence=r.occurrence, item=nodes[r.state.id])
                 for r in page]
        return api.OccurrenceConnection(edges=edges, page_info=api.PageInfo(
            has_next_page=more, has_previous_page=position is not None,
            start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))

    async def funding_programmes(self, req: api.GetFundingProgrammes, ctx: RequestContext) -> api.NewsConnection:
        viewer = ctx.optional_principal()
        lang = self._preferred(req.lang)
        query = await self._query(req.filter.model_copy(update={"kinds": ["funding-programme"]}), viewer, [])
        position = _decode(req.after, "o", 1)
        offset = position[0] if position else 0
        states = await views.funding_programmes(self.db, query, today=domain.local_today(self.clock.now()),
                                                offset=offset, limit=req.first + 1)
        page, more = states[: req.first], len(states) > req.first
        nodes = await self._replies(page, viewer, lang, with_body=False)
        edges = [api.NewsEdge(cursor=_encode("o", offset + n + 1), node=node) for n, node in enumerate(nodes)]
        return api.NewsConnection(edges=edges, page_info=api.PageInfo(
            has_next_page=more, has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))

    async def item_history(self, req: api.GetItemHistory, ctx: RequestContext) -> api.ItemHistory:
        principal = ctx.principal()
        state = await views.load_item(self.db, req.item_id)
        actor = await views.actor(self.db, state.actor_id) if state else None
        if state is None or not domain.can_read(state, actor, principal):
            raise NotFound("there is no such item", "itemId")
        if not (principal.is_admin or domain.may_edit(actor, principal)):
            raise Forbidden("only the actor's owners and editors, and administrators, may read an item's history")
        rows = await views.history(self.db, req.item_id)
        names = await self._names({r["by"] for r in rows if r["by"]})
        return api.ItemHistory(entries=[api.HistoryEntry(
            version=r["seq"], type=r["type"], occurred_at=r["occurred_at"], by=r["by"],
            by_display_name=names.get(r["by"]) if r["by"] else None,
            changes=json.loads(r["changes"])) for r in rows])

    # ---- feeds -----------------------------------------------------------------------------

    async def _feed_query(self, q: api.FeedQuery) -> api.FeedQuery:
        if unknown := [r for r in q.regions if r not in await self._known(q.regions)]:
            raise Invalid(f"“{unknown[0]}” is not a known region key (AGS)", "region")
        return q.model_copy(update={"topics": domain.check_topics(q.topics, "topic"),
                                    "lang": self._preferred(q.lang)})

    def _limit(self, req: api.GetFeed) -> int:
        limit = req.limit or DEFAULT_LIMIT[req.feed]
        if limit > MAX_LIMIT[req.feed]:
            raise Invalid(f"at most {MAX_LIMIT[req.feed]:,} entries", "limit")
        return limit

    async def _window(self, req: api.GetFeed, query: api.FeedQuery, limit: int
                      ) -> tuple[api.FeedStamp, Callable[[], Awaitable[list[tuple[int, str]]]]]:
        """The feed's stamp, and how to list its items (pk, time zone) — cached by the stamp, so
        the pages of one feed read the window once."""
        now = self.clock.now()
        today = datetime.combine(domain.local_today(now), datetime.min.time(), UTC)
        window: views.CalendarWindow | None = None
        if req.feed == "events" and query.item_id is not None:
            # One event's own calendar: all of it, past occurrences included.
            window = views.CalendarWindow(since=datetime(1970, 1, 2, tzinfo=UTC),
                                          until=datetime(9000, 1, 1, tzinfo=UTC))
        elif req.feed == "events":
            # Whole days: the window moves once a day, and with it the stamp.
            window = views.CalendarWindow(since=today - EVENTS_BEHIND, until=today + EVENTS_AHEAD)
        elif req.feed == "funding":
            window = views.CalendarWindow(since=today - EVENTS_BEHIND, until=today + timedelta(days=3 * 366))
        parts = [limit, self.settings.link("/")] + ([window.since.date()] if window else [])
        stamp = await views.feed_stamp(self.db, req.feed, query, parts)
        key = (req.feed, query.model_dump_json(), stamp.tag)

        async def listing() -> list[tuple[int, str]]:
            if key not in self._windows:
                if window is None:
                    found = [(pk, api.DEFAULT_TIME_ZONE) for pk in await views.news_feed_pks(self.db, query, limit)]
                else:
                    found = await views.calendar_keys(self.db, req.feed, query, window, limit)
                self._windows[key] = found
                while len(self._windows) > WINDOWS_KEPT:
                    self._windows.pop(next(iter(self._windows)))
            return self._windows[key]

        return stamp, listing

    async def feed(self, req: api.GetFeed, ctx: RequestContext) -> api.FeedPage:
        """Public data only, answered as to anyone: a feed must never carry what only
        signed-in people may see, whatever token came along."""
        if req.feed != "news":
            raise Invalid("the Atom feed is the news feed; calendars come from `calendar`", "feed")
        query = await self._feed_query(req.query)
        stamp, listing = await self._window(req, query, self._limit(req))
        if req.stamp_only:
            return api.FeedPage(stamp=stamp, entries=[], next_after=None)
        pks = [pk for pk, _ in await listing()]
        position = _decode(req.after, "f", 1)
        offset = position[0] if position else 0
        entries = await views.feed_entries(self.db, pks[offset:offset + 100], query.lang)
        page: list[api.FeedEntry] = []
        size = 0
        for entry in entries:
            size += len(entry.model_dump_json())
            if page and size > PAGE_BYTES:
                break
            page.append(entry)
        end = offset + len(page)
        return api.FeedPage(stamp=stamp, entries=page, next_after=_encode("f", end) if end < len(pks) else None)

    async def calendar(self, req: api.GetFeed, ctx: RequestContext) -> api.CalendarPage:
        if req.feed not in ("events", "funding"):
            raise Invalid("calendars are `events` or `funding`", "feed")
        query = await self._feed_query(req.query)
        stamp, listing = await self._window(req, query, self._limit(req))
        if query.item_id is not None and (await views.load_item(self.db, query.item_id)) is None:
            raise NotFound("there is no such event", "itemId")
        if req.stamp_only:
            if query.item_id is not None and not await listing():
                raise NotFound("there is no such event", "itemId")
            return api.CalendarPage(stamp=stamp, head="", components=[], next_after=None)
        keys = await listing()
        if query.item_id is not None and not keys:
            raise NotFound("there is no such event", "itemId")
        position = _decode(req.after, "c", 1)
        offset = position[0] if position else 0
        found = await views.calendar_components(self.db, [k[0] for k in keys[offset:offset + 1000]], query.lang)
        page: list[str] = []
        size = 0
        for component in found:
            size += len(component.encode())
            if page and size > PAGE_BYTES:
                break
            page.append(component)
        end = offset + len(page)
        head = ical.calendar_head(CALENDAR_NAMES[req.feed], [k[1] for k in keys]) if offset == 0 else ""
        return api.CalendarPage(stamp=stamp, head=head, components=page,
                                next_after=_encode("c", end) if end < len(keys) else None)

    # ---- writing ---------------------------------------------------------------------------

    async def create_item(self, req: api.CreateNewsItem, ctx: RequestContext) -> api.NewsItem:
        principal = ctx.principal()
        actor = await views.actor(self.db, req.actor_id)
        if actor is not None and actor.status != "approved" and not domain.may_edit(actor, principal) \
                and not principal.is_admin:
            actor = None  # a pending actor does not exist for those outside it
        item_id = new_id()
        known = await self._known(req.regions)
        event = domain.decide_create(req, item_id=item_id, principal=principal, actor=actor, known_regions=known,
                                     now=self.clock.now())

        async def decision() -> Decision:
            return Decision(api.AGGREGATE_ITEM, item_id, event, 0)

        assert self.commands is not None
        appended = await self.commands.run(decision, by=principal.account_id)
        assert appended is not None
        state = domain.evolve(None, event, version=appended.seq, at=appended.envelope.occurred_at)
        return await self._one(state, principal, [])

    async def update_item(self, req: api.UpdateNewsItem, ctx: RequestContext) -> api.NewsItem:
        principal = ctx.principal()
        now = self.clock.now()

        async def decide(state: ItemState, actor: ActorFacts | None) -> Event | None:
            regions = req.regions if req.regions is not None else state.content.regions
            # Regions the item names already count as known: a renamed file never drops a key.
            known = await self._known(regions) | set(state.content.regions)
            return domain.decide_update(state, req, principal, actor, known, now,
                                        scope=await views.scope(self.db, regions))

        outcome = await self._change(req.item_id, principal, decide)
        return await self._one(outcome.state, principal, [])

    async def publish_item(self, req: api.PublishNewsItem, ctx: RequestContext) -> api.NewsItem:
        principal = ctx.principal()

        async def decide(state: ItemState, actor: ActorFacts | None) -> Event | None:
            return domain.decide_publish(state, principal, actor, req.expected_version,
                                         await views.scope(self.db, state.content.regions))

        outcome = await self._change(req.item_id, principal, decide)
        return await self._one(outcome.state, principal, [])

    async def schedule_item(self, req: api.ScheduleNewsItem, ctx: RequestContext) -> api.NewsItem:
        principal = ctx.principal()
        now = self.clock.now()
        outcome = await self._change(req.item_id, principal, lambda state, actor: domain.decide_schedule(
            state, principal, actor, publish_at=req.publish_at, expected=req.expected_version, now=now))
        return await self._one(outcome.state, principal, [])

    async def withdraw_item(self, req: api.WithdrawNewsItem, ctx: RequestContext) -> api.NewsItem:
        principal = ctx.principal()

        async def decide(state: ItemState, actor: ActorFacts | None) -> Event | None:
            return domain.decide_withdraw(state, principal, actor, reason=req.reason,
                                          scope=await views.scope(self.db, state.content.regions))

        outcome = await self._change(req.item_id, principal, decide)
        if isinstance(outcome.event, api.ItemWithdrawn) and outcome.event.by_admin:
            await self._mail_withdrawal(outcome.state, outcome.event)
        return await self._one(outcome.state, principal, [])

    async def _mail_withdrawal(self, state: ItemState, event: api.ItemWithdrawn) -> None:
        # Sent after the event is stored: a crash in between loses a notice, never the withdrawal.
        actor = await views.actor(self.db, state.actor_id)
        if actor is None:
            return
        owners = await views.accounts_by_ids(self.db, actor.owners)
        assert self.js is not None
        for owner in owners.values():
            await enqueue(self.js, mails.withdrawn_by_admin(
                to=owner.email, locale=owner.locale, name=owner.display_name, actor_name=actor.name,
                title=state.content.title, reason=event.reason or "",
                url=self.settings.link(domain.path_of(state.id)),
            ))

