"""Notifications' SQLite view — the only place with SQL.

One file holds three projections, each resumed from its own stream's sequence: the
NOTIFICATIONS stream (follows, settings, inbox, read marks, digests: `NotificationsView`),
and notifications' copies of the directory (actors, members, regions) and of identity
(addresses, confirmed or not, locale) kept by reactions.py. An item's content is stored
once per source event (`contents`), not once per person told of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from proto import directory as vocab
from proto import notifications as api
from proto.envelope import Envelope
from services.kernel import privacy
from services.kernel.projector import Applied
from services.kernel.readers import Database, count
from services.notifications.domain import FollowState, Match, SubscriberState

VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    account_id TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,        -- stream sequence of the subscriber's last event
    settings   TEXT NOT NULL            -- MailSettings as JSON
);
CREATE TABLE IF NOT EXISTS follows (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_key  TEXT NOT NULL,
    email       TEXT NOT NULL,
    automatic   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS follows_target ON follows (target_type, target_key);
CREATE INDEX IF NOT EXISTS follows_account ON follows (account_id);
CREATE TABLE IF NOT EXISTS contents (
    source  TEXT PRIMARY KEY,          -- the source event's id
    content TEXT NOT NULL              -- NotificationContent as JSON
);
CREATE TABLE IF NOT EXISTS notifications (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    position   INTEGER NOT NULL,        -- the delivery event's stream sequence: the person's order
    source     TEXT NOT NULL,
    item_id    TEXT,
    reasons    TEXT NOT NULL,
    email      TEXT NOT NULL,
    follow_id  TEXT,
    created_at INTEGER NOT NULL,
    read       INTEGER NOT NULL DEFAULT 0,
    hidden     INTEGER NOT NULL DEFAULT 0  -- its item was withdrawn
);
CREATE INDEX IF NOT EXISTS notifications_inbox ON notifications (account_id, hidden, position);
CREATE INDEX IF NOT EXISTS notifications_item ON notifications (item_id);
CREATE TABLE IF NOT EXISTS retracted_items (item_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS digests (
    account_id TEXT NOT NULL,
    cadence    TEXT NOT NULL,
    period     TEXT NOT NULL,
    digest_id  TEXT NOT NULL,
    up_to      INTEGER NOT NULL,
    notification_ids TEXT NOT NULL,
    compiled_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, cadence, period)
);
CREATE TABLE IF NOT EXISTS accounts (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL,
    confirmed_email TEXT,               -- the address as last confirmed; NULL: none yet
    display_name    TEXT NOT NULL,
    locale          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_confirmed ON accounts (confirmed_email);
CREATE TABLE IF NOT EXISTS actors (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS actor_members (
    actor_id TEXT NOT NULL, account_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (actor_id, account_id)
);
CREATE INDEX IF NOT EXISTS actor_members_account ON actor_members (account_id);
CREATE TABLE IF NOT EXISTS actor_regions (actor_id TEXT NOT NULL, ags TEXT NOT NULL, PRIMARY KEY (actor_id, ags));
CREATE TABLE IF NOT EXISTS regions (
    ags TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL, parent_ags TEXT
);
""" + privacy.ERASURE_SCHEMA


def ts(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1_000_000)


