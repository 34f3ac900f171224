"""News with 200,000 items: `newsFeed` with region and topic filters and with a query, through the
gateway's GraphQL, beside a one-process FastAPI + SQLite peer answering the same questions
(tests/perf/news_peer.py, its own process); and the events feed of one region with 5,000
events, in full and on the 304 path.

Load comes from a separate process: Debian's `wrk` (`apt-get update && apt-get install -y
wrk`), 16 connections, each request from its own made-up client address so the gateway's
per-client cost budget sees many people, as in life. The platform (identity, directory,
news, gateway) shares this process and its event loop — read the gateway numbers as one
replica of everything on a core or two, and the ratio to the peer as the price of the
layers (HTTP, GraphQL, NATS request/reply, a second process, reply models).

Items are appended straight to the NEWS stream in bulk (ItemCreated + ItemPublished per
item, as the endpoints would decide them), then the view builds; both rates are printed.
Prints; asserts nothing about time, only that gateway and peer give the same answers.

Sizes: LOTSE_BENCH_ITEMS (200000), LOTSE_BENCH_SECONDS per run (15), LOTSE_BENCH_CONNECTIONS (16).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import icalendar
import pytest

from proto import directory as dapi
from proto import news as api
from proto import subjects
from proto.envelope import Envelope, new_id
from services.kernel import folding
from services.kernel.clock import Clock
from services.news import domain, markdown, views
from tests.perf import generated, news_generated
from tests.perf.news_peer import SCHEMA as PEER_SCHEMA
from tests.support.nats_server import free_port, wait_for_port
from tests.support.platform import platform_settings, running_platform

ITEMS = int(os.environ.get("LOTSE_BENCH_ITEMS", "200000"))
SECONDS = int(os.environ.get("LOTSE_BENCH_SECONDS", "15"))
CONNECTIONS = int(os.environ.get("LOTSE_BENCH_CONNECTIONS", "16"))
ACTORS = 2000
TARGET = "10041519"  # Völklingen: 5,000 events concern it (its own, the district's, the state's)
TARGET_EVENTS = 5000
BATCH = 2000
QUESTIONS = 300
WORDS = ["Sprachcafe", "Wohnungsboerse", "Voelklingen", "Anerkennung", "Dolmetschende", "Elterncafe",
         "Fruehstueck", "Nachbarschaftsfest Merzig", "Beratungstag", "Integrationskurs Neunkirchen",
         "Kinderbetreuung", "Bewerbungstraining", "Hausaufgabenhilfe Homburg", "genossenschaft", "Ehrenamt"]
LUA = Path(__file__).with_name("wrk_requests.lua")

FEED = ("query($f: NewsFilter, $q: String) { newsFeed(filter: $f, query: $q, first: 20) { edges { node { "
        "id kind title summary publishedAt actor { name } } } } }")


# ---- loading -----------------------------------------------------------------------------------

def scope_of(places: generated.Places, regions: list[str]) -> set[str]:
    """What news' region_paths give: the regions, those inside them, those around them."""
    found: set[str] = set()
    for ags in regions:
        if ags == places.state:
            found |= {places.state, *(d.ags for d in places.districts), *(m.ags for m in places.municipalities)}
        elif any(d.ags == ags for d in places.districts):
            found |= {ags, places.state, *(m.ags for m in places.municipalities if m.parent_ags == ags)}
        else:
            town = next(m for m in places.municipalities if m.ags == ags)
            found |= {ags, town.parent_ags or places.state, places.state}
    return found


async def publish_all(js, messages) -> int:
    """Append in batches, as fast as the server takes them: the view builds behind a stream
    that runs far ahead (the whole load, 400,000 events at the default size). The kernel's
    projector once lost events under such a backlog; it reads in bounded batches now
    (services/kernel/eventfeed.py), and the view is checked for every item below."""
    last, pending = 0, []
    for subject, envelope in messages:
        pending.append(await js.publish_async(subject, envelope.model_dump_json().encode(),
                                              headers={subjects.MSG_ID: envelope.id}))
        if len(pending) >= BATCH:
            last = max(last, max(ack.seq for ack in await asyncio.gather(*pending)))
            pending = []
    if pending:
        last = max(last, max(ack.seq for ack in await asyncio.gather(*pending)))
    return last


def actor_events(places: generated.Places, clock: Clock):
    rnd = random.Random(2026)
    actors: dict[str, tuple[str, str]] = {}  # id → (name, owner)
    messages = []
    for number in range(ACTORS):
        actor_id, owner = new_id(), new_id()
        profile = generated.profile(rnd, places, number)
        actors[actor_id] = (profile.name, owner)
        subject = subjects.aggregate_subject(dapi.SERVICE, dapi.AGGREGATE_ACTOR, actor_id)
        for event in (dapi.ActorCreated(actor_id=actor_id, owner_id=owner, profile=profile),
                      dapi.ActorApproved(actor_id=actor_id)):
            messages.append((subject, Envelope(type=event.TYPE, occurred_at=clock.now(), by=owner,
                                               data=event.model_dump(mode="json"))))
    return actors, messages


