"""The live hub: one NATS subscription per live subject pattern, fanned out in-process.

A gateway serves thousands of WebSocket clients; one NATS subscription each would cost the
server an interest per client and this process a callback per client per message. Instead
the hub subscribes once to `live.account.*`, parses each message once, and hands it to the
bounded queues of the subscribers who asked for that account. A slow client's queue drops
its oldest item; nobody else waits for it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from proto import subjects
from proto.identity import Account, AccountView
from services.kernel.logging import get_logger

log = get_logger("gateway.live")

QUEUE_SIZE = 16  # an account changes a few times a minute at most; 16 pending is a stuck client

_CLOSED = object()  # put into every queue when the hub stops, so each stream ends


class Listener:
    """One subscriber's view of the hub: iterate it to get the account as it changes."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, item: object) -> None:
        """Never blocks: when full, the oldest item goes (the newest state is what matters)."""
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.dropped += 1

    async def __aiter__(self) -> AsyncIterator[Account]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            assert isinstance(item, Account)
            yield item


class LiveHub:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._accounts: dict[str, set[Listener]] = defaultdict(set)
        self._subscription: Subscription | None = None
        # Kept as a number, not summed over _accounts: the metrics thread reads it while
        # the event loop changes the dict.
        self._listeners = 0

    async def start(self, nc: NATS) -> None:
        self._subscription = await nc.subscribe(subjects.LIVE_ACCOUNT_ALL, cb=self._on_account)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None
        for listeners in self._accounts.values():
            for listener in listeners:
                listener.offer(_CLOSED)
        self._accounts.clear()
        self._listeners = 0

    @property
    def listener_count(self) -> int:
        return self._listeners

    @asynccontextmanager
    async def account(self, account_id: str) -> AsyncIterator[Listener]:
        """Listen to one account's changes for as long as the block runs."""
        listener = Listener(self._queue_size)
        self._accounts[account_id].add(listener)
        self._listeners += 1
        try:
            yield listener
        finally:
            listeners = self._accounts.get(account_id)
            if listeners is not None and listener in listeners:
                listeners.discard(listener)
                self._listeners -= 1
                if not listeners:
                    del self._accounts[account_id]

    async def _on_account(self, msg: Msg) -> None:
        account_id = subjects.live_account_id(msg.subject)
        listeners = self._accounts.get(account_id)
        if not listeners:
            return
        try:
            view = AccountView.model_validate_json(msg.data)
        except ValidationError:
            log.warning("live.bad_message", subject=msg.subject)
            return
        if view.account.id != account_id:
            # The subject decides who hears it; a body about someone else is a publisher bug.
            log.warning("live.subject_mismatch", subject=msg.subject)
            return
        for listener in tuple(listeners):
            listener.offer(view.account)
