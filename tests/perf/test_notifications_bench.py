"""One news item to 10,000 followers, 1,000 of them holding live WebSocket subscriptions to one
gateway: from publish to the last inbox write, to the last live delivery and to the last
mail queued — beside the same fan-out as bare NATS publishes from one process.

The platform runs as processes, as Compose runs it (tests/support/deployment.py): a
nats-server, `lotse serve` identity, directory, news and notifications, one `lotse gateway`.
The 1,000 WebSocket clients are one process of their own (tests/perf/notification_clients.py,
the `websockets` library, graphql-transport-ws, the token in `connection_init`).

Setup, fast and honest about it: the 10,000 accounts with confirmed addresses are appended
straight to the IDENTITY stream (AccountRegistered + EmailConfirmed, as registration and the
confirmation link decide them), and their follows straight to the NOTIFICATIONS stream
(FollowAdded on each person's subscriber subject, as `follow` decides it) — through the API
one by one this would take many minutes, and it is not what is measured. The tokens are
signed with a test key whose public half is put into the `identity-jwks` bucket, the way
identity publishes its own (tests/support/tokens.py). The actor is created and approved and
every item is created and published through the services' own endpoints.

Who follows what (one notification per person and item, however many follows match): a
quarter the actor, a quarter the item's town (Saarbrücken), a quarter its district or the
state (a region includes the regions inside it), a quarter the item's topic; every fifth
person a second matching follow as well (two reasons, still one notification); every tenth
mails IMMEDIATE (1,000 mails an item), others DAILY or OFF. Bystanders follow another
district and must get nothing; the author is never told of their own item.

Per item, one at a time, each waiting until it is complete (every inbox row, every live
client, every mail queued and taken by the mailer): `t0` is `time.time()` just before the
`publishItem` request; the last inbox write is when the notifications view (its SQLite file,
read-only, polled every 5 ms) holds a row for every follower; the last live delivery is the
latest receive stamp across the clients (`time.time()` in their process, same machine); the
last mail queued is the last `mail.bulk` message seen by a core subscription here.

The peer: the same fan-out as bare NATS from one process (this one) — 10,000 JetStream
publishes of one notification each (a file stream, like NOTIFICATIONS, all acked) and 1,000
core publishes to 1,000 subscriptions held by a process of its own (the same client script,
`nats` mode) — no service, no view, no GraphQL, no WebSocket.

Prints a table; asserts only correctness — every subscriber got every item exactly once,
every follower has exactly one inbox row per item (bystanders none), the mails queued are
exactly the IMMEDIATE followers' — never time. Target (issue 10): last live delivery p99
under 1 s. With a handful of items p99 is the slowest item; LOTSE_BENCH_ITEMS raises it.

Sizes: LOTSE_BENCH_FOLLOWERS (10000), LOTSE_BENCH_SUBSCRIBERS (1000), LOTSE_BENCH_ITEMS (20).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import nats
from nats.js import api as jsapi

from proto import directory as dapi
from proto import identity, subjects
from proto import news as napi
from proto import notifications as api
from proto.client import LotseClient
from proto.common import Caller
from proto.envelope import Envelope, new_id
from services.kernel.clock import Clock
from tests.support.deployment import Deployment
from tests.support.nats_server import LocalNats
from tests.support.processes import wait_for_service
from tests.support.tokens import TestIssuer

FOLLOWERS = int(os.environ.get("LOTSE_BENCH_FOLLOWERS", "10000"))
SUBSCRIBERS = int(os.environ.get("LOTSE_BENCH_SUBSCRIBERS", "1000"))
ITEMS = int(os.environ.get("LOTSE_BENCH_ITEMS", "20"))
BYSTANDERS = 200
# Saarbrücken, its district, the Saarland; and a district elsewhere (Merzig-Wadern)
TOWN, DISTRICT, STATE, ELSEWHERE = "10041100", "10041", "10", "10042"
TOPIC, SECOND_TOPIC = "housing", "employment"
BATCH = 2000
OWNER = "bench-owner"
CLIENTS = Path(__file__).with_name("notification_clients.py")


# ---- who follows what -------------------------------------------------------------------

def follower(n: int) -> str:
    return f"bench-{n:05d}"


def follows_of(n: int) -> list[tuple[api.FollowTarget, api.EmailCadence]]:
    email: api.EmailCadence = "immediate" if n % 10 == 0 else "daily" if n % 10 in (1, 2, 3) else "off"
    first = [api.FollowTarget(actor=ACTOR[0]), api.FollowTarget(region=TOWN),
             api.FollowTarget(region=DISTRICT if n // 4 % 2 else STATE), api.FollowTarget(topic=TOPIC)][n % 4]
    chosen = [(first, email)]
    if n % 5 == 0:
        second = api.FollowTarget(topic=SECOND_TOPIC) if n % 4 != 3 else api.FollowTarget(region=TOWN)
        chosen.append((second, "off"))
    return chosen


ACTOR: list[str] = []  # the actor's id once created


def subscribers() -> list[str]:
    step = max(FOLLOWERS // SUBSCRIBERS, 1)
    return [follower(n) for n in range(3 % step, FOLLOWERS, step)][:SUBSCRIBERS]


# ---- loading ----------------------------------------------------------------------------

async def append_all(js, messages) -> None:
    """Appended in batches as fast as the server takes them; each message's id is its
    Nats-Msg-Id, as the event store appends."""
    pending = []
    for subject, envelope in messages:
        pending.append(await js.publish_async(subject, envelope.model_dump_json().encode(),
                                              headers={subjects.MSG_ID: envelope.id}))
        if len(pending) >= BATCH:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)


def account_events(clock: Clock, accounts: list[str]):
    for account_id in accounts:
        email = f"{account_id}@example.org"
        subject = subjects.aggregate_subject(identity.SERVICE, "account", account_id)
        for event in (identity.AccountRegistered(
                account_id=account_id, username=account_id, email=email, display_name=account_id, locale="de",
                role="member", password_hash=None, confirm_token_hash=None, confirm_expires_at=None),
                identity.EmailConfirmed(email=email)):
            yield subject, Envelope(type=event.TYPE, occurred_at=clock.now(), by=account_id,
                                    data=event.model_dump(mode="json"))


def follow_events(clock: Clock):
    chosen = [(follower(n), target, email) for n in range(FOLLOWERS) for target, email in follows_of(n)]
    chosen += [(f"bench-bystander-{b:03d}", api.FollowTarget(region=ELSEWHERE), "immediate")
               for b in range(BYSTANDERS)]
    for account_id, target, email in chosen:
        event = api.FollowAdded(account_id=account_id, follow_id=new_id(), target=target, email=email)
        yield (subjects.aggregate_subject(api.SERVICE, api.AGGREGATE_SUBSCRIBER, account_id),
               Envelope(type=event.TYPE, occurred_at=clock.now(), by=account_id, data=event.model_dump(mode="json")))


def expected_mails() -> int:
    return sum(1 for n in range(FOLLOWERS) if any(email == "immediate" for _, email in follows_of(n)))


def follow_count() -> int:
    return sum(len(follows_of(n)) for n in range(FOLLOWERS)) + BYSTANDERS


def view_query(path: Path, sql: str, *params) -> list[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


async def until(check, timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await check():
                return
        except (sqlite3.OperationalError, httpx.HTTPError, nats.errors.Error):
            pass  # the file or the port is not there yet
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(every)


# ---- the client processes ---------------------------------------------------------------

@dataclass
class Clients:
    """A client script's process: its JSON lines, read as they come."""

    process: asyncio.subprocess.Process
    items: dict[str, dict] = field(default_factory=dict)
    ready: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    report: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    @classmethod
    async def start(cls, mode: str, url: str, rows: Path, log: Path) -> "Clients":
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(CLIENTS), mode, url, str(rows), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=log.open("wb"), limit=16 * 1024 * 1024,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
        clients = cls(process)
        clients.task = asyncio.create_task(clients._read())
        return clients

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            message = json.loads(line)
            if "ready" in message:
                self.ready.set_result(message)
            elif "item" in message:
                self.items[message["item"]] = message
                self.changed.set()
            elif "report" in message:
                self.report.set_result(message)

    async def item(self, title: str, timeout: float) -> dict:
        async with asyncio.timeout(timeout):
            while title not in self.items:
                self.changed.clear()
                await self.changed.wait()
        return self.items[title]

    async def finish(self) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(b"report\n")
        await self.process.stdin.drain()
        async with asyncio.timeout(60):
            found = await self.report
            await self.process.wait()
        return found

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


