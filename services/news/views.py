"""News' SQLite view: the projection of its stream, news' copy of the directory and of accounts,
and the queries on them. All of news' SQL is here.

Each item's whole state (`domain.ItemState`, as JSON) is what commands decide on. The other
item tables are derived from it, for queries only:

- `item_texts`: each language version's words, its body rendered to sanitised HTML once,
  and — for events and funding programmes — its iCalendar component, written once per edit
  so that a feed of 5,000 events is a concatenation, not 5,000 renderings;
- `item_reach`: every region whose readers an item concerns — its regions, every region
  inside them and every region around them — so "items for this region" is one lookup;
- `item_topics`: the topic filter (languages are a column: "|de|en|");
- `item_search`: the FTS5 trigram index over folded text (services/kernel/folding.py);
- `occurrences`: every occurrence of every event (rules are bounded), ordered by start;
- `history`: who changed what, when.

Times that are compared or sorted are stored as integer microseconds since the epoch (UTC).
Every statement is a hop to aiosqlite's thread, which dominates projecting: a new item
takes a handful of statements, a status change three.

The directory's facts (actors, members, regions) and identity's (accounts) are written here
by the projectors in reactions.py, each with its own resume point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import aiosqlite

from proto import directory as vocab
from proto import news as api
from proto.envelope import Envelope
from services.kernel import folding, privacy
from services.kernel.readers import Database, count
from services.news import domain, ical, markdown
from services.news.domain import ActorFacts, ItemState

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    pk          INTEGER PRIMARY KEY,   -- rowid of the item's row in item_search
    id          TEXT NOT NULL UNIQUE,
    actor_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    visibility  TEXT NOT NULL,
    sort_at     INTEGER NOT NULL,      -- published: when; otherwise the last change
    updated_at  INTEGER NOT NULL,
    publish_at  INTEGER,               -- scheduled items
    deadline    TEXT,                  -- funding programmes: ISO date, or NULL when rolling
    languages   TEXT NOT NULL,         -- "|de|en|": every language version, for the languages filter
    time_zone   TEXT,                  -- events: their zone, for the calendar's VTIMEZONEs
    version     INTEGER NOT NULL,
    -- The long columns last: SQLite reads a row's columns in order, and a column after a
    -- long one costs a walk through its overflow pages (feed stamps read only the short ones).
    haystack    TEXT NOT NULL,         -- folded text, for query words too short for trigrams
    state       TEXT NOT NULL          -- domain.ItemState as JSON
);
CREATE INDEX IF NOT EXISTS items_feed ON items (status, sort_at DESC, pk DESC);
CREATE INDEX IF NOT EXISTS items_kind_feed ON items (kind, status, sort_at DESC, pk DESC);
CREATE INDEX IF NOT EXISTS items_actor ON items (actor_id, sort_at DESC);
CREATE INDEX IF NOT EXISTS items_due ON items (status, publish_at);
CREATE TABLE IF NOT EXISTS item_texts (
    item_pk     INTEGER NOT NULL,
    language    TEXT NOT NULL,
    original    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    summary     TEXT NOT NULL,
    body_html   TEXT NOT NULL,
    component   TEXT,                  -- VEVENT(s) of an event or a funding deadline, this language
    PRIMARY KEY (item_pk, language)
);
CREATE TABLE IF NOT EXISTS item_reach (ags TEXT NOT NULL, item_pk INTEGER NOT NULL, PRIMARY KEY (ags, item_pk));
CREATE INDEX IF NOT EXISTS item_reach_item ON item_reach (item_pk);
CREATE TABLE IF NOT EXISTS item_topics (topic TEXT NOT NULL, item_pk INTEGER NOT NULL, PRIMARY KEY (topic, item_pk));
CREATE INDEX IF NOT EXISTS item_topics_item ON item_topics (item_pk);
CREATE VIRTUAL TABLE IF NOT EXISTS item_search USING fts5 (title, body, tokenize = 'trigram');
CREATE TABLE IF NOT EXISTS occurrences (
    item_pk       INTEGER NOT NULL,
    n             INTEGER NOT NULL,    -- position in the series
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    local_start   TEXT NOT NULL,
    local_end     TEXT NOT NULL,
    cancelled     INTEGER NOT NULL,
    moved         INTEGER NOT NULL,
    recurrence_id TEXT,
    PRIMARY KEY (item_pk, n)
);
CREATE INDEX IF NOT EXISTS occurrences_start ON occurrences (starts_at, item_pk, n);
CREATE INDEX IF NOT EXISTS occurrences_end ON occurrences (ends_at);
-- A new item's topics and reach follow from its row in the same statement (one hop fewer
-- each, when a stream of 200,000 items is projected); an edit rewrites them in write_item.
CREATE TRIGGER IF NOT EXISTS item_inserted AFTER INSERT ON items BEGIN
    INSERT OR IGNORE INTO item_topics (topic, item_pk)
        SELECT value, NEW.pk FROM json_each(NEW.state, '$.content.topics');
    INSERT OR IGNORE INTO item_reach (ags, item_pk)
        SELECT p.descendant, NEW.pk FROM region_paths p
        WHERE p.ancestor IN (SELECT value FROM json_each(NEW.state, '$.content.regions'))
        UNION SELECT p.ancestor, NEW.pk FROM region_paths p
        WHERE p.descendant IN (SELECT value FROM json_each(NEW.state, '$.content.regions'));
END;
CREATE TABLE IF NOT EXISTS history (
    seq         INTEGER PRIMARY KEY,
    item_id     TEXT NOT NULL,
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    by          TEXT,
    changes     TEXT NOT NULL          -- JSON list of camelCase field names
);
CREATE INDEX IF NOT EXISTS history_item ON history (item_id, seq);
""" + """
CREATE TABLE IF NOT EXISTS actors (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    slug    TEXT NOT NULL,
    status  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS actor_members (
    actor_id TEXT NOT NULL, account_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (actor_id, account_id)
);
CREATE INDEX IF NOT EXISTS actor_members_account ON actor_members (account_id);
CREATE TABLE IF NOT EXISTS regions (
    ags TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL, parent_ags TEXT
);
CREATE TABLE IF NOT EXISTS region_paths (
    descendant TEXT NOT NULL, ancestor TEXT NOT NULL, distance INTEGER NOT NULL,
    PRIMARY KEY (descendant, ancestor)
);
CREATE INDEX IF NOT EXISTS region_paths_ancestor ON region_paths (ancestor, descendant);
CREATE TABLE IF NOT EXISTS accounts (
    id           TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    locale       TEXT NOT NULL,
    last_event   TEXT NOT NULL         -- id of the last event applied: applying is idempotent
);
""" + privacy.ERASURE_SCHEMA

