"""The event store and the projector against a real nats-server.

A tiny "counter" view stands in for a service: events append with expected sequences,
apply exactly once, survive a restart, rebuild from an empty file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest

from proto.envelope import Envelope, Event
from services.kernel.clock import Clock
from services.kernel.commands import CommandRunner, Decision
from services.kernel.eventstore import EventStore, WrongLastSequence
from services.kernel.projector import Projector
from services.kernel.streams import ensure_event_stream
from proto.errors import Conflict

SERVICE = "kerneltest"


class Counted(Event):
    TYPE = "kerneltest.counted"
    by: int


class CounterView:
    SCHEMA = "CREATE TABLE IF NOT EXISTS counters (id TEXT PRIMARY KEY, total INTEGER, version INTEGER);"

    def __init__(self) -> None:
        self.applied: list[int] = []

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        event = envelope.event()
        assert isinstance(event, Counted)
        counter_id = subject.rsplit(".", 1)[1]
        await db.execute(
            "INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE "
            "SET total = total + excluded.total, version = excluded.version",
            (counter_id, event.by, seq),
        )
        self.applied.append(seq)


async def state(projector: Projector, counter_id: str) -> tuple[int, int]:
    async with projector.reader.execute("SELECT total, version FROM counters WHERE id = ?", (counter_id,)) as cur:
        row = await cur.fetchone()
    return (row[0], row[1]) if row else (0, 0)


@pytest.fixture
async def js(nc):
    js = nc.jetstream()
    await ensure_event_stream(js, SERVICE)
    yield js
    await js.delete_stream(SERVICE.upper())


async def test_append_applies_once_and_resumes_after_restart(js, tmp_path: Path):
    view = CounterView()
    projector = Projector(js, SERVICE, tmp_path / "view.sqlite3", view)
    await projector.start()
    store = EventStore(js, SERVICE, Clock())

    first = await store.append("counter", "a", Counted(by=2), expected=0, by=None)
    await projector.wait_for(first)
    second = await store.append("counter", "a", Counted(by=3), expected=first, by=None)
    await projector.wait_for(second)
    assert await state(projector, "a") == (5, second)
    await projector.stop()

    # A restart resumes after the stored sequence: nothing is applied twice.
    view_again = CounterView()
    projector = Projector(js, SERVICE, tmp_path / "view.sqlite3", view_again)
    await projector.start()
    third = await store.append("counter", "a", Counted(by=10), expected=second, by=None)
    await projector.wait_for(third)
    assert view_again.applied == [third]
    assert await state(projector, "a") == (15, third)
    await projector.stop()

    # Deleting the file rebuilds the same state from the stream.
    (tmp_path / "view.sqlite3").unlink()
    rebuilt = Projector(js, SERVICE, tmp_path / "view.sqlite3", CounterView())
    await rebuilt.start()
    await rebuilt.wait_for(third)
    assert await state(rebuilt, "a") == (15, third)
    await rebuilt.stop()


async def test_stale_expected_sequence_is_refused(js):
    store = EventStore(js, SERVICE, Clock())
    first = await store.append("counter", "b", Counted(by=1), expected=0, by=None)
    await store.append("counter", "b", Counted(by=1), expected=first, by=None)
    with pytest.raises(WrongLastSequence):
        await store.append("counter", "b", Counted(by=1), expected=first, by=None)
    with pytest.raises(WrongLastSequence):
        await store.append("counter", "b", Counted(by=1), expected=0, by=None)


async def test_concurrent_writers_one_wins_other_retries_then_conflicts(js, tmp_path: Path):
    projector = Projector(js, SERVICE, tmp_path / "v.sqlite3", CounterView())
    await projector.start()
    store = EventStore(js, SERVICE, Clock())
    runner = CommandRunner(store, projector)
    seq = await runner.run(lambda: _decide(projector, "c", 1), by=None)
    assert seq is not None

    # A decider that always reads a stale version loses twice: CONFLICT, nothing appended.
    async def stale() -> Decision:
        return Decision("counter", "c", Counted(by=100), expected=0)

    with pytest.raises(Conflict):
        await runner.run(stale, by=None)
    assert (await state(projector, "c"))[0] == 1

    # Two honest writers at once: both decide on the same version; one retries and wins too.
    results = await asyncio.gather(
        runner.run(lambda: _decide(projector, "c", 1), by=None),
        runner.run(lambda: _decide(projector, "c", 1), by=None),
    )
    assert all(results)
    assert (await state(projector, "c"))[0] == 3
    await projector.stop()


async def _decide(projector: Projector, counter_id: str, by: int) -> Decision:
    _, version = await state(projector, counter_id)
    return Decision("counter", counter_id, Counted(by=by), expected=version)
