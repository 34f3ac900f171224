"""Queries on a view: a few read-only connections, each statement alone on one of them.

Why not one shared connection: SQLite (WAL) gives a connection one read snapshot for as
long as any statement on it is open. On a connection shared by concurrent requests, one
request's statement (stepped once by `fetchone`, closed a moment later) overlaps the
next request's, and so on: the snapshot can outlive a commit, and a command that waited
for its own event (`Projector.wait_for`) then read a view without it ("there is no such
actor" right after creating it). Here each statement takes an idle connection, runs and
is read to its end in one call (which ends its read transaction), and gives the
connection back: every statement sees every commit that finished before it began.

The connections also let queries run side by side: each has its own thread, and SQLite
releases the GIL while it works.

The interface is the part of aiosqlite's that the views use —
`async with readers.execute(sql, params) as rows: await rows.fetchone()` — so a view's
query functions take either this or the projector's writing connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

READERS = 4  # connections; more than the cores, so a slow query does not hold up quick ones


async def open_database(path: Path) -> aiosqlite.Connection:
    pending = aiosqlite.connect(path)
    # Its worker thread must not keep the process alive: a connection left open (a start
    # that failed halfway, say) would otherwise hold up the interpreter's exit forever.
    # Nothing is lost by that: every commit is awaited before anyone is told it happened.
    pending._thread.daemon = True
    db = await pending
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute("PRAGMA foreign_keys=ON")
    await db.execute("PRAGMA busy_timeout=5000")
    # A view of tens of thousands of actors: its index pages stay in memory (32 MB at most).
    await db.execute("PRAGMA cache_size=-32768")
    # Deleted rows are overwritten, not left in free pages: an erased person's data must
    # not stay in the file (services/kernel/privacy.py also truncates the WAL after one).
    await db.execute("PRAGMA secure_delete=ON")
    return db


class Rows:
    """A statement's result, read to the end already; aiosqlite's cursor methods over it."""

    def __init__(self, rows: Iterable[aiosqlite.Row]):
        self._rows = list(rows)
        self._next = 0

    async def fetchone(self) -> aiosqlite.Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[aiosqlite.Row]:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest


class Readers:
    def __init__(self, path: Path, size: int = READERS):
        self._path = path
        self._size = size
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        for _ in range(self._size):
            db = await open_database(self._path)
            await db.execute("PRAGMA query_only=ON")
            self._all.append(db)
            self._idle.put_nowait(db)

    async def close(self) -> None:
        for db in self._all:
            await db.close()
        self._all.clear()

    @asynccontextmanager
    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> AsyncIterator[Rows]:
        yield Rows(await self.fetchall(sql, parameters))

    async def fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        db = await self._idle.get()
        try:
            # One call in the connection's thread: execute and read to the end, so the
            # statement is finished (and its snapshot let go) before anyone else gets `db`.
            return list(await db.execute_fetchall(sql, parameters))
        finally:
            self._idle.put_nowait(db)

    # aiosqlite's name for the same, so query functions take a reader pool or a connection.
    execute_fetchall = fetchall


# What a view's query functions read from: the reader pool (requests) or the projector's
# writing connection (a decision inside an apply, a privacy pass). Both answer
# `execute(sql, params)` as an async context manager and `execute_fetchall`.
Database = Readers | aiosqlite.Connection


async def count(db: Database, sql: str, parameters: Sequence[Any] = ()) -> int:
    """The number a `SELECT count(...)` answers (it always answers exactly one row)."""
    rows = list(await db.execute_fetchall(sql, parameters))
    return int(rows[0][0])
