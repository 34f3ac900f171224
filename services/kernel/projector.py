"""Projecting a service's stream into its SQLite view, exactly once, resumable, rebuildable.

The projector reads the stream through an `EventFeed` (eventfeed.py: a pull consumer asked
for one batch at a time, so a long backlog never piles up in the client) starting after the
last sequence it applied. Events are applied in batches — whatever has arrived, up to BATCH
(while catching up, a few reads of BATCH) — and each batch is applied and its last sequence
recorded in one SQLite transaction, so a crash cannot apply an event twice or skip one.
A view that offers `apply_batch` gets the whole batch at once (a rebuild then costs a few
statements per batch instead of a few per event); otherwise `apply` runs per event inside
the batch's transaction.

Deleting the file and restarting rebuilds the view from the whole stream. Until it has
applied what the stream held when it started, the projector is `catching_up` and says how
far it is (`progress`, and a log line every few seconds); the runtime answers requests
with UNAVAILABLE meanwhile. `wait_for(seq)` gives commands read-your-writes: they answer
only after their own event is in the view. Queries go through `reader` (readers.py).
"""
from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiosqlite
from nats.js import JetStreamContext
from nats.aio.msg import Msg
from pydantic import ValidationError

from proto import subjects
from proto.envelope import Envelope
from services.kernel.background import stop_task
from services.kernel.eventfeed import EventFeed
from services.kernel.logging import get_logger
from services.kernel.readers import Readers, open_database

__all__ = ["Applied", "Projector", "View", "BatchView", "open_database"]

log = get_logger("projector")

# A NATS node's loss takes the consumer it held with it (a consumer lives on one node); the
# view must notice within a second or two of the new stream leader, since commands wait for
# it (read-your-writes). README: Past one machine.
WATCH_INTERVAL = 0.5  # seconds between comparisons of the view with its stream
STALL_AFTER = 1.0  # seconds behind without progress (and no batch being applied) before reading anew
BATCH = 1000  # events per read, and per transaction once caught up: a crash's redo
WAIT = 1.0  # seconds one read waits for new events before looking around (stop, a stall)
REOPEN_AFTER = 0.5  # seconds before opening a lost feed again (NATS may be away for a while)
PROGRESS_EVERY = 3.0  # seconds between progress lines while catching up
CATCH_UP_BATCHES = 5  # reads per transaction while catching up (see _run)
CATCH_UP_CACHE = -131072  # KiB of page cache while catching up (128 MB): a rebuild's indexes stay in memory
STEADY_CACHE = -32768  # as open_database sets it (readers.py)
BUSY_PAUSES = (0.1, 0.2, 0.5, 1.0, 2.0)  # between tries of a batch the file was locked for; then the last again

# A service's view file is written by several projectors — its own stream's and those of the
# streams it follows (follower.py) — each on its own connection. SQLite lets one of them
# write at a time and makes the others wait `busy_timeout` (5 s) at most: a catch-up
# transaction of thousands of events outlasts that, and the waiting projector got "database
# is locked". So the projectors of one process take turns on a file here, and a lock from
# elsewhere (another process, an operator's sqlite3 shell) is waited out, never taken for a
# broken event.
# Per event loop (an asyncio lock belongs to the loop it first waited on; tests run several).
_WRITING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())


def _writing(path: Path) -> asyncio.Lock:
    locks = _WRITING.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(str(path.resolve()), asyncio.Lock())


def _busy(error: Exception) -> bool:
    return isinstance(error, sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error))

PROJECTION_SCHEMA = """
CREATE TABLE IF NOT EXISTS projection (
    stream   TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Applied:
    """One event of a batch: its envelope, stream sequence and subject."""

    envelope: Envelope
    seq: int
    subject: str


@dataclass(frozen=True)
class Received:
    """A message read from the stream: its sequence, subject, and envelope (None: unreadable)."""

    seq: int
    subject: str
    envelope: Envelope | None


class View(Protocol):
    """What a service's `views.py` offers the projector."""

    SCHEMA: str

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None: ...


class BatchView(View, Protocol):
    """A view that applies several events at once (in stream order, in one transaction)."""

    async def apply_batch(self, db: aiosqlite.Connection, events: Sequence[Applied]) -> None: ...


