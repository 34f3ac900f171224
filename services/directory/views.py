"""The directory's SQLite view: the projection of its stream, and the queries on it.

Each actor's whole state (`domain.ActorState`, as JSON) is what commands decide on. The
other actor tables are derived from it on every event, for queries only:

- `actor_regions`, `actor_topics`, `actor_languages`: what an actor and its offerings
  cover, for filters and facets;
- `actor_coverage`: one row per (topic, region) an actor or one of its offerings serves,
  for "who is responsible here" and coverage;
- `actor_index`: the FTS5 index of word suffixes and filter tags (see search.py), which
  answers a search with its filters in one index query; `actor_tags`: each actor's
  kind, topics and languages, for counting facets over the matches;
- `members`, `invitations`: lookups by account and by token hash;
- `history`: who changed what, when;
- `actor_mentions`: every mail address an actor's events mention, so that erasing a person
  finds each actor that holds (or ever held) their address (services/directory/privacy.py).

`VERSION` changes with the schema: the projector then rebuilds the view from the stream.

Regions keep a closure table (`region_paths`: every ancestor of every region, itself at
distance 0), so "serves this region" is one join whatever the depth: an actor serves R
when one of its regions is R or an ancestor of R.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from proto import directory as api
from proto.envelope import Envelope, Event
from services.directory import domain, search
from services.directory.domain import ActorState
from services.kernel import privacy, readers
from services.kernel.projector import Applied
from services.kernel.readers import Database

# What the query functions take: the projector's readers, or (while projecting) its writer.

SCHEMA = """
CREATE TABLE IF NOT EXISTS actors (
    pk        INTEGER PRIMARY KEY,   -- rowid of the actor's row in actor_index
    id        TEXT NOT NULL UNIQUE,
    slug      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    sort_name TEXT NOT NULL,
    status    TEXT NOT NULL,
    state     TEXT NOT NULL,         -- domain.ActorState as JSON
    version   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS actors_slug ON actors (slug);
CREATE INDEX IF NOT EXISTS actors_status_name ON actors (status, sort_name);
CREATE INDEX IF NOT EXISTS actors_sort_name ON actors (sort_name);
-- "Who is responsible here" joins hundreds of coverage rows to their actors, and a reply
-- asks each actor's version (read_actors): from this index, without reading the actors'
-- rows (each holds its whole state as JSON).
CREATE INDEX IF NOT EXISTS actors_serving ON actors (id, status, sort_name, version);
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
CREATE TABLE IF NOT EXISTS actor_tags (
    pk INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (pk, tag)   -- k:<kind> t:<topic> l:<language>
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS actor_coverage (
    actor_id    TEXT NOT NULL,
    offering_id TEXT NOT NULL,       -- '' for the actor itself
    topic       TEXT NOT NULL,
    ags         TEXT NOT NULL,
    languages   TEXT NOT NULL        -- of whoever serves, '|de|ar|': an offering's own, else the actor's
);
-- Covering: `responsible` and its count read only this index, not the table.
CREATE INDEX IF NOT EXISTS actor_coverage_serving ON actor_coverage (topic, ags, actor_id, offering_id, languages);
DROP INDEX IF EXISTS actor_coverage_topic;  -- the one above begins with the same columns
CREATE INDEX IF NOT EXISTS actor_coverage_ags ON actor_coverage (ags);
CREATE INDEX IF NOT EXISTS actor_coverage_actor ON actor_coverage (actor_id);
CREATE VIRTUAL TABLE IF NOT EXISTS actor_index USING fts5 (
    name, short_name, body, tags, tokenize = "unicode61 remove_diacritics 0 tokenchars '_-'"
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
CREATE TABLE IF NOT EXISTS actor_mentions (
    actor_id TEXT NOT NULL, address TEXT NOT NULL, PRIMARY KEY (actor_id, address)
);
CREATE INDEX IF NOT EXISTS actor_mentions_address ON actor_mentions (address);
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
    VERSION = 2  # 2: suffix index with filter tags instead of trigrams

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
    existed = set(states)
    history: list[tuple[object, ...]] = []
    mentions: list[tuple[str, str]] = []
    redacted: set[str] = set()
    for applied, event in run:
        envelope, actor_id = applied.envelope, event.actor_id  # type: ignore[attr-defined]
        before = states.get(actor_id)
        changes, about = domain.describe(event, before)
        states[actor_id] = domain.evolve(before, event, version=applied.seq, at=envelope.occurred_at,
                                         by=envelope.by)
        if isinstance(event, api.ActorRedacted):
            # The snapshot's history replaces the actor's (this batch's rows too), and its
            # mentions start again from nothing.
            redacted.add(actor_id)
            history = [h for h in history if h[1] != actor_id]
            mentions = [m for m in mentions if m[0] != actor_id]
            history += [(h.seq, actor_id, h.type, h.occurred_at.isoformat(), h.by, json.dumps(h.changes), h.subject)
                        for h in event.history]
        else:
            history.append((applied.seq, actor_id, envelope.type.removeprefix("directory."),
                            envelope.occurred_at.isoformat(), envelope.by, json.dumps(changes), about))
        mentions += [(actor_id, address) for address in domain.mentioned_addresses(event)]
    touched = list(dict.fromkeys(e.actor_id for _, e in run))  # type: ignore[attr-defined]
    await _write_actors(db, [states[i] for i in touched], existed=existed)
    if redacted:
        await db.executemany("DELETE FROM history WHERE actor_id = ?", [(a,) for a in redacted])
        await db.executemany("DELETE FROM actor_mentions WHERE actor_id = ?", [(a,) for a in redacted])
    await db.executemany(_INSERT_HISTORY, history)
    await db.executemany("INSERT INTO actor_mentions VALUES (?, ?) ON CONFLICT DO NOTHING", mentions)


_INSERT_HISTORY = ("INSERT INTO history (seq, actor_id, type, occurred_at, by, changes, subject) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)")


DERIVED = ("actor_regions", "actor_topics", "actor_languages", "actor_coverage", "members", "invitations")


async def _write_actors(db: aiosqlite.Connection, states: list[ActorState], existed: set[str]) -> None:
    """Each actor's row, index entry and derived rows, as its state now says. Rows of the
    actors in `existed` are replaced; the others are new (nothing to delete: a rebuild, an import)."""
    derived = [_derived(state) for state in states]
    keys = {ags for d in derived for _, ags in d["actor_regions"]}
    names = await _names(db, keys)
    around = await _ancestors(db, keys)
    rows, entries = [], []
    for state, d in zip(states, derived, strict=True):
        profile = state.profile
        rows.append((state.id, profile.slug, profile.kind, profile.name, search.fold(profile.name), state.status,
                     state.model_dump_json(), state.version))
        regions = [ags for _, ags in d["actor_regions"]]
        tags = [search.tag("s", state.status), search.tag("k", profile.kind)]
        tags += [search.tag("t", t) for _, t in d["actor_topics"]]
        tags += [search.tag("l", lang) for _, lang in d["actor_languages"]]
        tags += [search.tag("a", ags) for ags in regions]
        tags += [search.tag("w", w) for w in dict.fromkeys(w for ags in regions for w in around.get(ags, [ags]))]
        entries.append((search.index_text(profile.name), search.index_text(profile.short_name or ""),
                        search.index_text(_search_body(state, names)), " ".join(tags)))
    await db.executemany(
        "INSERT INTO actors (id, slug, kind, name, sort_name, status, state, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, "
        "kind = excluded.kind, name = excluded.name, sort_name = excluded.sort_name, "
        "status = excluded.status, state = excluded.state, version = excluded.version", rows)
    ids = [s.id for s in states]
    async with db.execute(f"SELECT id, pk FROM actors WHERE id IN ({','.join('?' * len(ids))})", ids) as cur:
        pks = {r[0]: r[1] for r in await cur.fetchall()}
    old = [i for i in ids if i in existed]
    await db.executemany("DELETE FROM actor_index WHERE rowid = ?", [(pks[i],) for i in old])
    await db.executemany("INSERT INTO actor_index (rowid, name, short_name, body, tags) VALUES (?, ?, ?, ?, ?)",
                         [(pks[i], *entry) for i, entry in zip(ids, entries, strict=True)])
    await db.executemany("DELETE FROM actor_tags WHERE pk = ?", [(pks[i],) for i in old])
    await db.executemany("INSERT INTO actor_tags VALUES (?, ?)", [
        (pks[state.id], tag) for state, d in zip(states, derived, strict=True) for tag in (
            [f"k:{state.profile.kind}"] + [f"t:{t}" for _, t in d["actor_topics"]]
            + [f"l:{lang}" for _, lang in d["actor_languages"]])])
    for table in DERIVED:
        await db.executemany(f"DELETE FROM {table} WHERE actor_id = ?", [(i,) for i in old])
    rows_of: dict[str, list[tuple[str, ...]]] = {table: [] for table in DERIVED}
    for d in derived:
        for table, values in d.items():
            rows_of[table] += values
    await db.executemany("INSERT INTO actor_regions VALUES (?, ?)", rows_of["actor_regions"])
    await db.executemany("INSERT INTO actor_topics VALUES (?, ?)", rows_of["actor_topics"])
    await db.executemany("INSERT INTO actor_languages VALUES (?, ?)", rows_of["actor_languages"])
    await db.executemany("INSERT INTO actor_coverage VALUES (?, ?, ?, ?, ?)", rows_of["actor_coverage"])
    await db.executemany("INSERT INTO members VALUES (?, ?, ?)", rows_of["members"])
    await db.executemany("INSERT INTO invitations VALUES (?, ?, ?)", rows_of["invitations"])


def _languages_key(languages: Iterable[str]) -> str:
    return "|" + "|".join(languages) + "|"


def _derived(state: ActorState) -> dict[str, list[tuple[str, ...]]]:
    """The rows of the query tables that one actor's state makes (each list without repeats)."""
    profile = state.profile
    regions, topics, languages = dict.fromkeys(profile.regions), dict.fromkeys(profile.topics), dict.fromkeys(
        profile.languages)
    own = _languages_key(profile.languages)
    coverage = {("", topic, ags, own): None for topic in profile.topics for ags in profile.regions}
    for offering_id, offering in state.offerings.items():
        served = offering.regions or profile.regions
        speaks = _languages_key(offering.languages) if offering.languages else own
        regions.update(dict.fromkeys(offering.regions))
        topics.update(dict.fromkeys(offering.topics))
        languages.update(dict.fromkeys(offering.languages))
        coverage.update({(offering_id, topic, ags, speaks): None for topic in offering.topics for ags in served})
    return {
        "actor_regions": [(state.id, a) for a in regions],
        "actor_topics": [(state.id, t) for t in topics],
        "actor_languages": [(state.id, lang) for lang in languages],
        "actor_coverage": [(state.id, o, t, a, langs) for o, t, a, langs in coverage],
        "members": [(state.id, account, m.role) for account, m in state.members.items()],
        "invitations": [(i.token_hash, state.id, i.id) for i in state.invitations.values()],
    }


async def _ancestors(db: Database, keys: Iterable[str]) -> dict[str, list[str]]:
    """Each region with the regions around it (itself first)."""
    keys = list(keys)
    if not keys:
        return {}
    async with db.execute(
        f"SELECT descendant, ancestor FROM region_paths WHERE descendant IN ({','.join('?' * len(keys))}) "
        "ORDER BY descendant, distance", keys
    ) as cur:
        rows = await cur.fetchall()
    found: dict[str, list[str]] = {}
    for descendant, ancestor in rows:
        found.setdefault(descendant, []).append(ancestor)
    return found


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


async def load_actor(db: Database, actor_id: str) -> ActorState | None:
    async with db.execute("SELECT state FROM actors WHERE id = ?", (actor_id,)) as cur:
        row = await cur.fetchone()
    return _state(row) if row else None


async def load_actors(db: Database, actor_ids: Sequence[str]) -> dict[str, ActorState]:
    if not actor_ids:
        return {}
    marks = ",".join("?" * len(actor_ids))
    async with db.execute(f"SELECT state FROM actors WHERE id IN ({marks})", tuple(actor_ids)) as cur:
        return {s.id: s for s in map(_state, await cur.fetchall())}


class ParsedStates:
    """Actors' states as parsed from the view, kept by (id, version) for replies.

    A state is a function of the actor's events up to its version, so an entry never goes
    stale: an actor changed since (a redaction too) has a new version and is parsed anew,
    and its entry replaced. Parsing the JSON was a fifth of what the directory spent on a
    reply of 20 actors. Only for reading: nothing may change a state taken from here
    (commands load their own, `load_actor`). Memory only, at most `size` states; an entry
    of an older version is never handed out again."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._states: OrderedDict[str, ActorState] = OrderedDict()

    def get(self, actor_id: str, version: int) -> ActorState | None:
        state = self._states.get(actor_id)
        if state is None or state.version != version:
            return None
        self._states.move_to_end(actor_id)
        return state

    def put(self, state: ActorState) -> None:
        self._states[state.id] = state
        self._states.move_to_end(state.id)
        while len(self._states) > self.size:
            self._states.popitem(last=False)


async def read_actors(db: Database, actor_ids: Sequence[str], parsed: ParsedStates) -> dict[str, ActorState]:
    """The actors' states as the view holds them now, for a reply: each version from an
    index, and only the states not parsed before read and parsed."""
    if not actor_ids:
        return {}
    marks = ",".join("?" * len(actor_ids))
    async with db.execute(f"SELECT id, version FROM actors WHERE id IN ({marks})", tuple(actor_ids)) as cur:
        versions = {r[0]: r[1] for r in await cur.fetchall()}
    found = {i: s for i, v in versions.items() if (s := parsed.get(i, v)) is not None}
    missing = [i for i in versions if i not in found]
    if missing:
        # A change applied between the two reads gives the newer state: fresher, never older.
        async with db.execute(f"SELECT state FROM actors WHERE id IN ({','.join('?' * len(missing))})",
                              tuple(missing)) as cur:
            for state in map(_state, await cur.fetchall()):
                parsed.put(state)
                found[state.id] = state
    return {i: found[i] for i in versions if i in found}  # in the view's order (by id), as load_actors


async def actor_id_by_slug(db: Database, slug: str) -> str | None:
    async with db.execute("SELECT id FROM actors WHERE slug = ? ORDER BY version DESC", (slug,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def holders(db: Database, slugs: Sequence[str], folded_names: Sequence[str]
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """For an import: which actor holds each slug (the newest), and each folded name (the first by id)."""
    by_slug: dict[str, str] = {}
    by_name: dict[str, str] = {}
    if slugs:
        async with db.execute(f"SELECT slug, id FROM actors WHERE slug IN ({','.join('?' * len(slugs))}) "
                              "ORDER BY version", list(slugs)) as cur:
            by_slug = {slug: actor_id for slug, actor_id in await cur.fetchall()}
    if folded_names:
        async with db.execute(f"SELECT sort_name, id FROM actors WHERE sort_name IN "
                              f"({','.join('?' * len(folded_names))}) ORDER BY id DESC", list(folded_names)) as cur:
            by_name = {name: actor_id for name, actor_id in await cur.fetchall()}
    return by_slug, by_name


async def actor_ids_of_member(db: Database, account_id: str) -> list[str]:
    async with db.execute(
        "SELECT m.actor_id FROM members m JOIN actors a ON a.id = m.actor_id "
        "WHERE m.account_id = ? ORDER BY a.sort_name", (account_id,)
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def approved_actor_ids(db: Database, *, after: str | None, limit: int) -> list[str]:
    """Approved actors' ids in id order, after `after`: the public export's pages."""
    async with db.execute(
        "SELECT id FROM actors WHERE status = 'approved' AND id > ? ORDER BY id LIMIT ?", (after or "", limit)
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def actor_of_invitation(db: Database, token_hash: str) -> str | None:
    async with db.execute("SELECT actor_id FROM invitations WHERE token_hash = ?", (token_hash,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Visibility:
    """Whose eyes a query serves: statuses asked for, narrowed by who is asking."""

    statuses: tuple[str, ...]
    account_id: str | None
    admin: bool

    def allowed(self) -> tuple[str, ...]:
        """The statuses the caller may see in general (members: also their own actors')."""
        if self.admin or self.account_id is not None:
            return self.statuses
        return tuple(s for s in self.statuses if s == "approved")

    def membership_sql(self) -> tuple[str, tuple[object, ...]] | None:
        """For a member asking for other than approved actors: only their own, besides approved."""
        if self.admin or self.account_id is None or set(self.statuses) == {"approved"}:
            return None
        return ("(a.status = 'approved' OR EXISTS (SELECT 1 FROM members m WHERE m.actor_id = a.id "
                "AND m.account_id = ?))", (self.account_id,))


@dataclass(frozen=True)
class ActorQuery:
    words: list[str]
    kinds: list[str]
    topics: list[str]
    languages: list[str]
    region: str | None
    visibility: Visibility


@dataclass(frozen=True)
class Plan:
    """A search as SQL: the index expression (None: every actor the statuses allow), and
    what SQL must still check (a member's own actors)."""

    expression: str | None
    ranked: bool  # by text relevance; else by name
    statuses: tuple[str, ...]
    extra: tuple[str, tuple[object, ...]] | None
    empty: bool = False  # nothing can match (an anonymous caller asking for pending actors)
    ranked_expression: str | None = None  # for a ranked page: the expression without the statuses


async def plan(db: Database, q: ActorQuery) -> Plan:
    statuses = q.visibility.allowed()
    parts = []
    if text := search.text_expression(q.words):
        parts.append(text)
    # Within one facet any value matches; across facets all must.
    for kind, values in (("k", q.kinds), ("t", q.topics), ("l", q.languages)):
        if values:
            parts.append(search.any_of([search.tag(kind, v) for v in values]))
    if q.region:
        # Active in the region: serving a region inside it or itself (within), or one around it (at).
        around = [a for a in (await _ancestors(db, [q.region])).get(q.region, []) if a != q.region]
        parts.append(search.any_of([search.tag("w", q.region)] + [search.tag("a", a) for a in around]))
    # Ranked, the statuses are checked on the actors' rows instead: bm25 counts the rows of
    # every phrase of the expression, and a status tag is in nearly every row (50,000 at
    # 50,000 actors, several milliseconds for a search that finds one).
    without_statuses = " AND ".join(parts) or None
    if parts:
        parts.append(search.any_of([search.tag("s", s) for s in statuses] or ["_s_none"]))
    return Plan(expression=" AND ".join(parts) or None, ranked=bool(q.words), statuses=statuses,
                extra=q.visibility.membership_sql(), empty=not statuses,
                ranked_expression=without_statuses if q.words else None)


def _matching(p: Plan) -> tuple[str, list[object]]:
    """SQL selecting the matching actors' pk, and its parameters."""
    clauses: list[str] = []
    params: list[object] = []
    if p.expression:
        clauses.append("a.pk IN (SELECT rowid FROM actor_index WHERE actor_index MATCH ?)")
        params.append(p.expression)
    else:
        clauses.append(f"a.status IN ({','.join('?' * len(p.statuses))})")
        params += p.statuses
    if p.extra:
        clauses.append(p.extra[0])
        params += p.extra[1]
    return f"SELECT a.pk FROM actors a WHERE {' AND '.join(clauses)}", params


async def search_actors(db: Database, p: Plan, *, offset: int, limit: int) -> list[str]:
    """One page of actor ids: ranked and paged in the index, then by name."""
    if p.empty:
        return []
    extra, extra_params = p.extra if p.extra else ("1", ())
    if p.ranked:
        w = ", ".join(str(x) for x in search.WEIGHTS)
        statuses = ",".join("?" * len(p.statuses))
        sql = (f"SELECT a.id FROM actor_index s JOIN actors a ON a.pk = s.rowid WHERE actor_index MATCH ? "
               f"AND a.status IN ({statuses}) AND {extra} "
               f"ORDER BY bm25(actor_index, {w}), a.sort_name, a.id LIMIT ? OFFSET ?")
        params = [p.ranked_expression, *p.statuses, *extra_params, limit, offset]
    else:
        matching, params = _matching(p)
        sql = f"SELECT a.id FROM actors a WHERE a.pk IN ({matching}) ORDER BY a.sort_name, a.id LIMIT ? OFFSET ?"
        params = [*params, limit, offset]
    async with db.execute(sql, params) as cur:
        return [r[0] for r in await cur.fetchall()]


async def count(db: Database, p: Plan) -> int:
    if p.empty:
        return 0
    if p.expression and not p.extra:
        return await readers.count(db, "SELECT count(*) FROM actor_index WHERE actor_index MATCH ?", [p.expression])
    matching, params = _matching(p)
    return await readers.count(db, f"SELECT count(*) FROM ({matching})", params)


FACET_OF = {"k": "kinds", "t": "topics", "l": "languages"}


async def facets(db: Database, p: Plan) -> api.Facets:
    """Counts per kind, topic and language over every match (not just the page)."""
    counted: dict[str, list[tuple[str, int]]] = {name: [] for name in FACET_OF.values()}
    if not p.empty:
        matching, params = _matching(p)
        async with db.execute(f"SELECT tag, count(*) FROM actor_tags WHERE pk IN ({matching}) GROUP BY tag",
                              params) as cur:
            for tag, n in await cur.fetchall():
                kind, _, value = tag.partition(":")
                counted[FACET_OF[kind]].append((value, n))
    return api.Facets(**{name: [api.FacetCount(value=v, count=n) for v, n in sorted(rows, key=lambda r: (-r[1], r[0]))]
                             for name, rows in counted.items()})


@dataclass(frozen=True)
class Serving:
    """The most specific way an actor (itself or by offerings) serves a topic in a region."""

    actor_id: str
    ags: str
    distance: int  # 0: the region itself; 1: its parent; …
    offering_ids: list[str]


def _serving_sql(languages: list[str]) -> tuple[str, list[object]]:
    """Coverage rows serving a topic in a region (and, given languages, in any of them)."""
    speaks = " OR ".join("instr(c.languages, ?) > 0" for _ in languages)
    # CROSS JOIN fixes the order: the region's few ancestors, then their coverage rows by
    # (topic, ags), then those actors — never every actor of the topic in the whole state.
    sql = ("FROM region_paths p CROSS JOIN actor_coverage c ON c.ags = p.ancestor "
           "CROSS JOIN actors a ON a.id = c.actor_id AND a.status = 'approved' WHERE p.descendant = ? "
           "AND c.topic = ?" + (f" AND ({speaks})" if languages else ""))
    return sql, [f"|{lang}|" for lang in languages]


async def responsible(db: Database, topic: str, region: str, languages: list[str], *, offset: int,
                      limit: int) -> list[Serving]:
    """Who serves `topic` in `region`: most specific first (the region itself, then around
    it), then by name; one page."""
    rows_sql, lang_params = _serving_sql(languages)
    async with db.execute(
        f"SELECT c.actor_id, min(p.distance) AS d, a.sort_name {rows_sql} GROUP BY c.actor_id "
        "ORDER BY d, a.sort_name, c.actor_id LIMIT ? OFFSET ?", [region, topic, *lang_params, limit, offset]
    ) as cur:
        page = [(r[0], r[1]) for r in await cur.fetchall()]
    if not page:
        return []
    marks = ",".join("?" * len(page))
    async with db.execute(
        f"SELECT c.actor_id, c.offering_id, c.ags, p.distance {rows_sql} AND c.actor_id IN ({marks}) "
        "ORDER BY p.distance, c.ags, c.offering_id", [region, topic, *lang_params, *(a for a, _ in page)]
    ) as cur:
        rows = await cur.fetchall()
    via: dict[str, str] = {}
    offerings: dict[str, list[str]] = {}
    for actor_id, offering_id, ags, distance in rows:
        via.setdefault(actor_id, ags)  # the nearest first
        if offering_id and offering_id not in offerings.setdefault(actor_id, []):
            offerings[actor_id].append(offering_id)
    return [Serving(actor_id=a, ags=via[a], distance=d, offering_ids=offerings.get(a, [])) for a, d in page]


async def responsible_count(db: Database, topic: str, region: str, languages: list[str]) -> int:
    rows_sql, lang_params = _serving_sql(languages)
    return await readers.count(db, f"SELECT count(DISTINCT c.actor_id) {rows_sql}", [region, topic, *lang_params])


async def coverage(db: Database, region: str) -> dict[str, tuple[int, int]]:
    """Per topic served in the region: (approved actors, their offerings)."""
    async with db.execute(
        "SELECT c.topic, count(DISTINCT c.actor_id), "
        "count(DISTINCT CASE WHEN c.offering_id != '' THEN c.offering_id END) FROM actor_coverage c "
        "JOIN region_paths p ON p.ancestor = c.ags AND p.descendant = ? "
        "JOIN actors a ON a.id = c.actor_id AND a.status = 'approved' GROUP BY c.topic",
        (region,),
    ) as cur:
        return {topic: (actors, offerings) for topic, actors, offerings in await cur.fetchall()}


async def history_records(db: Database, actor_id: str) -> list[api.HistoryRecord]:
    """An actor's whole history, oldest first (what a redaction snapshot carries)."""
    async with db.execute(
        "SELECT seq, type, occurred_at, by, changes, subject FROM history WHERE actor_id = ? ORDER BY seq",
        (actor_id,),
    ) as cur:
        return [api.HistoryRecord(seq=r["seq"], type=r["type"], occurred_at=r["occurred_at"], by=r["by"],
                                  changes=json.loads(r["changes"]), subject=r["subject"])
                for r in await cur.fetchall()]


async def history_by(db: Database, account_id: str) -> list[tuple[str, api.HistoryRecord]]:
    """(actor id, line) of every change an account made, oldest first (a data export)."""
    async with db.execute(
        "SELECT actor_id, seq, type, occurred_at, by, changes, subject FROM history WHERE by = ? ORDER BY seq",
        (account_id,),
    ) as cur:
        return [(r["actor_id"], api.HistoryRecord(seq=r["seq"], type=r["type"], occurred_at=r["occurred_at"],
                                                  by=r["by"], changes=json.loads(r["changes"]),
                                                  subject=r["subject"]))
                for r in await cur.fetchall()]


async def actors_mentioning(db: Database, address: str) -> list[str]:
    async with db.execute("SELECT actor_id FROM actor_mentions WHERE address = ? ORDER BY actor_id",
                          (domain.email_key(address),)) as cur:
        return [r[0] for r in await cur.fetchall()]


async def mentions(db: Database, actor_id: str, addresses: set[str]) -> bool:
    if not addresses:
        return False
    marks = ",".join("?" * len(addresses))
    async with db.execute(f"SELECT 1 FROM actor_mentions WHERE actor_id = ? AND address IN ({marks})",
                          (actor_id, *sorted(domain.email_key(a) for a in addresses))) as cur:
        return await cur.fetchone() is not None


async def history(db: Database, actor_id: str, *, offset: int,
                  limit: int) -> list[aiosqlite.Row]:
    async with db.execute(
        "SELECT seq, type, occurred_at, by, changes, subject FROM history WHERE actor_id = ? "
        "ORDER BY seq DESC LIMIT ? OFFSET ?", (actor_id, limit, offset)
    ) as cur:
        return list(await cur.fetchall())


# ---- queries: regions ------------------------------------------------------------------

async def _names(db: Database, keys: Iterable[str]) -> dict[str, str]:
    return {ref.ags: ref.name for ref in (await region_refs(db, keys)).values()}


async def region_refs(db: Database, keys: Iterable[str]) -> dict[str, api.RegionRef]:
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    async with db.execute(f"SELECT ags, name, level FROM regions WHERE ags IN ({marks})", keys) as cur:
        return {r[0]: api.RegionRef(ags=r[0], name=r[1], level=r[2]) for r in await cur.fetchall()}


async def known_regions(db: Database, keys: Iterable[str]) -> set[str]:
    return set(await region_refs(db, keys))


async def all_regions(db: Database) -> dict[str, api.RegionData]:
    async with db.execute("SELECT ags, name, level, parent_ags FROM regions") as cur:
        return {
            r[0]: api.RegionData(ags=r[0], name=r[1], level=r[2], parent_ags=r[3])
            for r in await cur.fetchall()
        }


async def region_count(db: Database) -> int:
    return await readers.count(db, "SELECT count(*) FROM regions")


async def region_import_version(db: Database, state_ags: str) -> int:
    async with db.execute("SELECT version FROM region_imports WHERE state_ags = ?", (state_ags,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else 0


async def _region_rows(db: Database, where: str, params: Sequence[object]) -> list[api.Region]:
    async with db.execute(
        "SELECT r.ags, r.name, r.level, r.parent_ags, "
        "(SELECT count(*) FROM regions c WHERE c.parent_ags = r.ags) AS children "
        f"FROM regions r WHERE {where} ORDER BY r.folded, r.ags LIMIT 2000", params
    ) as cur:
        rows = await cur.fetchall()
    paths = await _paths(db, [r[0] for r in rows])
    return [api.Region(ags=r[0], name=r[1], level=r[2], parent_ags=r[3], children=r[4], path=paths.get(r[0], []))
            for r in rows]


async def _paths(db: Database, keys: Sequence[str]) -> dict[str, list[api.RegionRef]]:
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


async def region(db: Database, ags: str) -> api.Region | None:
    found = await _region_rows(db, "r.ags = ?", (ags,))
    return found[0] if found else None


async def list_regions(db: Database, *, parent: str | None, level: str | None,
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
-- Every address an account confirmed, the current one too: an erasure looks for each.
CREATE TABLE IF NOT EXISTS account_addresses (
    account_id TEXT NOT NULL, address TEXT NOT NULL, PRIMARY KEY (account_id, address)
);
""" + privacy.ERASURE_SCHEMA


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
        "INSERT INTO accounts VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "email = excluded.email, display_name = excluded.display_name, "
        "locale = excluded.locale, last_event = excluded.last_event",
        (account.id, account.email, account.display_name, account.locale, event_id),
    )
    await _remember_address(db, account.id, account.email)


async def set_account_email(db: aiosqlite.Connection, account_id: str, email: str, event_id: str) -> None:
    await db.execute("UPDATE accounts SET email = ?, last_event = ? WHERE id = ?", (email, event_id, account_id))
    await _remember_address(db, account_id, email)


async def _remember_address(db: aiosqlite.Connection, account_id: str, email: str) -> None:
    await db.execute("INSERT INTO account_addresses VALUES (?, ?) ON CONFLICT DO NOTHING",
                     (account_id, domain.email_key(email)))


async def account_addresses(db: Database, account_id: str) -> set[str]:
    """Every address the account confirmed (folded); the current one among them."""
    async with db.execute("SELECT address FROM account_addresses WHERE account_id = ?", (account_id,)) as cur:
        found = {r[0] for r in await cur.fetchall()}
    current = await account(db, account_id)
    return found | ({domain.email_key(current.email)} if current else set())


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


async def emails_of(db: Database, ids: Iterable[str]) -> set[str]:
    return {a.email for a in (await accounts_by_ids(db, ids)).values()}


async def account(db: Database, account_id: str) -> Account | None:
    return (await accounts_by_ids(db, [account_id])).get(account_id)


async def forget_account(db: aiosqlite.Connection, account_id: str) -> None:
    """An erased account's row goes only once its data is out of every actor: until then
    the erasure needs its address to find them."""
    await db.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
    await db.execute("DELETE FROM account_addresses WHERE account_id = ?", (account_id,))


async def account_by_email(db: Database, email: str) -> Account | None:
    async with db.execute("SELECT id, email, display_name, locale FROM accounts WHERE email = ?",
                          (email.casefold(),)) as cur:
        row = await cur.fetchone()
    return Account(*row) if row else None
