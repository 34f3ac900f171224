"""The peer of the benchmark: the simplest program a competitor would write to answer the
directory's questions. One FastAPI process, one SQLite table of actors with an FTS5 trigram
index over the same folded text Lotse searches (name, short name, description with the
kind, topic and region names), the same fields in its answers (a page of 20, the total,
facets by kind, topic and language), no cache.

    python -m tests.perf.peer --csv actors.csv --db peer.sqlite3 --port 8001

Loads the CSV into its database on the first start (the same rows `lotse admin
import-actors` reads), then serves:

- POST /search   {"query", "kinds", "topics", "languages", "region", "first", "after",
                  "count", "facets"}  → {"items": [...], "total", "facets", "hasNextPage"}
- GET /actors/{slug}, GET /actors/by-id/{id} → one actor, or 404
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
from pathlib import Path

import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from lotse import actor_csv
from proto import directory as api
from proto.envelope import stable_id
from services.directory import domain, regions, search

KINDS = {t.slug: f"{t.de} {t.en}" for t in api.ACTOR_KINDS}
TOPICS = {t.slug: f"{t.de} {t.en}" for t in api.TOPICS}

SCHEMA = """
CREATE TABLE actors (
    id TEXT PRIMARY KEY, slug TEXT UNIQUE NOT NULL, kind TEXT NOT NULL, sort_name TEXT NOT NULL,
    status TEXT NOT NULL, regions TEXT NOT NULL, topics TEXT NOT NULL, languages TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX actors_name ON actors (status, sort_name);
CREATE VIRTUAL TABLE actor_fts USING fts5 (name, short_name, body, tokenize = 'trigram');
"""


def load(db: sqlite3.Connection, csv_path: Path) -> int:
    names = {r.ags: r for r in regions.parse(regions.SHIPPED.read_text("utf-8"))}
    parsed = actor_csv.parse(csv_path.read_text("utf-8"))
    db.executescript(SCHEMA)
    for _, row in parsed.rows:
        slug = domain.slugify(row.name)
        actor_id = stable_id("peer", slug)
        refs = [{"ags": a, "name": names[a].name, "level": names[a].level.upper()} for a in row.regions]
        doc = {"id": actor_id, "slug": slug, "name": row.name, "kind": row.kind, "shortName": row.short_name,
               "description": row.description, "regions": refs, "topics": row.topics, "languages": row.languages}
        body = " ".join([row.description, KINDS[row.kind], *(TOPICS[t] for t in row.topics),
                         *(names[a].name for a in row.regions)])
        cur = db.execute("INSERT INTO actors VALUES (?, ?, ?, ?, 'approved', ?, ?, ?, ?)",
                         (actor_id, slug, row.kind, search.fold(row.name), json.dumps(row.regions),
                          json.dumps(row.topics), json.dumps(row.languages), json.dumps(doc)))
        db.execute("INSERT INTO actor_fts (rowid, name, short_name, body) VALUES (?, ?, ?, ?)",
                   (cur.lastrowid, search.fold_variants(row.name), search.fold_variants(row.short_name or ""),
                    search.fold_variants(body)))
    db.commit()
    return len(parsed.rows)


class Question(BaseModel):
    query: str | None = None
    kinds: list[str] = []
    topics: list[str] = []
    languages: list[str] = []
    region: str | None = None
    first: int = 20
    after: int = 0
    count: bool = True
    facets: bool = True


def create_app(path: Path) -> FastAPI:
    app = FastAPI()
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        return local.db

    def where(q: Question) -> tuple[str, list[object]]:
        clauses, params = ["a.status = 'approved'"], []
        if q.kinds:
            clauses.append(f"a.kind IN ({','.join('?' * len(q.kinds))})")
            params += q.kinds
        for column, values in (("topics", q.topics), ("languages", q.languages)):
            if values:
                clauses.append(f"EXISTS (SELECT 1 FROM json_each(a.{column}) WHERE value IN "
                               f"({','.join('?' * len(values))}))")
                params += values
        if q.region:  # serving the region, one around it (a shorter key) or one inside it (a longer one)
            clauses.append("EXISTS (SELECT 1 FROM json_each(a.regions) r WHERE r.value LIKE ? || '%' "
                           "OR ? LIKE r.value || '%')")
            params += [q.region, q.region]
        words = [w for w in search.terms(q.query or "") if len(w) >= 3]
        if words:
            clauses.append("actor_fts MATCH ?")
            params.append(" AND ".join(f'"{w}"' for w in words))
        # CROSS JOIN: the index first (SQLite otherwise may walk every approved actor and ask
        # the index about each; the peer gets its best plan).
        source = "actor_fts f CROSS JOIN actors a ON a.rowid = f.rowid" if words else "actors a"
        return f"FROM {source} WHERE {' AND '.join(clauses)}", params

    @app.post("/search")
    def search_actors(q: Question) -> dict:
        db = connection()
        sql, params = where(q)
        order = "bm25(actor_fts, 10.0, 6.0, 1.0), a.sort_name" if "actor_fts" in sql else "a.sort_name"
        rows = db.execute(f"SELECT a.doc {sql} ORDER BY {order} LIMIT ? OFFSET ?",
                          [*params, q.first + 1, q.after]).fetchall()
        answer: dict = {"items": [json.loads(r[0]) for r in rows[: q.first]], "hasNextPage": len(rows) > q.first}
        if q.count:
            answer["total"] = db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]
        if q.facets:
            def counts(column: str) -> list:
                return db.execute(f"SELECT v.value, count(*) FROM (SELECT a.{column} AS list {sql}) m, "
                                  "json_each(m.list) v GROUP BY v.value", params).fetchall()

            answer["facets"] = {
                "kinds": db.execute(f"SELECT a.kind, count(*) {sql} GROUP BY a.kind", params).fetchall(),
                "topics": counts("topics"),
                "languages": counts("languages"),
            }
        return answer

    def one(column: str, value: str) -> dict:
        row = connection().execute(f"SELECT doc FROM actors WHERE {column} = ?", (value,)).fetchone()
        if row is None:
            raise HTTPException(404, "no such actor")
        return json.loads(row[0])

    @app.get("/actors/by-id/{actor_id}")
    def actor_by_id(actor_id: str) -> dict:
        return one("id", actor_id)

    @app.get("/actors/{slug}")
    def actor_by_slug(slug: str) -> dict:
        return one("slug", slug)

    @app.get("/ready")
    def ready() -> dict:
        return {"ok": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if not args.db.exists():
        with sqlite3.connect(args.db) as db:
            print(f"peer: loaded {load(db, args.csv)} actors", flush=True)
    uvicorn.run(create_app(args.db), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
