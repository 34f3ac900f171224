"""Reading a stream in order, batch by batch, with the client's buffer bounded.

The projector once read with nats-py's ordered push consumer. That client answers the
server's flow control when a message reaches the connection, not when the application has
taken it, so under a long backlog the server pushed everything and the client buffered it
all — until its pending limits dropped messages ("slow consumer") that the consumer's own
sequence tracking had already counted. A view far behind its stream lost events.

Here a pull consumer is asked for at most `batch` messages at a time, and the next request
goes out only when the last one is used up: the server never sends more than the client
asked for, so nothing piles up and nothing is dropped. One request is kept outstanding — a
lingering one at the end of the stream, so a new event arrives at once (commands wait for
their own event to be in the view). Every message carries its consumer sequence; a gap in
it (a message lost on a reconnect), a status other than "no more for this request", or
silence past the requests' heartbeats (a restarted server forgot the consumer) raises
`FeedLost`, and the caller opens a new feed after the last sequence it applied.
"""
from __future__ import annotations

import asyncio
import json
from collections import deque

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext, api

from services.kernel.logging import get_logger

__all__ = ["EventFeed", "FeedLost"]

log = get_logger("eventfeed")

EXPIRES = 5.0  # seconds a lingering request waits at the end of the stream
HEARTBEAT = 1.0  # seconds between the server's heartbeats while a request waits
SILENCE = 3 * HEARTBEAT  # nothing heard for this long while asking: the consumer is gone
GRACE = 0.1  # seconds for the connection to read what arrived while the loop was busy
FORGET_AFTER = 30.0  # seconds without requests before the server deletes a dead reader's consumer
ENDED = {api.StatusCode.NO_MESSAGES.value, api.StatusCode.REQUEST_TIMEOUT.value}
HEARTBEAT_STATUS = api.StatusCode.CONTROL_MESSAGE.value


class FeedLost(Exception):
    """The feed cannot go on; open a new one after the last applied sequence."""


class EventFeed:
    """One ephemeral pull consumer reading `filter` of `stream` from a sequence on."""

    def __init__(self, js: JetStreamContext, stream: str, filter: str, *, batch: int):
        self._js = js
        self._nc = js._nc  # the connection the context was made from: its inbox and requests
        self._stream = stream
        self._filter = filter
        self._batch = batch
        self._sub: Subscription | None = None
        self._consumer: str | None = None
        self._next = 1  # the consumer sequence the next message must carry
        self._owed = 0  # messages the outstanding request may still bring; 0: none outstanding
        self._heard = 0.0  # when the server last said anything (or we last asked)
        self._arrived: deque[Msg] = deque()  # at most one request's worth: the server sends no more
        self._signal = asyncio.Event()

    async def open(self, after: int) -> None:
        """Start reading with the event after sequence `after`."""
        self._consumer = self._nc._nuid.next().decode()
        await self._js.add_consumer(self._stream, api.ConsumerConfig(
            name=self._consumer,
            filter_subject=self._filter,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=after + 1,
            ack_policy=api.AckPolicy.NONE,  # the view's own record of the sequence is the ack
            inactive_threshold=FORGET_AFTER,
            mem_storage=True,  # rebuilt from the stream whenever it is lost
            num_replicas=1,
        ))
        self._sub = await self._nc.subscribe(self._nc.new_inbox(), cb=self._on_message)
        self._next, self._owed = 1, 0

    async def _on_message(self, msg: Msg) -> None:
        self._arrived.append(msg)
        self._heard = asyncio.get_running_loop().time()
        self._signal.set()

    async def close(self) -> None:
        sub, consumer, self._sub, self._consumer = self._sub, self._consumer, None, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception:  # the connection may be closed already
                pass
        if consumer is not None:
            try:
                await self._js.delete_consumer(self._stream, consumer)
            except Exception:  # gone with its server, or NATS unreachable: it expires by itself
                pass

    async def _ask(self) -> None:
        assert self._sub is not None and self._consumer is not None
        request = {"batch": self._batch, "expires": int(EXPIRES * 1e9), "idle_heartbeat": int(HEARTBEAT * 1e9)}
        try:
            await self._nc.publish(f"{self._js._prefix}.CONSUMER.MSG.NEXT.{self._stream}.{self._consumer}",
                                   json.dumps(request).encode(), reply=self._sub.subject)
        except Exception as e:  # connection closed or reconnecting with a full buffer
            raise FeedLost(f"could not ask for events: {e!r}") from e
        self._owed = self._batch
        self._heard = asyncio.get_running_loop().time()

    async def next_batch(self, wait: float, limit: int | None = None) -> list[Msg]:
        """The next events in stream order — those already here, at most `limit` (`batch`),
        waiting up to `wait` seconds for the first. An empty list: nothing new."""
        if self._sub is None:
            raise FeedLost("not open")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        msgs: list[Msg] = []
        while len(msgs) < (limit or self._batch):
            if self._owed == 0:
                await self._ask()  # ask again at once: the server fills it while we apply
            if not self._arrived:
                if msgs:
                    break  # what has arrived is the batch; do not wait for more
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._signal.clear()
                try:
                    await asyncio.wait_for(self._signal.wait(), min(remaining, SILENCE))
                except TimeoutError:
                    if loop.time() - self._heard >= SILENCE:
                        # A loop busy elsewhere for seconds fires this timer before the connection
                        # reads what waits in its socket: give the reader a moment first.
                        await asyncio.sleep(GRACE)
                        if not self._arrived:
                            raise FeedLost(f"no word from the server for {SILENCE:.0f} s") from None
                continue
            msg = self._arrived.popleft()
            status = msg.headers.get(api.Header.STATUS) if msg.headers else None
            if not status:
                seq = msg.metadata.sequence.consumer
                if seq != self._next:
                    raise FeedLost(f"consumer sequence {seq} arrived, {self._next} expected")
                self._next += 1
                self._owed -= 1
                msgs.append(msg)
            elif status == HEARTBEAT_STATUS:
                continue
            elif status in ENDED:
                self._owed = 0  # this request is over (expired): the next one goes out above
            else:
                description = msg.headers.get(api.Header.DESCRIPTION, "") if msg.headers else ""
                raise FeedLost(f"the server answered {status} {description}".strip())
        return msgs