class Projector:
    def __init__(self, js: JetStreamContext, service: str, path: Path, view: View, *, batch: int = BATCH):
        self._js = js
        self._stream = subjects.stream_name(service)
        self._filter = subjects.events_filter(service)
        self._path = path
        self._view = view
        self._batch = batch
        self._applied = 0
        self._target = 0  # what the stream held at start: caught up once applied
        self._awaited: Counter[int] = Counter()  # sequences commands wait for (`wait_for`): stored for sure
        self._changed = asyncio.Condition()
        self._feed: EventFeed | None = None
        self._fast = False  # the catch-up PRAGMAs are in force (see _pragmas)
        self._reopen = False  # set by the watch when the view stalls behind the stream
        self._applying: asyncio.Future[None] | None = None  # the batch being applied
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.busy_waits = 0  # tries of a batch that found the file locked (see _store)
        self.caught_up = asyncio.Event()
        self.failed: str | None = None  # set when an event could not be applied: unhealthy
        self.writer: aiosqlite.Connection | None = None
        self.reader: Readers | None = None

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def applied(self) -> int:
        return self._applied

    @property
    def catching_up(self) -> bool:
        return not self.caught_up.is_set()

    def progress(self) -> tuple[int, int]:
        """(applied, what the stream held at start): how far a rebuild is."""
        return self._applied, self._target

    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = await open_database(self._path)
        version = getattr(self._view, "VERSION", 0)
        async with self.writer.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        found = row[0] if row else 0
        if version and found != version:
            # A view of an older schema: it is only a view, so build it anew from the stream.
            # A new file has version 0 too: nothing to warn about (every first `make dev` did).
            (log.warning if found else log.info)("projector.schema_changed", file=str(self._path),
                                                 found=found, version=version)
            await self.writer.close()
            for leftover in self._path.parent.glob(self._path.name + "*"):
                leftover.unlink()
            self.writer = await open_database(self._path)
            await self.writer.execute(f"PRAGMA user_version = {int(version)}")
        await self.writer.executescript(PROJECTION_SCHEMA + self._view.SCHEMA)
        await self.writer.commit()
        # Fewer, larger checkpoints: a rebuild writes hundreds of megabytes through the WAL.
        await self.writer.execute("PRAGMA wal_autocheckpoint=10000")
        async with self.writer.execute(
            "SELECT last_seq FROM projection WHERE stream = ?", (self._stream,)
        ) as cur:
            row = await cur.fetchone()
        self._applied = row[0] if row else 0
        self._target = (await self._js.stream_info(self._stream)).state.last_seq
        # Queries run on their own connections: WAL lets them read while the writer applies.
        self.reader = Readers(self._path)
        await self.reader.open()
        log.info("projector.start", stream=self._stream, resume_after=self._applied, stream_last=self._target,
                 file=str(self._path))
        self._check_caught_up()
        if self.catching_up:
            await self._pragmas(catching_up=True)
        self._tasks = [
            asyncio.create_task(self._run(), name=f"projector-apply-{self._stream}"),
            asyncio.create_task(self._watch(), name=f"projector-watch-{self._stream}"),
        ]
        if self.catching_up:
            self._tasks.append(asyncio.create_task(self._report(), name=f"projector-progress-{self._stream}"))

    def _check_caught_up(self) -> None:
        if self._applied >= self._target and not self.caught_up.is_set():
            self.caught_up.set()

    async def _pragmas(self, *, catching_up: bool) -> None:
        """While far behind, commits are handed to the OS without waiting for the disk, and
        the page cache is larger; once caught up, the steady state (WAL, synchronous=NORMAL).

        Why synchronous=OFF is safe here: each batch's rows and its sequence are still one
        transaction, so whatever survives a crash holds both or neither. A process that dies
        (kill -9) loses nothing the OS was handed, that is every commit; the stream resumes
        after the stored sequence. Only the machine's own crash (power loss) may lose the
        last batches — re-applied from the stream, as any uncommitted batch — or, since the
        file is not synced before a checkpoint, damage the file: it is a view being rebuilt
        from the stream anyway, and deleting it starts the rebuild over (README, recovery)."""
        assert self.writer is not None
        self._fast = catching_up
        if catching_up:
            await self.writer.execute("PRAGMA synchronous=OFF")
            await self.writer.execute(f"PRAGMA cache_size={CATCH_UP_CACHE}")
            await self.writer.execute("PRAGMA temp_store=MEMORY")
        else:
            await self.writer.execute("PRAGMA synchronous=NORMAL")
            await self.writer.execute(f"PRAGMA cache_size={STEADY_CACHE}")

    async def _settle(self) -> None:
        """Back to the steady state once caught up (run between batches, by the applying task)."""
        if self._fast and not self.catching_up:
            await self._pragmas(catching_up=False)

    async def _report(self) -> None:
        """While catching up: a log line every few seconds with how far, and how fast."""
        started, first = time.monotonic(), self._applied
        while not self.caught_up.is_set():
            try:
                await asyncio.wait_for(self.caught_up.wait(), PROGRESS_EVERY)
            except TimeoutError:
                pass
            seconds = time.monotonic() - started
            rate = (self._applied - first) / seconds if seconds > 0 else 0.0
            if self.caught_up.is_set():
                log.info("projector.caught_up", stream=self._stream, applied=self._applied,
                         seconds=round(seconds, 1), events_per_second=round(rate))
            else:
                log.info("projector.catching_up", stream=self._stream, applied=self._applied, of=self._target,
                         events_per_second=round(rate))

    async def _watch(self) -> None:
        """Read anew when the view stalls behind the stream.

        The feed notices a lost consumer by its silence; this is the belt to those braces: if
        the stream holds events the view has not applied and nothing moved for STALL_AFTER,
        start over after the last applied sequence.
        """
        stalled_since: float | None = None
        seen = self._applied
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if self.failed:
                continue
            if (awaited := max(self._awaited, default=0)) > self._applied:
                # A command waits for an event the stream acknowledged: it is there, whatever
                # a stream info would say — which, while NATS fails over, is nothing.
                last = awaited
            else:
                try:
                    # Bounded: the watch must go on looking while NATS fails over.
                    last = (await asyncio.wait_for(self._js.stream_info(self._stream), STALL_AFTER)).state.last_seq
                except Exception:
                    continue  # NATS unreachable: nothing to compare with yet
            if last <= self._applied:
                # Events at the end of the stream were purged (erasure): nothing more to wait for.
                async with self._changed:
                    self._target = min(self._target, last)
                    self._check_caught_up()
            applying = self._applying is not None and not self._applying.done()
            if last <= self._applied or self._applied != seen or applying:
                stalled_since, seen = None, self._applied
                continue
            if stalled_since is None:
                stalled_since = loop.time()
            elif loop.time() - stalled_since >= STALL_AFTER:
                log.warning("projector.stalled", stream=self._stream, applied=self._applied, last=last)
                self._reopen = True
                stalled_since = None

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            await stop_task(task)
        self._tasks = []
        # Wait for a batch being applied right now: closing under it would lose its commit.
        if self._applying is not None:
            try:
                await self._applying
            except Exception:
                pass  # reported where it failed (`failed`)
            self._applying = None
        if self._feed is not None:
            await self._feed.close()
            self._feed = None
        if self.reader is not None:
            await self.reader.close()
        if self.writer is not None:
            await self.writer.close()
        self.reader = self.writer = None

    async def _run(self) -> None:
        ahead: asyncio.Task[list[Received]] | None = None
        try:
            batch = await self._read()
            while True:
                if not batch:
                    await self._settle()  # caught up by a purge at the stream's end (see _watch)
                    batch = await self._read()
                    continue
                # Shielded: a stop while a batch is half applied lets it finish (see stop()).
                self._applying = asyncio.ensure_future(self._apply(batch))
                # The next batch is read and parsed while SQLite writes this one (in its thread).
                ahead = asyncio.ensure_future(self._read())
                await asyncio.shield(self._applying)
                batch, ahead = await ahead, None
                if 0 < len(batch) < self._batch:
                    # What arrived while the last batch was written joins this one: under a
                    # burst (an import) batches grow instead of alternating small and large.
                    batch += await self._read(wait=0, limit=self._batch - len(batch))
                while self.catching_up and 0 < len(batch) < self._batch * CATCH_UP_BATCHES \
                        and batch[-1].seq < self._target:
                    # Far behind: a few reads make one transaction. Each commit writes the
                    # search index's new segment and merges older ones, so fewer, larger
                    # commits rebuild faster; the feed still asks for one batch at a time.
                    more = await self._read(limit=min(self._batch, self._batch * CATCH_UP_BATCHES - len(batch)))
                    if not more:
                        break
                    batch += more
        finally:
            if ahead is not None:
                ahead.cancel()

    async def _read(self, wait: float = WAIT, limit: int | None = None) -> list[Received]:
        """The next batch from the feed, parsed; a lost feed (or a stalled view) is opened anew
        after the last applied sequence, as often as it takes."""
        if self._reopen and self._feed is not None:
            self._reopen = False
            await self._feed.close()
            self._feed = None
        try:
            if self._feed is None:
                self._feed = EventFeed(self._js, self._stream, self._filter, batch=self._batch)
                await self._feed.open(after=self._applied)
            msgs = await self._feed.next_batch(wait, limit)
        except Exception as e:  # FeedLost, or NATS unreachable while opening
            log.warning("projector.reopen", stream=self._stream, applied=self._applied, reason=str(e) or repr(e))
            if self._feed is not None:
                await self._feed.close()
                self._feed = None
            await asyncio.sleep(REOPEN_AFTER)
            return []
        return [self._parse(msg) for msg in msgs]

    def _parse(self, msg: Msg) -> Received:
        seq = msg.metadata.sequence.stream
        try:
            envelope: Envelope | None = Envelope.model_validate_json(msg.data)
        except ValidationError:
            envelope = None  # not an envelope (written by hand?): recorded as seen, see _apply
        return Received(seq, msg.subject, envelope)

    def _fresh(self, batch: list[Received]) -> list[Received]:
        """The events not applied yet, each sequence once, in order (a feed opened anew starts
        after the last applied sequence — and may be opened while a batch is being applied;
        this keeps the promise whatever happens)."""
        fresh, last = [], self._applied
        for received in batch:
            if received.seq > last:
                fresh.append(received)
                last = received.seq
        return fresh

    async def _apply(self, batch: list[Received]) -> None:
        if self.failed:
            return
        fresh = self._fresh(batch)
        if not fresh:
            return
        events = []
        for received in fresh:
            if received.envelope is None:
                # Never block the view on it: recorded as seen with the batch's sequence.
                log.error("projector.unreadable", stream=self._stream, seq=received.seq, subject=received.subject)
            else:
                events.append(Applied(received.envelope, received.seq, received.subject))
        last = fresh[-1].seq
        assert self.writer is not None
        try:
            if not await self._store(events, last):
                return  # stopping while the file was locked: the restart reads this batch again
        except Exception as e:
            if len(fresh) > 1:
                # Apply the batch one event at a time: all before the culprit go in, and the
                # culprit is named, as if the events had arrived one by one.
                for one in fresh:
                    await self._apply([one])
                return
            # Skipping would lose the event for good; stop here and report unhealthy so an
            # operator sees it, fixes the code, and the restart resumes at this event.
            self.failed = f"event {last} ({fresh[0].subject}): {e!r}"
            log.exception("projector.failed", stream=self._stream, seq=last, subject=fresh[0].subject)
            return
        async with self._changed:
            self._applied = last
            self._check_caught_up()
            self._changed.notify_all()
        await self._settle()

    async def _store(self, events: list[Applied], last: int) -> bool:
        """Write the batch in one transaction, taking turns with the other projectors on
        this file; a lock held elsewhere is waited out. False when stopped while waiting."""
        assert self.writer is not None
        tries = 0
        while True:
            try:
                async with _writing(self._path):
                    try:
                        await self._write(events, last)
                    except Exception:
                        await self.writer.rollback()
                        raise
                return True
            except Exception as e:
                if not _busy(e):
                    raise
                if self._stopping:
                    return False
                pause = BUSY_PAUSES[min(tries, len(BUSY_PAUSES) - 1)]
                tries += 1
                self.busy_waits += 1
                log.warning("projector.busy", stream=self._stream, seq=last, tries=tries, error=str(e))
                await asyncio.sleep(pause)

    async def _write(self, events: list[Applied], last: int) -> None:
        assert self.writer is not None
        apply_batch = getattr(self._view, "apply_batch", None)
        if apply_batch is not None:
            await apply_batch(self.writer, events)
        else:
            for event in events:
                await self._view.apply(self.writer, event.envelope, event.seq, event.subject)
        await self.writer.execute(
            "INSERT INTO projection (stream, last_seq) VALUES (?, ?) "
            "ON CONFLICT (stream) DO UPDATE SET last_seq = excluded.last_seq",
            (self._stream, last),
        )
        await self.writer.commit()

    async def wait_for(self, seq: int, timeout: float = 10.0) -> None:
        """Return once the view has applied `seq` (read-your-writes)."""
        if self._applied >= seq:
            return
        self._awaited[seq] += 1
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._applied >= seq), timeout)
        finally:
            self._awaited[seq] -= 1
            if not self._awaited[seq]:
                del self._awaited[seq]

    async def catch_up(self, timeout: float = 10.0) -> None:
        """Wait until everything the stream holds now is in the view."""
        info = await self._js.stream_info(self._stream)
        await self.wait_for(info.state.last_seq, timeout)

    async def caught_up_further(self, timeout: float = 10.0) -> bool:
        """Catch up; True when the view applied something it did not have before. A miss in
        the view may be a write another replica stored a moment ago: asked again only then."""
        before = self._applied
        await self.catch_up(timeout)
        return self._applied > before
