"""The typed contract: an endpoint declared once is the service's table entry, the
client's method and the check of the service's handler."""

from __future__ import annotations

import pytest

from proto import directory, identity
from proto.common import Accepted, Caller
from services.kernel.endpoints import RequestContext, check_handler


class RecordingTransport:
    """A transport that answers from a table and records what was sent (no NATS: unit test)."""

    def __init__(self, replies: dict[str, bytes]):
        self.replies = replies
        self.sent: list[tuple[str, str, bytes, Caller | None]] = []
        self.repeatable: list[bool] = []

    async def request(self, service: str, verb: str, body: bytes, caller: Caller | None,
                      repeatable: bool = False) -> bytes:
        self.sent.append((service, verb, body, caller))
        self.repeatable.append(repeatable)
        return self.replies[f"{service}.{verb}"]


def test_an_endpoint_knows_its_service_and_verb_from_where_it_is_declared():
    assert (directory.Directory.search_actors.service, directory.Directory.search_actors.verb) == (
        "directory", "search_actors")
    assert directory.ENDPOINTS["get_actor"] is directory.Directory.get_actor
    assert list(identity.ENDPOINTS)[:3] == ["register", "resend_confirmation", "confirm_email"]


async def test_a_bound_contract_sends_the_request_and_reads_the_reply_model():
    transport = RecordingTransport({"identity.sign_out": b'{"ok": true, "message": "bye"}'})
    client = identity.Identity(transport)
    caller = Caller(token="t", client_address="203.0.113.9")
    reply = await client.sign_out(identity.SignOut(refresh_token="r"), caller)
    assert isinstance(reply, Accepted) and reply.message == "bye"
    assert transport.sent == [("identity", "sign_out", b'{"refresh_token":"r"}', caller)]
    assert transport.repeatable == [False]  # ending a session twice is not ending it once


def test_reads_imports_and_keyed_writes_may_be_sent_again_other_writes_not():
    # What the transport may send again when a NATS node fails under a request.
    d = directory.Directory
    create = directory.CreateActor(kind="other", name="Sprachcafé", regions=["10041100"])
    assert d.search_actors.may_repeat(directory.SearchActors())
    assert d.import_actors.may_repeat(directory.ImportActors(actors=[create], commit=True))
    assert d.create_actor.may_repeat(create.model_copy(update={"idempotency_key": "k-1"}))
    assert not d.create_actor.may_repeat(create)
    assert not d.update_actor.may_repeat(directory.UpdateActor(actor_id="01J0000000000000000000000A",
                                                               expected_version=3))
    assert not identity.Identity.sign_in.may_repeat(identity.SignIn(identifier="a", password="b"))
    # An inherited endpoint keeps what it declared.
    assert d.export_personal_data.repeatable and d.erasure_blockers.repeatable


class Handlers:
    async def good(self, req: directory.GetActor, ctx: RequestContext) -> directory.Actor:
        raise AssertionError("not called")

    async def wrong_request(self, req: directory.SearchActors, ctx: RequestContext) -> directory.Actor:
        raise AssertionError("not called")

    async def wrong_reply(self, req: directory.GetActor, ctx: RequestContext) -> directory.ActorList:
        raise AssertionError("not called")


def test_a_handler_must_take_and_return_its_endpoints_models():
    handlers = Handlers()
    check_handler(directory.Directory.get_actor, handlers.good)
    for wrong in (handlers.wrong_request, handlers.wrong_reply):
        with pytest.raises(TypeError, match="directory.get_actor"):
            check_handler(directory.Directory.get_actor, wrong)


def test_a_shared_contract_is_each_inheriting_services_own():
    from proto.privacy import PersonalDataContract, holder_services

    assert (identity.Identity.export_personal_data.service, identity.Identity.export_personal_data.verb) == (
        "identity", "export_personal_data")
    assert directory.Directory.erasure_blockers.service == "directory"
    assert PersonalDataContract.erasure_blockers.service == ""  # the shared declaration names no service
    assert list(directory.ENDPOINTS)[-2:] == ["export_personal_data", "erasure_blockers"]
    assert list(identity.ENDPOINTS)[0] == "register"  # a service's own endpoints come first
    assert holder_services() == ["identity", "directory", "news", "notifications"]


async def test_the_client_knows_every_service_that_holds_personal_data():
    from proto.client import LotseClient
    from proto.privacy import CheckErasure, ErasureBlockers

    client = LotseClient(None)  # type: ignore[arg-type]  # no request is sent through it
    assert [holder.erasure_blockers.endpoint.service for holder in client.holders()] == [
        "identity", "directory", "news", "notifications"]
    transport = RecordingTransport({"directory.erasure_blockers": b'{"blockers": [{"message": "m", "names": ["A"]}]}'})
    reply = await directory.Directory(transport).erasure_blockers(CheckErasure(), Caller(token="t"))
    assert isinstance(reply, ErasureBlockers) and reply.blockers[0].names == ["A"]
    assert transport.sent[0][:3] == ("directory", "erasure_blockers", b"{}")


def test_the_runtime_answers_the_shared_endpoints_with_their_models():
    from services.kernel.runtime import ServiceRuntime

    check_handler(directory.Directory.export_personal_data, ServiceRuntime.export_personal_data)  # type: ignore
    check_handler(identity.Identity.erasure_blockers, ServiceRuntime.erasure_blockers)  # type: ignore
