"""Appending events to a service's stream, optimistically concurrent and idempotent.

`append` publishes one envelope to the aggregate's subject with
`Nats-Expected-Last-Subject-Sequence` (the stream sequence of the aggregate's last event
as the caller's view knew it; 0 for a new aggregate) and `Nats-Msg-Id` (the envelope id,
so a publish retried after a lost ack is stored once).
"""

from __future__ import annotations

import asyncio

import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import APIError

from proto import context, subjects
from proto.envelope import Envelope, Event
from services.kernel.clock import Clock
from services.kernel.logging import get_logger

log = get_logger("eventstore")

WRONG_LAST_SEQUENCE = (10071, 10164)


class WrongLastSequence(Exception):
    """Someone appended to the aggregate since we read it."""


class EventStore:
    def __init__(self, js: JetStreamContext, service: str, clock: Clock, attempts: int = 3):
        self._js = js
        self._service = service
        self._stream = subjects.stream_name(service)
        self._clock = clock
        self._attempts = attempts

    def envelope(self, event: Event, by: str | None) -> Envelope:
        return Envelope(
            type=event.TYPE,
            occurred_at=self._clock.now(),
            by=by,
            correlation_id=context.correlation_id.get(),
            data=event.model_dump(mode="json"),
        )

    async def append(
        self, aggregate: str, aggregate_id: str, event: Event, *, expected: int, by: str | None
    ) -> int:
        """Append and return the stream sequence; raise WrongLastSequence on a lost race."""
        return await self.publish(aggregate, aggregate_id, self.envelope(event, by), expected=expected)

    async def publish(self, aggregate: str, aggregate_id: str, envelope: Envelope, *, expected: int) -> int:
        """Append a built envelope (its id is the message id); as `append`."""
        subject = subjects.aggregate_subject(self._service, aggregate, aggregate_id)
        payload = envelope.model_dump_json().encode()
        headers = {
            subjects.MSG_ID: envelope.id,
            subjects.EXPECTED_LAST_SUBJECT_SEQUENCE: str(expected),
        }
        for attempt in range(1, self._attempts + 1):
            try:
                ack = await self._js.publish(subject, payload, stream=self._stream, headers=dict(headers))
                return ack.seq
            except APIError as e:
                if e.err_code in WRONG_LAST_SEQUENCE:
                    raise WrongLastSequence(subject) from None
                raise
            except (nats.errors.TimeoutError, nats.js.errors.NoStreamResponseError):
                # The ack may have been lost after the store; the same Nats-Msg-Id makes the
                # retry answer with the original sequence instead of storing twice.
                if attempt == self._attempts:
                    raise
                log.warning("eventstore.retry", subject=subject, attempt=attempt)
                await asyncio.sleep(0.2 * attempt)
        raise AssertionError("unreachable")
