"""Notifications' reactions to other services' events — of both kinds (ARCHITECTURE: "Two ways
to consume another service's events").

Views, every replica its own (an ordered consumer each, via the kernel's projector, resumed
from the sequence stored in the same SQLite file): the directory's actors, members, their
regions and the region names (`DirectoryFacts`), and identity's accounts — address, whether
it is confirmed, locale (`AccountsView`).

Side effects, once across replicas: `Reaction` is one durable pull consumer shared by the
replicas, explicit ack, in stream order (one message at a time). A handler must be
idempotent — a message is delivered again when its replica dies before the ack — which
service.py's handlers are because every event they append has a deterministic id and is
appended with an expected sequence: a repeat appends nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiosqlite
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from proto import directory, identity, subjects
from proto.envelope import Envelope
from services.kernel import privacy
from services.kernel.background import stop_task
from services.kernel.jetstream import pull
from services.kernel.logging import get_logger
from services.kernel.streams import wait_for_event_stream
from services.notifications import views

log = get_logger("notifications.reactions")


class DirectoryFacts:
    SCHEMA = views.SCHEMA

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        if envelope.type not in DIRECTORY_KEPT:
            return
        event = envelope.event()
        match event:
            case directory.ActorCreated():
                await views.put_actor(db, event.actor_id, event.profile.name, event.profile.slug, "pending",
                                      event.profile.regions)
                await views.put_member(db, event.actor_id, event.owner_id, "owner")
            case directory.ActorImported():
                await views.put_actor(db, event.actor_id, event.profile.name, event.profile.slug, "approved",
                                      event.profile.regions)
            case directory.ActorUpdated():
                current = await views.actor(db, event.actor_id)
                status = "pending" if event.resubmitted else (current.status if current else "pending")
                await views.put_actor(db, event.actor_id, event.profile.name, event.profile.slug, status,
                                      event.profile.regions)
            case directory.ActorApproved():
                await views.set_actor_status(db, event.actor_id, "approved")
            case directory.ActorRejected():
                await views.set_actor_status(db, event.actor_id, "rejected")
            case directory.InvitationAccepted() | directory.MemberRoleChanged():
                await views.put_member(db, event.actor_id, event.account_id, event.role)
            case directory.MemberRemoved() | directory.MemberLeft():
                await views.remove_member(db, event.actor_id, event.account_id)
            case directory.RegionsImported():
                await views.put_regions(db, event.regions)
            case directory.ActorRedacted():
                record = event.actor
                await views.put_actor(db, record.id, record.profile.name, record.profile.slug, record.status,
                                      record.profile.regions)
                await views.replace_members(db, record.id, {a: m.role for a, m in record.members.items()})


DIRECTORY_KEPT = frozenset(t.TYPE for t in (
    directory.ActorCreated, directory.ActorImported, directory.ActorUpdated, directory.ActorApproved,
    directory.ActorRejected, directory.InvitationAccepted, directory.MemberRoleChanged, directory.MemberRemoved,
    directory.MemberLeft, directory.RegionsImported, directory.ActorRedacted,
))


class AccountsView:
    """Mail goes only to a confirmed address: registration records an address unconfirmed;
    a confirmation (or a reset link that reached it) confirms it; a new address is
    confirmed by its own link (`EmailConfirmed` carries it)."""

    SCHEMA = views.SCHEMA

    async def apply(self, db: aiosqlite.Connection, envelope: Envelope, seq: int, subject: str) -> None:
        await privacy.note_tombstone(db, envelope, seq, subject)
        if envelope.type not in ACCOUNTS_KEPT:
            return
        account_id = subjects.aggregate_id(subject)
        event = envelope.event()
        match event:
            case identity.AccountRegistered():
                await views.put_account(db, event.account_id, event.email.casefold(), event.display_name,
                                        event.locale)
            case identity.EmailConfirmed():
                await views.confirm_email(db, account_id, event.email.casefold())
            case identity.PasswordReset():
                await views.confirm_email(db, account_id, None)
            case identity.ProfileUpdated():
                await views.set_profile(db, account_id, event.display_name, event.locale)


ACCOUNTS_KEPT = frozenset({identity.AccountRegistered.TYPE, identity.EmailConfirmed.TYPE,
                           identity.PasswordReset.TYPE, identity.ProfileUpdated.TYPE})


# What a reaction's handler gets: the event, its stream sequence, and a way to tell the
# server it is still at work (a fan-out to thousands takes a while).
Handler = Callable[[Envelope, int, Callable[[], Awaitable[None]]], Awaitable[None]]

ACK_WAIT = 10.0  # seconds without an ack or a progress note before the server redelivers


class Reaction:
    """One durable pull consumer on another (or its own) stream, shared by the replicas."""

    def __init__(self, js: JetStreamContext, *, stream_of: str, durable: str, handler: Handler,
                 filter_subject: str | None = None, replicas: int = 1):
        self._js = js
        self._service = stream_of
        self._stream = subjects.stream_name(stream_of)
        self._filter = filter_subject or subjects.events_filter(stream_of)
        self._durable = durable
        self._handler = handler
        self._replicas = replicas
        self._sub: JetStreamContext.PullSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.handled = 0

    async def start(self) -> None:
        await wait_for_event_stream(self._js, self._service, self._replicas)
        self._sub = await self._js.pull_subscribe(
            self._filter, durable=self._durable, stream=self._stream,
            config=api.ConsumerConfig(ack_policy=api.AckPolicy.EXPLICIT, ack_wait=ACK_WAIT, max_deliver=-1,
                                      max_ack_pending=1, deliver_policy=api.DeliverPolicy.ALL))
        self._task = asyncio.create_task(self._run(), name=f"reaction-{self._durable}")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # unacked messages stay with the consumer for the next replica
                pass
            self._sub = None

    async def _run(self) -> None:
        assert self._sub is not None
        while True:
            try:
                msgs = await pull(self._sub, 1, 5)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("reaction.fetch_failed", durable=self._durable, error=repr(e))
                await asyncio.sleep(1)
                continue
            for msg in msgs:
                await self._one(msg)

    async def _one(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        try:
            envelope = Envelope.model_validate_json(msg.data)
        except ValueError:
            log.error("reaction.unreadable", durable=self._durable, seq=seq)
            await msg.term()
            return
        try:
            await self._handler(envelope, seq, msg.in_progress)
        except asyncio.CancelledError:
            raise
        except Exception:
            attempt = msg.metadata.num_delivered or 1
            log.exception("reaction.failed", durable=self._durable, seq=seq, type=envelope.type, attempt=attempt)
            await msg.nak(delay=min(2.0 * attempt, 30.0))
            return
        await msg.ack()
        self.handled += 1