def from_ts(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


class NotificationsView:
    """Projects the NOTIFICATIONS stream."""

    SCHEMA = SCHEMA
    VERSION = VERSION

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        await self.apply_batch(db, [Applied(envelope, seq, subject)])

    async def apply_batch(self, db: aiosqlite.Connection, events: Sequence[Applied]) -> None:
        for one in events:
            try:
                event = one.envelope.event()
            except KeyError:
                continue  # a newer writer's event: none of this version's business
            at = ts(one.envelope.occurred_at)
            match event:
                case api.NotificationsDelivered():
                    await _deliver(db, event, one.seq, at)
                case api.ItemRetracted():
                    await db.execute("INSERT OR IGNORE INTO retracted_items VALUES (?)", (event.item_id,))
                    await db.execute("UPDATE notifications SET hidden = 1 WHERE item_id = ?", (event.item_id,))
                case api.NotificationsRead():
                    marks = ",".join("?" * len(event.notification_ids))
                    await db.execute(f"UPDATE notifications SET read = 1 WHERE account_id = ? AND id IN ({marks})",
                                     (event.account_id, *event.notification_ids))
                case api.AllNotificationsRead():
                    await db.execute("UPDATE notifications SET read = 1 WHERE account_id = ? AND position <= ?",
                                     (event.account_id, event.up_to))
                case api.DigestCompiled():
                    await db.execute("INSERT OR IGNORE INTO digests VALUES (?, ?, ?, ?, ?, ?, ?)", (
                        event.account_id, event.cadence, event.period, event.digest_id, event.up_to,
                        json.dumps(event.notification_ids), at))
                case api.FollowAdded():
                    await db.execute("INSERT OR REPLACE INTO follows VALUES (?, ?, ?, ?, ?, ?, ?)", (
                        event.follow_id, event.account_id, event.target.type, event.target.key, event.email,
                        int(event.automatic), at))
                case api.FollowChanged():
                    await db.execute("UPDATE follows SET email = ? WHERE id = ?", (event.email, event.follow_id))
                case api.FollowRemoved():
                    await db.execute("DELETE FROM follows WHERE id = ?", (event.follow_id,))
                case api.MailSettingsChanged():
                    await db.execute("UPDATE subscribers SET settings = ? WHERE account_id = ?",
                                     (event.settings.model_dump_json(), event.account_id))
            account_id = getattr(event, "account_id", None)
            if isinstance(account_id, str) and not isinstance(event, api.NotificationsDelivered):
                await db.execute(
                    "INSERT INTO subscribers VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET version = "
                    "excluded.version", (account_id, one.seq, api.MailSettings().model_dump_json()))
                if isinstance(event, api.MailSettingsChanged):
                    await db.execute("UPDATE subscribers SET settings = ? WHERE account_id = ?",
                                     (event.settings.model_dump_json(), account_id))


async def _deliver(db: aiosqlite.Connection, event: api.NotificationsDelivered, seq: int, at: int) -> None:
    await db.execute("INSERT OR IGNORE INTO contents VALUES (?, ?)", (event.source, event.content.model_dump_json()))
    item_id = event.content.item_id if event.content.kind == "item" else None
    hidden = 0
    if item_id is not None:
        async with db.execute("SELECT 1 FROM retracted_items WHERE item_id = ?", (item_id,)) as cur:
            hidden = int(await cur.fetchone() is not None)
    erased = await privacy.erased(db, [r.account_id for r in event.recipients])
    await db.executemany(
        "INSERT OR IGNORE INTO notifications (id, account_id, position, source, item_id, reasons, email, follow_id, "
        "created_at, hidden) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(r.notification_id, r.account_id, seq, event.source, item_id,
          json.dumps([reason.model_dump(mode="json") for reason in r.reasons]), r.email, r.follow_id, at, hidden)
         for r in event.recipients if r.account_id not in erased])


# ---- subscribers and follows ----------------------------------------------------------------

def _follow(row: aiosqlite.Row | tuple) -> FollowState:
    return FollowState(row[0], api.FollowTarget.of(row[1], row[2]), row[3], bool(row[4]), from_ts(row[5]))


async def load_subscriber(db: Database, account_id: str) -> SubscriberState:
    async with db.execute("SELECT version, settings FROM subscribers WHERE account_id = ?", (account_id,)) as cur:
        row = await cur.fetchone()
    async with db.execute("SELECT id, target_type, target_key, email, automatic, created_at FROM follows "
                          "WHERE account_id = ? ORDER BY created_at, id", (account_id,)) as cur:
        follows = {f.id: f for f in map(_follow, await cur.fetchall())}
    if row is None:
        return SubscriberState(account_id, 0, follows)
    return SubscriberState(account_id, row[0], follows, api.MailSettings.model_validate_json(row[1]))


async def settings_of(db: Database, account_ids: Iterable[str]) -> dict[str, api.MailSettings]:
    ids = list(dict.fromkeys(account_ids))
    found: dict[str, api.MailSettings] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        async with db.execute(f"SELECT account_id, settings FROM subscribers WHERE account_id IN ({marks})",
                              chunk) as cur:
            found |= {r[0]: api.MailSettings.model_validate_json(r[1]) for r in await cur.fetchall()}
    return found


async def follows_by_ids(db: Database, ids: Iterable[str]) -> dict[str, FollowState]:
    found: dict[str, FollowState] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        marks = ",".join("?" * len(chunk))
        async with db.execute("SELECT id, target_type, target_key, email, automatic, created_at FROM follows "
                              f"WHERE id IN ({marks})", chunk) as cur:
            found |= {f.id: f for f in map(_follow, await cur.fetchall())}
    return found


