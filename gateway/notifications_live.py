"""Live notifications for `notificationReceived`: the gateway follows the NOTIFICATIONS stream.

Each notification is stored once (service/notifications: a delivery event per bucket of
recipients, appended with expected sequence 0), so each gateway reads the deliveries once —
one ordered consumer, from the newest event when the gateway starts, resumed after the last
one seen when it must resubscribe — and hands each recipient's notification to that
person's subscribers in process. No replica publishes a live message that a crash could lose
or a retry could send twice.

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
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from proto import notifications as contract
from proto import subjects
from proto.envelope import Envelope
from services.kernel.logging import get_logger

log = get_logger("gateway.notifications_live")

QUEUE_SIZE = 256
WATCH_INTERVAL = 1.0
STALL_AFTER = 2.0


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
        self._js: JetStreamContext | None = None
        self._sub: JetStreamContext.PushSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_seq: int | None = None  # stream sequence of the last event seen
        self.delivered = 0

    async def start(self, nc: NATS) -> None:
        self._js = nc.jetstream()
        self._task = asyncio.create_task(self._run(), name="notifications-live")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        await self._unsubscribe()
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
        return self._sub is not None

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

    async def _subscribe(self) -> None:
        assert self._js is not None
        stream = subjects.stream_name(contract.SERVICE)
        if self.last_seq is None:
            info = await self._js.stream_info(stream)  # NotFoundError until notifications created it
            self.last_seq = info.state.last_seq
        self._sub = await self._js.subscribe(
            subjects.aggregate_subject(contract.SERVICE, contract.AGGREGATE_DELIVERY, "*"), stream=stream,
            ordered_consumer=True, deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            config=api.ConsumerConfig(opt_start_seq=self.last_seq + 1), cb=self._on_event)

    async def _unsubscribe(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:
                pass
            self._sub = None

    async def _run(self) -> None:
        """Subscribe once the stream exists; resubscribe after the last event seen when the
        consumer is gone (a restarted server forgot it) or stalls with deliveries pending."""
        assert self._js is not None
        loop = asyncio.get_running_loop()
        stalled_since: float | None = None
        seen = -1
        while True:
            if self._sub is None:
                try:
                    await self._subscribe()
                except NotFoundError:
                    await asyncio.sleep(WATCH_INTERVAL)
                    continue
                except Exception as e:
                    log.warning("notifications_live.subscribe_failed", error=repr(e))
                    await asyncio.sleep(WATCH_INTERVAL)
                    continue
            await asyncio.sleep(WATCH_INTERVAL)
            sub = self._sub
            if sub is None:
                continue
            try:
                pending = (await sub.consumer_info()).num_pending
            except NotFoundError:
                await self._unsubscribe()
                continue
            except Exception:
                continue
            current = self.last_seq or 0
            if pending == 0 or current != seen:
                stalled_since, seen = None, current
                continue
            if stalled_since is None:
                stalled_since = loop.time()
            elif loop.time() - stalled_since >= STALL_AFTER:
                log.warning("notifications_live.resubscribe", seen=current, pending=pending)
                await self._unsubscribe()
                stalled_since = None

    async def _on_event(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if self.last_seq is not None and seq <= self.last_seq:
            return
        self.last_seq = seq
        try:
            envelope = Envelope.model_validate_json(msg.data)
            if envelope.type != contract.NotificationsDelivered.TYPE:
                return
            event = contract.NotificationsDelivered.model_validate(envelope.data)
        except ValidationError:
            log.warning("notifications_live.unreadable", seq=seq)
            return
        content: dict | None = None  # dumped once per event, not once per listener
        for recipient in event.recipients:
            listeners = self._listeners.get(recipient.account_id)
            if not listeners:
                continue
            if content is None:
                content = event.content.model_dump()
            notification = contract.Notification(
                **content, id=recipient.notification_id, reasons=recipient.reasons, read=False,
                created_at=envelope.occurred_at, position=seq)
            for listener in tuple(listeners):
                listener.offer(notification)
                self.delivered += 1
