"""What an erasure leaves in the files, measured: a real nats-server whose store directory is
read byte by byte, and SQLite files with their write-ahead log.

- JetStream: a subject purge and a work queue's ack only mark messages deleted; their bytes
  stay in the block file. A message delete (erase, the server's default) overwrites them:
  erasures use it, and so do the mailer and the task queues for what they are done with.
- SQLite: a deleted row is zeroed (`secure_delete`), but older copies of its page stay in
  the -wal file until a checkpoint truncates it.
- The kernel's eraser: each noted erasure runs once per replica until it succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiosqlite
import nats
import nats.errors
import pytest
from nats.js import api

from proto import identity, subjects
from proto.envelope import Envelope
from proto.mail import OutgoingMail
from services.kernel import privacy
from services.kernel.clock import Clock
from services.kernel.eventstore import ErasureRefused, EventStore
from services.kernel.mailer import Mailer
from services.kernel.outbox import enqueue
from services.kernel.projector import open_database
from services.kernel.settings import Settings
from services.kernel.streams import ensure_event_stream, ensure_mail_stream
from services.kernel.tasks import Task, TaskKind, Tasks, ensure_task_stream
from tests.support.nats_server import LocalNats
from tests.support.smtp import SmtpServer

MARKER = "Zoë Quäntchen-Ŋ erasure-marker"


@pytest.fixture(scope="module")
def server():
    running = LocalNats()
    running.start()
    yield running
    running.cleanup()


@pytest.fixture
async def js(server):
    nc = await nats.connect(server.url)
    yield nc.jetstream()
    await nc.close()


def holding(root: Path, text: str = MARKER) -> list[str]:
    """The files under `root` whose bytes hold `text` (UTF-8)."""
    needle = text.encode()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes())


def event(text: str) -> identity.ProfileUpdated:
    return identity.ProfileUpdated(display_name=text, locale="de")


async def test_a_purge_leaves_the_bytes_and_erasing_overwrites_them(server, js):
    await ensure_event_stream(js, "identity")
    store = EventStore(js, "identity", Clock())
    await store.append("account", "purged", event(f"{MARKER} purged"), expected=0, by=None)
    erased = [await store.append("account", "erased", event(f"{MARKER} erased"), expected=0, by=None)]
    erased.append(await store.append("account", "erased", event(f"{MARKER} erased"), expected=erased[0], by=None))
    await store.append("account", "kept", event("someone else"), expected=0, by=None)

    await js.purge_stream(subjects.stream_name("identity"), subject="identity.events.account.purged")
    assert await store.events_of("account", "purged") == []
    assert holding(server.store_dir, f"{MARKER} purged") == ["jetstream/$G/streams/IDENTITY/msgs/1.blk"]

    assert [e.seq for e in await store.events_of("account", "erased")] == erased
    assert await store.erase(erased) == 2
    assert await store.erase(erased) == 0  # already gone: done, not an error
    assert await store.events_of("account", "erased") == []
    assert holding(server.store_dir, f"{MARKER} erased") == []
    [kept] = await store.events_of("account", "kept")
    assert isinstance(kept.envelope, Envelope) and kept.envelope.data["display_name"] == "someone else"


async def test_a_stream_made_to_deny_deletes_keeps_running_but_refuses_erasure(js):
    stream = subjects.stream_name("news")
    await js.add_stream(api.StreamConfig(name=stream, subjects=[subjects.events_filter("news")],
                                         storage=api.StorageType.FILE, deny_delete=True))
    await ensure_event_stream(js, "news")  # NATS never lifts deny_delete: logged, not fatal
    assert (await js.stream_info(stream)).config.deny_delete is True
    store = EventStore(js, "news", Clock())
    seq = await store.append("article", "a1", event("x"), expected=0, by=None)
    with pytest.raises(ErasureRefused, match="refuses to delete"):
        await store.erase([seq])


async def test_the_mailer_erases_what_it_delivered_while_other_mail_waits(server, js, tmp_path):
    await ensure_mail_stream(js)
    smtp = SmtpServer()
    smtp.inbox.deferred.add("later@example.org")
    smtp.start()
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)
    mailer = Mailer(js, settings, Clock())
    try:
        # Queued before the mailer starts: the waiting one first, in the same block.
        await enqueue(js, OutgoingMail(to="later@example.org", subject="wait", text="w", html="<p>w</p>",
                                       kind="test"))
        marker = f"{MARKER} mail"
        await enqueue(js, OutgoingMail(to="now@example.org", subject=marker, text=marker, html=marker,
                                       kind="test"))
        queue = server.store_dir / "jetstream" / "$G" / "streams" / subjects.MAIL_STREAM
        assert holding(queue, marker) == ["msgs/1.blk"]
        await mailer.start()
        await smtp.inbox.wait_for("now@example.org")
        deadline = asyncio.get_running_loop().time() + 10
        while holding(queue, marker):
            assert asyncio.get_running_loop().time() < deadline, holding(queue, marker)
            await asyncio.sleep(0.1)
        state = (await js.stream_info(subjects.MAIL_STREAM)).state
        assert state.messages == 1  # the deferred one is still there, to be tried again
    finally:
        await mailer.stop()
        smtp.stop()
        with contextlib.suppress(nats.errors.Error):
            await js.purge_stream(subjects.MAIL_STREAM)


async def test_deleted_rows_leave_no_bytes_once_the_log_is_truncated(tmp_path):
    path = tmp_path / "view.sqlite3"
    db = await open_database(path)
    try:
        async with db.execute("PRAGMA secure_delete") as cur:
            assert (await cur.fetchone())[0] == 1  # set by us, whatever the SQLite build's default
        await db.execute("CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT)")
        await db.executemany("INSERT INTO people VALUES (?, ?)", [("p1", MARKER), ("p2", "Someone Else")])
        await db.commit()
        await db.execute("DELETE FROM people WHERE id = 'p1'")
        await db.commit()
        # The page the delete wrote is zeroed, but the log still holds the page as it was before.
        assert holding(tmp_path) == ["view.sqlite3-wal"]
        assert await privacy.checkpoint(db)
        assert holding(tmp_path) == []
        assert path.with_name("view.sqlite3-wal").stat().st_size == 0
        async with db.execute("SELECT name FROM people") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["Someone Else"]
    finally:
        await db.close()


class Declaration:
    """A service's PersonalData that fails once, then erases a row of its own table."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def export(self, account_id: str) -> privacy.JsonObject:
        return {}

    async def blockers(self, account_id: str) -> list:
        return []

    async def erase(self, account_id: str, db: aiosqlite.Connection) -> None:
        self.calls.append(account_id)
        if len(self.calls) == 1:
            raise RuntimeError("NATS went away")
        await db.execute("DELETE FROM people WHERE id = ?", (account_id,))


