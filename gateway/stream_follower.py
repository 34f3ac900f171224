"""One gateway's reading of a service's stream, for its live subscriptions.

A live push must come from the stream, the one place where an event is stored exactly
once: no service replica publishes a live message that a crash between store and send
could lose or a retry could send twice. So each gateway reads the stream itself — one
ordered consumer, from the newest event when the gateway starts (what came before is no
live news), resumed after the last event it saw whenever it must resubscribe — and its
hub hands each event to its own subscribers in process.

An ordered consumer whose server forgot it (a restarted or failed-over node) never hears
a heartbeat again, so the follower watches its consumer: gone, or stalled with events
pending, and it subscribes anew after the last sequence seen (as the kernel's projector
does for views).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from proto import subjects
from proto.envelope import Envelope
from services.kernel.background import stop_task
from services.kernel.logging import get_logger

log = get_logger("gateway.stream_follower")

WATCH_INTERVAL = 1.0  # seconds between looks at the consumer
STALL_AFTER = 2.0  # seconds with events pending and none arriving before resubscribing

# What a hub does with each event of the stream (its envelope and stream sequence): hand it
# to queues in process, never wait — the next event is behind it.
OnEvent = Callable[[Envelope, int], None]


class StreamFollower:
    def __init__(self, service: str, filter_subject: str, on_event: OnEvent, *, name: str):
        self._service = service
        self._filter = filter_subject
        self._on_event = on_event
        self._name = name
        self._js: JetStreamContext | None = None
        self._sub: JetStreamContext.PushSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_seq: int | None = None  # stream sequence of the last event seen

    @property
    def following(self) -> bool:
        return self._sub is not None

    async def start(self, nc: NATS) -> None:
        self._js = nc.jetstream()
        # The gateway may start before the service ever has: follow from the background.
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        await self._unsubscribe()

    async def _subscribe(self) -> None:
        assert self._js is not None
        stream = subjects.stream_name(self._service)
        if self.last_seq is None:
            info = await self._js.stream_info(stream)  # NotFoundError until the service created it
            self.last_seq = info.state.last_seq
        self._sub = await self._js.subscribe(
            self._filter, stream=stream, ordered_consumer=True, deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            config=api.ConsumerConfig(opt_start_seq=self.last_seq + 1), cb=self._receive)

    async def _unsubscribe(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # the connection may be gone already; the consumer is ephemeral
                pass
            self._sub = None

    async def _run(self) -> None:
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
                    log.warning("stream_follower.subscribe_failed", follower=self._name, error=repr(e))
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
                log.warning("stream_follower.resubscribe", follower=self._name, seen=current, pending=pending)
                await self._unsubscribe()
                stalled_since = None

    async def _receive(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if self.last_seq is not None and seq <= self.last_seq:
            return  # seen already (an old and a new subscription may overlap once)
        self.last_seq = seq
        try:
            envelope = Envelope.model_validate_json(msg.data)
        except ValidationError:
            log.warning("stream_follower.unreadable", follower=self._name, seq=seq)
            return
        self._on_event(envelope, seq)
