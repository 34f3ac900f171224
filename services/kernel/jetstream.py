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
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
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


def patient_jetstream(nc: NATS, patience: float) -> PatientJetStream:
    return PatientJetStream(nc, patience)
