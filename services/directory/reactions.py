"""The directory's own view of accounts (email, locale, display name), from identity's events.

The directory mails owners about decisions on their actors, checks that an invited
address is not a member already, and shows members' names — without asking identity on
every request. Every replica needs every account, so this is a projection of the
`IDENTITY` stream into the directory's SQLite file (the kernel's projector: its own
resume point in the same `projection` table, exactly once, rebuilt with the file), not a
durable consumer shared by the replicas, which would hand each replica only some events.
Applying is idempotent by event id as well: a row remembers the last event that set it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import nats.js.errors
from nats.js import JetStreamContext

from proto import identity, subjects
from proto.envelope import Envelope
from services.kernel.logging import get_logger
from services.kernel.projector import Projector
from services.kernel.streams import ensure_event_stream

log = get_logger("directory.accounts")

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id           TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    locale       TEXT NOT NULL,
    last_event   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_email ON accounts (email);
"""


class AccountsView:
    SCHEMA = SCHEMA

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        # Only the three facts we keep; identity's other events (sessions, passwords) and
        # types newer than this code are none of the directory's business.
        if envelope.type not in (identity.AccountRegistered.TYPE, identity.EmailConfirmed.TYPE,
                                 identity.ProfileUpdated.TYPE):
            return
        account_id = subject.rsplit(".", 1)[1]
        async with db.execute("SELECT last_event FROM accounts WHERE id = ?", (account_id,)) as cur:
            row = await cur.fetchone()
        if row and row[0] == envelope.id:
            return
        event = envelope.event()
        if isinstance(event, identity.AccountRegistered):
            await db.execute(
                "INSERT INTO accounts VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "email = excluded.email, display_name = excluded.display_name, "
                "locale = excluded.locale, last_event = excluded.last_event",
                (event.account_id, event.email.casefold(), event.display_name, event.locale, envelope.id),
            )
        elif isinstance(event, identity.EmailConfirmed):
            # A confirmed change of address is the account's address from now on.
            await db.execute("UPDATE accounts SET email = ?, last_event = ? WHERE id = ?",
                             (event.email.casefold(), envelope.id, account_id))
        elif isinstance(event, identity.ProfileUpdated):
            await db.execute("UPDATE accounts SET display_name = ?, locale = ?, last_event = ? WHERE id = ?",
                             (event.display_name, event.locale, envelope.id, account_id))


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    display_name: str
    locale: str


class Accounts:
    """Follows identity's stream into the directory's database file."""

    def __init__(self, js: JetStreamContext, path: Path, replicas: int = 1):
        self._js = js
        self._replicas = replicas
        self.projector = Projector(js, identity.SERVICE, path, AccountsView())

    async def start(self) -> None:
        await self._stream_exists()
        await self.projector.start()

    async def _stream_exists(self) -> None:
        """The directory may start before identity ever has. Where it may (dev, tests),
        it creates the stream with the config identity would give it; where NATS
        permissions forbid that (production), it waits for identity to create it."""
        stream = subjects.stream_name(identity.SERVICE)
        try:
            await self._js.stream_info(stream)
            return
        except nats.js.errors.NotFoundError:
            pass
        try:
            await ensure_event_stream(self._js, identity.SERVICE, self._replicas)
            return
        except Exception as e:  # a permission violation surfaces as a timeout or an error
            log.info("directory.waiting_for_identity_stream", stream=stream, error=repr(e))
        while True:
            await asyncio.sleep(1)
            try:
                await self._js.stream_info(stream)
                return
            except nats.js.errors.NotFoundError:
                continue

    async def stop(self) -> None:
        await self.projector.stop()


async def by_ids(db: aiosqlite.Connection, ids: Iterable[str]) -> dict[str, Account]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    async with db.execute(f"SELECT id, email, display_name, locale FROM accounts WHERE id IN ({marks})",
                          ids) as cur:
        return {r[0]: Account(*r) for r in await cur.fetchall()}


async def emails_of(db: aiosqlite.Connection, ids: Iterable[str]) -> set[str]:
    return {a.email for a in (await by_ids(db, ids)).values()}


async def by_email(db: aiosqlite.Connection, email: str) -> Account | None:
    async with db.execute("SELECT id, email, display_name, locale FROM accounts WHERE email = ?",
                          (email.casefold(),)) as cur:
        row = await cur.fetchone()
    return Account(*row) if row else None
