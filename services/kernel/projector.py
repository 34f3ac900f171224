"""Projecting a service's stream into its SQLite view, exactly once, resumable, rebuildable.

The projector reads the stream with an ordered consumer starting after the last sequence
it applied. Each event is applied and its sequence recorded in one SQLite transaction, so
a crash between the two cannot apply an event twice or skip one. Deleting the file and
restarting rebuilds the view from the whole stream. `wait_for(seq)` gives commands
read-your-writes: they answer only after their own event is in the view.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

import aiosqlite
from nats.js import JetStreamContext, api
from nats.aio.msg import Msg
from pydantic import ValidationError

from proto import subjects
from proto.envelope import Envelope
from services.kernel.logging import get_logger

log = get_logger("projector")

WATCH_INTERVAL = 1.0  # seconds between comparisons of the view with its stream
STALL_AFTER = 2.0  # seconds behind without progress before resubscribing

PROJECTION_SCHEMA = """
CREATE TABLE IF NOT EXISTS projection (
    stream   TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
"""


class View(Protocol):
    """What a service's `views.py` offers the projector."""

    SCHEMA: str

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None: ...


async def open_database(path: Path) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path)
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute("PRAGMA foreign_keys=ON")
    await db.execute("PRAGMA busy_timeout=5000")
    # Deleted rows are overwritten, not left in free pages: an erased person's data must
    # not stay in the file (services/kernel/privacy.py also truncates the WAL after one).
    await db.execute("PRAGMA secure_delete=ON")
    return db


class Projector:
    def __init__(self, js: JetStreamContext, service: str, path: Path, view: View):
        self._js = js
        self._stream = subjects.stream_name(service)
        self._filter = subjects.events_filter(service)
        self._path = path
        self._view = view
        self._applied = 0
        self._changed = asyncio.Condition()
        self._sub: JetStreamContext.PushSubscription | None = None
        self._apply_lock = asyncio.Lock()
        self._watchdog: asyncio.Task[None] | None = None
        self.failed: str | None = None  # set when an event could not be applied: unhealthy
        self.writer: aiosqlite.Connection | None = None
        self.reader: aiosqlite.Connection | None = None

    @property
    def applied(self) -> int:
        return self._applied

    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = await open_database(self._path)
        await self.writer.executescript(PROJECTION_SCHEMA + self._view.SCHEMA)
        await self.writer.commit()
        async with self.writer.execute(
            "SELECT last_seq FROM projection WHERE stream = ?", (self._stream,)
        ) as cur:
            row = await cur.fetchone()
        self._applied = row[0] if row else 0
        # Queries run on their own connection: WAL lets them read while the writer applies.
        self.reader = await open_database(self._path)
        await self.reader.execute("PRAGMA query_only=ON")
        log.info("projector.start", stream=self._stream, resume_after=self._applied, file=str(self._path))
        await self._subscribe()
        self._watchdog = asyncio.create_task(self._watch(), name=f"projector-watch-{self._stream}")

    async def _subscribe(self) -> None:
        self._sub = await self._js.subscribe(
            self._filter,
            stream=self._stream,
            ordered_consumer=True,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            config=api.ConsumerConfig(opt_start_seq=self._applied + 1),
            cb=self._on_message,
        )

    async def _unsubscribe(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # the connection may be closed, or the consumer gone
                pass
            self._sub = None

    async def _watch(self) -> None:
        """Resubscribe when the view stalls behind the stream.

        An ordered consumer notices a gap only when a heartbeat arrives; when its server
        restarted and forgot the consumer, none ever does. So: if the stream holds events
        the view has not applied and nothing moved for STALL_AFTER, start over after the
        last applied sequence.
        """
        stalled_since: float | None = None
        seen = self._applied
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if self.failed:
                continue
            try:
                last = (await self._js.stream_info(self._stream)).state.last_seq
            except Exception:
                continue  # NATS unreachable: nothing to compare with yet
            if last <= self._applied or self._applied != seen:
                stalled_since, seen = None, self._applied
                continue
            if stalled_since is None:
                stalled_since = loop.time()
            elif loop.time() - stalled_since >= STALL_AFTER:
                log.warning("projector.resubscribe", stream=self._stream, applied=self._applied, last=last)
                await self._unsubscribe()
                try:
                    await self._subscribe()
                except Exception as e:
                    log.warning("projector.resubscribe_failed", stream=self._stream, error=str(e))
                stalled_since = None

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            try:
                await self._watchdog
            except (asyncio.CancelledError, Exception):
                pass
            self._watchdog = None
        await self._unsubscribe()
        # Wait for an event being applied right now: closing under it would lose its commit.
        async with self._apply_lock:
            pass
        for db in (self.reader, self.writer):
            if db is not None:
                await db.close()
        self.reader = self.writer = None

    async def _on_message(self, msg: Msg) -> None:
        # After a resubscribe the old and the new subscription may both deliver an event;
        # the lock and the check inside it apply each sequence exactly once.
        async with self._apply_lock:
            await self._apply(msg)

    async def _apply(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq <= self._applied or self.failed:
            return
        assert self.writer is not None
        try:
            envelope = Envelope.model_validate_json(msg.data)
        except ValidationError:
            # Not an envelope (written by hand?): record it as seen, never block the view.
            log.error("projector.unreadable", stream=self._stream, seq=seq, subject=msg.subject)
            envelope = None
        try:
            if envelope is not None:
                await self._view.apply(self.writer, envelope, seq, msg.subject)
            await self.writer.execute(
                "INSERT INTO projection (stream, last_seq) VALUES (?, ?) "
                "ON CONFLICT (stream) DO UPDATE SET last_seq = excluded.last_seq",
                (self._stream, seq),
            )
            await self.writer.commit()
        except Exception as e:
            await self.writer.rollback()
            # Skipping would lose the event for good; stop here and report unhealthy so an
            # operator sees it, fixes the code, and the restart resumes at this event.
            self.failed = f"event {seq} ({msg.subject}): {e!r}"
            log.exception("projector.failed", stream=self._stream, seq=seq, subject=msg.subject)
            return
        async with self._changed:
            self._applied = seq
            self._changed.notify_all()

    async def wait_for(self, seq: int, timeout: float = 10.0) -> None:
        """Return once the view has applied `seq` (read-your-writes)."""
        if self._applied >= seq:
            return
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self._applied >= seq), timeout)

    async def catch_up(self, timeout: float = 10.0) -> None:
        """Wait until everything the stream holds now is in the view."""
        info = await self._js.stream_info(self._stream)
        await self.wait_for(info.state.last_seq, timeout)
