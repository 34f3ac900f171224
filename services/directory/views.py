"""The directory's SQLite view: the projection of its stream, and the queries on it.

Each actor's whole state (`domain.ActorState`, as JSON) is what commands decide on. The
other actor tables are derived from it on every event, for queries only:

- `actor_regions`, `actor_topics`, `actor_languages`: what an actor and its offerings
  cover, for filters and facets;
- `actor_coverage`: one row per (topic, region) an actor or one of its offerings serves,
  for "who is responsible here" and coverage;
- `actor_search`: the FTS5 trigram index over folded text (see search.py);
- `members`, `invitations`: lookups by account and by token hash;
- `history`: who changed what, when.

Regions keep a closure table (`region_paths`: every ancestor of every region, itself at
distance 0), so "serves this region" is one join whatever the depth: an actor serves R
when one of its regions is R or an ancestor of R.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from proto import directory as api
from proto.envelope import Envelope, Event
from services.directory import domain, search
from services.directory.domain import ActorState
from services.kernel.projector import Applied

SCHEMA = """
CREATE TABLE IF NOT EXISTS actors (
    pk        INTEGER PRIMARY KEY,   -- rowid of the actor's row in actor_search
    id        TEXT NOT NULL UNIQUE,
    slug      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    sort_name TEXT NOT NULL,
    status    TEXT NOT NULL,
    haystack  TEXT NOT NULL,         -- folded text, for query words too short for trigrams
    state     TEXT NOT NULL,         -- domain.ActorState as JSON
    version   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS actors_slug ON actors (slug);
CREATE INDEX IF NOT EXISTS actors_status_name ON actors (status, sort_name);
CREATE INDEX IF NOT EXISTS actors_sort_name ON actors (sort_name);
CREATE TABLE IF NOT EXISTS actor_regions (
    actor_id TEXT NOT NULL, ags TEXT NOT NULL, PRIMARY KEY (actor_id, ags)
);
CREATE INDEX IF NOT EXISTS actor_regions_ags ON actor_regions (ags);
CREATE TABLE IF NOT EXISTS actor_topics (
    actor_id TEXT NOT NULL, topic TEXT NOT NULL, PRIMARY KEY (actor_id, topic)
);
CREATE INDEX IF NOT EXISTS actor_topics_topic ON actor_topics (topic);
CREATE TABLE IF NOT EXISTS actor_languages (
    actor_id TEXT NOT NULL, language TEXT NOT NULL, PRIMARY KEY (actor_id, language)
);
CREATE TABLE IF NOT EXISTS actor_coverage (
    actor_id    TEXT NOT NULL,
    offering_id TEXT NOT NULL,       -- '' for the actor itself
    topic       TEXT NOT NULL,
    ags         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS actor_coverage_topic ON actor_coverage (topic, ags);
CREATE INDEX IF NOT EXISTS actor_coverage_ags ON actor_coverage (ags);
CREATE INDEX IF NOT EXISTS actor_coverage_actor ON actor_coverage (actor_id);
CREATE VIRTUAL TABLE IF NOT EXISTS actor_search USING fts5 (
    name, short_name, body, tokenize = 'trigram'
);
CREATE TABLE IF NOT EXISTS members (
    actor_id TEXT NOT NULL, account_id TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (actor_id, account_id)
);
CREATE INDEX IF NOT EXISTS members_account ON members (account_id);
CREATE TABLE IF NOT EXISTS invitations (
    token_hash TEXT PRIMARY KEY, actor_id TEXT NOT NULL, invitation_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS invitations_actor ON invitations (actor_id);
CREATE TABLE IF NOT EXISTS history (
    seq         INTEGER PRIMARY KEY,
    actor_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    by          TEXT,
    changes     TEXT NOT NULL,       -- JSON list of camelCase field names
    subject     TEXT
);
CREATE INDEX IF NOT EXISTS history_actor ON history (actor_id, seq);
CREATE TABLE IF NOT EXISTS regions (
    ags        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    level      TEXT NOT NULL,
    parent_ags TEXT,
    folded     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS regions_parent ON regions (parent_ags, name);
CREATE TABLE IF NOT EXISTS region_paths (
    descendant TEXT NOT NULL, ancestor TEXT NOT NULL, distance INTEGER NOT NULL,
    PRIMARY KEY (descendant, ancestor)
);
CREATE INDEX IF NOT EXISTS region_paths_ancestor ON region_paths (ancestor, descendant);
CREATE TABLE IF NOT EXISTS region_imports (
    state_ags TEXT PRIMARY KEY, version INTEGER NOT NULL
);
"""

KIND_LABELS = {t.slug: f"{t.de} {t.en}" for t in api.ACTOR_KINDS}
TOPIC_LABELS = {t.slug: f"{t.de} {t.en}" for t in api.TOPICS}


class DirectoryView:
    SCHEMA = SCHEMA

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        await self.apply_batch(db, [Applied(envelope, seq, subject)])

    async def apply_batch(self, db: aiosqlite.Connection, events: Sequence[Applied]) -> None:
        """Events in stream order, in the projector's transaction. Runs of actor events are
        written together (a few statements per run, whatever its length); a regions import
        between them is applied in its place, since later actors' search text names regions."""
        run: list[tuple[Applied, Event]] = []
        for applied in events:
            event = applied.envelope.event()
            if isinstance(event, api.RegionsImported):
                await _apply_actors(db, run)
                run = []
                await _apply_regions(db, event, applied.seq)
            else:
                run.append((applied, event))
        await _apply_actors(db, run)


# ---- projection: actors ----------------------------------------------------------------

async def _apply_actors(db: aiosqlite.Connection, run: list[tuple[Applied, Event]]) -> None:
    if not run:
        return
    states = await load_actors(db, list(dict.fromkeys(e.actor_id for _, e in run)))  # type: ignore[attr-defined]
    history = []
    for applied, event in run:
        envelope, actor_id = applied.envelope, event.actor_id  # type: ignore[attr-defined]
        before = states.get(actor_id)
        changes, about = domain.describe(event, before)
        states[actor_id] = domain.evolve(before, event, version=applied.seq, at=envelope.occurred_at,
                                         by=envelope.by)
        history.append((applied.seq, actor_id, envelope.type.removeprefix("directory."),
                        envelope.occurred_at.isoformat(), envelope.by, json.dumps(changes), about))
    touched = list(dict.fromkeys(e.actor_id for _, e in run))  # type: ignore[attr-defined]
    await _write_actors(db, [states[i] for i in touched])
    await db.executemany("INSERT INTO history (seq, actor_id, type, occurred_at, by, changes, subject) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", history)


DERIVED = ("actor_regions", "actor_topics", "actor_languages", "actor_coverage", "members", "invitations")


async def _write_actors(db: aiosqlite.Connection, states: list[ActorState]) -> None:
    """Each actor's row, search text and derived rows, as its state now says."""
    names = await _names(db, {k for s in states for k in s.profile.regions})
    rows, texts = [], []
    for state in states:
        profile = state.profile
        short = profile.short_name or ""
        body = _search_body(state, names)
        folded = [search.fold_variants(t) for t in (profile.name, short, body)]
        rows.append((state.id, profile.slug, profile.kind, profile.name, search.fold(profile.name), state.status,
                     " ".join(folded), state.model_dump_json(), state.version))
        texts.append(folded)
    await db.executemany(
        "INSERT INTO actors (id, slug, kind, name, sort_name, status, haystack, state, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, "
        "kind = excluded.kind, name = excluded.name, sort_name = excluded.sort_name, "
        "status = excluded.status, haystack = excluded.haystack, state = excluded.state, "
        "version = excluded.version", rows)
    ids = [s.id for s in states]
    async with db.execute(f"SELECT id, pk FROM actors WHERE id IN ({','.join('?' * len(ids))})", ids) as cur:
        pks = {r[0]: r[1] for r in await cur.fetchall()}
    await db.executemany("DELETE FROM actor_search WHERE rowid = ?", [(pks[i],) for i in ids])
    await db.executemany("INSERT INTO actor_search (rowid, name, short_name, body) VALUES (?, ?, ?, ?)",
                         [(pks[i], *folded) for i, folded in zip(ids, texts, strict=True)])
    for table in DERIVED:
        await db.executemany(f"DELETE FROM {table} WHERE actor_id = ?", [(i,) for i in ids])
    derived: dict[str, list[tuple[str, ...]]] = {table: [] for table in DERIVED}
    for state in states:
        for table, values in _derived(state).items():
            derived[table] += values
    await db.executemany("INSERT INTO actor_regions VALUES (?, ?)", derived["actor_regions"])
    await db.executemany("INSERT INTO actor_topics VALUES (?, ?)", derived["actor_topics"])
    await db.executemany("INSERT INTO actor_languages VALUES (?, ?)", derived["actor_languages"])
    await db.executemany("INSERT INTO actor_coverage VALUES (?, ?, ?, ?)", derived["actor_coverage"])
    await db.executemany("INSERT INTO members VALUES (?, ?, ?)", derived["members"])
    await db.executemany("INSERT INTO invitations VALUES (?, ?, ?)", derived["invitations"])


def _derived(state: ActorState) -> dict[str, list[tuple[str, ...]]]:
    """The rows of the query tables that one actor's state makes."""
    profile = state.profile
    regions, topics, languages = set(profile.regions), set(profile.topics), set(profile.languages)
    coverage = {("", topic, ags) for topic in profile.topics for ags in profile.regions}
    for offering_id, offering in state.offerings.items():
        served = offering.regions or profile.regions
        regions.update(offering.regions)
        topics.update(offering.topics)
        languages.update(offering.languages)
        coverage.update((offering_id, topic, ags) for topic in offering.topics for ags in served)
    return {
        "actor_regions": [(state.id, a) for a in regions],
        "actor_topics": [(state.id, t) for t in topics],
        "actor_languages": [(state.id, lang) for lang in languages],
        "actor_coverage": [(state.id, o, t, a) for o, t, a in coverage],
        "members": [(state.id, account, m.role) for account, m in state.members.items()],
        "invitations": [(i.token_hash, state.id, i.id) for i in state.invitations.values()],
    }


def _search_body(state: ActorState, region_names: dict[str, str]) -> str:
    """What besides the names is searchable: description, kind and topic labels, served
    regions, offerings, contact persons' functions. Not people's names: those are personal
    data, and a search must not reveal what the actor page would hide."""
    profile = state.profile
    parts = [profile.description, KIND_LABELS.get(profile.kind, "")]
    parts += [TOPIC_LABELS.get(t, t) for t in profile.topics]
    parts += [region_names.get(a, "") for a in profile.regions]
    for offering in state.offerings.values():
        parts += [offering.name, offering.description, offering.eligibility]
        parts += [TOPIC_LABELS.get(t, t) for t in offering.topics]
    parts += [p.function or "" for p in state.contact_persons.values()]
    return " ".join(p for p in parts if p)


# ---- projection: regions ---------------------------------------------------------------

async def _apply_regions(db: aiosqlite.Connection, event: api.RegionsImported, seq: int) -> None:
    # Parents come before children in a file, and earlier states before later ones, so a
    # region's ancestors are in the table when its paths are written.
    for region in event.regions:
        await db.execute(
            "INSERT INTO regions (ags, name, level, parent_ags, folded) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (ags) DO UPDATE SET name = excluded.name, level = excluded.level, "
            "parent_ags = excluded.parent_ags, folded = excluded.folded",
            (region.ags, region.name, region.level, region.parent_ags, search.fold_variants(region.name)),
        )
        await db.execute("DELETE FROM region_paths WHERE descendant = ?", (region.ags,))
        await db.execute("INSERT INTO region_paths VALUES (?, ?, 0)", (region.ags, region.ags))
        if region.parent_ags:
            await db.execute(
                "INSERT INTO region_paths SELECT ?, ancestor, distance + 1 FROM region_paths "
                "WHERE descendant = ?",
                (region.ags, region.parent_ags),
            )
    await db.execute(
        "INSERT INTO region_imports VALUES (?, ?) ON CONFLICT (state_ags) DO UPDATE SET version = excluded.version",
        (event.state_ags, seq),
    )


# ---- queries: actors -------------------------------------------------------------------

def _state(row: aiosqlite.Row) -> ActorState:
    return ActorState.model_validate_json(row["state"])


async def load_actor(db: aiosqlite.Connection, actor_id: str) -> ActorState | None:
    async with db.execute("SELECT state FROM actors WHERE id = ?", (actor_id,)) as cur:
        row = await cur.fetchone()
    return _state(row) if row else None


async def load_actors(db: aiosqlite.Connection, actor_ids: Sequence[str]) -> dict[str, ActorState]:
    if not actor_ids:
        return {}
    marks = ",".join("?" * len(actor_ids))
    async with db.execute(f"SELECT state FROM actors WHERE id IN ({marks})", tuple(actor_ids)) as cur:
        return {s.id: s for s in map(_state, await cur.fetchall())}


async def actor_id_by_slug(db: aiosqlite.Connection, slug: str) -> str | None:
    async with db.execute("SELECT id FROM actors WHERE slug = ? ORDER BY version DESC", (slug,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def actor_ids_by_name(db: aiosqlite.Connection, name: str) -> list[str]:
    """Actors whose name folds to the same as `name` ("Caritas Saarbrücken" = "caritas saarbruecken")."""
    async with db.execute("SELECT id FROM actors WHERE sort_name = ? ORDER BY id", (search.fold(name),)) as cur:
        return [r[0] for r in await cur.fetchall()]


async def actor_ids_of_member(db: aiosqlite.Connection, account_id: str) -> list[str]:
    async with db.execute(
        "SELECT m.actor_id FROM members m JOIN actors a ON a.id = m.actor_id "
        "WHERE m.account_id = ? ORDER BY a.sort_name", (account_id,)
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def approved_actor_ids(db: aiosqlite.Connection, *, after: str | None, limit: int) -> list[str]:
    """Approved actors' ids in id order, after `after`: the public export's pages."""
    async with db.execute(
        "SELECT id FROM actors WHERE status = 'approved' AND id > ? ORDER BY id LIMIT ?", (after or "", limit)
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def actor_of_invitation(db: aiosqlite.Connection, token_hash: str) -> str | None:
    async with db.execute("SELECT actor_id FROM invitations WHERE token_hash = ?", (token_hash,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Visibility:
    """Whose eyes a query serves: statuses asked for, narrowed by who is asking."""

    statuses: tuple[str, ...]
    account_id: str | None
    admin: bool

    def sql(self) -> tuple[str, list[object]]:
        if self.admin:
            allowed = self.statuses
        elif self.account_id is None:
            allowed = tuple(s for s in self.statuses if s == "approved")
        else:
            marks = ",".join("?" * len(self.statuses))
            return (f"a.status IN ({marks}) AND (a.status = 'approved' OR EXISTS (SELECT 1 FROM members m "
                    "WHERE m.actor_id = a.id AND m.account_id = ?))", [*self.statuses, self.account_id])
        if not allowed:
            return "0", []
        return f"a.status IN ({','.join('?' * len(allowed))})", list(allowed)


@dataclass(frozen=True)
class ActorQuery:
    words: list[str]
    kinds: list[str]
    topics: list[str]
    languages: list[str]
    region: str | None
    visibility: Visibility


def _where(q: ActorQuery, with_text: bool) -> tuple[str, list[object]]:
    clauses, params = [], []
    sql, values = q.visibility.sql()
    clauses.append(sql)
    params += values
    if q.kinds:
        clauses.append(f"a.kind IN ({','.join('?' * len(q.kinds))})")
        params += q.kinds
    # Within one facet any value matches; across facets all must.
    if q.topics:
        clauses.append("EXISTS (SELECT 1 FROM actor_topics t WHERE t.actor_id = a.id AND t.topic IN "
                       f"({','.join('?' * len(q.topics))}))")
        params += q.topics
    if q.languages:
        clauses.append("EXISTS (SELECT 1 FROM actor_languages l WHERE l.actor_id = a.id AND l.language IN "
                       f"({','.join('?' * len(q.languages))}))")
        params += q.languages
    if q.region:
        # Active in the region: serving it or a region around it, or a region inside it.
        clauses.append(
            "(EXISTS (SELECT 1 FROM actor_regions r JOIN region_paths p ON p.ancestor = r.ags "
            "WHERE r.actor_id = a.id AND p.descendant = ?) OR EXISTS (SELECT 1 FROM actor_regions r "
            "JOIN region_paths p ON p.descendant = r.ags WHERE r.actor_id = a.id AND p.ancestor = ?))"
        )
        params += [q.region, q.region]
    if with_text and (expression := search.fts_expression(q.words)):
        clauses.append("a.pk IN (SELECT rowid FROM actor_search WHERE actor_search MATCH ?)")
        params.append(expression)
    for word in search.short_terms(q.words):
        clauses.append("instr(a.haystack, ?) > 0")
        params.append(word)
    return " AND ".join(clauses), params


async def search_actors(db: aiosqlite.Connection, q: ActorQuery, *, offset: int,
                        limit: int) -> tuple[list[str], int]:
    """One page of actor ids, and how many match in all."""
    expression = search.fts_expression(q.words)
    where, params = _where(q, with_text=False)
    if expression:
        w1, w2, w3 = search.WEIGHTS
        sql = (f"SELECT a.id FROM actors a JOIN (SELECT rowid AS r, bm25(actor_search, {w1}, {w2}, {w3}) "
               "AS rank FROM actor_search WHERE actor_search MATCH ?) s ON s.r = a.pk "
               f"WHERE {where} ORDER BY s.rank, a.sort_name, a.id LIMIT ? OFFSET ?")
        page_params = [expression, *params, limit, offset]
    else:
        sql = f"SELECT a.id FROM actors a WHERE {where} ORDER BY a.sort_name, a.id LIMIT ? OFFSET ?"
        page_params = [*params, limit, offset]
    async with db.execute(sql, page_params) as cur:
        ids = [r[0] for r in await cur.fetchall()]
    where_all, params_all = _where(q, with_text=True)
    async with db.execute(f"SELECT count(*) FROM actors a WHERE {where_all}", params_all) as cur:
        total = (await cur.fetchone())[0]
    return ids, total


async def facets(db: aiosqlite.Connection, q: ActorQuery) -> api.Facets:
    where, params = _where(q, with_text=True)
    queries = {
        "kinds": f"SELECT a.kind, count(*) FROM actors a WHERE {where} GROUP BY a.kind",
        "topics": "SELECT t.topic, count(*) FROM actor_topics t JOIN actors a ON a.id = t.actor_id "
                  f"WHERE {where} GROUP BY t.topic",
        "languages": "SELECT l.language, count(*) FROM actor_languages l JOIN actors a ON a.id = l.actor_id "
                     f"WHERE {where} GROUP BY l.language",
    }
    counted: dict[str, list[api.FacetCount]] = {}
    for name, sql in queries.items():
        async with db.execute(sql, params) as cur:
            rows = await cur.fetchall()
        counted[name] = [api.FacetCount(value=v, count=n) for v, n in sorted(rows, key=lambda r: (-r[1], r[0]))]
    return api.Facets(**counted)


@dataclass(frozen=True)
class Serving:
    """One way an actor (or one of its offerings) serves a topic in a region."""

    actor_id: str
    offering_id: str  # '' for the actor itself
    ags: str
    distance: int  # 0: the region itself; 1: its parent; …


async def serving(db: aiosqlite.Connection, topic: str, region: str) -> list[Serving]:
    async with db.execute(
        "SELECT c.actor_id, c.offering_id, c.ags, p.distance FROM actor_coverage c "
        "JOIN region_paths p ON p.ancestor = c.ags AND p.descendant = ? "
        "JOIN actors a ON a.id = c.actor_id AND a.status = 'approved' WHERE c.topic = ?",
        (region, topic),
    ) as cur:
        return [Serving(*row) for row in await cur.fetchall()]


async def coverage(db: aiosqlite.Connection, region: str) -> dict[str, tuple[int, int]]:
    """Per topic served in the region: (approved actors, their offerings)."""
    async with db.execute(
        "SELECT c.topic, count(DISTINCT c.actor_id), "
        "count(DISTINCT CASE WHEN c.offering_id != '' THEN c.offering_id END) FROM actor_coverage c "
        "JOIN region_paths p ON p.ancestor = c.ags AND p.descendant = ? "
        "JOIN actors a ON a.id = c.actor_id AND a.status = 'approved' GROUP BY c.topic",
        (region,),
    ) as cur:
        return {topic: (actors, offerings) for topic, actors, offerings in await cur.fetchall()}


async def history(db: aiosqlite.Connection, actor_id: str, *, offset: int,
                  limit: int) -> list[aiosqlite.Row]:
    async with db.execute(
        "SELECT seq, type, occurred_at, by, changes, subject FROM history WHERE actor_id = ? "
        "ORDER BY seq DESC LIMIT ? OFFSET ?", (actor_id, limit, offset)
    ) as cur:
        return list(await cur.fetchall())


# ---- queries: regions ------------------------------------------------------------------

async def _names(db: aiosqlite.Connection, keys: Iterable[str]) -> dict[str, str]:
    return {ref.ags: ref.name for ref in (await region_refs(db, keys)).values()}


async def region_refs(db: aiosqlite.Connection, keys: Iterable[str]) -> dict[str, api.RegionRef]:
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    async with db.execute(f"SELECT ags, name, level FROM regions WHERE ags IN ({marks})", keys) as cur:
        return {r[0]: api.RegionRef(ags=r[0], name=r[1], level=r[2]) for r in await cur.fetchall()}


async def known_regions(db: aiosqlite.Connection, keys: Iterable[str]) -> set[str]:
    return set(await region_refs(db, keys))


async def all_regions(db: aiosqlite.Connection) -> dict[str, api.RegionData]:
    async with db.execute("SELECT ags, name, level, parent_ags FROM regions") as cur:
        return {
            r[0]: api.RegionData(ags=r[0], name=r[1], level=r[2], parent_ags=r[3])
            for r in await cur.fetchall()
        }


async def region_count(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT count(*) FROM regions") as cur:
        return (await cur.fetchone())[0]


async def region_import_version(db: aiosqlite.Connection, state_ags: str) -> int:
    async with db.execute("SELECT version FROM region_imports WHERE state_ags = ?", (state_ags,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else 0


async def _region_rows(db: aiosqlite.Connection, where: str, params: Sequence[object]) -> list[api.Region]:
    async with db.execute(
        "SELECT r.ags, r.name, r.level, r.parent_ags, "
        "(SELECT count(*) FROM regions c WHERE c.parent_ags = r.ags) AS children "
        f"FROM regions r WHERE {where} ORDER BY r.folded, r.ags LIMIT 2000", params
    ) as cur:
        rows = await cur.fetchall()
    paths = await _paths(db, [r[0] for r in rows])
    return [api.Region(ags=r[0], name=r[1], level=r[2], parent_ags=r[3], children=r[4], path=paths.get(r[0], []))
            for r in rows]


async def _paths(db: aiosqlite.Connection, keys: Sequence[str]) -> dict[str, list[api.RegionRef]]:
    """Each region's ancestors, the state first: one query for a whole list."""
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    async with db.execute(
        "SELECT p.descendant, r.ags, r.name, r.level FROM region_paths p JOIN regions r ON r.ags = p.ancestor "
        f"WHERE p.descendant IN ({marks}) AND p.distance > 0 ORDER BY p.descendant, p.distance DESC", list(keys)
    ) as cur:
        rows = await cur.fetchall()
    paths: dict[str, list[api.RegionRef]] = {}
    for descendant, ags, name, level in rows:
        paths.setdefault(descendant, []).append(api.RegionRef(ags=ags, name=name, level=level))
    return paths


async def region(db: aiosqlite.Connection, ags: str) -> api.Region | None:
    found = await _region_rows(db, "r.ags = ?", (ags,))
    return found[0] if found else None


async def list_regions(db: aiosqlite.Connection, *, parent: str | None, level: str | None,
                       words: list[str]) -> list[api.Region]:
    clauses, params = [], []
    if parent is not None:
        # Everything inside `parent` when narrowed by name or level, else its children.
        if words or level:
            clauses.append("r.ags IN (SELECT descendant FROM region_paths WHERE ancestor = ? AND distance > 0)")
        else:
            clauses.append("r.parent_ags = ?")
        params.append(parent)
    elif not words and not level:
        clauses.append("r.parent_ags IS NULL")
    if level:
        clauses.append("r.level = ?")
        params.append(level)
    for word in words:
        clauses.append("instr(r.folded, ?) > 0")
        params.append(word)
    return await _region_rows(db, " AND ".join(clauses) or "1", params)


# ---- the directory's copy of accounts (projected from IDENTITY by reactions.py) -------

ACCOUNTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id           TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    locale       TEXT NOT NULL,
    last_event   TEXT NOT NULL       -- id of the last event applied: applying is idempotent
);
CREATE INDEX IF NOT EXISTS accounts_email ON accounts (email);
"""


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    display_name: str
    locale: str


async def account_event_applied(db: aiosqlite.Connection, account_id: str, event_id: str) -> bool:
    async with db.execute("SELECT last_event FROM accounts WHERE id = ?", (account_id,)) as cur:
        row = await cur.fetchone()
    return row is not None and row[0] == event_id


async def put_account(db: aiosqlite.Connection, account: Account, event_id: str) -> None:
    await db.execute(
        "INSERT INTO accounts VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "email = excluded.email, display_name = excluded.display_name, "
        "locale = excluded.locale, last_event = excluded.last_event",
        (account.id, account.email, account.display_name, account.locale, event_id),
    )


async def set_account_email(db: aiosqlite.Connection, account_id: str, email: str, event_id: str) -> None:
    await db.execute("UPDATE accounts SET email = ?, last_event = ? WHERE id = ?", (email, event_id, account_id))


async def set_account_profile(db: aiosqlite.Connection, account_id: str, display_name: str, locale: str,
                              event_id: str) -> None:
    await db.execute("UPDATE accounts SET display_name = ?, locale = ?, last_event = ? WHERE id = ?",
                     (display_name, locale, event_id, account_id))


async def accounts_by_ids(db: aiosqlite.Connection, ids: Iterable[str]) -> dict[str, Account]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    async with db.execute(f"SELECT id, email, display_name, locale FROM accounts WHERE id IN ({marks})",
                          ids) as cur:
        return {r[0]: Account(*r) for r in await cur.fetchall()}


async def emails_of(db: aiosqlite.Connection, ids: Iterable[str]) -> set[str]:
    return {a.email for a in (await accounts_by_ids(db, ids)).values()}


async def account_by_email(db: aiosqlite.Connection, email: str) -> Account | None:
    async with db.execute("SELECT id, email, display_name, locale FROM accounts WHERE email = ?",
                          (email.casefold(),)) as cur:
        row = await cur.fetchone()
    return Account(*row) if row else None