KIND_LABELS = {
    "article": "Artikel Article", "press-release": "Pressemitteilung Press release",
    "event": "Veranstaltung Event Termin", "funding-programme": "Förderprogramm Förderung Funding programme",
}
TOPIC_LABELS = {t.slug: f"{t.de} {t.en}" for t in vocab.TOPICS}
TOPIC_NAMES = {t.slug: t.de for t in vocab.TOPICS}
DEFAULT_LANGUAGE = "de"


def ts(moment: datetime) -> int:
    """Microseconds since the epoch: sortable and comparable as an integer."""
    return int(moment.astimezone(UTC).timestamp() * 1_000_000)


def from_ts(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


class NewsView:
    """The projector's view of the `NEWS` stream. `link(path)` makes the absolute address of
    an item's page, which its calendar entries carry."""

    SCHEMA = SCHEMA

    def __init__(self, link: Callable[[str], str]):
        self.link = link

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        event = envelope.event()
        item_id: str = event.item_id  # type: ignore[attr-defined]
        before = await load_item(db, item_id)
        after = domain.evolve(before, event, version=seq, at=envelope.occurred_at)
        content_changed = isinstance(event, (api.ItemCreated, api.ItemUpdated))
        await write_item(db, after, self.link, content_changed=content_changed, new=before is None)
        await db.execute(
            "INSERT INTO history (seq, item_id, type, occurred_at, by, changes) VALUES (?, ?, ?, ?, ?, ?)",
            (seq, item_id, envelope.type.removeprefix("news."), envelope.occurred_at.isoformat(), envelope.by,
             json.dumps(domain.describe(event))),
        )


# ---- projection: items -----------------------------------------------------------------------

def _sort_at(state: ItemState) -> datetime:
    return state.published_at or state.updated_at


def texts_of(content: api.ItemContent) -> list[tuple[str, bool, str, str, str]]:
    """(language, original, title, summary, body) of every language version, original first."""
    versions = [(content.language, True, content.title, content.summary, content.body)]
    versions += [(t.language, False, t.title, t.summary, t.body) for t in content.translations]
    return versions


def _component(state: ItemState, title: str, summary: str, text: str,
               link: Callable[[str], str]) -> str | None:
    content = state.content
    description = "\n\n".join(part for part in (summary, text) if part)
    entry = ical.Entry(
        item_id=state.id, title=title, description=description, url=link(domain.path_of(state.id)),
        sequence=state.revision, stamp=state.updated_at if state.revision else state.created_at,
        created=state.created_at, organiser=content.event.organiser if content.event else None,
        location=_location(content.event) if content.event else None,
        categories=[TOPIC_NAMES.get(t, t) for t in content.topics],
    )
    if content.event is not None:
        return ical.component_text(entry, content.event)
    if content.funding is not None and content.funding.deadline is not None:
        return ical.deadline_component(entry, content.funding.deadline)
    return None


def _location(event: api.EventDetails) -> str | None:
    parts: list[str] = []
    if event.place_name:
        parts.append(event.place_name)
    if event.address is not None:
        a = event.address
        parts.append(", ".join(p for p in (a.street, f"{a.postal_code} {a.locality}".strip()) if p))
    if event.online_url:
        parts.append(event.online_url)
    return ", ".join(parts) or None


async def write_item(db: aiosqlite.Connection, state: ItemState, link: Callable[[str], str], *,
                     content_changed: bool = True, new: bool = False) -> None:
    content = state.content
    versions = texts_of(content)
    haystack = " ".join(folding.fold_variants(f"{title} {summary}") for _, _, title, summary, _ in versions)
    rows = await db.execute_fetchall(
        "INSERT INTO items (id, actor_id, kind, status, visibility, sort_at, updated_at, publish_at, deadline, "
        "languages, time_zone, version, haystack, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status, visibility = excluded.visibility, "
        "sort_at = excluded.sort_at, updated_at = excluded.updated_at, publish_at = excluded.publish_at, "
        "deadline = excluded.deadline, languages = excluded.languages, time_zone = excluded.time_zone, "
        "haystack = excluded.haystack, state = excluded.state, version = excluded.version RETURNING pk",
        (state.id, state.actor_id, state.kind, state.status, content.visibility, ts(_sort_at(state)),
         ts(state.updated_at), ts(state.publish_at) if state.publish_at else None,
         content.funding.deadline.isoformat() if content.funding and content.funding.deadline else None,
         "|" + "|".join(v[0] for v in versions) + "|", content.event.time_zone if content.event else None,
         state.version, haystack, state.model_dump_json()),
    )
    pk = list(rows)[0][0]
    if state.status == "withdrawn":
        # Gone from search and every calendar at once (lists filter by status). Its regions and
        # topics stay: a feed that held it must still see that it changed (Last-Modified).
        for table in ("item_texts", "occurrences"):
            await db.execute(f"DELETE FROM {table} WHERE item_pk = ?", (pk,))
        await db.execute("DELETE FROM item_search WHERE rowid = ?", (pk,))
        return
    if not content_changed:
        return
    if not new:
        for table in ("item_texts", "item_reach", "item_topics", "occurrences"):
            await db.execute(f"DELETE FROM {table} WHERE item_pk = ?", (pk,))
        await db.execute("DELETE FROM item_search WHERE rowid = ?", (pk,))
    texts: list[tuple[object, ...]] = []
    plain: list[str] = []
    for language, original, title, summary, body in versions:
        rendered = markdown.render(body)
        plain.append(markdown.text_of(rendered))
        texts.append((pk, language, int(original), title, summary, rendered,
                      _component(state, title, summary, plain[-1], link)))
    await db.executemany("INSERT INTO item_texts VALUES (?, ?, ?, ?, ?, ?, ?)", texts)
    if not new:  # a new item's came with its row (trigger item_inserted)
        await _write_reach(db, pk, content.regions)
        await db.executemany("INSERT INTO item_topics VALUES (?, ?)", [(t, pk) for t in content.topics])
    titles = " ".join(f"{title} {summary}" for _, _, title, summary, _ in versions)
    body = " ".join(plain + list(content.tags)
                    + [TOPIC_LABELS.get(t, t) for t in content.topics] + [KIND_LABELS[state.kind]])
    await db.execute("INSERT INTO item_search (rowid, title, body) VALUES (?, ?, ?)",
                     (pk, folding.fold_variants(titles), folding.fold_variants(body)))
    if content.event is not None:
        found = ical.occurrences(content.event, state.id)
        await db.executemany("INSERT INTO occurrences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (pk, n, ts(o.starts_at), ts(o.ends_at), o.local_start.isoformat(), o.local_end.isoformat(),
             int(o.cancelled or content.event.cancelled), int(o.moved),
             o.recurrence_id.isoformat() if o.recurrence_id else None)
            for n, o in enumerate(found)])


