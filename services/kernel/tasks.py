"""A service's deferred work: answer a request at once, do its work from a durable queue.

Some requests must answer the same, in the same time, whatever they are about: a password
reset for an address that has an account and for one that has none. Doing the work before
answering would make the answer slower exactly when the account exists. So such a request
only puts a task on the service's work queue (`<SERVICE>_TASKS`, one publish, whatever the
input) and answers; a durable pull consumer shared by the replicas does the work once.

A task survives a crash of the service (it stays in the stream until acked); a failed task
is retried with a growing delay (one that lost a race, CONFLICT, at once), at most
MAX_DELIVER times; one that cannot be read is dropped with a log line. Handlers must
tolerate a second delivery (the ack may be lost).
A task carries personal data (an address, a username): done or dropped, it is erased
before the ack (services/kernel/workqueues.py), so its bytes do not stay in the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proto import subjects
from proto.envelope import new_id
from proto.errors import Conflict
from services.kernel import workqueues
from services.kernel.background import stop_task
from services.kernel.jetstream import pull
from services.kernel.logging import get_logger
from services.kernel.streams import ensure_stream

log = get_logger("tasks")

MAX_DELIVER = 5
MAX_AGE = timedelta(hours=24)  # work not done in a day is stale (its mail would be)


def retry_delay(attempt: int) -> float:
    return min(2.0 * 2 ** (attempt - 1), 300.0)


class Task(BaseModel):
    """Base of every task's payload; `id` is the message id, so a retried publish queues once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)


T = TypeVar("T", bound=Task)


@dataclass(frozen=True)
class TaskKind(Generic[T]):
    """One kind of task: its name (the subject's last token) and payload model."""

    name: str
    payload: type[T]


@dataclass(frozen=True)
class _Handler:
    kind: TaskKind[Any]
    run: Callable[[Any], Awaitable[None]]


async def ensure_task_stream(js: JetStreamContext, service: str, replicas: int = 1) -> None:
    await ensure_stream(
        js,
        api.StreamConfig(
            name=subjects.tasks_stream(service),
            subjects=[subjects.tasks_filter(service)],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            num_replicas=replicas,
            max_age=MAX_AGE.total_seconds(),
            duplicate_window=timedelta(minutes=2).total_seconds(),
        ),
    )


class Tasks:
    def __init__(self, js: JetStreamContext, service: str, replicas: int = 1):
        self._js = js
        self._service = service
        self._replicas = replicas
        self._stream = subjects.tasks_stream(service)
        self._handlers: dict[str, _Handler] = {}
        self._sub: JetStreamContext.PullSubscription | None = None
        self._task: asyncio.Task[None] | None = None

    def handle(self, kind: TaskKind[T], run: Callable[[T], Awaitable[None]]) -> None:
        """Register what a kind of task does (before `start`)."""
        self._handlers[kind.name] = _Handler(kind, run)

    async def defer(self, kind: TaskKind[T], task: T) -> None:
        """Queue a task; returns once the stream stored it."""
        await self._js.publish(
            subjects.task_subject(self._service, kind.name),
            task.model_dump_json().encode(),
            stream=subjects.tasks_stream(self._service),
            headers={subjects.MSG_ID: task.id},
        )

    async def start(self) -> None:
        await ensure_task_stream(self._js, self._service, self._replicas)
        self._sub = await self._js.pull_subscribe(
            subjects.tasks_filter(self._service),
            durable=subjects.TASKS_CONSUMER,
            stream=subjects.tasks_stream(self._service),
            config=api.ConsumerConfig(
                ack_policy=api.AckPolicy.EXPLICIT, ack_wait=60, max_deliver=MAX_DELIVER, max_ack_pending=200,
            ),
        )
        self._task = asyncio.create_task(self._run(), name=f"tasks-{self._service}")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # the connection may be closed already; unacked tasks stay queued
                pass
            self._sub = None

    async def _run(self) -> None:
        assert self._sub is not None
        while True:
            try:
                msgs = await pull(self._sub, 20, 5)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("tasks.fetch_failed", service=self._service, error=repr(e))
                await asyncio.sleep(1)
                continue
            # Tasks are independent: run a batch side by side (a mail render waits on NATS).
            await asyncio.gather(*(self._one(msg) for msg in msgs))

    async def _one(self, msg: Msg) -> None:
        name = msg.subject.rsplit(".", 1)[-1]
        handler = self._handlers.get(name)
        try:
            if handler is None:
                raise ValueError(f"no handler for task kind {name!r}")
            task = handler.kind.payload.model_validate_json(msg.data)
        except (ValueError, ValidationError):
            log.error("tasks.unreadable", service=self._service, kind=name, seq=msg.metadata.sequence.stream)
            await workqueues.dropped(self._js, self._stream, msg)
            return
        attempt = msg.metadata.num_delivered or 1
        try:
            await handler.run(task)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            lost_race = isinstance(e, Conflict)
            if lost_race:
                # Another writer (often a task beside it, on the same account) got there
                # first: run again at once on the fresh state, not after a failure's delay.
                log.info("tasks.lost_race", service=self._service, kind=name, task_id=task.id, attempt=attempt)
            else:
                log.exception("tasks.failed", service=self._service, kind=name, task_id=task.id, attempt=attempt)
            if attempt >= MAX_DELIVER:
                # The server would deliver it no more, but keep it (and its data) for a day.
                await workqueues.dropped(self._js, self._stream, msg)
            else:
                await msg.nak(delay=0 if lost_race else retry_delay(attempt))
            return
        await workqueues.done(self._js, self._stream, msg)
