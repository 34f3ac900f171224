"""The benchmark's peer: the same questions answered by one FastAPI process on one SQLite file,
with nothing in between — no gateway, no GraphQL, no NATS, no second process.

    LOTSE_PEER_DB=/path/peer.sqlite3 uvicorn tests.perf.news_peer:app --port 8123

`GET /news?region=<ags>&topic=<slug>&first=20` and `GET /news?q=<words>&first=20`: published
items newest first, a region including the items that cover it and those inside it (the
same `item_reach` rows news keeps), the query German-folded (services/kernel/folding.py) on
an FTS5 trigram index — the same answers as `newsFeed`, as JSON.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from fastapi import FastAPI, Query

from services.kernel import folding

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    pk INTEGER PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL,
    actor_name TEXT NOT NULL, published_at TEXT NOT NULL, sort_at INTEGER NOT NULL, haystack TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_sort ON items (sort_at DESC, pk DESC);
CREATE TABLE IF NOT EXISTS item_reach (ags TEXT NOT NULL, item_pk INTEGER NOT NULL, PRIMARY KEY (ags, item_pk));
CREATE TABLE IF NOT EXISTS item_topics (topic TEXT NOT NULL, item_pk INTEGER NOT NULL, PRIMARY KEY (topic, item_pk));
CREATE VIRTUAL TABLE IF NOT EXISTS item_search USING fts5 (title, body, tokenize = 'trigram');
"""

app = FastAPI()
_local = threading.local()


def db() -> sqlite3.Connection:
    # FastAPI runs plain `def` endpoints in a thread pool: one read-only connection per thread.
    if not hasattr(_local, "db"):
        _local.db = sqlite3.connect(f"file:{os.environ['LOTSE_PEER_DB']}?mode=ro", uri=True,
                                    check_same_thread=False)
    return _local.db


@app.get("/news")
def news(region: str | None = None, topic: str | None = None, q: str | None = None,
         first: int = Query(20, ge=1, le=100)) -> dict:
    clauses, params = ["1"], []
    if region:
        clauses.append("i.pk IN (SELECT item_pk FROM item_reach WHERE ags = ?)")
        params.append(region)
    if topic:
        clauses.append("i.pk IN (SELECT item_pk FROM item_topics WHERE topic = ?)")
        params.append(topic)
    words = folding.terms(q or "")
    if expression := folding.fts_expression(words):
        clauses.append("i.pk IN (SELECT rowid FROM item_search WHERE item_search MATCH ?)")
        params.append(expression)
    for word in folding.short_terms(words):
        clauses.append("instr(i.haystack, ?) > 0")
        params.append(word)
    rows = db().execute(
        f"SELECT id, kind, title, summary, actor_name, published_at FROM items i WHERE {' AND '.join(clauses)} "
        "ORDER BY i.sort_at DESC, i.pk DESC LIMIT ?", [*params, first]).fetchall()
    return {"items": [{"id": r[0], "kind": r[1], "title": r[2], "summary": r[3], "actor": {"name": r[4]},
                       "publishedAt": r[5]} for r in rows]}