async def _write_reach(db: aiosqlite.Connection, pk: int, regions: Sequence[str]) -> None:
    if not regions:
        return
    marks = ",".join("?" * len(regions))
    await db.execute(
        f"INSERT OR IGNORE INTO item_reach (ags, item_pk) SELECT descendant, ? FROM region_paths "
        f"WHERE ancestor IN ({marks}) UNION SELECT ancestor, ? FROM region_paths WHERE descendant IN ({marks})",
        (pk, *regions, pk, *regions),
    )


async def rebuild_reach(db: aiosqlite.Connection) -> None:
    """After regions were imported: every item's reach from the new hierarchy, in one statement."""
    await db.execute("DELETE FROM item_reach")
    regions = "SELECT i.pk AS item_pk, r.value AS ags FROM items i, json_each(i.state, '$.content.regions') r"
    await db.execute(
        f"INSERT OR IGNORE INTO item_reach (ags, item_pk) WITH item_regions AS ({regions}) "
        "SELECT p.descendant, r.item_pk FROM item_regions r JOIN region_paths p ON p.ancestor = r.ags "
        "UNION SELECT p.ancestor, r.item_pk FROM item_regions r JOIN region_paths p ON p.descendant = r.ags")


# ---- queries: items --------------------------------------------------------------------------

def _state(row: aiosqlite.Row) -> ItemState:
    return ItemState.model_validate_json(row["state"])