async def test_the_eraser_runs_each_noted_erasure_until_it_succeeds_once(tmp_path):
    path = tmp_path / "view.sqlite3"
    db = await open_database(path)
    await db.executescript(privacy.ERASURE_SCHEMA + "CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT);")
    await db.execute("INSERT INTO people VALUES ('acc-1', ?)", (MARKER,))
    tombstone = Envelope(type=identity.AccountDeleted.TYPE, occurred_at=Clock().now(), data={})
    other = Envelope(type=identity.ProfileUpdated.TYPE, occurred_at=Clock().now(),
                     data={"display_name": "x", "locale": "de"})
    for envelope, seq in ((tombstone, 7), (tombstone, 7), (other, 8)):  # applied twice: noted once
        await privacy.note_tombstone(db, envelope, seq, "identity.events.account.acc-1")
    await db.commit()
    declaration = Declaration()
    eraser = privacy.Eraser("test", path, declaration, Clock())
    await eraser.start()
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while await privacy.pending(db):  # the first attempt fails; the loop tries again
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        for _ in range(3):
            eraser.wake()
            await asyncio.sleep(0.1)
        assert declaration.calls == ["acc-1", "acc-1"] and eraser.failures == 1  # done: never again
        assert await privacy.erased(db, ["acc-1", "acc-2"]) == {"acc-1"}
        assert holding(tmp_path) == []  # the row, and the log that held it
    finally:
        await eraser.stop()
        await db.close()


class Note(Task):
    text: str


async def test_a_done_task_is_erased_while_another_waits_for_its_retry(server, js):
    waits, works = TaskKind("waits", Note), TaskKind("works", Note)
    tasks = Tasks(js, "notifications")
    handled: list[str] = []

    async def fail(task: Note) -> None:
        raise RuntimeError("not yet")  # retried later: stays queued meanwhile

    async def succeed(task: Note) -> None:
        handled.append(task.text)

    tasks.handle(waits, fail)
    tasks.handle(works, succeed)
    await ensure_task_stream(js, "notifications")
    marker = f"{MARKER} task"
    await tasks.defer(waits, Note(text="later"))
    await tasks.defer(works, Note(text=marker))
    queue = server.store_dir / "jetstream" / "$G" / "streams" / subjects.tasks_stream("notifications")
    assert holding(queue, marker) == ["msgs/1.blk"]
    await tasks.start()
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while not handled or holding(queue, marker):
            assert asyncio.get_running_loop().time() < deadline, (handled, holding(queue, marker))
            await asyncio.sleep(0.1)
        assert handled == [marker]
        assert (await js.stream_info(subjects.tasks_stream("notifications"))).state.messages == 1
    finally:
        await tasks.stop()
