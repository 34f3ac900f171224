"""A view file that is locked for a while: the projector waits it out and applies the batch,
instead of taking the lock for a broken event and stopping for good ("database is locked"
stopped the notifications service's account view in the benchmark, 9,500 of 10,201 accounts).

The writers' busy timeout is cut from 5 s to 0.1 s here, so the tests take a second, not ten.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest

from proto.envelope import Envelope, Event
from services.kernel.clock import Clock
from services.kernel.eventstore import EventStore
from services.kernel.projector import Projector
from services.kernel.streams import ensure_event_stream

FIRST, SECOND = "lockedone", "lockedtwo"


class Noted(Event):
    TYPE = "lockedtest.noted"
    text: str


class NotesView:
    """Notes of one stream; `hold` keeps each batch's transaction open a while, as a
    catch-up of thousands of events does."""

    SCHEMA = "CREATE TABLE IF NOT EXISTS notes (stream TEXT, seq INTEGER, text TEXT, PRIMARY KEY (stream, seq));"

    def __init__(self, stream: str, hold: float = 0.0) -> None:
        self.stream = stream
        self.hold = hold

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        event = envelope.event()
        assert isinstance(event, Noted)
        await db.execute("INSERT INTO notes VALUES (?, ?, ?)", (self.stream, seq, event.text))
        if self.hold:
            await asyncio.sleep(self.hold)  # the write lock is held from the INSERT on


async def notes(path: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT stream, text FROM notes ORDER BY stream, seq").fetchall()
    finally:
        db.close()


@pytest.fixture
async def js(nc):
    js = nc.jetstream()
    for service in (FIRST, SECOND):
        await ensure_event_stream(js, service)
    yield js
    for service in (FIRST, SECOND):
        await js.delete_stream(service.upper())


async def start(js, service: str, path: Path, view: NotesView) -> Projector:
    projector = Projector(js, service, path, view)
    await projector.start()
    assert projector.writer is not None
    await projector.writer.execute("PRAGMA busy_timeout=100")
    return projector


async def test_a_file_locked_from_elsewhere_is_waited_out_and_nothing_is_lost(js, tmp_path: Path):
    path = tmp_path / "view.sqlite3"
    projector = await start(js, FIRST, path, NotesView(FIRST))
    store = EventStore(js, FIRST, Clock())
    try:
        locked, release = threading.Event(), threading.Event()

        def hold_the_lock() -> None:  # an operator's sqlite3 shell in the middle of a write
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(10)
            db.execute("ROLLBACK")
            db.close()

        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        await asyncio.to_thread(locked.wait, 5)
        seq = await store.append("note", "a", Noted(text="while locked"), expected=0, by=None)
        for _ in range(200):
            if projector.busy_waits >= 2:
                break
            await asyncio.sleep(0.05)
        assert projector.busy_waits >= 2, "the projector never met the lock"
        assert projector.failed is None
        assert projector.applied < seq
        release.set()
        await asyncio.to_thread(holder.join, 10)
        await projector.wait_for(seq, timeout=10)
        assert projector.failed is None
        assert await notes(path) == [(FIRST, "while locked")]
    finally:
        release.set()
        await projector.stop()


async def test_two_projectors_on_one_file_take_turns_and_neither_stops(js, tmp_path: Path):
    path = tmp_path / "view.sqlite3"
    # The first holds each batch's transaction 0.5 s, five times the writers' busy timeout.
    slow = await start(js, FIRST, path, NotesView(FIRST, hold=0.5))
    quick = await start(js, SECOND, path, NotesView(SECOND))
    first, second = EventStore(js, FIRST, Clock()), EventStore(js, SECOND, Clock())
    try:
        seqs_first, seqs_second = [], []
        for n in range(3):
            seqs_first.append(await first.append("note", f"s{n}", Noted(text=f"slow {n}"), expected=0, by=None))
            seqs_second.append(await second.append("note", f"q{n}", Noted(text=f"quick {n}"), expected=0, by=None))
            await asyncio.sleep(0.2)
        await slow.wait_for(seqs_first[-1], timeout=20)
        await quick.wait_for(seqs_second[-1], timeout=20)
        assert (slow.failed, quick.failed) == (None, None)
        # Within one process they queue for the file instead of running into SQLite's lock.
        assert (slow.busy_waits, quick.busy_waits) == (0, 0)
        assert sorted(await notes(path)) == sorted(
            [(FIRST, f"slow {n}") for n in range(3)] + [(SECOND, f"quick {n}") for n in range(3)])
    finally:
        await quick.stop()
        await slow.stop()