async def load_item(db: Database, item_id: str) -> ItemState | None:
    rows = list(await db.execute_fetchall("SELECT state FROM items WHERE id = ?", (item_id,)))
    return _state(rows[0]) if rows else None


async def load_items(db: Database, ids: Sequence[str]) -> dict[str, ItemState]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    async with db.execute(f"SELECT state FROM items WHERE id IN ({marks})", tuple(ids)) as cur:
        return {s.id: s for s in map(_state, await cur.fetchall())}


@dataclass(frozen=True)
class Text:
    language: str
    original: bool
    title: str
    summary: str
    body_html: str


async def texts(db: Database, item_ids: Sequence[str]) -> dict[str, dict[str, Text]]:
    """item id → language → its words (rendered), for the items that are not withdrawn."""
    if not item_ids:
        return {}
    marks = ",".join("?" * len(item_ids))
    async with db.execute(
        "SELECT i.id, t.language, t.original, t.title, t.summary, t.body_html FROM item_texts t "
        f"JOIN items i ON i.pk = t.item_pk WHERE i.id IN ({marks})", tuple(item_ids)
    ) as cur:
        found: dict[str, dict[str, Text]] = {}
        for r in await cur.fetchall():
            found.setdefault(r[0], {})[r[1]] = Text(r[1], bool(r[2]), r[3], r[4], r[5])
    return found


