"""The directory at 50,000 actors, beside the simplest competitor (tests/perf/peer.py).

Everything runs as its own process, as Compose runs it: a nats-server (from the wheel),
`lotse serve` for each service, `lotse gateway`, the peer (one FastAPI process), and the
load: wrk, 16 connections, each question for a while against one and then the other. The
actors come in through the CLI (`lotse admin import-actors --commit`), which is timed until
they are searchable; then the directory is stopped, its view deleted and the directory
started again, which times the rebuild. Then a second directory replica starts (its own
view, built from the stream) and the search questions run once more: the ratio to one
replica is how the directory scales out on this machine. Prints tables; asserts only that
both answer the same questions with the same counts, never anything about time.

Settings (environment): LOTSE_BENCH_ACTORS (50000), LOTSE_BENCH_SECONDS per question and
program (15), LOTSE_BENCH_WARMUP seconds before each (2), LOTSE_BENCH_CONNECTIONS (16).
The load comes from 1,000 client addresses (X-Forwarded-For, the gateway trusting the
loopback proxy): one client alone is held to its query budget, as it should be.
Needs wrk (Debian: `apt-get install -y wrk`); skips with that message without it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest

from tests.perf import generated
from tests.support.nats_server import LocalNats, free_port
from tests.support.processes import LOTSE, LotseProcess, wait_until_ready

ACTORS = int(os.environ.get("LOTSE_BENCH_ACTORS", "50000"))
SECONDS = float(os.environ.get("LOTSE_BENCH_SECONDS", "15"))
WARMUP = float(os.environ.get("LOTSE_BENCH_WARMUP", "2"))
CONNECTIONS = int(os.environ.get("LOTSE_BENCH_CONNECTIONS", "16"))
WRK_SCRIPT = Path(__file__).with_name("wrk.lua")

NODE = "id slug name kind shortName description regions { ags name level } topics languages"
FACETS = "facets { kinds { value count } topics { value count } languages { value count } }"
PAGE = f"""query($q: String, $f: ActorFilter) {{ actors(query: $q, filter: $f, first: 20) {{
  edges {{ node {{ {NODE} }} }} pageInfo {{ hasNextPage }} }} }}"""
COUNTED = f"""query($q: String, $f: ActorFilter) {{ actors(query: $q, filter: $f, first: 20) {{
  totalCount {FACETS} edges {{ node {{ {NODE} }} }} pageInfo {{ hasNextPage }} }} }}"""
BY_SLUG = f"""query($slug: String!) {{ actor(slug: $slug) {{ {NODE} }} }}"""
BY_ID = f"""query($id: ID!) {{ actor(id: $id) {{ {NODE} }} }}"""
RESPONSIBLE = f"""query($t: String!, $r: String!) {{ responsibleActors(topic: $t, region: $r, first: 20) {{
  totalCount edges {{ node {{ actor {{ {NODE} }} servedVia {{ ags level }} }} }} pageInfo {{ hasNextPage }} }} }}"""


@dataclass
class Question:
    name: str
    lotse: list[str]  # wrk request lines (METHOD \t PATH \t BODY)
    peer: list[str]


def graphql(document: str, **variables: object) -> str:
    return "POST\t/graphql\t" + json.dumps({"query": document, "variables": variables})


def peer_search(**question: object) -> str:
    return "POST\t/search\t" + json.dumps(question)


def questions(profiles: list, places: generated.Places, lotse_ids: dict[str, str]) -> list[Question]:
    rnd = random.Random(8)
    districts = [d.ags for d in places.districts]
    # Numbers of three digits or more: the peer's trigram index cannot serve shorter words.
    narrow = rnd.sample([p for p in profiles if int(p.name.rsplit(" ", 1)[1]) >= 100], 30)
    known = rnd.sample(sorted(lotse_ids), min(50, len(lotse_ids)))
    topics = ["housing", "language-courses", "employment"]
    return [
        Question("broad: “wohnung”, topic housing, a district",
                 [graphql(PAGE, q="wohnung", f={"topics": ["housing"], "region": d}) for d in districts],
                 [peer_search(query="wohnung", topics=["housing"], region=d, count=False, facets=False)
                  for d in districts]),
        Question("the same with totalCount and facets",
                 [graphql(COUNTED, q="wohnung", f={"topics": ["housing"], "region": d}) for d in districts],
                 [peer_search(query="wohnung", topics=["housing"], region=d) for d in districts]),
        Question("narrow: a place and a number (with counts)",
                 [graphql(COUNTED, q=f"{p.address.locality} {p.name.rsplit(' ', 1)[1]}") for p in narrow],
                 [peer_search(query=f"{p.address.locality} {p.name.rsplit(' ', 1)[1]}") for p in narrow]),
        Question("filter only: a topic in a district (with counts)",
                 [graphql(COUNTED, f={"topics": [t], "region": d}) for d in districts for t in topics],
                 [peer_search(topics=[t], region=d) for d in districts for t in topics]),
        Question("one actor by slug / id",
                 [graphql(BY_SLUG, slug=s) if n % 2 else graphql(BY_ID, id=lotse_ids[s]) for n, s in enumerate(known)],
                 [f"GET\t/actors/{s}\t" if n % 2 else f"GET\t/actors/by-id/{peer_id(s)}\t"
                  for n, s in enumerate(known)]),
        Question("responsibleActors(housing, a town), 20 with totalCount",
                 [graphql(RESPONSIBLE, t="housing", r=m.ags) for m in places.municipalities], []),
    ]


def peer_id(slug: str) -> str:
    from proto.envelope import stable_id

    return stable_id("peer", slug)


# ---- running things --------------------------------------------------------------------

@dataclass
class Run:
    requests: int
    seconds: float
    p50: float  # ms
    p99: float
    failed: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


CLIENTS = 1000  # addresses the load comes from: the gateway keeps a query budget per client


def wrk(base: str, lines: list[str], seconds: float, tmp: Path) -> Run:
    requests = tmp / "requests.txt"
    # Many clients, as in use (one client is held to its budget: README, "Query cost"); the
    # gateway believes X-Forwarded-For from 127.0.0.1 here (LOTSE_TRUSTED_PROXIES).
    many = [f"{lines[n % len(lines)]}\t10.{n // 65536}.{n // 256 % 256}.{n % 256}"
            for n in range(max(CLIENTS, len(lines)))]
    requests.write_text("\n".join(many) + "\n")
    result = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s", str(WRK_SCRIPT),
         base], env={**os.environ, "LOTSE_WRK_REQUESTS": str(requests)}, capture_output=True, text=True, check=True)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return Run(requests=found["requests"], seconds=found["duration_us"] / 1e6, p50=found["p50_us"] / 1000,
               p99=found["p99_us"] / 1000, failed=found["failed"] + found["socket_errors"])


def post(base: str, line: str) -> dict:
    method, path, body = line.split("\t", 2)
    answer = httpx.request(method, base + path, content=body or None, timeout=30,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, (line, answer.text[:500])
    found = answer.json()
    assert not found.get("errors"), (line, found["errors"])
    return found


def total_approved(base: str) -> int:
    return post(base, graphql("query { actors(first: 1) { totalCount } }"))["data"]["actors"]["totalCount"]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.2)


async def stream_messages(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().stream_info("DIRECTORY")).state.messages
    finally:
        await nc.close()


def caught_up(log: str) -> dict | None:
    """The directory's own line when its view had caught up with the stream (rate, seconds)."""
    for line in reversed(log.splitlines()):
        if '"projector.caught_up"' in line and '"DIRECTORY"' in line:
            return json.loads(line)
    return None


