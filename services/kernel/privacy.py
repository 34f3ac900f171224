"""A person's data in one service: what the service declares, and how an erasure reaches it.

Every service that holds personal data says so twice, once in each place that needs it:
its contract inherits `proto.privacy.PersonalDataContract` (so it answers
`<service>.export_personal_data` and `<service>.erasure_blockers`), and its runtime returns a
`PersonalData` from `personal_data()` (services/<service>/privacy.py) with the three things
only it knows: what it exports for an account, what blocks erasing one, how it erases one.
`ServiceRuntime` wires the rest, the same for every service.

An erasure travels as identity's tombstone, `identity.account_deleted`. The service's view
of `identity.events.>` notes it (`note_tombstone`, in the same SQLite transaction that
applies the event, so none is lost or noted twice) and the `Eraser` of every replica then
calls `PersonalData.erase` until it succeeds, resuming after a restart. `erase` must be
idempotent: each replica runs it, and it may be cut short. Afterwards the eraser truncates
the SQLite write-ahead log, which otherwise keeps old copies of the pages the erasure
overwrote (deleted rows are zeroed by `secure_delete`, services/kernel/projector.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import aiosqlite

from proto import subjects
from proto.envelope import Envelope
from proto.identity import AccountDeleted
from proto.privacy import ErasureBlocker, JsonObject
from services.kernel.background import stop_task
from services.kernel.clock import Clock
from services.kernel.logging import get_logger
from services.kernel.projector import open_database
from services.kernel.readers import Database

log = get_logger("privacy")

POLL_INTERVAL = 0.5  # seconds between looks for noted, unfinished erasures
CHECKPOINT_ATTEMPTS = 20  # a checkpoint waits for readers; each attempt after a short pause

ERASURE_SCHEMA = """
CREATE TABLE IF NOT EXISTS erasures (
    account_id TEXT PRIMARY KEY,     -- an opaque id; nothing else about the person
    noted_seq  INTEGER NOT NULL,     -- the tombstone's sequence in IDENTITY
    erased_at  TEXT                  -- NULL until this replica's erase() succeeded
);
"""


class PersonalData(Protocol):
    """What one service holds about a person, and how it lets go of it."""

    async def export(self, account_id: str) -> JsonObject:
        """The account's section of the data export: everything the service holds about the
        person, and nothing about anyone else."""
        ...

    async def blockers(self, account_id: str) -> list[ErasureBlocker]:
        """What must happen before the account may be erased; empty when nothing."""
        ...

    async def erase(self, account_id: str, db: aiosqlite.Connection) -> None:
        """Remove or anonymise the person's data in the service's streams and views.
        Idempotent; runs on every replica. `db` is a writable connection to the service's
        SQLite file, committed by the caller when this returns."""
        ...


async def note_tombstone(db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
    """Called by a service's view of `identity.events.>` for every event it applies."""
    if envelope.type != AccountDeleted.TYPE:
        return
    await db.execute("INSERT INTO erasures (account_id, noted_seq) VALUES (?, ?) ON CONFLICT DO NOTHING",
                     (subjects.aggregate_id(subject), seq))


async def erased(db: Database, account_ids: Iterable[str]) -> set[str]:
    """Which of these accounts were erased: their records show `proto.privacy.FORMER_MEMBER`."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return set()
    async with db.execute(f"SELECT account_id FROM erasures WHERE account_id IN ({','.join('?' * len(ids))})",
                          ids) as cur:
        return {row[0] for row in await cur.fetchall()}


async def pending(db: Database) -> list[str]:
    async with db.execute("SELECT account_id FROM erasures WHERE erased_at IS NULL ORDER BY noted_seq") as cur:
        return [row[0] for row in await cur.fetchall()]


async def checkpoint(db: aiosqlite.Connection) -> bool:
    """Copy the write-ahead log into the database and truncate it to nothing; False when
    readers kept it busy every time."""
    for _ in range(CHECKPOINT_ATTEMPTS):
        async with db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            row = await cur.fetchone()
        if row is not None and row[0] == 0:
            return True
        await asyncio.sleep(0.05)
    return False


class Eraser:
    """Carries out the erasures this replica's view noted, one after another."""

    def __init__(self, service: str, path: Path, data: PersonalData, clock: Clock):
        self._service = service
        self._path = path
        self._data = data
        self._clock = clock
        self._db: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._wal_dirty = False  # an erasure is done but the log still holds older pages
        self.failures = 0  # erasures that failed and wait for the next attempt (health, tests)
        # One pass at a time on the one connection: two interleaved passes (the loop and a
        # caller woken at once) would checkpoint while the other's statement is open.
        self._pass = asyncio.Lock()

    async def start(self) -> None:
        # A connection of its own: the projectors' writers are in the middle of their own
        # transactions, which an erasure must not join.
        self._db = await open_database(self._path)
        self._task = asyncio.create_task(self._run(), name=f"eraser-{self._service}")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        if self._db is not None:
            await self._db.close()
            self._db = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.run_pending()
                async with self._pass:
                    if self._wal_dirty and self._db is not None and await checkpoint(self._db):
                        self._wal_dirty = False
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("privacy.eraser_failed", service=self._service)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL)
            except TimeoutError:
                pass

    async def run_pending(self) -> int:
        """Erase every noted account not yet erased here; how many were."""
        async with self._pass:
            return await self._run_pending()

    async def _run_pending(self) -> int:
        assert self._db is not None
        db = self._db
        done = 0
        for account_id in await pending(db):
            try:
                await self._data.erase(account_id, db)
                await db.execute("UPDATE erasures SET erased_at = ? WHERE account_id = ?",
                                 (self._clock.now().isoformat(), account_id))
                await db.commit()
            except asyncio.CancelledError:
                await db.rollback()
                raise
            except Exception:
                await db.rollback()
                self.failures += 1
                log.exception("privacy.erase_failed", service=self._service, account_id=account_id)
                continue
            done += 1
            log.info("privacy.erased", service=self._service, account_id=account_id)
        if done and not await checkpoint(db):
            # Readers held the log; the loop tries again until it is truncated.
            self._wal_dirty = True
            log.warning("privacy.wal_busy", service=self._service)
        return done