async def due_items(db: Database, now: datetime, limit: int = 100) -> list[str]:
    async with db.execute(
        "SELECT id FROM items WHERE status = 'scheduled' AND publish_at <= ? ORDER BY publish_at LIMIT ?",
        (ts(now), limit),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def next_due(db: Database) -> datetime | None:
    async with db.execute("SELECT min(publish_at) FROM items WHERE status = 'scheduled'") as cur:
        row = await cur.fetchone()
    return from_ts(row[0]) if row and row[0] is not None else None


@dataclass(frozen=True)
class Reader:
    """Whose eyes a query serves: statuses asked for, narrowed by who is asking."""

    statuses: tuple[str, ...]
    account_id: str | None
    admin: bool

    def sql(self) -> tuple[str, list[object]]:
        published_only = tuple(s for s in self.statuses if s == "published")
        others = tuple(s for s in self.statuses if s != "published")
        clauses: list[str] = []
        params: list[object] = []
        if published_only:
            clauses.append("(i.status = 'published'" + ("" if self.account_id else " AND i.visibility = 'public'")
                           + ")")
        if others and self.admin:
            clauses.append(f"i.status IN ({','.join('?' * len(others))})")
            params += others
        elif others and self.account_id:
            clauses.append(f"(i.status IN ({','.join('?' * len(others))}) AND i.actor_id IN "
                           "(SELECT actor_id FROM actor_members WHERE account_id = ?))")
            params += [*others, self.account_id]
        if not clauses:
            return "0", []
        return "(" + " OR ".join(clauses) + ")", params


@dataclass(frozen=True)
class ItemQuery:
    reader: Reader
    kinds: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    words: list[str] = field(default_factory=list)


def _in(column: str, values: Sequence[object]) -> tuple[str, list[object]]:
    return f"{column} IN ({','.join('?' * len(values))})", list(values)


def _where(q: ItemQuery) -> tuple[str, list[object]]:
    sql, params = q.reader.sql()
    clauses = [sql]
    if q.kinds:
        clause, values = _in("i.kind", q.kinds)
        clauses.append(clause)
        params += values
    # Within one filter any value matches; across filters all must.
    if q.topics:
        clauses.append(f"i.pk IN (SELECT item_pk FROM item_topics WHERE topic IN ({','.join('?' * len(q.topics))}))")
        params += q.topics
    if q.regions:
        clauses.append(f"i.pk IN (SELECT item_pk FROM item_reach WHERE ags IN ({','.join('?' * len(q.regions))}))")
        params += q.regions
    if q.actors:
        clause, values = _in("i.actor_id", q.actors)
        clauses.append(clause)
        params += values
    if q.languages:
        clauses.append("(" + " OR ".join("instr(i.languages, ?) > 0" for _ in q.languages) + ")")
        params += [f"|{code}|" for code in q.languages]
    if q.since is not None:
        clauses.append("i.sort_at >= ?")
        params.append(ts(q.since))
    if q.until is not None:
        clauses.append("i.sort_at < ?")
        params.append(ts(q.until))
    if expression := folding.fts_expression(q.words):
        clauses.append("i.pk IN (SELECT rowid FROM item_search WHERE item_search MATCH ?)")
        params.append(expression)
    for word in folding.short_terms(q.words):
        clauses.append("instr(i.haystack, ?) > 0")
        params.append(word)
    return " AND ".join(clauses), params


async def feed(db: Database, q: ItemQuery, *, before: tuple[int, int] | None,
               limit: int) -> list[tuple[ItemState, int, int]]:
    """Newest first, after the keyset position `before` (sort_at, pk): (state, sort_at, pk)."""
    where, params = _where(q)
    if before is not None:
        where += " AND (i.sort_at < ? OR (i.sort_at = ? AND i.pk < ?))"
        params += [before[0], before[0], before[1]]
    async with db.execute(
        f"SELECT i.state, i.sort_at, i.pk FROM items i WHERE {where} ORDER BY i.sort_at DESC, i.pk DESC LIMIT ?",
        [*params, limit],
    ) as cur:
        return [(_state(r), r[1], r[2]) for r in await cur.fetchall()]


async def funding_programmes(db: Database, q: ItemQuery, *, today: date, offset: int,
                             limit: int) -> list[ItemState]:
    """Open programmes by deadline (rolling ones after), then closed ones, latest deadline first."""
    where, params = _where(q)
    async with db.execute(
        f"SELECT i.state FROM items i WHERE i.kind = 'funding-programme' AND {where} "
        "ORDER BY (i.deadline IS NOT NULL AND i.deadline < ?), "
        "CASE WHEN i.deadline IS NULL OR i.deadline >= ? THEN coalesce(i.deadline, '9999') END, "
        "i.deadline DESC, i.pk LIMIT ? OFFSET ?",
        [*params, today.isoformat(), today.isoformat(), limit, offset],
    ) as cur:
        return [_state(r) for r in await cur.fetchall()]


@dataclass(frozen=True)
class OccurrenceRow:
    state: ItemState
    occurrence: api.Occurrence
    key: tuple[int, int, int]  # (starts_at, item_pk, n): the keyset position


async def upcoming(db: Database, q: ItemQuery, *, since: datetime, until: datetime | None,
                   after: tuple[int, int, int] | None, limit: int) -> list[OccurrenceRow]:
    where, params = _where(q)
    clauses = ["o.ends_at > ?"]
    values: list[object] = [ts(since)]
    if until is not None:
        clauses.append("o.starts_at < ?")
        values.append(ts(until))
    if after is not None:
        clauses.append("(o.starts_at, o.item_pk, o.n) > (?, ?, ?)")
        values += list(after)
    async with db.execute(
        "SELECT i.state, o.starts_at, o.ends_at, o.local_start, o.local_end, o.cancelled, o.moved, "
        "o.recurrence_id, o.item_pk, o.n FROM occurrences o JOIN items i ON i.pk = o.item_pk "
        f"WHERE {' AND '.join(clauses)} AND {where} ORDER BY o.starts_at, o.item_pk, o.n LIMIT ?",
        [*values, *params, limit],
    ) as cur:
        rows = await cur.fetchall()
    found = []
    for r in rows:
        state = _state(r)
        all_day = bool(state.content.event and state.content.event.all_day)
        found.append(OccurrenceRow(state, api.Occurrence(
            starts_at=from_ts(r[1]), ends_at=from_ts(r[2]), local_start=datetime.fromisoformat(r[3]),
            local_end=datetime.fromisoformat(r[4]), all_day=all_day, cancelled=bool(r[5]), moved=bool(r[6]),
            recurrence_id=datetime.fromisoformat(r[7]) if r[7] else None,
        ), (r[1], r[8], r[9])))
    return found


async def next_occurrences(db: Database, item_ids: Sequence[str], now: datetime
                           ) -> dict[str, tuple[api.Occurrence | None, int]]:
    """Per event: its next occurrence that has not ended, and how many it has in all."""
    if not item_ids:
        return {}
    marks = ",".join("?" * len(item_ids))
    counts = {r[0]: (r[1], bool(r[2])) for r in await db.execute_fetchall(
        "SELECT i.id, count(*), json_extract(i.state, '$.content.event.all_day') FROM occurrences o "
        f"JOIN items i ON i.pk = o.item_pk WHERE i.id IN ({marks}) GROUP BY i.id", tuple(item_ids))}
    rows = await db.execute_fetchall(
        "SELECT i.id, o.starts_at, o.ends_at, o.local_start, o.local_end, o.cancelled, o.moved, o.recurrence_id "
        f"FROM items i JOIN occurrences o ON o.item_pk = i.pk WHERE i.id IN ({marks}) AND o.n = "
        "(SELECT x.n FROM occurrences x WHERE x.item_pk = i.pk AND x.ends_at > ? ORDER BY x.starts_at LIMIT 1)",
        (*item_ids, ts(now)))
    found: dict[str, tuple[api.Occurrence | None, int]] = {i: (None, counts.get(i, (0, False))[0]) for i in item_ids}
    for r in rows:
        count, all_day = counts.get(r[0], (0, False))
        found[r[0]] = (api.Occurrence(
            starts_at=from_ts(r[1]), ends_at=from_ts(r[2]), local_start=datetime.fromisoformat(r[3]),
            local_end=datetime.fromisoformat(r[4]), all_day=all_day, cancelled=bool(r[5]), moved=bool(r[6]),
            recurrence_id=datetime.fromisoformat(r[7]) if r[7] else None), count)
    return found


async def history(db: Database, item_id: str, limit: int = 200) -> list[aiosqlite.Row]:
    async with db.execute(
        "SELECT seq, type, occurred_at, by, changes FROM history WHERE item_id = ? ORDER BY seq DESC LIMIT ?",
        (item_id, limit),
    ) as cur:
        return list(await cur.fetchall())


# ---- queries: feeds --------------------------------------------------------------------------

FEED_FORMAT = "1"  # part of every stamp: a change of how feeds are written changes every tag


def pick_language(available: Sequence[str], original: str, preferred: Sequence[str]) -> str:
    """The first preferred language the item has, else its original."""
    return next((lang for lang in preferred if lang in available), original)


def _feed_where(q: api.FeedQuery, kind_clause: str) -> tuple[str, list[object]]:
    """Public feeds: public items only, whoever asks. Published ones, and — for Last-Modified —
    withdrawn ones, which the caller filters out of the entries."""
    query = ItemQuery(reader=Reader(("published",), None, False), kinds=list(q.kinds), topics=list(q.topics),
                      regions=list(q.regions), actors=list(q.actors))
    where, params = _where(query)
    where = where.replace("(i.status = 'published' AND i.visibility = 'public')",
                          "(i.status IN ('published', 'withdrawn') AND i.visibility = 'public')", 1)
    if q.item_id is not None:
        where += " AND i.id = ?"
        params.append(q.item_id)
    return f"{kind_clause} AND {where}", params


def _tag(parts: Iterable[object]) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:32]