class Deployment:
    """The platform as separate processes on one nats-server, as Compose runs it."""

    SERVICES = ("identity", "directory", "news", "notifications")

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.nats = LocalNats(store_dir=tmp / "nats")
        self.http_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.env = {"LOTSE_NATS_URL": self.nats.url, "LOTSE_HTTP_HOST": "127.0.0.1",
                    "LOTSE_HTTP_PORT": str(self.http_port), "LOTSE_METRICS_PORT": str(free_port()),
                    "LOTSE_SECRET_KEY": "the-benchmark's-secret-shared-by-its-processes",
                    "LOTSE_LOG_FORMAT": "json", "LOTSE_LOG_LEVEL": "info", "LOTSE_TRUSTED_PROXIES": "127.0.0.1"}
        self.processes: dict[str, LotseProcess] = {}

    def start(self, name: str, *, service: str | None = None) -> LotseProcess:
        """`name` is the process (its data directory and log); `service` what it runs."""
        what = service or name
        args = ["gateway"] if what == "gateway" else ["serve", what]
        env = {**self.env, "LOTSE_DATA_DIR": str(self.tmp / name)}
        self.processes[name] = LotseProcess(args, env, self.tmp / "logs" / f"{name}.log").start()
        return self.processes[name]

    def up(self) -> None:
        self.nats.start()
        for name in (*self.SERVICES, "gateway"):
            self.start(name)
        wait_until_ready(f"{self.base}/readyz", 600, process=self.processes["gateway"])

    def view(self, name: str = "directory") -> Path:
        return self.tmp / name / "directory" / "directory.sqlite3"

    def down(self) -> None:
        try:
            for process in reversed(list(self.processes.values())):
                if process.proc is not None and process.proc.poll() is None:
                    process.stop()
        finally:
            self.nats.cleanup()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GB, Python {sys.version.split()[0]}"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---- the benchmark ---------------------------------------------------------------------

