"""Appending events to a service's stream, optimistically concurrent and idempotent.

`append` publishes one envelope to the aggregate's subject with
`Nats-Expected-Last-Subject-Sequence` (the stream sequence of the aggregate's last event
as the caller's view knew it; 0 for a new aggregate) and `Nats-Msg-Id` (the envelope id,
so a publish retried after a lost ack is stored once). The retrying is the JetStream
context's (services/kernel/jetstream.py: it rides out a leader election); when even that
gives up, the caller hears UNAVAILABLE with a `retry_after` — the event may be stored, and
a repeat of the request finds it (an idempotency key, the same decision).

`erase` removes events for good (GDPR erasure): each one by a message delete that
overwrites its bytes in the file store. A subject purge would not do: it only marks the
messages deleted, and their bytes stay in the store's block files until compaction
(tests/integration/test_erasure_on_disk.py looks into the files).
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError
from pydantic import ValidationError

from proto import context, subjects
from proto.envelope import Envelope, Event
from proto.errors import Unavailable
from services.kernel.clock import Clock
from services.kernel.jetstream import FAILING_OVER
from services.kernel.logging import get_logger

log = get_logger("eventstore")

WRONG_LAST_SEQUENCE = (10071, 10164)
MESSAGE_DELETE_FAILED = 10057  # "no message found", or "message delete not permitted" (deny_delete)
SEQUENCE_NOT_FOUND = 10043  # deleted meanwhile by someone else (another replica erasing the same)


class WrongLastSequence(Exception):
    """Someone appended to the aggregate since we read it."""


class ErasureRefused(Exception):
    """The stream does not allow deleting messages (made with `deny_delete`, which NATS
    never lets an update take back): see services/kernel/streams.py."""


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    envelope: Envelope | None  # None: not an envelope (written by hand?), erasable all the same


class EventStore:
    def __init__(self, js: JetStreamContext, service: str, clock: Clock):
        self._js = js
        self._service = service
        self._stream = subjects.stream_name(service)
        self._clock = clock

    def envelope(self, event: Event, by: str | None, event_id: str | None = None) -> Envelope:
        """`event_id`: a deterministic id, for an event several replicas may decide alike
        (the same id is the same `Nats-Msg-Id`); a fresh ULID otherwise."""
        return Envelope(
            **({"id": event_id} if event_id else {}),
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
        try:
            ack = await self._js.publish(subject, payload, stream=self._stream, headers=headers)
        except FAILING_OVER:
            log.warning("eventstore.unavailable", subject=subject)
            raise Unavailable(f"the {self._service} service's event stream is not answering (NATS is failing "
                              "over); try again in a moment", retry_after=1) from None
        except APIError as e:
            if e.err_code in WRONG_LAST_SEQUENCE:
                raise WrongLastSequence(subject) from None
            raise
        return ack.seq

    async def events_of(self, aggregate: str, aggregate_id: str) -> list[StoredEvent]:
        """Every event the stream still holds on one aggregate's subject, oldest first."""
        subject = subjects.aggregate_subject(self._service, aggregate, aggregate_id)
        found: list[StoredEvent] = []
        seq = 1
        while True:
            try:
                msg = await self._js.get_msg(self._stream, seq=seq, subject=subject, next=True)
            except NotFoundError:
                return found
            assert msg.seq is not None
            try:
                envelope: Envelope | None = Envelope.model_validate_json(msg.data or b"")
            except ValidationError:
                envelope = None
            found.append(StoredEvent(msg.seq, envelope))
            seq = msg.seq + 1

    async def erase(self, seqs: list[int]) -> int:
        """Delete these events and overwrite their bytes; one already gone counts as done.
        Returns how many this call erased."""
        erased = 0
        for seq in seqs:
            try:
                await self._js.delete_msg(self._stream, seq)  # the server's default: erase, not only mark
                erased += 1
            except APIError as e:
                if e.err_code == SEQUENCE_NOT_FOUND:
                    continue
                if e.err_code != MESSAGE_DELETE_FAILED:
                    raise
                try:
                    await self._js.get_msg(self._stream, seq=seq)
                except NotFoundError:
                    continue  # another replica erased it first
                raise ErasureRefused(f"{self._stream} refuses to delete messages: {e.description}") from None
        return erased
