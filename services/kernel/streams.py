"""Idempotent creation of streams, KV buckets and consumers at start.

Every replica runs this at start; creating what exists with the same config is a no-op on
the server, and a changed config is applied as an update.
"""

from __future__ import annotations

from datetime import timedelta

from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError
from nats.js.kv import KeyValue

from proto import subjects

STREAM_IN_USE = 10058  # "stream name already in use with a different configuration"


async def ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError as e:
        if e.err_code != STREAM_IN_USE:
            raise
        await js.update_stream(config)


async def ensure_event_stream(js: JetStreamContext, service: str, replicas: int = 1) -> None:
    """A service's system of record: every event, kept forever, purgeable for erasure."""
    await ensure_stream(
        js,
        api.StreamConfig(
            name=subjects.stream_name(service),
            subjects=[subjects.events_filter(service)],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=timedelta(minutes=2).total_seconds(),
            deny_delete=True,
            deny_purge=False,  # GDPR erasure purges one aggregate's subject
        ),
    )


async def ensure_mail_stream(js: JetStreamContext, replicas: int = 1) -> None:
    """Outgoing mail carries raw links: a work queue, deleted on ack, gone after 24 h."""
    await ensure_stream(
        js,
        api.StreamConfig(
            name=subjects.MAIL_STREAM,
            subjects=[subjects.MAIL_OUTBOX],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            num_replicas=replicas,
            max_age=timedelta(hours=24).total_seconds(),
            duplicate_window=timedelta(minutes=2).total_seconds(),
        ),
    )


async def ensure_kv(
    js: JetStreamContext, bucket: str, *, ttl: timedelta | None = None, history: int = 1, replicas: int = 1
) -> KeyValue:
    try:
        return await js.create_key_value(
            bucket=bucket,
            history=history,
            ttl=ttl.total_seconds() if ttl else None,
            replicas=replicas,
            storage=api.StorageType.FILE,
        )
    except BadRequestError as e:
        # An operator changed a bucket by hand: keep theirs rather than fail the start.
        if e.err_code != STREAM_IN_USE:
            raise
        return await js.key_value(bucket)