FEED_KINDS = {"news": "1", "events": "i.kind = 'event'", "funding": "i.kind = 'funding-programme'"}


async def feed_stamp(db: Database, feed: str, q: api.FeedQuery, parts: Sequence[object]
                     ) -> api.FeedStamp:
    """A feed's stamp in one aggregate over the items its filter matches, without listing them.

    Every event gives the item it is about the stream's newest sequence as its version, and a
    withdrawn item keeps matching (its regions and topics stay). So the largest version among
    the matching published and withdrawn items, with the number of published ones, changes
    whenever the set of published items or any of their versions does — and can only return
    to an earlier value when the set is what it was then. What a feed shows is a function of
    that set (and of `parts`: window day, limit, languages, format), so the tag changes exactly
    when the feed would."""
    where, params = _feed_where(q, FEED_KINDS[feed])
    rows = list(await db.execute_fetchall(
        f"SELECT max(i.version), total(i.status = 'published'), max(i.updated_at) FROM items i WHERE {where}",
        params))
    top, count, updated = rows[0] if rows else (None, 0, None)
    return api.FeedStamp(tag=_tag([feed, FEED_FORMAT, *parts, *q.lang, top or 0, int(count or 0)]),
                         last_modified=from_ts(updated) if updated is not None else None)


async def news_feed_pks(db: Database, q: api.FeedQuery, limit: int) -> list[int]:
    """The Atom window: the newest `limit` published public items."""
    where, params = _feed_where(q, "1")
    rows = await db.execute_fetchall(
        f"SELECT i.pk FROM items i WHERE {where} AND i.status = 'published' "
        "ORDER BY i.sort_at DESC, i.pk DESC LIMIT ?", [*params, limit])
    return [r[0] for r in rows]


async def feed_entries(db: Database, pks: Sequence[int], preferred: Sequence[str]
                       ) -> list[api.FeedEntry]:
    if not pks:
        return []
    marks = ",".join("?" * len(pks))
    async with db.execute(
        "SELECT i.pk, i.state, a.name, t.language, t.original, t.title, t.summary, t.body_html FROM items i "
        "JOIN item_texts t ON t.item_pk = i.pk LEFT JOIN actors a ON a.id = i.actor_id "
        f"WHERE i.pk IN ({marks})", tuple(pks),
    ) as cur:
        rows = await cur.fetchall()
    by_item: dict[int, list[aiosqlite.Row]] = {}
    for r in rows:
        by_item.setdefault(r[0], []).append(r)
    entries = []
    for pk in pks:
        versions = by_item.get(pk)
        if not versions:
            continue
        state = ItemState.model_validate_json(versions[0][1])
        original = next(v for v in versions if v[4])
        chosen_language = pick_language([v[3] for v in versions], original[3], preferred)
        chosen = next(v for v in versions if v[3] == chosen_language)
        entries.append(api.FeedEntry(
            id=state.id, kind=state.kind, title=chosen[5], summary=chosen[6], body_html=chosen[7],
            language=chosen[3], link=state.content.link, path=domain.path_of(state.id),
            actor_name=versions[0][2] or "", topics=list(state.content.topics), tags=list(state.content.tags),
            published_at=state.published_at or state.updated_at, updated_at=state.updated_at,
        ))
    return entries


@dataclass(frozen=True)
class CalendarWindow:
    since: datetime  # events: occurrences ending after; funding: deadlines on or after (date)
    until: datetime