async def follow_owner(db: Database, follow_id: str) -> str | None:
    async with db.execute("SELECT account_id FROM follows WHERE id = ?", (follow_id,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


async def matching_follows(db: Database, *, actor_id: str, kind: str, topics: Sequence[str],
                           region_scope: Sequence[str]) -> list[Match]:
    """Every follow an item matches, with its target's name."""
    wanted = [("actor", actor_id), ("kind", kind), *(("topic", t) for t in topics),
              *(("region", r) for r in region_scope)]
    found: list[tuple[str, str, str, str, api.EmailCadence]] = []
    for start in range(0, len(wanted), 400):
        part = wanted[start:start + 400]
        clause = " OR ".join("(target_type = ? AND target_key = ?)" for _ in part)
        async with db.execute(f"SELECT account_id, id, target_type, target_key, email FROM follows WHERE {clause}",
                              [v for pair in part for v in pair]) as cur:
            found += [(r[0], r[1], r[2], r[3], r[4]) for r in await cur.fetchall()]
    # Thousands of follows share a handful of targets: each target validated once.
    targets = {(r[2], r[3]): api.FollowTarget.of(r[2], r[3]) for r in found}
    names = await target_names(db, targets.values())
    return [Match(r[0], r[1], targets[(r[2], r[3])], r[4], names[(r[2], r[3])]) for r in found]


async def target_names(db: Database, targets: Iterable[api.FollowTarget]) -> dict[tuple[str, str], str]:
    targets = list(dict.fromkeys(targets))
    regions = await region_names(db, [t.key for t in targets if t.type == "region"])
    actors = await actor_names(db, [t.key for t in targets if t.type == "actor"])
    topics = {t.slug: t.de for t in vocab.TOPICS}
    from services.notifications.domain import KIND_NAMES

    names: dict[tuple[str, str], str] = {}
    for t in targets:
        names[(t.type, t.key)] = {"region": regions, "actor": actors, "topic": topics, "kind": KIND_NAMES}[
            t.type].get(t.key, t.key)
    return names


# ---- the inbox ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class InboxRow:
    id: str
    account_id: str
    position: int
    content: api.NotificationContent
    reasons: list[api.Reason]
    email: str
    follow_id: str | None
    created_at: datetime
    read: bool

    def reply(self) -> api.Notification:
        return api.Notification(**self.content.model_dump(), id=self.id, reasons=self.reasons, read=self.read,
                                created_at=self.created_at, position=self.position)


INBOX_COLUMNS = ("n.id, n.account_id, n.position, c.content, n.reasons, n.email, n.follow_id, n.created_at, n.read "
                 "FROM notifications n JOIN contents c ON c.source = n.source")


def _row(r: aiosqlite.Row | tuple) -> InboxRow:
    return InboxRow(r[0], r[1], r[2], api.NotificationContent.model_validate_json(r[3]),
                    [api.Reason.model_validate(x) for x in json.loads(r[4])], r[5], r[6], from_ts(r[7]), bool(r[8]))


async def position_of(db: Database, account_id: str, notification_id: str) -> int | None:
    """The notification's position, if it is this person's (and visible)."""
    async with db.execute("SELECT position FROM notifications WHERE id = ? AND account_id = ?",
                          (notification_id, account_id)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def inbox(db: Database, account_id: str, *, unread_only: bool, before: int | None,
                limit: int) -> list[InboxRow]:
    """Newest first."""
    sql = f"SELECT {INBOX_COLUMNS} WHERE n.account_id = ? AND n.hidden = 0"
    args: list[object] = [account_id]
    if unread_only:
        sql += " AND n.read = 0"
    if before is not None:
        sql += " AND n.position < ?"
        args.append(before)
    sql += " ORDER BY n.position DESC LIMIT ?"
    args.append(limit)
    async with db.execute(sql, args) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def since(db: Database, account_id: str, after: int, limit: int) -> list[InboxRow]:
    """Oldest first, after a position."""
    async with db.execute(f"SELECT {INBOX_COLUMNS} WHERE n.account_id = ? AND n.hidden = 0 AND n.position > ? "
                          "ORDER BY n.position LIMIT ?", (account_id, after, limit)) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def by_ids(db: Database, ids: Sequence[str]) -> list[InboxRow]:
    found = []
    for chunk in _chunks(list(dict.fromkeys(ids))):
        marks = ",".join("?" * len(chunk))
        async with db.execute(f"SELECT {INBOX_COLUMNS} WHERE n.id IN ({marks}) AND n.hidden = 0 "
                              "ORDER BY n.position", chunk) as cur:
            found += [_row(r) for r in await cur.fetchall()]
    return found


async def unread_count(db: Database, account_id: str) -> int:
    return await count(db, "SELECT count(*) FROM notifications WHERE account_id = ? AND hidden = 0 AND read = 0",
                       (account_id,))


async def unread_among(db: Database, account_id: str, ids: Sequence[str]) -> list[str]:
    """Which of these are the person's own unread notifications (others' are never named)."""
    marks = ",".join("?" * len(ids))
    async with db.execute(f"SELECT id FROM notifications WHERE account_id = ? AND read = 0 AND id IN ({marks}) "
                          "ORDER BY position", (account_id, *ids)) as cur:
        return [r[0] for r in await cur.fetchall()]


async def newest_unread(db: Database, account_id: str) -> int | None:
    async with db.execute("SELECT max(position) FROM notifications WHERE account_id = ? AND read = 0",
                          (account_id,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def is_hidden(db: Database, item_id: str) -> bool:
    async with db.execute("SELECT 1 FROM retracted_items WHERE item_id = ?", (item_id,)) as cur:
        return await cur.fetchone() is not None


# ---- digests -----------------------------------------------------------------------------------

async def digest_candidates(db: Database, cadence: str) -> list[str]:
    """Accounts with unread notifications of this cadence that no digest of theirs took yet."""
    async with db.execute(
        "SELECT DISTINCT n.account_id FROM notifications n WHERE n.email = ? AND n.read = 0 AND n.hidden = 0 "
        "AND n.position > coalesce((SELECT max(up_to) FROM digests d WHERE d.account_id = n.account_id "
        "AND d.cadence = ?), 0)", (cadence, cadence)) as cur:
        return [r[0] for r in await cur.fetchall()]


async def digest_of(db: Database, account_id: str, cadence: str, period: str) -> str | None:
    async with db.execute("SELECT digest_id FROM digests WHERE account_id = ? AND cadence = ? AND period = ?",
                          (account_id, cadence, period)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def digest_items(db: Database, account_id: str, cadence: str, before: datetime,
                       limit: int = 200) -> list[InboxRow]:
    """What the person's next digest lists: unread, of this cadence, newer than their last
    digest's, and come before the digest's time."""
    async with db.execute(
        f"SELECT {INBOX_COLUMNS} WHERE n.account_id = ? AND n.email = ? AND n.read = 0 AND n.hidden = 0 "
        "AND n.created_at < ? AND n.position > coalesce((SELECT max(up_to) FROM digests d WHERE "
        "d.account_id = n.account_id AND d.cadence = ?), 0) ORDER BY n.position LIMIT ?",
        (account_id, cadence, ts(before), cadence, limit)) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def digest_count(db: Database, account_id: str) -> int:
    return await count(db, "SELECT count(*) FROM digests WHERE account_id = ?", (account_id,))


# ---- the directory's facts (reactions.DirectoryFacts) -------------------------------------------

async def put_actor(db: aiosqlite.Connection, actor_id: str, name: str, slug: str, status: str,
                    regions: Sequence[str]) -> None:
    await db.execute("INSERT INTO actors VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                     "slug = excluded.slug, status = excluded.status", (actor_id, name, slug, status))
    await db.execute("DELETE FROM actor_regions WHERE actor_id = ?", (actor_id,))
    await db.executemany("INSERT OR IGNORE INTO actor_regions VALUES (?, ?)", [(actor_id, a) for a in regions])


async def set_actor_status(db: aiosqlite.Connection, actor_id: str, status: str) -> None:
    await db.execute("UPDATE actors SET status = ? WHERE id = ?", (status, actor_id))


async def put_member(db: aiosqlite.Connection, actor_id: str, account_id: str, role: str) -> None:
    await db.execute("INSERT OR REPLACE INTO actor_members VALUES (?, ?, ?)", (actor_id, account_id, role))


async def remove_member(db: aiosqlite.Connection, actor_id: str, account_id: str) -> None:
    await db.execute("DELETE FROM actor_members WHERE actor_id = ? AND account_id = ?", (actor_id, account_id))


async def replace_members(db: aiosqlite.Connection, actor_id: str, members: dict[str, str]) -> None:
    await db.execute("DELETE FROM actor_members WHERE actor_id = ?", (actor_id,))
    await db.executemany("INSERT INTO actor_members VALUES (?, ?, ?)", [(actor_id, a, r) for a, r in members.items()])


async def put_regions(db: aiosqlite.Connection, regions: Sequence[vocab.RegionData]) -> None:
    await db.executemany(
        "INSERT INTO regions VALUES (?, ?, ?, ?) ON CONFLICT (ags) DO UPDATE SET name = excluded.name, "
        "level = excluded.level, parent_ags = excluded.parent_ags",
        [(r.ags, r.name, r.level, r.parent_ags) for r in regions])


@dataclass(frozen=True)
class ActorFacts:
    id: str
    name: str
    slug: str
    status: str
    members: dict[str, str]
    regions: list[str]

    @property
    def owners(self) -> list[str]:
        return sorted(a for a, role in self.members.items() if role == "owner")


async def actor(db: Database, actor_id: str) -> ActorFacts | None:
    async with db.execute("SELECT id, name, slug, status FROM actors WHERE id = ?", (actor_id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    async with db.execute("SELECT account_id, role FROM actor_members WHERE actor_id = ?", (actor_id,)) as cur:
        members = {r[0]: r[1] for r in await cur.fetchall()}
    async with db.execute("SELECT ags FROM actor_regions WHERE actor_id = ? ORDER BY ags", (actor_id,)) as cur:
        regions = [r[0] for r in await cur.fetchall()]
    return ActorFacts(row[0], row[1], row[2], row[3], members, regions)


async def actor_names(db: Database, ids: Iterable[str]) -> dict[str, str]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    async with db.execute(f"SELECT id, name FROM actors WHERE id IN ({marks})", ids) as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}


async def region_names(db: Database, keys: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(list(dict.fromkeys(keys))):
        marks = ",".join("?" * len(chunk))
        async with db.execute(f"SELECT ags, name FROM regions WHERE ags IN ({marks})", chunk) as cur:
            found |= {r[0]: r[1] for r in await cur.fetchall()}
    return found


# ---- identity's facts (reactions.AccountsView) ---------------------------------------------------

@dataclass(frozen=True)
class Account:
    id: str
    email: str
    confirmed_email: str | None
    display_name: str
    locale: str

    @property
    def mail_to(self) -> str | None:
        """Where mail may go: the address only once it is confirmed (and while it still is the account's)."""
        return self.confirmed_email if self.confirmed_email == self.email else None


async def put_account(db: aiosqlite.Connection, account_id: str, email: str, display_name: str, locale: str) -> None:
    await db.execute("INSERT INTO accounts VALUES (?, ?, NULL, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                     "email = excluded.email, display_name = excluded.display_name, locale = excluded.locale",
                     (account_id, email, display_name, locale))


async def confirm_email(db: aiosqlite.Connection, account_id: str, email: str | None) -> None:
    """`email` None: the current address is confirmed (a reset link reached it)."""
    if email is None:
        await db.execute("UPDATE accounts SET confirmed_email = email WHERE id = ?", (account_id,))
    else:
        await db.execute("UPDATE accounts SET email = ?, confirmed_email = ? WHERE id = ?",
                         (email, email, account_id))


async def set_profile(db: aiosqlite.Connection, account_id: str, display_name: str, locale: str) -> None:
    await db.execute("UPDATE accounts SET display_name = ?, locale = ? WHERE id = ?",
                     (display_name, locale, account_id))


async def accounts_by_ids(db: Database, ids: Iterable[str]) -> dict[str, Account]:
    found: dict[str, Account] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        marks = ",".join("?" * len(chunk))
        async with db.execute("SELECT id, email, confirmed_email, display_name, locale FROM accounts "
                              f"WHERE id IN ({marks})", chunk) as cur:
            found |= {r[0]: Account(*r) for r in await cur.fetchall()}
    return found


async def account_by_confirmed_email(db: Database, email: str) -> str | None:
    async with db.execute("SELECT id FROM accounts WHERE confirmed_email = ? AND email = ?",
                          (email.casefold(), email.casefold())) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


# ---- privacy ----------------------------------------------------------------------------------

async def forget(db: aiosqlite.Connection, account_id: str) -> None:
    """An erased person: their follows, settings, inbox, digests, copy and memberships go."""
    for table, column in (("follows", "account_id"), ("subscribers", "account_id"),
                          ("notifications", "account_id"), ("digests", "account_id"), ("accounts", "id"),
                          ("actor_members", "account_id")):
        await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (account_id,))


async def export(db: Database, account_id: str) -> dict[str, object]:
    subscriber = await load_subscriber(db, account_id)
    async with db.execute(f"SELECT {INBOX_COLUMNS} WHERE n.account_id = ? ORDER BY n.position",
                          (account_id,)) as cur:
        rows = [_row(r) for r in await cur.fetchall()]
    return {
        "mail_settings": subscriber.settings.model_dump(mode="json"),
        "follows": [{"id": f.id, "target": f.target.model_dump(exclude_none=True), "email": f.email,
                     "automatic": f.automatic, "created_at": f.created_at.isoformat()}
                    for f in subscriber.follows.values()],
        "notifications": [{"id": r.id, "title": r.content.title, "kind": r.content.kind, "read": r.read,
                           "created_at": r.created_at.isoformat()} for r in rows],
    }
