"""Two notifications replicas, both killed (-9) in the middle of fanning out four items to 150
followers and mailing them, then started again: every follower has each item once in the
inbox (on both replicas' views), and is mailed each once — one Message-ID per item; SMTP
itself may see a mail twice only when a process died between the server's acceptance and the
queue's ack, and then with the same Message-ID, which mail clients show once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from proto import directory as dapi
from proto import identity, subjects
from proto import news as napi
from proto import notifications as api
from proto.client import LotseClient
from proto.common import Caller
from services.kernel.clock import Clock
from services.kernel.connection import connect
from services.kernel.eventstore import EventStore
from tests.support.nats_server import LocalNats, free_port
from tests.support.processes import LotseProcess, wait_for_service
from tests.support.tokens import TestIssuer

pytestmark = pytest.mark.slow

SAARBRUECKEN = "10041100"
FOLLOWERS = 150
ITEMS = 4


def inbox_counts(view: Path) -> Counter[str]:
    db = sqlite3.connect(f"file:{view}?mode=ro", uri=True, timeout=5)
    try:
        return Counter(dict(db.execute(
            "SELECT account_id, count(*) FROM notifications WHERE account_id LIKE 'follower-%' "
            "GROUP BY account_id").fetchall()))
    finally:
        db.close()


async def settled(js, durables: list[tuple[str, str]], timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        infos = [await js.consumer_info(stream, durable) for stream, durable in durables]
        mail = await js.stream_info(subjects.MAIL_STREAM)
        if all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos) and mail.state.messages == 0:
            return
        if loop.time() > deadline:
            left = await js.get_msg(subjects.MAIL_STREAM, seq=mail.state.first_seq)
            raise AssertionError(f"left: {left.subject} {left.data[:300]!r} "
                                 f"not settled: {[(i.name, i.num_pending, i.num_ack_pending) for i in infos]}, "
                                 f"mail waiting: {mail.state.messages}")
        await asyncio.sleep(0.2)


async def test_kill_9_of_both_replicas_mid_fan_out_loses_and_doubles_nothing(tmp_path, smtp):
    nats_server = LocalNats(store_dir=tmp_path / "nats")
    nats_server.start()
    env = {"LOTSE_NATS_URL": nats_server.url, "LOTSE_SECRET_KEY": "a-test-secret-that-all-processes-share",
           "LOTSE_LOG_FORMAT": "json", "LOTSE_LOG_LEVEL": "warning", "LOTSE_SMTP_HOST": "127.0.0.1",
           "LOTSE_SMTP_PORT": str(smtp.port), "LOTSE_SMTP_STARTTLS": "false",
           "LOTSE_PUBLIC_URL": "http://127.0.0.1:1", "LOTSE_HTTP_PORT": str(free_port()),
           # A mail batch the killed mailers held comes back after this (30 s by default).
           "LOTSE_MAIL_ACK_WAIT": "10"}
    processes: dict[str, LotseProcess] = {}

    def start(name: str) -> None:
        service = name.split("-")[0]
        processes[name] = LotseProcess(["serve", service], {**env, "LOTSE_DATA_DIR": str(tmp_path / name)},
                                       tmp_path / "logs" / f"{name}.log").start()

    nc = None
    try:
        for name in ("directory", "news", "notifications-a", "notifications-b"):
            start(name)
        for name in ("directory", "news", "notifications"):
            await asyncio.to_thread(wait_for_service, env, name, 60)
        nc = await connect(nats_server.url, "test")
        js = nc.jetstream()
        clock = Clock()
        issuer = TestIssuer(clock)
        await issuer.publish(js)
        client = LotseClient(nc, timeout=20)
        store = EventStore(js, identity.SERVICE, clock)

        def caller(account_id: str, role: str = "member") -> Caller:
            return Caller(token=issuer.token(account_id, role))

        people = ["owner", *(f"follower-{n:03d}" for n in range(FOLLOWERS))]
        for account_id in people:
            email = f"{account_id}@example.org"
            seq = await store.append("account", account_id, identity.AccountRegistered(
                account_id=account_id, username=account_id, email=email, display_name=account_id, locale="de",
                role="member", password_hash=None, confirm_token_hash=None, confirm_expires_at=None),
                expected=0, by=None)
            await store.append("account", account_id, identity.EmailConfirmed(email=email), expected=seq, by=None)
        await asyncio.sleep(1.5)  # the services' keys and views: the token key above, the accounts
        actor = await client.directory.create_actor(dapi.CreateActor(
            kind="counselling-service", name="Migrationsberatung Saarbrücken", regions=[SAARBRUECKEN]),
            caller("owner"))
        await client.directory.approve_actor(dapi.ApproveActor(actor_id=actor.id), caller("admin", "admin"))
        await asyncio.sleep(0.5)

        async def follow(account_id: str) -> None:
            who = caller(account_id)
            await client.notifications.follow(api.FollowRequest(
                target=api.FollowTarget(actor=actor.id), email="immediate"), who)
            await client.notifications.follow(api.FollowRequest(
                target=api.FollowTarget(region=SAARBRUECKEN), email="daily"), who)

        followers = people[1:]
        for start_at in range(0, len(followers), 25):
            await asyncio.gather(*(follow(a) for a in followers[start_at:start_at + 25]))

        deliveries_before = (await js.stream_info("NOTIFICATIONS")).state.messages
        for n in range(ITEMS):
            item = await client.news.create_item(napi.CreateNewsItem(
                actor_id=actor.id, kind="article", title=f"Meldung {n}", regions=[SAARBRUECKEN]), caller("owner"))
            await client.news.publish_item(napi.PublishNewsItem(item_id=item.id), caller("owner"))
        # Kill both replicas once the fan-out is under way but not done.
        async with asyncio.timeout(30):
            while (await js.stream_info("NOTIFICATIONS")).state.messages - deliveries_before < 20:
                await asyncio.sleep(0.01)
        for name in ("notifications-a", "notifications-b"):
            processes[name].kill()
        stored_at_kill = (await js.stream_info("NOTIFICATIONS")).state.messages - deliveries_before
        for name in ("notifications-a", "notifications-b"):
            start(name)
        # A mail batch the killed mailers held comes back after LOTSE_MAIL_ACK_WAIT.
        await settled(js, [("NEWS", "fanout"), ("NOTIFICATIONS", "mail")], timeout=120)
        await asyncio.sleep(1)  # the last SMTP transactions

        for name in ("notifications-a", "notifications-b"):
            counts = inbox_counts(tmp_path / name / "notifications" / "notifications.sqlite3")
            assert counts == Counter({a: ITEMS for a in followers}), name
        delivered = [m for m in smtp.inbox.messages if str(m["To"]).startswith("follower-")]
        distinct = {(str(m["To"]), str(m["Message-ID"])) for m in delivered}
        per_person = Counter(to for to, _ in distinct)
        assert per_person == Counter({f"{a}@example.org": ITEMS for a in followers})
        # At most one SMTP transaction in flight per killed process can be repeated, same Message-ID.
        assert len(delivered) - len(distinct) <= 2, (len(delivered), len(distinct))
        stored = (await js.stream_info("NOTIFICATIONS")).state.messages - deliveries_before
        assert 0 < stored_at_kill < stored, (stored_at_kill, stored)  # killed mid fan-out
        print(f"deliveries stored at the kill: {stored_at_kill} of {stored}; SMTP transactions "
              f"{len(delivered)} for {len(distinct)} mails")
    finally:
        if nc is not None:
            await nc.close()
        for process in processes.values():
            process.stop()
        nats_server.cleanup()
