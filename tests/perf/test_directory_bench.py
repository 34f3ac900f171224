"""The directory with 50,000 actors: search and "who is responsible" through the gateway's
GraphQL, against the same questions asked of the directory's SQLite file directly.

Prints; asserts nothing about time. Identity, directory, gateway and the HTTP clients share
one process and one event loop here, so the gateway numbers include all of them competing
for a core: read them as an upper bound on one replica's latency, and the ratio to the
bare query as the price of the layers (HTTP, GraphQL, NATS request, reply models).

Sizes: LOTSE_BENCH_ACTORS (50000), LOTSE_BENCH_REQUESTS per query kind (200),
LOTSE_BENCH_CLIENTS (4). Most of the run is the projection of 100,000 events (about
300 events/s on 2 cores); 500 requests per kind add about five minutes more.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time

import httpx

from proto import directory as api
from proto import subjects
from proto.envelope import Envelope, new_id
from services.directory import search
from services.kernel.clock import Clock
from tests.perf import generated, measure
from tests.support.platform import platform_settings, running_platform

ACTORS = int(os.environ.get("LOTSE_BENCH_ACTORS", "50000"))
REQUESTS = int(os.environ.get("LOTSE_BENCH_REQUESTS", "200"))
CLIENTS = int(os.environ.get("LOTSE_BENCH_CLIENTS", "4"))
BATCH = 2000  # events in flight before waiting for their acks

WORDS = ["Beratung", "Sprachkurs", "Wohnungssuche", "Anerkennung", "Ausbildung", "Kinderbetreuung",
         "Integrationskurs", "Ehrenamt", "Sprachmittlung", "Familienzentrum Saarbrücken",
         "Migrationsberatung Neunkirchen", "Frauencafé", "Jugendhilfe", "Hausaufgabenhilfe", "Geflüchtete",
         "Patenschaften", "Völklingen", "Straße", "Genossenschaft", "Jobcenter"]

SEARCH = """query($q: String, $f: ActorFilter) {
  actors(query: $q, filter: $f, first: 20) { totalCount edges { node { id slug name kind } } } }"""
RESPONSIBLE = """query($t: String!, $r: String!) {
  responsibleActors(topic: $t, region: $r) { actor { id slug name } servedVia { ags level } } }"""


def questions(places: generated.Places, n: int) -> tuple[list[dict], list[dict]]:
    """The same random questions for the gateway and the baseline."""
    rnd = random.Random(7)
    searches = []
    for _ in range(n):
        question: dict = {"q": rnd.choice(WORDS)}
        if rnd.random() < 0.5:  # half narrowed, as people narrow a search
            question["f"] = rnd.choice([{"topics": [rnd.choice(api.TOPIC_SLUGS)]},
                                        {"region": rnd.choice(places.districts).ags}])
        searches.append(question)
    responsible = [{"t": rnd.choice(api.TOPIC_SLUGS), "r": rnd.choice(places.municipalities).ags}
                   for _ in range(n)]
    return searches, responsible


# ---- loading ---------------------------------------------------------------------------

async def load(js, places: generated.Places) -> int:
    """Append ActorCreated + ActorApproved per actor straight into the stream; the last sequence.

    Bypasses the endpoints (and slug claims) on purpose: this measures the view and the
    reads, and the endpoints would take minutes to write 50,000 actors one by one. No
    expected-sequence header: every actor is new, so there is no race to lose.
    """
    rnd = random.Random(2026)
    owners = [new_id() for _ in range(500)]
    clock = Clock()
    last = 0
    pending = []
    for number in range(ACTORS):
        actor_id = new_id()
        subject = subjects.aggregate_subject(api.SERVICE, api.AGGREGATE_ACTOR, actor_id)
        created = api.ActorCreated(actor_id=actor_id, owner_id=rnd.choice(owners),
                                   profile=generated.profile(rnd, places, number))
        for event in (created, api.ActorApproved(actor_id=actor_id)):
            envelope = Envelope(type=event.TYPE, occurred_at=clock.now(), by=created.owner_id,
                                data=event.model_dump(mode="json"))
            pending.append(await js.publish_async(subject, envelope.model_dump_json().encode(),
                                                  headers={subjects.MSG_ID: envelope.id}))
        if len(pending) >= BATCH:
            last = max(last, max(ack.seq for ack in await asyncio.gather(*pending)))
            pending = []
    if pending:
        last = max(last, max(ack.seq for ack in await asyncio.gather(*pending)))
    return last


async def projected(projector, last: int) -> None:
    while projector.applied < last:
        assert projector.failed is None, projector.failed
        await asyncio.sleep(0.5)


# ---- the baseline: the directory's SQLite file, asked directly -------------------------

def baseline_search(db: sqlite3.Connection, question: dict) -> None:
    """One page by rank and the total, shaped as services/directory/views.py asks them: the
    count tests membership in the match instead of ranking it (bm25 over every match of a
    common word costs far more than the page itself)."""
    clauses, params = ["a.status IN (?)"], ["approved"]
    f = question.get("f", {})
    if "topics" in f:
        clauses.append("EXISTS (SELECT 1 FROM actor_topics t WHERE t.actor_id = a.id AND t.topic = ?)")
        params.append(f["topics"][0])
    if "region" in f:
        clauses.append("(EXISTS (SELECT 1 FROM actor_regions r JOIN region_paths p ON p.ancestor = r.ags "
                       "WHERE r.actor_id = a.id AND p.descendant = ?) OR EXISTS (SELECT 1 FROM actor_regions r "
                       "JOIN region_paths p ON p.descendant = r.ags WHERE r.actor_id = a.id AND p.ancestor = ?))")
        params += [f["region"], f["region"]]
    where = " AND ".join(clauses)
    match = search.fts_expression(search.terms(question["q"]))
    db.execute("SELECT a.id, a.slug, a.name, a.kind FROM actors a JOIN (SELECT rowid AS r, "
               "bm25(actor_search, 10.0, 6.0, 1.0) AS rank FROM actor_search WHERE actor_search MATCH ?) s "
               f"ON s.r = a.pk WHERE {where} ORDER BY s.rank, a.sort_name LIMIT 20", [match, *params]).fetchall()
    db.execute(f"SELECT count(*) FROM actors a WHERE {where} AND a.pk IN "
               "(SELECT rowid FROM actor_search WHERE actor_search MATCH ?)", [*params, match]).fetchone()


def baseline_responsible(db: sqlite3.Connection, question: dict) -> None:
    db.execute(
        "SELECT a.id, a.slug, a.name, min(p.distance) AS d FROM actor_coverage c "
        "JOIN region_paths p ON p.ancestor = c.ags AND p.descendant = ? "
        "JOIN actors a ON a.id = c.actor_id AND a.status = 'approved' WHERE c.topic = ? "
        "GROUP BY a.id ORDER BY d, a.sort_name", (question["r"], question["t"])).fetchall()


# ---- the benchmark ---------------------------------------------------------------------

async def test_search_and_responsible_actors_with_50000_actors(nats_url, tmp_path):
    settings = platform_settings(nats_url, tmp_path, None, log_level="error")
    places = generated.Places.shipped()
    async with running_platform(settings, Clock(), services=["identity", "directory"], gateway=True) as (
            platform, client):
        directory = platform.services["directory"]
        started = time.perf_counter()
        last = await load(client.nc.jetstream(), places)
        appended = time.perf_counter() - started
        await projected(directory.projector, last)
        done = time.perf_counter() - started
        print(f"\n{ACTORS} actors: {2 * ACTORS} events appended in {appended:.1f} s; "
              f"projected into SQLite after {done:.1f} s ({2 * ACTORS / done:.0f} events/s)")

        searches, responsible = questions(places, REQUESTS)
        url = f"http://127.0.0.1:{settings.http_port}/graphql"
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=CLIENTS)) as http:
            async def ask(document: str, variables: dict) -> None:
                answer = await http.post(url, json={"query": document, "variables": variables})
                body = answer.json()
                assert answer.status_code == 200 and not body.get("errors"), body

            await ask(SEARCH, searches[0])  # warm caches and connections once
            gateway = [
                await measure.run("gateway  actors(query, filter)", REQUESTS, CLIENTS,
                                  lambda i: ask(SEARCH, searches[i])),
                await measure.run("gateway  responsibleActors", REQUESTS, CLIENTS,
                                  lambda i: ask(RESPONSIBLE, responsible[i])),
            ]

    db = sqlite3.connect(f"file:{directory.database_path}?mode=ro", uri=True)
    try:
        baseline = [
            measure.run_blocking("sqlite   search (page + count)", REQUESTS,
                                 lambda i: baseline_search(db, searches[i])),
            measure.run_blocking("sqlite   responsible", REQUESTS,
                                 lambda i: baseline_responsible(db, responsible[i])),
        ]
    finally:
        db.close()

    print(f"{REQUESTS} requests per kind, {CLIENTS} concurrent HTTP clients; baseline: one caller, in process")
    for stats in (*gateway, *baseline):
        print(stats.line())
    for label, over, under in zip(("actors", "responsibleActors"), gateway, baseline, strict=True):
        print(f"ratio {label:<18} gateway/baseline  p50 x{over.p50 / under.p50:6.1f}  "
              f"p95 x{over.percentile(95) / under.percentile(95):6.1f}")
