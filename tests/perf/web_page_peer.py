"""The feed benchmark's peer: the same page bytes served by one FastAPI process from one
SQLite file, with nothing in between — no sessions, no templates, no NATS, no services.

    LOTSE_PEER_DB=/path/pages.sqlite3 uvicorn tests.perf.web_page_peer:app --port 8124

Table `pages (path, content_type, encoding, body)`, keyed by path and query as the browser
asks them (`/news`, `/assets/app.css?v=…`); `body` as the gateway sent it on the wire (gzipped
where it said `Content-Encoding: gzip`, which the peer says too). What it takes the browser to
paint these bytes over the emulated network is the floor under the gateway's first render of
the same page.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from fastapi import FastAPI, Request
from fastapi.responses import Response

SCHEMA = ("CREATE TABLE IF NOT EXISTS pages (path TEXT PRIMARY KEY, content_type TEXT NOT NULL, "
          "encoding TEXT NOT NULL, body BLOB NOT NULL)")

app = FastAPI()
_local = threading.local()


def db() -> sqlite3.Connection:
    if not hasattr(_local, "db"):
        _local.db = sqlite3.connect(f"file:{os.environ['LOTSE_PEER_DB']}?mode=ro", uri=True,
                                    check_same_thread=False)
    connection: sqlite3.Connection = _local.db
    return connection


@app.get("/{path:path}")
def page(path: str, request: Request) -> Response:
    key = "/" + path + (f"?{request.url.query}" if request.url.query else "")
    row = db().execute("SELECT content_type, encoding, body FROM pages WHERE path = ?", (key,)).fetchone()
    if row is None:
        return Response(status_code=404)
    headers = {"Cache-Control": "no-cache"}
    if row[1]:
        headers |= {"Content-Encoding": row[1], "Vary": "Accept-Encoding"}
    return Response(row[2], media_type=row[0], headers=headers)