def test_the_directory_beside_its_peer(tmp_path):
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (Debian: apt-get install -y wrk): the load must come from a "
                    "process of its own, not from the event loop that serves")
    print(f"\nmachine: {machine()}; load average at start {load_average()}")
    csv = tmp_path / "actors.csv"
    places = generated.Places.shipped()
    profiles = generated.write_csv(csv, ACTORS)

    peer_port = free_port()
    peer_base = f"http://127.0.0.1:{peer_port}"
    started = time.monotonic()
    peer = subprocess.Popen([sys.executable, "-m", "tests.perf.peer", "--csv", str(csv), "--db",
                             str(tmp_path / "peer.sqlite3"), "--port", str(peer_port)],
                            stdout=(tmp_path / "peer.log").open("w"), stderr=subprocess.STDOUT)
    platform = Deployment(tmp_path / "lotse")
    base = platform.base
    try:
        platform.up()
        wait_until_ready(f"{peer_base}/ready", 600)
        peer_loaded = time.monotonic() - started
        sample = total_approved(base)  # none: no sample data outside `lotse dev`

        started = time.monotonic()
        imported = subprocess.run([LOTSE, "admin", "import-actors", "--commit", str(csv)],
                                  env={**os.environ, **platform.env}, capture_output=True, text=True)
        assert imported.returncode == 0, imported.stdout[-2000:] + imported.stderr[-2000:]
        wait_for(lambda: total_approved(base) == sample + ACTORS, 600, "imported actors searchable")
        import_seconds = time.monotonic() - started
        events = asyncio.run(stream_messages(platform.nats.url))

        platform.processes["directory"].stop()
        for leftover in platform.view().parent.glob("directory.sqlite3*"):
            leftover.unlink()
        started = time.monotonic()
        directory = platform.start("directory")
        wait_for(lambda: caught_up(directory.output()) is not None, 600, "the rebuilt view caught up")
        wait_until_ready(f"{base}/readyz", 600, process=directory)
        wait_for(lambda: total_approved(base) == sample + ACTORS, 600, "rebuilt view searchable")
        rebuild_seconds = time.monotonic() - started
        rebuilt = caught_up(directory.output()) or {}

        print(f"peer: {ACTORS:,} actors loaded into its SQLite file in {peer_loaded:.1f} s")
        print(f"import: `lotse admin import-actors --commit` of {ACTORS:,} rows searchable after "
              f"{import_seconds:.1f} s ({ACTORS / import_seconds:,.0f} rows/s)")
        print(f"rebuild: view deleted, {events:,} events; searchable {rebuild_seconds:.1f} s after the restart; "
              f"projected at {rebuilt.get('events_per_second', 0):,.0f} events/s "
              f"({rebuilt.get('applied', 0):,} events in {rebuilt.get('seconds', 0):.1f} s)")

        slugs = [generated_slug(p) for p in profiles]
        lotse_ids = {s: post(base, graphql(BY_SLUG, slug=s))["data"]["actor"]["id"]
                     for s in random.Random(9).sample(slugs, 50)}
        asked = questions(profiles, places, lotse_ids)
        rows = measure(base, peer_base, asked, tmp_path)
        print(f"\n{CONNECTIONS} connections, {SECONDS:.0f} s per question and program (wrk, its own process); "
              f"one directory process; load average at the end {load_average()}\n")
        print(table(rows))

        # A second replica: its own view from the stream, then the same questions once more.
        second = platform.start("directory-2", service="directory")
        wait_for(lambda: caught_up(second.output()) is not None, 600, "the second replica caught up")
        rows_two = measure(base, peer_base, asked, tmp_path)
        print(f"\nthe same with two directory replicas (NATS spreads requests over the queue group); "
              f"load average at the end {load_average()}\n")
        print(table(rows_two))
        print("\n" + scaling(rows, rows_two))
    finally:
        platform.down()
        peer.terminate()
        peer.wait(20)


