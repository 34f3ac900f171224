"""Live notifications for `notificationReceived`: the gateway follows the NOTIFICATIONS stream.

Each notification is stored once (service/notifications: a delivery event per bucket of
recipients, appended with expected sequence 0), so each gateway reads the deliveries once
(gateway/stream_follower.py) and hands each recipient's notification to that person's
subscribers in process.

A notification's `position` is its delivery event's stream sequence: the order a person's
notifications have everywhere (the service's inbox too). A subscriber that (re)connects
with the last id it saw first gets what it missed from the service, asked to answer only
once its view has applied what this hub has seen (`last_seq`), while the hub already
queues what arrives live; live ones at or before the last position replayed are skipped.
So nothing is missed in between, and nothing comes twice. A subscriber too slow for its
queue is not dropped from: the queue marks itself `overflowed` and the subscription
replays from the service again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from nats.aio.client import Client as NATS
from pydantic import ValidationError

from gateway.stream_follower import StreamFollower
from proto import notifications as contract
from proto import subjects
from proto.envelope import Envelope
from services.kernel.logging import get_logger

log = get_logger("gateway.notifications_live")

QUEUE_SIZE = 256


@dataclass(eq=False)
class NotificationListener:
    account_id: str
    queue: asyncio.Queue[contract.Notification] = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE))
    overflowed: bool = False
    closed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, notification: contract.Notification) -> None:
        try:
            self.queue.put_nowait(notification)
        except asyncio.QueueFull:
            self.overflowed = True  # the subscription replays from the service; nothing is lost
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class NotificationHub:
    def __init__(self) -> None:
        self._listeners: dict[str, set[NotificationListener]] = defaultdict(set)
        self._count = 0
        self._follower = StreamFollower(
            contract.SERVICE, subjects.aggregate_subject(contract.SERVICE, contract.AGGREGATE_DELIVERY, "*"),
            self._on_event, name="notifications-live")
        self.delivered = 0

    async def start(self, nc: NATS) -> None:
        await self._follower.start(nc)

    async def stop(self) -> None:
        await self._follower.stop()
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.close()
        self._listeners.clear()
        self._count = 0

    @property
    def listener_count(self) -> int:
        return self._count

    @property
    def following(self) -> bool:
        return self._follower.following

    @property
    def last_seq(self) -> int | None:
        """Stream sequence of the last delivery seen: a replay asks the service to answer
        only once its view has applied this far."""
        return self._follower.last_seq

    def add(self, account_id: str) -> NotificationListener:
        listener = NotificationListener(account_id)
        self._listeners[account_id].add(listener)
        self._count += 1
        return listener

    def remove(self, listener: NotificationListener) -> None:
        listeners = self._listeners.get(listener.account_id)
        if listeners is not None and listener in listeners:
            listeners.discard(listener)
            self._count -= 1
            if not listeners:
                del self._listeners[listener.account_id]

    def _on_event(self, envelope: Envelope, seq: int) -> None:
        if envelope.type != contract.NotificationsDelivered.TYPE:
            return
        # A delivery names about 150 people, of whom a handful hold a subscription here: only
        # theirs are read into models (validating every recipient of a 10,000-person fan-out
        # cost this loop a quarter of a second an item).
        data = envelope.data
        raw = data.get("recipients")
        if not isinstance(raw, list):
            log.warning("notifications_live.unreadable", seq=seq)
            return
        content: dict | None = None  # read and dumped once per event, not once per listener
        told: list[tuple[set[NotificationListener], contract.Notification]] = []
        for entry in raw:
            account_id = entry.get("account_id") if isinstance(entry, dict) else None
            listeners = self._listeners.get(account_id) if isinstance(account_id, str) else None
            if not listeners:
                continue
            try:
                recipient = contract.Recipient.model_validate(entry)
                if content is None:
                    content = contract.NotificationContent.model_validate(data.get("content")).model_dump()
            except ValidationError:
                log.warning("notifications_live.unreadable", seq=seq)
                return
            told.append((listeners, contract.Notification(
                **content, id=recipient.notification_id, reasons=recipient.reasons, read=False,
                created_at=envelope.occurred_at, position=seq)))
        for listeners, notification in told:  # an unreadable event tells nobody, not some
            for listener in tuple(listeners):
                listener.offer(notification)
                self.delivered += 1