def item_events(places: generated.Places, actors: dict[str, tuple[str, str]], today: datetime):
    """ItemCreated + ItemPublished per item, published a second apart (newest last)."""
    rnd = random.Random(9)
    found = news_generated.items(rnd, places, list(actors), {a: o for a, (_, o) in actors.items()}, ITEMS,
                                 target=TARGET, target_events=TARGET_EVENTS, today=today)
    start = today - timedelta(seconds=ITEMS + 10)
    messages, published = [], []
    for n, g in enumerate(found):
        subject = subjects.aggregate_subject(api.SERVICE, api.AGGREGATE_ITEM, g.item_id)
        name, owner = actors[g.actor_id]
        facts = domain.ActorFacts(id=g.actor_id, name=name, slug="x", status="approved", members={owner: "owner"})
        scope = scope_of(places, g.created.content.regions)
        notice = domain.notice(g.item_id, g.created.kind, g.created.content, facts, scope)
        at = start + timedelta(seconds=n)
        for event in (g.created, api.ItemPublished(item_id=g.item_id, notice=notice)):
            messages.append((subject, Envelope(type=event.TYPE, occurred_at=at, by=owner,
                                               data=event.model_dump(mode="json"))))
        published.append((g, name, at, scope))
    return messages, published


def build_peer(path: Path, published) -> None:
    """The peer's file: the same items, reach and searchable text as news' view holds."""
    db = sqlite3.connect(path)
    db.executescript(PEER_SCHEMA)
    rows, reach, topics, search = [], [], [], []
    for pk, (g, actor_name, at, scope) in enumerate(published, start=1):
        c = g.created.content
        rows.append((pk, g.item_id, g.created.kind, c.title, c.summary, actor_name,
                     at.isoformat(), views.ts(at), folding.fold_variants(f"{c.title} {c.summary}")))
        reach += [(ags, pk) for ags in scope]
        topics += [(t, pk) for t in c.topics]
        body = " ".join([markdown.plain(c.body), *c.tags, *(views.TOPIC_LABELS[t] for t in c.topics),
                         views.KIND_LABELS[g.created.kind]])
        search.append((pk, folding.fold_variants(f"{c.title} {c.summary}"), folding.fold_variants(body)))
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO item_reach VALUES (?, ?)", reach)
    db.executemany("INSERT INTO item_topics VALUES (?, ?)", topics)
    db.executemany("INSERT INTO item_search (rowid, title, body) VALUES (?, ?, ?)", search)
    db.commit()
    db.close()


async def until_applied(projector, last: int) -> None:
    while projector.applied < last:
        assert projector.failed is None, projector.failed
        await asyncio.sleep(0.5)


# ---- questions and load ------------------------------------------------------------------------

def questions(places: generated.Places) -> tuple[list[dict], list[dict]]:
    rnd = random.Random(7)
    filtered = [{"region": rnd.choice([*places.municipalities, *places.districts]).ags,
                 "topic": rnd.choice(dapi.TOPIC_SLUGS)} for _ in range(QUESTIONS)]
    searched = [{"q": rnd.choice(WORDS)} for _ in range(QUESTIONS)]
    return filtered, searched


def graphql_body(question: dict) -> str:
    if "q" in question:
        variables: dict = {"q": question["q"]}
    else:
        variables = {"f": {"regions": [question["region"]], "topics": [question["topic"]]}}
    return json.dumps({"query": FEED, "variables": variables}, separators=(",", ":"))


def peer_path(question: dict) -> str:
    if "q" in question:
        return "/news?" + str(httpx.QueryParams({"q": question["q"], "first": 20}))
    return "/news?" + str(httpx.QueryParams({"region": question["region"], "topic": question["topic"],
                                             "first": 20}))


def request_file(path: Path, lines: list[tuple[str, str, str, str]]) -> Path:
    path.write_text("".join("\t".join(line) + "\n" for line in lines), encoding="utf-8")
    return path


async def wrk(name: str, base: str, requests: Path) -> dict:
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "30s", "--latency", "-s", str(LUA), base,
        "--", str(requests), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out = (await process.communicate())[0].decode()
    assert process.returncode == 0, out
    found = {"name": name, "errors": 0, "non2xx": 0}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("percentile"):
            found[f"p{parts[1]}"] = int(parts[2]) / 1000  # µs → ms
        elif line.startswith("Requests/sec:"):
            found["rps"] = float(parts[1])
        elif line.startswith("graphql_errors"):
            found["errors"] = int(parts[1])
        elif "Non-2xx or 3xx responses:" in line:
            found["non2xx"] = int(parts[-1])
        elif "requests in" in line:
            found["requests"] = int(parts[0])
    assert found["errors"] == 0 and found["non2xx"] == 0, out
    return found


def row(r: dict) -> str:
    return (f"| {r['name']} | {r['requests']:,} | {r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | "
            f"{r['rps']:,.0f} |")


# ---- the benchmark -------------------------------------------------------------------------------

