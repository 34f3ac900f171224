"""A fresh view projecting a long stream: every event applied exactly once.

The news benchmark once found hundreds of events missing from a view that ran far behind
its stream. The ordered push consumer the projector used then answered the server's flow
control as soon as a message reached the NATS client, not when the projector had taken it,
so the server kept pushing and the client buffered the whole backlog — until its pending
limits dropped messages ("slow consumer") that the consumer's sequence tracking had already
counted as delivered. Here a stream of 50,000 events is projected into an empty view while
the client's buffer is watched: it must stay bounded by the projector's batches, and every
sequence must arrive once, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import aiosqlite
import pytest

from proto import subjects
from proto.envelope import Envelope, Event
from services.kernel.clock import Clock
from services.kernel.projector import BATCH, CATCH_UP_BATCHES, Applied, Projector
from services.kernel.streams import ensure_event_stream

SERVICE = "backlogtest"
EVENTS = 50_000


class Noted(Event):
    TYPE = "backlogtest.noted"
    n: int


class NotingView:
    """Writes one row per event, and notes how many messages the client had received by then."""

    SCHEMA = "CREATE TABLE IF NOT EXISTS noted (seq INTEGER PRIMARY KEY, n INTEGER NOT NULL);"

    def __init__(self, nc) -> None:
        self._nc = nc
        self.seqs: list[int] = []
        self.most_ahead = 0  # messages received by the client beyond those applied

    async def apply_batch(self, db: aiosqlite.Connection, events: Sequence[Applied]) -> None:
        ahead = self._nc.stats["in_msgs"] - self._received_before - len(self.seqs)
        self.most_ahead = max(self.most_ahead, ahead)
        await db.executemany("INSERT INTO noted (seq, n) VALUES (?, ?)",
                             [(e.seq, e.envelope.data["n"]) for e in events])
        self.seqs.extend(e.seq for e in events)

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        await self.apply_batch(db, [Applied(envelope, seq, subject)])

    def start_counting(self) -> None:
        self._received_before = self._nc.stats["in_msgs"]


@pytest.fixture
async def js(nc):
    js = nc.jetstream()
    await ensure_event_stream(js, SERVICE)
    yield js
    await js.delete_stream(subjects.stream_name(SERVICE))


async def publish(js, count: int) -> int:
    clock, last, pending = Clock(), 0, []
    for n in range(count):
        envelope = Envelope(type=Noted.TYPE, occurred_at=clock.now(), by=None, data={"n": n})
        subject = subjects.aggregate_subject(SERVICE, "note", str(n % 97))
        pending.append(await js.publish_async(subject, envelope.model_dump_json().encode()))
        if len(pending) >= 2000:
            last = max(ack.seq for ack in await asyncio.gather(*pending))
            pending = []
    if pending:
        last = max(ack.seq for ack in await asyncio.gather(*pending))
    return last


async def test_a_fresh_view_applies_a_long_backlog_exactly_once_with_a_bounded_buffer(js, nc, tmp_path: Path):
    last = await publish(js, EVENTS)
    assert last == EVENTS

    view = NotingView(nc)
    view.start_counting()
    projector = Projector(js, SERVICE, tmp_path / "view.sqlite3", view)
    await projector.start()
    try:
        await asyncio.wait_for(projector.caught_up.wait(), 240)
        assert projector.failed is None
        assert view.seqs == list(range(1, EVENTS + 1))  # each once, in order, none missing
        async with projector.reader.execute("SELECT count(*), count(DISTINCT n) FROM noted") as cur:
            assert tuple(await cur.fetchone()) == (EVENTS, EVENTS)
        # What the client held beyond the view stayed within a few batches, not the backlog:
        # one transaction while catching up (a few reads) and the read ahead of it.
        assert view.most_ahead <= (CATCH_UP_BATCHES + 3) * BATCH < EVENTS / 5, view.most_ahead

        # Events appended after catching up still arrive (the tail, not only the backlog).
        more = await publish(js, 10)
        assert more == EVENTS + 10
        await projector.wait_for(more, timeout=20)
        assert view.seqs[-10:] == list(range(EVENTS + 1, EVENTS + 11))
        # Caught up, the view is written in the steady state again: every commit synced
        # as WAL's NORMAL says, not handed to the OS only (as while catching up).
        async with projector.writer.execute("PRAGMA synchronous") as cur:
            assert (await cur.fetchone())[0] == 1  # NORMAL
    finally:
        await projector.stop()
