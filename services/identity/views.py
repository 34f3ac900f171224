"""Identity's SQLite view: accounts and their live sessions, projected from
`identity.events.account.*` by `domain.evolve`, with columns for the lookups sign-in and
mail links need (username, address, link hashes). An erased account leaves no row; its
tombstone is noted for the eraser (services/kernel/privacy.py)."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from proto import subjects
from proto.envelope import Envelope
from services.identity import domain
from services.identity.domain import AccountState, Session, email_key, username_key
from services.kernel import privacy
from services.kernel.readers import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    username_key    TEXT NOT NULL,
    email           TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    locale          TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT,
    email_confirmed INTEGER NOT NULL DEFAULT 0,
    pending_email   TEXT,
    confirm_hash    TEXT,
    confirm_expires TEXT,
    reset_hash      TEXT,
    reset_expires   TEXT,
    created_at      TEXT NOT NULL,
    version         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_username ON accounts (username_key);
CREATE INDEX IF NOT EXISTS accounts_email ON accounts (email);
CREATE INDEX IF NOT EXISTS accounts_confirm ON accounts (confirm_hash);
CREATE INDEX IF NOT EXISTS accounts_reset ON accounts (reset_hash);
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    ended       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account_id);
-- The session that asked for an account's pending new address (a table of its own, so a
-- view made before it existed needs no migration: it just keeps no session for changes
-- pending from back then).
CREATE TABLE IF NOT EXISTS email_change_sessions (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL
);
-- The newest data-export link of an account (a table of its own, like the one above).
CREATE TABLE IF NOT EXISTS data_exports (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS data_exports_token ON data_exports (token_hash);
""" + privacy.ERASURE_SCHEMA


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class IdentityView:
    """What an event means is `domain.evolve`'s to say; this only stores its result."""

    SCHEMA = SCHEMA

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        account_id = subjects.aggregate_id(subject)
        before = await by_id(db, account_id)
        after = domain.evolve(before, envelope.event(), version=seq, at=envelope.occurred_at)
        if after is None:
            # Sessions, links and the rest go with the row (ON DELETE CASCADE).
            await db.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
        else:
            await _write(db, after)
        await privacy.note_tombstone(db, envelope, seq, subject)


async def _write(db: aiosqlite.Connection, state: AccountState) -> None:
    await db.execute(
        "INSERT INTO accounts (id, username, username_key, email, display_name, locale, role, password_hash,"
        " email_confirmed, pending_email, confirm_hash, confirm_expires, reset_hash, reset_expires, created_at,"
        " version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " username = excluded.username, username_key = excluded.username_key, email = excluded.email,"
        " display_name = excluded.display_name, locale = excluded.locale, role = excluded.role,"
        " password_hash = excluded.password_hash, email_confirmed = excluded.email_confirmed,"
        " pending_email = excluded.pending_email, confirm_hash = excluded.confirm_hash,"
        " confirm_expires = excluded.confirm_expires, reset_hash = excluded.reset_hash,"
        " reset_expires = excluded.reset_expires, version = excluded.version",
        (state.id, state.username, username_key(state.username), state.email, state.display_name, state.locale,
         state.role, state.password_hash, int(state.email_confirmed), state.pending_email, state.confirm_hash,
         _iso(state.confirm_expires), state.reset_hash, _iso(state.reset_expires), state.created_at.isoformat(),
         state.version),
    )
    await db.execute("DELETE FROM email_change_sessions WHERE account_id = ?", (state.id,))
    if state.email_change_session is not None:
        await db.execute("INSERT INTO email_change_sessions (account_id, session_id) VALUES (?, ?)",
                         (state.id, state.email_change_session))
    await db.execute("DELETE FROM data_exports WHERE account_id = ?", (state.id,))
    if state.export_hash is not None and state.export_expires is not None:
        await db.execute("INSERT INTO data_exports (account_id, token_hash, expires_at) VALUES (?, ?, ?)",
                         (state.id, state.export_hash, state.export_expires.isoformat()))
    await db.execute("DELETE FROM sessions WHERE account_id = ?", (state.id,))
    await db.executemany(
        "INSERT INTO sessions (id, account_id, token_hash, expires_at, ended) VALUES (?, ?, ?, ?, ?)",
        [(s.id, state.id, s.token_hash, s.expires_at.isoformat(), int(s.ended)) for s in state.sessions.values()],
    )


