"""JetStream for a cluster: a publish rides out a NATS node's loss and its leader election.

When the node leading a stream (or a KV bucket, which is a stream) dies, its followers
elect a new leader once they have missed its heartbeats for a while — nats-server waits
4 to 9 seconds, a constant of its Raft code, not a setting. Until then a publish to the
stream finds nobody to store it: "no responders", a 503, or no answer at all. A publish
whose connection is lost may also have been stored with only its acknowledgement lost.

So every process's JetStream publishes through `PatientJetStream.publish`: each attempt
waits `attempt_timeout` at most, a failed one is sent again (after a short pause, or at
once when the connection it went out on was lost) until `patience` has passed, and only
then is the last failure raised. Sending again is safe: an event carries its envelope id
as `Nats-Msg-Id`, which the stream keeps for its duplicate window, so a retry of a stored
event answers with the first one's sequence instead of storing it twice; a KV `create` or
compare-and-set `update` fails on the second try as "wrong last sequence", which
services/kernel/claims.py reads back and recognises as its own.

KV buckets opened from this context (`create_key_value`, `key_value`) publish through it
too: nats-py's KeyValue calls its context's `publish`.

`stream_info` is patient as well, and more: while a replicated stream has no leader, any
of its replicas answers from its own copy, which may lag behind what was acknowledged —
a view "catching up" to that answer (services/kernel/projector.py: `catch_up`) would
decide on a stale state and lose the next append as well. So an answer from a leaderless
stream is not taken; the question is asked again until a leader answers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from proto.client import request_riding_reconnects
from services.kernel.logging import get_logger

log = get_logger("jetstream")

ATTEMPT_TIMEOUT = 3.0  # seconds one publish or API request may take before it is sent again
PAUSES = (0.05, 0.1, 0.2, 0.3)  # between attempts; then the last again

# What a leader election (or a lost node) looks like to a publisher.
FAILING_OVER: tuple[type[Exception], ...] = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
)


class PatientJetStream(JetStreamContext):
    def __init__(self, nc: NATS, patience: float, attempt_timeout: float = ATTEMPT_TIMEOUT):
        super().__init__(nc, timeout=attempt_timeout)
        self.patience = patience
        self.attempt_timeout = attempt_timeout

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float | None = None,
        stream: str | None = None,
        headers: dict[str, Any] | None = None,
        msg_ttl: float | None = None,
    ) -> api.PubAck:
        """As `JetStreamContext.publish`, sent again until stored or `patience` is over."""
        hdr = dict(headers or {})
        if stream is not None:
            hdr[api.Header.EXPECTED_STREAM] = stream
        if msg_ttl is not None:
            hdr[api.Header.MSG_TTL] = str(int(msg_ttl))
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.patience
        attempt = 0
        while True:
            attempt += 1
            try:
                msg = await request_riding_reconnects(
                    self._nc, subject, payload, headers=hdr or None,
                    timeout=min(timeout or self.attempt_timeout, max(deadline - loop.time(), 0.01)))
                resp = json.loads(msg.data)
                if "error" in resp:
                    raise nats.js.errors.APIError.from_error(resp["error"])  # raises the error's own class
                ack = api.PubAck.from_response(resp)
            except FAILING_OVER as e:
                pause = PAUSES[min(attempt, len(PAUSES)) - 1]
                if loop.time() + pause >= deadline:
                    log.warning("jetstream.publish_gave_up", subject=subject, attempts=attempt,
                                seconds=round(loop.time() - started, 2), error=type(e).__name__)
                    if isinstance(e, nats.errors.NoRespondersError):
                        raise nats.js.errors.NoStreamResponseError from None  # as nats-py's publish says it
                    raise
                if attempt == 1:
                    log.info("jetstream.publish_retrying", subject=subject, error=type(e).__name__)
                await asyncio.sleep(pause)
                continue
            if attempt > 1:
                log.info("jetstream.publish_recovered", subject=subject, attempts=attempt,
                         seconds=round(loop.time() - started, 2), duplicate=ack.duplicate)
            return ack


    async def stream_info(self, name: str, subjects_filter: str | None = None) -> api.StreamInfo:
        """As `JetStreamContext.stream_info`, answered by the stream's leader (when it has
        replicas) and asked again until one answers or `patience` is over."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience
        attempt = 0
        while True:
            attempt += 1
            try:
                info = await super().stream_info(name, subjects_filter)
                if info.cluster is None or info.cluster.leader or (info.config.num_replicas or 1) <= 1:
                    return info
                failure: Exception = nats.errors.TimeoutError()  # only a stale copy answered
            except FAILING_OVER as e:
                failure = e
            pause = PAUSES[min(attempt, len(PAUSES)) - 1]
            if loop.time() + pause >= deadline:
                log.warning("jetstream.stream_info_gave_up", stream=name, attempts=attempt,
                            error=type(failure).__name__)
                raise failure
            await asyncio.sleep(pause)


def patient_jetstream(nc: NATS, patience: float) -> PatientJetStream:
    return PatientJetStream(nc, patience)


async def pull(sub: JetStreamContext.PullSubscription, batch: int, timeout: float) -> list[Msg]:
    """Up to `batch` messages of a pull consumer, or none when nothing came in `timeout`.

    nats-py says "nothing came" with its own TimeoutError on most paths, but with a bare
    asyncio.TimeoutError when the deadline runs out between its two pull requests (a short
    timeout on a busy loop, nats/js/client.py `_fetch_n`) — which an `except
    nats.errors.TimeoutError` let through as a failure. Its own is a subclass of the bare one."""
    try:
        return await sub.fetch(batch, timeout=timeout)
    except asyncio.TimeoutError:
        return []
