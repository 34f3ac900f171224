"""Live publications for `newsPublished`: the gateway follows the NEWS stream itself.

One push per publication, however many news replicas and gateways run: the event that
publishes an item is stored once (scheduled or not, only one replica's append wins), and
each gateway reads the stream once (gateway/stream_follower.py) and hands each
`ItemPublished` to its own subscribers whose filter matches, in process.

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
from pydantic import ValidationError

from gateway.stream_follower import StreamFollower
from proto import news, subjects
from proto.envelope import Envelope
from services.kernel.logging import get_logger

log = get_logger("gateway.news_live")

QUEUE_SIZE = 64  # publications are a few an hour; 64 pending is a stuck client

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
        self._follower = StreamFollower(news.SERVICE, subjects.events_filter(news.SERVICE), self._on_event,
                                        name="news-publications")
        self.delivered = 0  # publications handed to listeners, for tests and metrics

    async def start(self, nc: NATS) -> None:
        await self._follower.start(nc)

    async def stop(self) -> None:
        await self._follower.stop()
        for listener in self._listeners:
            listener.offer(_CLOSED)
        self._listeners.clear()

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    @property
    def following(self) -> bool:
        return self._follower.following

    @asynccontextmanager
    async def listen(self, publication_filter: PublicationFilter) -> AsyncIterator[PublicationListener]:
        listener = PublicationListener(publication_filter)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    def _on_event(self, envelope: Envelope, seq: int) -> None:
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