def measure(base: str, peer_base: str, asked: list[Question], tmp: Path) -> list:
    rows = []
    for question in asked:
        agree = same_counts(base, peer_base, question)
        results = []
        for target, lines in ((base, question.lotse), (peer_base, question.peer)):
            if not lines:
                results.append(None)
                continue
            if WARMUP:
                wrk(target, lines, WARMUP, tmp)
            results.append(wrk(target, lines, SECONDS, tmp))
        rows.append((question.name, *results, agree))
    return rows


def scaling(one: list, two: list) -> str:
    lines = ["| question | 1 replica req/s | 2 replicas req/s | scaling | p99 1 → 2 |", "|---|---|---|---|---|"]
    for (name, first, _, _), (_, second, _, _) in zip(one, two, strict=True):
        ratio = f"{second.rate / first.rate:.2f}×" if first.rate else "—"
        lines.append(f"| {name} | {first.rate:,.0f} | {second.rate:,.0f} | {ratio} | "
                     f"{first.p99:.1f} → {second.p99:.1f} ms |")
    return "\n".join(lines)


def generated_slug(profile) -> str:
    from services.directory import domain

    return domain.slugify(profile.name)


def same_counts(base: str, peer_base: str, question: Question) -> str:
    """Both answer the counted questions with the same totals (and the pages exist)."""
    if not question.peer:
        return ""
    mismatches = 0
    for lotse_line, peer_line in zip(question.lotse, question.peer, strict=True):
        ours, theirs = post(base, lotse_line)["data"], post(peer_base, peer_line)
        if "actors" in ours and "total" in theirs:
            found = ours["actors"]
            if found["totalCount"] != theirs["total"] or len(found["edges"]) != len(theirs["items"]):
                print(f"differs: {peer_line}: Lotse {found['totalCount']}, peer {theirs['total']}")
                mismatches += 1
        elif "actor" in ours:
            if ours["actor"]["slug"] != theirs["slug"]:
                mismatches += 1
    assert mismatches == 0, f"{question.name}: {mismatches} answers differ from the peer's"
    return "same"


def table(rows: list) -> str:
    lines = ["| question | Lotse req/s | peer req/s | ratio | Lotse p50 / p99 | peer p50 / p99 |",
             "|---|---|---|---|---|---|"]
    for name, ours, theirs, _ in rows:
        def latency(run: Run | None) -> str:
            if run is None:
                return "—"
            failed = f" ({run.failed} failed)" if run.failed else ""
            return f"{run.p50:.1f} / {run.p99:.1f} ms{failed}"

        ratio = f"{ours.rate / theirs.rate:.2f}×" if theirs and theirs.rate else "—"
        lines.append(f"| {name} | {ours.rate:,.0f} | {f'{theirs.rate:,.0f}' if theirs else '—'} | {ratio} | "
                     f"{latency(ours)} | {latency(theirs)} |")
    return "\n".join(lines)