async def calendar_keys(db: Database, feed: str, q: api.FeedQuery, window: CalendarWindow,
                        limit: int) -> list[tuple[int, str]]:
    """The items of an iCalendar feed in the window (pk, time zone), in feed order."""
    if feed == "events":
        where, params = _feed_where(q, "i.kind = 'event'")
        # From the region's reach (or all items) to their occurrences in the window.
        sql = (f"SELECT i.pk, i.time_zone, min(o.starts_at) AS first FROM items i "
               f"JOIN occurrences o ON o.item_pk = i.pk WHERE {where} AND i.status = 'published' "
               "AND o.ends_at > ? AND o.starts_at < ? GROUP BY i.pk ORDER BY first, i.pk LIMIT ?")
        values = [*params, ts(window.since), ts(window.until), limit]
    else:
        where, params = _feed_where(q, "i.kind = 'funding-programme'")
        sql = (f"SELECT i.pk, NULL, i.deadline FROM items i WHERE {where} AND i.status = 'published' "
               "AND i.deadline IS NOT NULL AND i.deadline >= ? AND i.deadline < ? ORDER BY i.deadline, i.pk LIMIT ?")
        values = [*params, window.since.date().isoformat(), window.until.date().isoformat(), limit]
    rows = await db.execute_fetchall(sql, values)
    return [(r[0], r[1] or api.DEFAULT_TIME_ZONE) for r in rows]


async def calendar_components(db: Database, pks: Sequence[int], preferred: Sequence[str]) -> list[str]:
    if not pks:
        return []
    marks = ",".join("?" * len(pks))
    async with db.execute(
        f"SELECT item_pk, language, original, component FROM item_texts WHERE item_pk IN ({marks}) "
        "AND component IS NOT NULL", tuple(pks),
    ) as cur:
        rows = await cur.fetchall()
    by_item: dict[int, dict[str, str]] = {}
    originals: dict[int, str] = {}
    for pk, language, original, component in rows:
        by_item.setdefault(pk, {})[language] = component
        if original:
            originals[pk] = language
    found = []
    for pk in pks:
        versions = by_item.get(pk)
        if versions:
            found.append(versions[pick_language(list(versions), originals[pk], preferred)])
    return found


# ---- news' copy of the directory (projected from DIRECTORY by reactions.py) -------------------

async def put_actor(db: aiosqlite.Connection, actor_id: str, name: str, slug: str, status: str) -> None:
    await db.execute(
        "INSERT INTO actors VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
        "slug = excluded.slug, status = excluded.status", (actor_id, name, slug, status))


async def set_actor_status(db: aiosqlite.Connection, actor_id: str, status: str) -> None:
    await db.execute("UPDATE actors SET status = ? WHERE id = ?", (status, actor_id))


async def put_member(db: aiosqlite.Connection, actor_id: str, account_id: str, role: str) -> None:
    await db.execute(
        "INSERT INTO actor_members VALUES (?, ?, ?) ON CONFLICT (actor_id, account_id) DO UPDATE SET "
        "role = excluded.role", (actor_id, account_id, role))


async def remove_member(db: aiosqlite.Connection, actor_id: str, account_id: str) -> None:
    await db.execute("DELETE FROM actor_members WHERE actor_id = ? AND account_id = ?", (actor_id, account_id))


async def put_regions(db: aiosqlite.Connection, regions: Sequence[vocab.RegionData]) -> bool:
    """Regions as imported (parents first); True when the hierarchy changed (not only names)."""
    moved = False
    for region in regions:
        async with db.execute("SELECT parent_ags FROM regions WHERE ags = ?", (region.ags,)) as cur:
            row = await cur.fetchone()
        moved |= row is None or row[0] != region.parent_ags
        await db.execute(
            "INSERT INTO regions VALUES (?, ?, ?, ?) ON CONFLICT (ags) DO UPDATE SET name = excluded.name, "
            "level = excluded.level, parent_ags = excluded.parent_ags",
            (region.ags, region.name, region.level, region.parent_ags))
        await db.execute("DELETE FROM region_paths WHERE descendant = ?", (region.ags,))
        await db.execute("INSERT INTO region_paths VALUES (?, ?, 0)", (region.ags, region.ags))
        if region.parent_ags:
            await db.execute(
                "INSERT INTO region_paths SELECT ?, ancestor, distance + 1 FROM region_paths WHERE descendant = ?",
                (region.ags, region.parent_ags))
    return moved


async def actor(db: Database, actor_id: str) -> ActorFacts | None:
    return (await actors(db, [actor_id])).get(actor_id)


async def actors(db: Database, ids: Iterable[str]) -> dict[str, ActorFacts]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    async with db.execute(f"SELECT id, name, slug, status FROM actors WHERE id IN ({marks})", ids) as cur:
        rows = await cur.fetchall()
    async with db.execute(f"SELECT actor_id, account_id, role FROM actor_members WHERE actor_id IN ({marks})",
                          ids) as cur:
        members: dict[str, dict[str, str]] = {}
        for actor_id, account_id, role in await cur.fetchall():
            members.setdefault(actor_id, {})[account_id] = role
    return {r[0]: ActorFacts(id=r[0], name=r[1], slug=r[2], status=r[3], members=members.get(r[0], {}))
            for r in rows}