async def test_news_feed_with_200000_items_beside_a_fastapi_sqlite_peer(nats_url, tmp_path):
    if shutil.which("wrk") is None:
        pytest.fail("the benchmark's load comes from wrk: apt-get update && apt-get install -y wrk")
    load_before = os.getloadavg()
    clock = Clock()
    settings = platform_settings(nats_url, tmp_path, None, log_level="error", trusted_proxies="127.0.0.1")
    places = generated.Places.shipped()
    async with running_platform(settings, clock, services=["identity", "directory", "news"], gateway=True) as (
            platform, client):
        news = platform.services["news"]
        js = client.nc.jetstream()
        actors, messages = actor_events(places, clock)
        await until_applied(news.directory.projector, await publish_all(js, messages))

        today = clock.now()
        messages, published = item_events(places, actors, today)
        started = time.perf_counter()
        last = await publish_all(js, messages)
        appended = time.perf_counter() - started
        await until_applied(news.projector, last)
        built = time.perf_counter() - started
        events = len(messages)
        # No event skipped: every item is in the view, published, and nothing else is.
        async with news.projector.reader.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'published') FROM items") as cur:
            held = tuple(await cur.fetchone())
        assert held == (ITEMS, ITEMS), held
        print(f"\n{ITEMS:,} items: {events:,} events appended in {appended:.0f} s, all projected in {built:.0f} s "
              f"({events / built:,.0f} events/s into news' view; every item in it once)")
        del messages

        peer_db = tmp_path / "peer.sqlite3"
        build_peer(peer_db, published)
        del published
        peer_port = free_port()
        peer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "uvicorn", "tests.perf.news_peer:app", "--host", "127.0.0.1", "--port",
            str(peer_port), "--log-level", "warning", env={**os.environ, "LOTSE_PEER_DB": str(peer_db)})
        try:
            await asyncio.to_thread(wait_for_port, peer_port, 30)
            gateway = f"http://127.0.0.1:{settings.http_port}"
            peer_base = f"http://127.0.0.1:{peer_port}"
            filtered, searched = questions(places)

            # The same answers from both, or the comparison means nothing.
            async with httpx.AsyncClient(timeout=60) as http:
                for question in [*filtered[:20], *searched[:20]]:
                    ours = (await http.post(f"{gateway}/graphql", content=graphql_body(question),
                                            headers={"Content-Type": "application/json"})).json()
                    assert not ours.get("errors"), ours
                    theirs = (await http.get(peer_base + peer_path(question))).json()
                    assert [e["node"]["id"] for e in ours["data"]["newsFeed"]["edges"]] == [
                        i["id"] for i in theirs["items"]], question
                calendar = await http.get(f"{gateway}/feeds/events.ics?region={TARGET}&limit=5000")
                assert calendar.status_code == 200
                held = len({str(e["UID"]) for e in icalendar.Calendar.from_ical(calendar.text).walk("VEVENT")})
                etag = calendar.headers["etag"]
                assert (await http.get(f"{gateway}/feeds/events.ics?region={TARGET}&limit=5000",
                                       headers={"If-None-Match": etag})).status_code == 304
            print(f"events feed for {TARGET}: {held:,} events, {len(calendar.content) / 1e6:.1f} MB")

            files = tmp_path / "requests"
            files.mkdir()
            runs = [
                ("gateway newsFeed(region, topic)", gateway, [("POST", "/graphql", graphql_body(q), "")
                                                             for q in filtered]),
                ("peer    /news?region&topic", peer_base, [("GET", peer_path(q), "", "") for q in filtered]),
                ("gateway newsFeed(query)", gateway, [("POST", "/graphql", graphql_body(q), "") for q in searched]),
                ("peer    /news?q", peer_base, [("GET", peer_path(q), "", "") for q in searched]),
                (f"gateway events.ics ({held:,} events)", gateway,
                 [("GET", f"/feeds/events.ics?region={TARGET}&limit=5000", "", "")]),
                ("gateway events.ics, If-None-Match → 304", gateway,
                 [("GET", f"/feeds/events.ics?region={TARGET}&limit=5000", "", etag)]),
            ]
            results = []
            for n, (name, base, lines) in enumerate(runs):
                results.append(await wrk(name, base, request_file(files / f"{n}.tsv", lines)))
        finally:
            peer.terminate()
            await peer.wait()
    load_after = os.getloadavg()

    print(f"\nwrk: {CONNECTIONS} connections, 2 threads, {SECONDS} s per run; load average before "
          f"{load_before[0]:.2f}/{load_before[1]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f} "
          f"on {os.cpu_count()} cores")
    print("| run | requests | p50 ms | p90 ms | p99 ms | req/s |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(row(r))
    for label, ours, theirs in (("newsFeed(region, topic)", results[0], results[1]),
                                ("newsFeed(query)", results[2], results[3])):
        print(f"ratio {label}: gateway/peer p50 x{ours['p50'] / theirs['p50']:.1f}, "
              f"p99 x{ours['p99'] / theirs['p99']:.1f}, throughput x{ours['rps'] / theirs['rps']:.2f}")
    print(f"ratio events.ics 304/200: p99 x{results[5]['p99'] / results[4]['p99']:.3f}")
