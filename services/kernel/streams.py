"""Idempotent creation of streams, KV buckets and consumers at start.

Every replica runs this at start; creating what exists with the same config is a no-op on
the server, and a changed config is applied as an update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from dataclasses import replace

from nats.js import JetStreamContext, api
from nats.js.errors import APIError, BadRequestError, NotFoundError
from nats.js.kv import KeyValue

from proto import subjects
from services.kernel.logging import get_logger

log = get_logger("streams")

STREAM_IN_USE = 10058  # "stream name already in use with a different configuration"
INVALID_UPDATE = 10052  # e.g. "stream configuration update can not cancel deny message deletes"


async def ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError as e:
        if e.err_code != STREAM_IN_USE:
            raise
        await js.update_stream(config)


async def ensure_event_stream(js: JetStreamContext, service: str, replicas: int = 1) -> None:
    """A service's system of record: every event, kept until a person's erasure deletes
    theirs message by message (services/kernel/eventstore.py: `erase`)."""
    config = api.StreamConfig(
        name=subjects.stream_name(service),
        subjects=[subjects.events_filter(service)],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=timedelta(minutes=2).total_seconds(),
        # Erasure deletes single messages, with their bytes overwritten; a purge would leave
        # the bytes in the block files. NATS permissions keep other users from deleting.
        deny_delete=False,
        deny_purge=False,
    )
    try:
        await ensure_stream(js, config)
    except APIError as e:
        if e.err_code != INVALID_UPDATE:
            raise
        # A stream made by an earlier version denies deletes, and NATS never lets an update
        # take that back. Keep it running as it is; erasures wait (and say why in the log)
        # until an operator re-creates the stream from a backup with `deny_delete: false`.
        log.error("streams.erasure_blocked", stream=config.name, error=e.description,
                  fix="restore the stream from a backup with deny_delete false (README: Your data)")
        await js.update_stream(replace(config, deny_delete=True))


async def ensure_mail_stream(js: JetStreamContext, replicas: int = 1) -> None:
    """Outgoing mail carries raw links: a work queue, deleted on ack, gone after 24 h."""
    await ensure_stream(
        js,
        api.StreamConfig(
            name=subjects.MAIL_STREAM,
            subjects=[subjects.MAIL_OUTBOX, subjects.MAIL_BULK],
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


async def wait_for_event_stream(js: JetStreamContext, service: str, replicas: int = 1,
                                on_wait: Callable[[str, Exception], None] | None = None) -> None:
    """Return once another service's event stream exists, before projecting it.

    A service may start before the one whose events it follows ever has. Where it may (dev,
    tests), it creates the stream with the config its owner would give it; where NATS
    permissions forbid that (production), it waits for the owner to create it.
    """
    stream = subjects.stream_name(service)
    try:
        await js.stream_info(stream)
        return
    except NotFoundError:
        pass
    try:
        await ensure_event_stream(js, service, replicas)
        return
    except Exception as e:  # a permission violation surfaces as a timeout or an error
        if on_wait is not None:
            on_wait(stream, e)
    while True:
        await asyncio.sleep(1)
        try:
            await js.stream_info(stream)
            return
        except NotFoundError:
            continue
