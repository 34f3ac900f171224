"""The live hub's fan-out: one message in, every listener of that account out, nobody blocked."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.live import LiveHub
from proto import subjects
from proto.identity import Account, AccountView


@dataclass
class Msg:
    subject: str
    data: bytes


def account(account_id: str, display_name: str = "Amira") -> Account:
    return Account(
        id=account_id, username="amira", email="a@example.org", display_name=display_name, locale="de",
        role="member", email_confirmed=True, created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def push(account_id: str, display_name: str = "Amira", subject_id: str | None = None) -> Msg:
    view = AccountView(account=account(account_id, display_name))
    return Msg(subjects.live_account(subject_id or account_id), view.model_dump_json().encode())


async def take(listener, n: int) -> list[Account]:
    out = []
    async for item in listener:
        out.append(item)
        if len(out) == n:
            break
    return out


async def test_every_listener_of_the_account_gets_the_change_and_nobody_else():
    hub = LiveHub()
    async with hub.account("A") as a1, hub.account("A") as a2, hub.account("B") as b:
        await hub._on_account(push("A", "Amira K."))
        assert [x.display_name for x in await take(a1, 1)] == ["Amira K."]
        assert [x.display_name for x in await take(a2, 1)] == ["Amira K."]
        assert b._queue.empty()


async def test_a_slow_listener_drops_its_oldest_items_and_blocks_nobody():
    hub = LiveHub(queue_size=2)
    async with hub.account("A") as slow:
        for name in ("one", "two", "three"):
            await hub._on_account(push("A", name))  # returns at once although nobody reads
        assert slow.dropped == 1
        assert [x.display_name for x in await take(slow, 2)] == ["two", "three"]


async def test_leaving_removes_the_listener():
    hub = LiveHub()
    async with hub.account("A"):
        assert hub.listener_count == 1
    assert hub.listener_count == 0


async def test_unreadable_or_misaddressed_messages_are_dropped():
    hub = LiveHub()
    async with hub.account("A") as listener:
        await hub._on_account(Msg(subjects.live_account("A"), b"{not json"))
        await hub._on_account(push("B", subject_id="A"))  # body about B on A's subject
        assert listener._queue.empty()


async def test_stopping_the_hub_ends_every_stream():
    hub = LiveHub()
    async with hub.account("A") as listener:
        reader = asyncio.create_task(take(listener, 5))
        await asyncio.sleep(0)
        await hub.stop()
        assert await asyncio.wait_for(reader, 5) == []
