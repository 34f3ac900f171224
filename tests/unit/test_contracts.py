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

    async def request(self, service: str, verb: str, body: bytes, caller: Caller | None) -> bytes:
        self.sent.append((service, verb, body, caller))
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