# ---- queries -------------------------------------------------------------------------

async def _account(db: Database, where: str, *args: object) -> AccountState | None:
    async with db.execute(f"SELECT * FROM accounts WHERE {where} LIMIT 1", args) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    async with db.execute(
        "SELECT id, token_hash, expires_at, ended FROM sessions WHERE account_id = ?", (row["id"],)
    ) as cur:
        sessions = {
            s["id"]: Session(s["id"], s["token_hash"], datetime.fromisoformat(s["expires_at"]), bool(s["ended"]))
            for s in await cur.fetchall()
        }
    async with db.execute("SELECT session_id FROM email_change_sessions WHERE account_id = ?", (row["id"],)) as cur:
        change = await cur.fetchone()
    async with db.execute("SELECT token_hash, expires_at FROM data_exports WHERE account_id = ?",
                          (row["id"],)) as cur:
        export = await cur.fetchone()
    return AccountState(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        display_name=row["display_name"],
        locale=row["locale"],
        role=row["role"],
        password_hash=row["password_hash"],
        email_confirmed=bool(row["email_confirmed"]),
        pending_email=row["pending_email"],
        confirm_hash=row["confirm_hash"],
        confirm_expires=_dt(row["confirm_expires"]),
        reset_hash=row["reset_hash"],
        reset_expires=_dt(row["reset_expires"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        version=row["version"],
        sessions=sessions,
        email_change_session=change["session_id"] if change else None,
        export_hash=export["token_hash"] if export else None,
        export_expires=datetime.fromisoformat(export["expires_at"]) if export else None,
    )


async def by_id(db: Database, account_id: str) -> AccountState | None:
    return await _account(db, "id = ?", account_id)


async def by_email(db: Database, email: str) -> AccountState | None:
    return await _account(db, "email = ?", email_key(email))


async def by_username(db: Database, username: str) -> AccountState | None:
    return await _account(db, "username_key = ?", username_key(username))


async def by_identifier(db: Database, identifier: str) -> AccountState | None:
    """Username or email; an address-shaped identifier is looked up as an email first."""
    if "@" in identifier:
        return await by_email(db, identifier) or await by_username(db, identifier)
    return await by_username(db, identifier)


async def by_confirm_hash(db: Database, token_hash: str) -> AccountState | None:
    return await _account(db, "confirm_hash = ?", token_hash)


async def by_reset_hash(db: Database, token_hash: str) -> AccountState | None:
    return await _account(db, "reset_hash = ?", token_hash)


async def by_session(db: Database, session_id: str) -> AccountState | None:
    return await _account(db, "id = (SELECT account_id FROM sessions WHERE id = ?)", session_id)


async def by_export_hash(db: Database, token_hash: str) -> AccountState | None:
    return await _account(db, "id = (SELECT account_id FROM data_exports WHERE token_hash = ?)", token_hash)


async def admin_count(db: Database) -> int:
    async with db.execute("SELECT count(*) FROM accounts WHERE role = 'admin'") as cur:
        row = await cur.fetchone()
    return row[0] if row else 0


async def profiles(db: Database, ids: list[str]) -> list[aiosqlite.Row]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    async with db.execute(
        f"SELECT id, username, display_name FROM accounts WHERE id IN ({marks})", ids
    ) as cur:
        return list(await cur.fetchall())


async def has_admin(db: Database) -> bool:
    async with db.execute("SELECT 1 FROM accounts WHERE role = 'admin' LIMIT 1") as cur:
        return await cur.fetchone() is not None
