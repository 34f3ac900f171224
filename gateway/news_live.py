"""Live publications for `newsPublished`: the gateway follows the NEWS stream itself.

One push per publication, however many news replicas and gateways run: the event that
publishes an item is stored once (scheduled or not, only one replica's append wins), and
each gateway reads the stream once — one ordered consumer, starting at the newest event
when the gateway starts, resumed after the last event it saw when it must resubscribe —
and hands each `ItemPublished` to its own subscribers whose filter matches, in process.
No news replica publishes a live message that a crash between store and send could lose
or a retry could send twice: the stream is the only source.

Region filters mean what they mean everywhere: an item concerns a region when the region is
one of the item's, inside one of them or around one of them — exactly the notice's
`region_scope`, so matching needs no lookup.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from proto import news, subjects
from proto.envelope import Envelope
from services.kernel.logging import get_logger

log = get_logger("gateway.news_live")

QUEUE_SIZE = 64  # publications are a few an hour; 64 pending is a stuck client
WATCH_INTERVAL = 1.0
STALL_AFTER = 2.0

_CLOSED = object()


@dataclass(frozen=True)
class Publication:
    item_id: str
    notice: news.Notice
    published_at: datetime
    scheduled: bool
    seq: int  # the event's stream sequence: whoever reads the item reads it from a view this far


@dataclass(frozen=True)
class PublicationFilter:
    kinds: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    actors: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    signed_in: bool = False  # members-only items go to signed-in subscribers only

    def matches(self, notice: news.Notice) -> bool:
        if notice.visibility != "public" and not self.signed_in:
            return False
        if self.kinds and notice.kind not in self.kinds:
            return False
        if self.topics and not self.topics.intersection(notice.topics):
            return False
        if self.regions and not self.regions.intersection(notice.region_scope):
            return False
        if self.actors and notice.actor_id not in self.actors:
            return False
        languages = {notice.language, *(t.language for t in notice.translations)}
        return not self.languages or bool(self.languages & languages)


@dataclass(eq=False)
class PublicationListener:
    filter: PublicationFilter
    _queue: asyncio.Queue[object] = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE))
    dropped: int = 0

    def offer(self, item: object) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.dropped += 1

    async def __aiter__(self) -> AsyncIterator[Publication]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            assert isinstance(item, Publication)
            yield item


class PublicationHub:
    def __init__(self) -> None:
        self._listeners: set[PublicationListener] = set()
        self._js: JetStreamContext | None = None
        self._sub: JetStreamContext.PushSubscription | None = None
        self._last: int | None = None  # stream sequence of the last event seen
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0  # publications handed to listeners, for tests and metrics

    async def start(self, nc: NATS) -> None:
        self._js = nc.jetstream()
        # The gateway may start before news ever has: follow from the background.
        self._task = asyncio.create_task(self._run(), name="news-publications")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        await self._unsubscribe()
        for listener in self._listeners:
            listener.offer(_CLOSED)
        self._listeners.clear()

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    @asynccontextmanager
    async def listen(self, publication_filter: PublicationFilter) -> AsyncIterator[PublicationListener]:
        listener = PublicationListener(publication_filter)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    async def _subscribe(self) -> None:
        assert self._js is not None
        stream = subjects.stream_name(news.SERVICE)
        if self._last is None:
            # From what is new when this gateway starts: what was published before is no live news.
            info = await self._js.stream_info(stream)  # raises NotFoundError until news created it
            self._last = info.state.last_seq
        self._sub = await self._js.subscribe(
            subjects.events_filter(news.SERVICE), stream=stream, ordered_consumer=True,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            config=api.ConsumerConfig(opt_start_seq=self._last + 1), cb=self._on_event)

    async def _unsubscribe(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:
                pass
            self._sub = None

    async def _run(self) -> None:
        """Subscribe once the stream exists; resubscribe after the last event seen whenever
        the consumer stalls behind the stream (as the kernel's projector does: an ordered
        consumer whose server forgot it never hears a heartbeat again)."""
        assert self._js is not None
        stream = subjects.stream_name(news.SERVICE)
        loop = asyncio.get_running_loop()
        stalled_since: float | None = None
        seen = -1
        while True:
            if self._sub is None:
                try:
                    await self._subscribe()
                except NotFoundError:
                    await asyncio.sleep(WATCH_INTERVAL)
                    continue
                except Exception as e:
                    log.warning("news_live.subscribe_failed", error=repr(e))
                    await asyncio.sleep(WATCH_INTERVAL)
                    continue
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                last = (await self._js.stream_info(stream)).state.last_seq
            except Exception:
                continue
            current = self._last or 0
            if last <= current or current != seen:
                stalled_since, seen = None, current
                continue
            if stalled_since is None:
                stalled_since = loop.time()
            elif loop.time() - stalled_since >= STALL_AFTER:
                log.warning("news_live.resubscribe", seen=current, last=last)
                await self._unsubscribe()
                stalled_since = None

    async def _on_event(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if self._last is not None and seq <= self._last:
            return  # seen already (an old and a new subscription may overlap once)
        self._last = seq
        try:
            envelope = Envelope.model_validate_json(msg.data)
        except ValidationError:
            return
        if envelope.type != news.ItemPublished.TYPE:
            return
        try:
            event = news.ItemPublished.model_validate(envelope.data)
        except ValidationError:
            log.warning("news_live.unreadable", seq=seq)
            return
        publication = Publication(item_id=event.item_id, notice=event.notice, published_at=envelope.occurred_at,
                                  scheduled=event.scheduled, seq=seq)
        for listener in tuple(self._listeners):
            if listener.filter.matches(event.notice):
                listener.offer(publication)
                self.delivered += 1
