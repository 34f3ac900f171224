"""Two directory replicas erase one person at the same moment: each actor that held the
person's data gets exactly one redaction snapshot, every earlier event of it is erased, and
both replicas' views end up alike. Against a real nats-server; accounts and the tombstone
are written to IDENTITY the way identity writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import nats.errors
import pytest

from proto import directory as api
from proto import identity, subjects
from proto.client import LotseClient
from proto.common import Caller
from proto.errors import NotFound
from proto.mail import OutgoingMail
from proto.privacy import FORMER_MEMBER
from services.directory import views
from services.directory.service import DirectoryService
from services.kernel.clock import Clock
from services.kernel.eventstore import EventStore
from services.kernel.projector import open_database
from services.kernel.settings import Settings
from tests.support.tokens import TestIssuer

SAARBRUECKEN = "10041100"
ADDRESS = "erika.muster@beispiel.example"
NEW_ADDRESS = "erika.neu@beispiel.example"  # the address she changed to later
NAME = "Erika Müßig-Übel"


@pytest.fixture
async def replicas(nc, tmp_path: Path):
    clock = Clock()
    issuer = TestIssuer(clock)
    await issuer.publish(nc.jetstream())
    services = []
    for n in (1, 2):
        settings = Settings(nats_url="unused", data_dir=tmp_path / f"replica-{n}", public_url="https://lotse.test",
                            log_format="json", log_level="warning")
        service = DirectoryService(settings, clock)
        await service.start(nc)
        services.append(service)
    yield services, issuer, clock
    for service in services:
        await service.stop()


async def announce(nc, clock: Clock, services: list[DirectoryService], account_id: str, email: str,
                   name: str) -> int:
    store = EventStore(nc.jetstream(), identity.SERVICE, clock)
    seq = await store.append("account", account_id, identity.AccountRegistered(
        account_id=account_id, username=account_id, email=email, display_name=name, locale="de",
        role="member", password_hash=None, confirm_token_hash=None, confirm_expires_at=None,
    ), expected=0, by=None)
    for service in services:
        assert service.accounts is not None
        await service.accounts.projector.wait_for(seq)
    return seq


async def invitation_token(nc) -> str:
    sub = await nc.jetstream().pull_subscribe(subjects.MAIL_OUTBOX, durable="test-reader",
                                              stream=subjects.MAIL_STREAM)
    tokens = []
    with contextlib.suppress(nats.errors.TimeoutError, asyncio.TimeoutError):
        for msg in await sub.fetch(10, timeout=0.5):
            mail = OutgoingMail.model_validate_json(msg.data)
            if mail.kind == "actor-invitation":
                tokens.append(mail.text.split("token=", 1)[1].split()[0])
            await msg.ack()
    return tokens[-1]


async def snapshots_and_older(service: DirectoryService, actor_id: str) -> tuple[int, int]:
    """(redaction snapshots, events before the newest one) the stream holds for an actor."""
    assert service.store is not None
    stored = await service.store.events_of(api.AGGREGATE_ACTOR, actor_id)
    kinds = [s.envelope.type if s.envelope else "?" for s in stored]
    snapshots = [i for i, kind in enumerate(kinds) if kind == api.ActorRedacted.TYPE]
    return len(snapshots), snapshots[-1] if snapshots else len(kinds)


async def test_two_replicas_erasing_at_once_append_one_snapshot_per_actor(nc, replicas):
    (first, second), issuer, clock = replicas
    await announce(nc, clock, [first, second], "owner-1", "olga@beispiel.example", "Olga Owner")
    registered = await announce(nc, clock, [first, second], "erika-1", ADDRESS, NAME)
    client = LotseClient(nc)
    olga, erika = Caller(token=issuer.token("owner-1")), Caller(token=issuer.token("erika-1"))

    # Erika: an editor here, a contact person there (removed since), invited to a third,
    # and the address of an offering of a fourth; all of it under the address she had then.
    joined = await client.directory.create_actor(api.CreateActor(
        kind="counselling-service", name="Beratung Eiche", regions=[SAARBRUECKEN]), olga)
    await client.directory.invite_member(api.InviteMember(actor_id=joined.id, email=ADDRESS), olga)
    await client.directory.accept_invitation(api.AcceptInvitation(token=await invitation_token(nc)), erika)
    listed = await client.directory.create_actor(api.CreateActor(
        kind="counselling-service", name="Treff Linde", regions=[SAARBRUECKEN]), olga)
    added = await client.directory.add_contact_person(api.AddContactPerson(
        actor_id=listed.id, name=NAME, email=ADDRESS.upper()), olga)
    await client.directory.remove_contact_person(api.RemoveContactPerson(
        actor_id=listed.id, contact_person_id=added.added_id or ""), olga)
    invited = await client.directory.create_actor(api.CreateActor(
        kind="counselling-service", name="Haus Buche", regions=[SAARBRUECKEN]), olga)
    await client.directory.invite_member(api.InviteMember(actor_id=invited.id, email=ADDRESS), olga)
    offered = await client.directory.create_actor(api.CreateActor(
        kind="counselling-service", name="Kurse Ulme", regions=[SAARBRUECKEN]), olga)
    await client.directory.add_offering(api.AddOffering(actor_id=offered.id, name="Sprachcafé", email=ADDRESS),
                                        olga)
    untouched = await client.directory.create_actor(api.CreateActor(
        kind="counselling-service", name="Garten Esche", regions=[SAARBRUECKEN]), olga)
    # Then she changed her address; what was sent to the old one is hers all the same.
    store = EventStore(nc.jetstream(), identity.SERVICE, clock)
    registered = await store.append("account", "erika-1", identity.EmailConfirmed(
        email=NEW_ADDRESS, ends_other_sessions=True), expected=registered, by="erika-1")
    for service in (first, second):
        assert service.accounts is not None
        await service.accounts.projector.wait_for(registered)
    await client.directory.add_contact_person(api.AddContactPerson(
        actor_id=joined.id, name=NAME, email=NEW_ADDRESS), olga)
    for service in (first, second):
        assert service.projector is not None
        await service.projector.catch_up()

    # Both replicas react at the same moment, each from its own view and connection. Counted
    # by the stream's sequence: an extra snapshot would be erased by the next one, unseen.
    js = nc.jetstream()
    appended_before = (await js.stream_info(subjects.stream_name(api.SERVICE))).state.last_seq
    connections = [await open_database(s.database_path) for s in (first, second)]
    try:
        await asyncio.gather(*(s.privacy.erase("erika-1", db) for s, db in zip((first, second), connections)))
    finally:
        for db in connections:
            await db.close()

    appended = (await js.stream_info(subjects.stream_name(api.SERVICE))).state.last_seq - appended_before
    assert appended == 4  # one snapshot for each of the four actors, though both replicas decided
    for actor in (joined, listed, invited, offered):
        assert await snapshots_and_older(first, actor.id) == (1, 0), actor.name  # nothing older left
    assert await snapshots_and_older(first, untouched.id) == (0, 1)  # not hers: left alone
    for service in (first, second):
        assert service.projector is not None
        await service.projector.catch_up()
        state = await views.load_actor(service.db, joined.id)
        assert state is not None and "erika-1" not in state.members and "owner-1" in state.members
        assert (await views.load_actor(service.db, invited.id)).invitations == {}  # type: ignore[union-attr]
        assert (await views.load_actor(service.db, offered.id)).offerings[  # type: ignore[union-attr]
            next(iter((await views.load_actor(service.db, offered.id)).offerings))].email is None  # type: ignore
        lines = await views.history_records(service.db, listed.id)
        assert [line.subject for line in lines if line.type.startswith("contact_person")] == [FORMER_MEMBER] * 2
        assert await views.actors_mentioning(service.db, ADDRESS) == []
        assert await views.actors_mentioning(service.db, NEW_ADDRESS) == []
        assert (await views.load_actor(service.db, joined.id)).contact_persons == {}  # type: ignore[union-attr]

    # The tombstone comes along later, as it does: each replica's eraser finds nothing left.
    seq = await store.append("account", "erika-1", identity.AccountDeleted(), expected=registered, by=None)
    for service in (first, second):
        assert service.accounts is not None and service.eraser is not None
        await service.accounts.projector.wait_for(seq)
        await service.eraser.run_pending()
        assert await views.account(service.db, "erika-1") is None
        assert await views.account(service.db, "owner-1") is not None
    assert (await js.stream_info(subjects.stream_name(api.SERVICE))).state.last_seq - appended_before == 4


# ---- read-your-writes across replicas ----------------------------------------------------

async def test_what_one_replica_stored_is_found_at_once_through_the_other(nc, replicas, monkeypatch):
    """Requests are spread over the replicas: a client that created an actor through one and
    asks the other the next moment finds it there, to read or to change, though that
    replica's view had not applied the event yet when the request came."""
    from services.kernel.endpoints import RequestContext

    (first, second), issuer, clock = replicas
    await announce(nc, clock, [first, second], "owner-2", "otto@beispiel.example", "Otto Owner")
    assert first.projector is not None and second.projector is not None
    slow_write = second.projector._write

    async def late_write(*args, **kwargs):  # the second replica's disk is slow today
        await asyncio.sleep(0.3)
        await slow_write(*args, **kwargs)

    monkeypatch.setattr(second.projector, "_write", late_write)

    def as_otto(service: DirectoryService) -> RequestContext:
        return RequestContext(caller=Caller(token=issuer.token("owner-2")), verifier=service.verifier,
                              correlation_id="test")

    for n in range(4):
        created = await first.create_actor(api.CreateActor(
            kind="counselling-service", name=f"Beratung {n}", regions=[SAARBRUECKEN]), as_otto(first))
        assert second.projector.applied < first.projector.applied  # the second has not seen it yet
        if n % 2:
            found = await second.get_actor(api.GetActor(id=created.id), as_otto(second))
            assert found.name == f"Beratung {n}"
        else:
            changed = await second.add_offering(api.AddOffering(actor_id=created.id, name="Sprechstunde"),
                                                as_otto(second))
            assert [o.name for o in changed.offerings] == ["Sprechstunde"]
    with pytest.raises(NotFound):  # what nobody stored is still not there, after one look
        await second.get_actor(api.GetActor(id="01JNOSUCHACTOR000000000000"), as_otto(second))