# ---- figures ----------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def row(name: str, ours: list[float], theirs: list[float] | None) -> str:
    p50, p99 = percentile(ours, 50), percentile(ours, 99)
    if not theirs:
        return f"| {name} | {p50 * 1000:,.0f} | {p99 * 1000:,.0f} | — | — | — |"
    q50, q99 = percentile(theirs, 50), percentile(theirs, 99)
    return (f"| {name} | {p50 * 1000:,.0f} | {p99 * 1000:,.0f} | {q50 * 1000:,.0f} | {q99 * 1000:,.0f} | "
            f"{p50 / q50:,.1f}× |")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---- the benchmark ----------------------------------------------------------------------

async def test_one_item_to_10000_followers_1000_of_them_live(tmp_path):
    print(f"\nmachine: {machine()}; load average at start {load_average()}")
    server = LocalNats(store_dir=tmp_path / "nats")
    server.start()
    deployment = Deployment(tmp_path / "lotse", [server.url], LOTSE_LOG_LEVEL="warning")
    clients: list[Clients] = []
    nc = None
    try:
        for service in ("identity", "directory", "news", "notifications", "gateway"):
            deployment.start(service)
        base = deployment.gateways["gateway-1"]
        for service in ("identity", "directory", "news", "notifications"):
            await asyncio.to_thread(wait_for_service, deployment.env, service, 120)
        await asyncio.to_thread(deployment.wait_until_ready, 120)
        view = tmp_path / "lotse" / "notifications-1" / "notifications" / "notifications.sqlite3"

        nc = await nats.connect(server.url, name="bench", pending_size=256 * 1024 * 1024)
        js = nc.jetstream()
        clock = Clock()
        issuer = TestIssuer(clock)
        await issuer.publish(js)
        client = LotseClient(nc, timeout=30)
        owner = Caller(token=issuer.token(OWNER, lifetime=timedelta(hours=3)))

        async def gateway_knows_the_key() -> bool:
            async with httpx.AsyncClient() as http:
                answer = await http.post(f"{base}/graphql", json={"query": "{ follows { id } }"},
                                         headers={"Authorization": f"Bearer {issuer.token(OWNER)}"})
                return answer.status_code == 200 and not answer.json().get("errors")
        await until(gateway_knows_the_key, 30, "the gateway trusts the test key")

        started = time.monotonic()
        accounts = [OWNER, *(follower(n) for n in range(FOLLOWERS)),
                    *(f"bench-bystander-{b:03d}" for b in range(BYSTANDERS))]
        # The owner and the actor first: the directory follows identity's accounts, and an
        # approval right behind 20,000 appended account events would wait for its view.
        await append_all(js, account_events(clock, accounts[:1]))
        actor = await client.directory.create_actor(dapi.CreateActor(
            kind="counselling-service", name="Wohnungslotsen Saarbrücken", regions=[TOWN], topics=[TOPIC]), owner)
        await client.directory.approve_actor(dapi.ApproveActor(actor_id=actor.id),
                                             Caller(token=issuer.token("bench-admin", "admin")))
        ACTOR[:] = [actor.id]
        await append_all(js, account_events(clock, accounts[1:]))
        await append_all(js, follow_events(clock))
        want_follows = follow_count() + 1  # and the owner's default follow of the actor's town

        async def view_built() -> bool:
            ((confirmed,),) = view_query(view, "SELECT count(*) FROM accounts WHERE confirmed_email IS NOT NULL")
            ((follows,),) = view_query(view, "SELECT count(*) FROM follows")
            ((approved,),) = view_query(view, "SELECT count(*) FROM actors WHERE status = 'approved'")
            return confirmed == len(accounts) and follows == want_follows and approved == 1
        await until(view_built, 300, "the notifications view holds every account and follow")
        print(f"setup: {len(accounts):,} accounts with confirmed addresses and {want_follows:,} follows "
              f"appended and in notifications' view after {time.monotonic() - started:.1f} s")

        # Mails queued: the notifications service's publishes to mail.bulk, seen here as they are stored.
        mails: list[float] = []

        async def on_mail(msg) -> None:
            mails.append(time.time())
        await nc.subscribe(subjects.MAIL_BULK, cb=on_mail, pending_msgs_limit=1_000_000)

        live = subscribers()
        tokens = tmp_path / "tokens.tsv"
        tokens.write_text("".join(f"{a}\t{issuer.token(a, lifetime=timedelta(hours=3))}\n" for a in live))
        started = time.monotonic()
        ws = await Clients.start("ws", base.replace("http://", "ws://") + "/graphql", tokens,
                                 tmp_path / "ws-clients.log")
        clients.append(ws)
        ready = await asyncio.wait_for(ws.ready, 300)
        assert ready["ready"] == len(live) and not ready["errors"], ready
        print(f"{len(live):,} WebSocket clients (one process) connected and subscribed in "
              f"{time.monotonic() - started:.1f} s")

        async def publish(title: str) -> tuple[float, str]:
            item = await client.news.create_item(napi.CreateNewsItem(
                actor_id=actor.id, kind="article", title=title, summary="Neue Wohnungsangebote",
                topics=[TOPIC, SECOND_TOPIC], regions=[TOWN]), owner)
            t0 = time.time()
            await client.news.publish_item(napi.PublishNewsItem(item_id=item.id), owner)
            return t0, item.id

        async def inbox_filled(item_id: str, want: int) -> float:
            """When the view first holds `want` rows of the item (polled read-only, by its index)."""
            db = sqlite3.connect(f"file:{view}?mode=ro", uri=True, timeout=5)
            try:
                deadline = time.monotonic() + 120
                while True:
                    ((held,),) = db.execute("SELECT count(*) FROM notifications WHERE item_id = ?",
                                            (item_id,)).fetchall()
                    if held >= want:
                        return time.time()
                    assert time.monotonic() < deadline, f"{item_id}: {held} of {want} inbox rows"
                    await asyncio.sleep(0.005)
            finally:
                db.close()

        def mails_at_least(count: int):
            async def check() -> bool:
                return len(mails) >= count
            return check

        async def mail_drained() -> bool:
            return (await js.stream_info(subjects.MAIL_STREAM)).state.messages == 0

        # Warm-up: every client has taken one item before any is measured.
        await publish("Aufwärmen")
        await ws.item("Aufwärmen", 60)
        await until(mails_at_least(expected_mails()), 120, "warm-up mails queued")
        await until(mail_drained, 300, "warm-up mails taken by the mailer")

        mail_each = expected_mails()
        inbox_times, live_times, mail_times = [], [], []
        for k in range(ITEMS):
            title = f"Meldung {k + 1}"
            mails_before = len(mails)
            t0, item_id = await publish(title)
            inbox_at = await inbox_filled(item_id, FOLLOWERS)
            delivered = await ws.item(title, 120)
            await until(mails_at_least(mails_before + mail_each), 120, f"{title}: mails queued", every=0.01)
            inbox_times.append(inbox_at - t0)
            live_times.append(delivered["last"] - t0)
            mail_times.append(mails[mails_before + mail_each - 1] - t0)
            await until(mail_drained, 300, f"{title}: mails taken by the mailer")
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # anything doubled would arrive by now
        report = await ws.finish()
        load_lotse = load_average()

        # ---- correctness -----------------------------------------------------------------------
        titles = ["Aufwärmen", *(f"Meldung {k + 1}" for k in range(ITEMS))]
        assert report["error_count"] == 0, report["errors"]
        assert report["repeats"] == 0, report
        assert report["report"] == {t: len(live) for t in titles}, report["report"]
        counts = dict(view_query(view, "SELECT account_id, count(*) FROM notifications WHERE item_id IS NOT NULL "
                                       "GROUP BY account_id"))
        assert counts == {follower(n): len(titles) for n in range(FOLLOWERS)}, (
            f"{len(counts)} accounts with notifications, "
            f"{sum(1 for n in range(FOLLOWERS) if counts.get(follower(n)) != len(titles))} followers off")
        ((two_reasons,),) = view_query(view, "SELECT count(*) FROM notifications "
                                             "WHERE item_id IS NOT NULL AND json_array_length(reasons) = 2")
        assert two_reasons == sum(1 for n in range(FOLLOWERS) if n % 5 == 0) * len(titles)
        assert len(mails) == mail_each * len(titles), (len(mails), mail_each)

        # ---- the peer: the same fan-out as bare NATS from one process ---------------------------
        for c in clients:
            await c.kill()
        clients.clear()
        await js.add_stream(jsapi.StreamConfig(name="BENCH_PEER", subjects=["peer.inbox.>"],
                                               storage=jsapi.StorageType.FILE))
        names = tmp_path / "peer-accounts.tsv"
        names.write_text("".join(f"{a}\n" for a in live))
        listeners = await Clients.start("nats", server.url, names, tmp_path / "nats-clients.log")
        clients.append(listeners)
        await asyncio.wait_for(listeners.ready, 120)
        watched = set(live)
        peer_inbox, peer_live = [], []
        for k in range(ITEMS):
            title = f"Peer {k + 1}"
            source = new_id()
            t0 = time.time()
            pending = []
            for n in range(FOLLOWERS):
                account_id = follower(n)
                payload = json.dumps({"id": f"{source}-{n}", "title": title, "account_id": account_id,
                                      "summary": "Neue Wohnungsangebote", "path": "/news/x"}).encode()
                pending.append(await js.publish_async(f"peer.inbox.{account_id}", payload,
                                                      headers={subjects.MSG_ID: f"{source}-{n}"}))
                if account_id in watched:
                    await nc.publish(f"peer.live.{account_id}", payload)
                if len(pending) >= BATCH:
                    await asyncio.gather(*pending)
                    pending = []
            await asyncio.gather(*pending)
            peer_inbox.append(time.time() - t0)
            peer_live.append((await listeners.item(title, 60))["last"] - t0)
            await asyncio.sleep(0.5)
        peer_report = await listeners.finish()
        assert peer_report["repeats"] == 0 and peer_report["report"] == {
            f"Peer {k + 1}": len(live) for k in range(ITEMS)}, peer_report

        print(f"\n{ITEMS} items (and one warm-up) one at a time, each to {FOLLOWERS:,} followers, "
              f"{len(live):,} of them live over WebSocket; {mail_each:,} IMMEDIATE mails queued per item; "
              f"load average after Lotse {load_lotse}, after the peer {load_average()}\n")
        print("| from publish to … | Lotse p50 ms | Lotse p99 ms | bare NATS p50 ms | bare NATS p99 ms | ratio (p50) |")
        print("|---|---|---|---|---|---|")
        print(row(f"last inbox write ({FOLLOWERS:,} rows) / {FOLLOWERS:,} JetStream publishes acked",
                  inbox_times, peer_inbox))
        print(row(f"last live delivery ({len(live):,} WebSockets) / {len(live):,} core subscribers",
                  live_times, peer_live))
        print(row(f"last mail queued ({mail_each:,} on mail.bulk)", mail_times, None))
        print(f"\nlast live delivery p99: {percentile(live_times, 99) * 1000:,.0f} ms "
              f"(target < 1,000 ms: {'met' if percentile(live_times, 99) < 1 else 'MISSED'}); "
              f"every subscriber got every item once; every follower has one inbox row per item; "
              f"median inbox {statistics.median(inbox_times) * 1000:,.0f} ms")
    finally:
        for c in clients:
            await c.kill()
        if nc is not None:
            await nc.close()
        try:
            # Gateways first, as Compose stops them; one slow to stop (a thousand sockets
            # closing) is killed and the others are stopped all the same.
            for name in sorted(deployment.processes, key=lambda n: not n.startswith("gateway")):
                try:
                    deployment.processes[name].stop(timeout=60)
                except AssertionError as e:
                    print(f"{name}: {str(e)[:200]}")
        finally:
            server.cleanup()