async def actor_ids_by_name(db: Database) -> dict[str, str]:
    """Actor name → id: for sample data, which names its actors."""
    async with db.execute("SELECT name, id FROM actors ORDER BY id") as cur:
        return {name: actor_id for name, actor_id in await cur.fetchall()}


async def known_regions(db: Database, keys: Iterable[str]) -> set[str]:
    return set(await region_refs(db, keys))


async def region_refs(db: Database, keys: Iterable[str]) -> dict[str, vocab.RegionRef]:
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    async with db.execute(f"SELECT ags, name, level FROM regions WHERE ags IN ({marks})", keys) as cur:
        return {r[0]: vocab.RegionRef(ags=r[0], name=r[1], level=r[2]) for r in await cur.fetchall()}


async def scope(db: Database, keys: Sequence[str]) -> set[str]:
    """The regions, every region inside them and every region around them."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return set()
    marks = ",".join("?" * len(keys))
    async with db.execute(
        f"SELECT descendant FROM region_paths WHERE ancestor IN ({marks}) "
        f"UNION SELECT ancestor FROM region_paths WHERE descendant IN ({marks})", [*keys, *keys],
    ) as cur:
        return {r[0] for r in await cur.fetchall()}


async def region_count(db: Database) -> int:
    return await count(db, "SELECT count(*) FROM regions")


# ---- news' copy of accounts (projected from IDENTITY by reactions.py) --------------------------

@dataclass(frozen=True)
class Account:
    id: str
    email: str
    display_name: str
    locale: str


async def account_event_applied(db: Database, account_id: str, event_id: str) -> bool:
    async with db.execute("SELECT last_event FROM accounts WHERE id = ?", (account_id,)) as cur:
        row = await cur.fetchone()
    return row is not None and row[0] == event_id


async def put_account(db: aiosqlite.Connection, account: Account, event_id: str) -> None:
    await db.execute(
        "INSERT INTO accounts VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET email = excluded.email, "
        "display_name = excluded.display_name, locale = excluded.locale, last_event = excluded.last_event",
        (account.id, account.email, account.display_name, account.locale, event_id))


async def set_account_email(db: aiosqlite.Connection, account_id: str, email: str, event_id: str) -> None:
    await db.execute("UPDATE accounts SET email = ?, last_event = ? WHERE id = ?", (email, event_id, account_id))


async def set_account_profile(db: aiosqlite.Connection, account_id: str, display_name: str, locale: str,
                              event_id: str) -> None:
    await db.execute("UPDATE accounts SET display_name = ?, locale = ?, last_event = ? WHERE id = ?",
                     (display_name, locale, event_id, account_id))


async def accounts_by_ids(db: Database, ids: Iterable[str]) -> dict[str, Account]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    async with db.execute(f"SELECT id, email, display_name, locale FROM accounts WHERE id IN ({marks})",
                          ids) as cur:
        return {r[0]: Account(*r) for r in await cur.fetchall()}


async def forget_account(db: aiosqlite.Connection, account_id: str) -> None:
    """An erased account: its copy and its memberships go; its id stays on what it wrote, an
    opaque id that names nobody once this row is gone."""
    await db.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
    await db.execute("DELETE FROM actor_members WHERE account_id = ?", (account_id,))


async def replace_members(db: aiosqlite.Connection, actor_id: str, members: dict[str, str]) -> None:
    """An actor's members as a redaction (directory.actor_redacted) left them."""
    await db.execute("DELETE FROM actor_members WHERE actor_id = ?", (actor_id,))
    await db.executemany("INSERT INTO actor_members VALUES (?, ?, ?)",
                         [(actor_id, account, role) for account, role in members.items()])


async def memberships_of(db: Database, account_id: str) -> list[tuple[str, str, str]]:
    """(actor id, actor name, role) of the account's memberships, as news knows them."""
    rows = await db.execute_fetchall(
        "SELECT m.actor_id, coalesce(a.name, ''), m.role FROM actor_members m LEFT JOIN actors a ON a.id = m.actor_id "
        "WHERE m.account_id = ? ORDER BY a.name", (account_id,))
    return [(r[0], r[1], r[2]) for r in rows]


async def items_by_author(db: Database, account_id: str) -> list[ItemState]:
    rows = await db.execute_fetchall(
        "SELECT state FROM items WHERE json_extract(state, '$.author_id') = ? ORDER BY pk", (account_id,))
    return [_state(r) for r in rows]


async def history_by(db: Database, account_id: str) -> list[aiosqlite.Row]:
    """Every change the account made to an item: (item id, seq, type, when, changes)."""
    return list(await db.execute_fetchall(
        "SELECT item_id, seq, type, occurred_at, changes FROM history WHERE by = ? ORDER BY seq", (account_id,)))
