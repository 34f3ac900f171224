"""Requests and publishes ride out a NATS node's loss (README: Past one machine).

The transport (proto/client.py) sends a request again when nobody was subscribed for a
moment, and — only when the request may arrive twice — when the connection it went out on
was lost or the service said "try again in a moment" (UNAVAILABLE with `retry_after`).
JetStream publishes (services/kernel/jetstream.py) wait for their stream to answer again.
A service endpoint that cannot reach NATS answers UNAVAILABLE with `retry_after`, not
INTERNAL. A real nats-server throughout, killed (-9) and restarted on the same port where
a node is lost; tests/e2e/test_cluster_failover.py does the same to a 3-node cluster.
"""

from __future__ import annotations

import asyncio
import os
import signal

import nats.js.errors
import pytest
from nats.aio.msg import Msg
from nats.js import api as js_api

from proto import subjects
from proto.client import ERROR_CODE_HEADER, ERROR_HEADER, LotseClient, NatsTransport
from proto.directory import Directory, ListTopics, Vocabulary
from proto.errors import ErrorBody, ErrorCode, Unavailable
from services.kernel.auth import TokenVerifier
from services.kernel.clock import Clock
from services.kernel.connection import connect
from services.kernel.endpoints import Endpoints, RequestContext
from services.kernel.jetstream import PatientJetStream
from tests.support.nats_server import LocalNats

SUBJECT = "failover.echo"
OK = b'{"ok":true}'


@pytest.fixture
def server():
    own = LocalNats()
    own.start()
    yield own
    own.cleanup()


@pytest.fixture
async def connections(server):
    opened = []

    async def open_(name: str):
        nc = await connect(server.url, name)
        opened.append(nc)
        return nc

    yield open_
    for nc in opened:
        await nc.close()


def kill_and_restart(server: LocalNats) -> None:
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    server.start()  # same port, same store


class Service:
    """A responder on `failover.echo` that answers the n-th request as `answer(n)` says:
    bytes (the reply), an ErrorBody (an error reply), or None (no answer: as if the reply
    were lost with a node)."""

    def __init__(self, nc, answer):
        self.nc = nc
        self.answer = answer
        self.received: list[bytes] = []

    async def on_request(self, msg: Msg) -> None:
        self.received.append(msg.data)
        answer = self.answer(len(self.received))
        if isinstance(answer, ErrorBody):
            await self.nc.publish(msg.reply, answer.model_dump_json().encode(),
                                  headers={ERROR_HEADER: answer.message, ERROR_CODE_HEADER: "503"})
        elif answer is not None:
            await self.nc.publish(msg.reply, answer)


async def serve(nc, answer) -> Service:
    service = Service(nc, answer)
    await nc.subscribe(SUBJECT, cb=service.on_request)
    await nc.flush()
    return service


async def ask(nc, *, repeatable: bool, timeout: float = 20.0) -> bytes:
    service, _, verb = SUBJECT.partition(".")
    return await NatsTransport(nc, timeout).request(service, verb, b"{}", None, repeatable)


async def until(check, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_no_responders_is_asked_again_until_a_replica_subscribes(connections):
    client, replica = await connections("client"), await connections("replica")

    async def subscribe_later() -> None:
        await asyncio.sleep(0.7)  # a replica reconnecting to another node
        await serve(replica, lambda n: OK)

    later = asyncio.create_task(subscribe_later())
    assert await ask(client, repeatable=False) == OK  # even a request that must not repeat: nobody had it
    await later


async def test_a_service_that_stays_away_is_unavailable(connections):
    client = await connections("client")
    with pytest.raises(Unavailable, match="not running"):
        await ask(client, repeatable=True, timeout=5)


async def test_a_repeatable_request_is_sent_again_when_its_server_is_lost(server, connections):
    client, replica = await connections("client"), await connections("replica")
    service = await serve(replica, lambda n: None if n == 1 else OK)  # the first reply is lost
    asking = asyncio.create_task(ask(client, repeatable=True, timeout=30))
    await until(lambda: len(service.received) == 1)
    kill_and_restart(server)
    # Without the resend this would wait the whole 30 s and answer UNAVAILABLE.
    assert await asyncio.wait_for(asking, 25) == OK
    assert len(service.received) == 2


async def test_a_request_that_may_not_repeat_is_sent_once(server, connections):
    client, replica = await connections("client"), await connections("replica")
    service = await serve(replica, lambda n: None if n == 1 else OK)
    asking = asyncio.create_task(ask(client, repeatable=False, timeout=4))
    await until(lambda: len(service.received) == 1)
    kill_and_restart(server)
    with pytest.raises(Unavailable, match="did not answer in time"):
        await asking
    assert len(service.received) == 1  # it may have been done: never twice


FAILING_OVER = ErrorBody(code=ErrorCode.UNAVAILABLE, message="failing over", retry_after=1)
REBUILDING = ErrorBody(code=ErrorCode.UNAVAILABLE, message="rebuilding its view")


@pytest.mark.parametrize(("first", "repeatable", "asked"), [
    (FAILING_OVER, True, 2),  # "try again in a moment", and it may be: asked again
    (FAILING_OVER, False, 1),  # it might be done twice: the caller hears UNAVAILABLE
    (REBUILDING, True, 1),  # no retry_after: nothing a moment's wait would change
])
async def test_unavailable_is_asked_again_only_when_the_service_says_when(connections, first, repeatable, asked):
    client, replica = await connections("client"), await connections("replica")
    service = await serve(replica, lambda n: first if n == 1 else OK)
    if asked == 2:
        assert await ask(client, repeatable=repeatable) == OK
    else:
        with pytest.raises(Unavailable, match=first.message):
            await ask(client, repeatable=repeatable)
    assert len(service.received) == asked


async def test_a_publish_waits_for_its_stream_and_a_repeat_is_stored_once(connections):
    nc = await connections("publisher")
    js = PatientJetStream(nc, patience=10)

    async def stream_later() -> None:
        await asyncio.sleep(0.7)  # as a new stream leader is elected
        await js.add_stream(js_api.StreamConfig(name="FAILOVER", subjects=["failover.events.>"]))

    later = asyncio.create_task(stream_later())
    headers = {subjects.MSG_ID: "event-1"}
    first = await js.publish("failover.events.one", b"1", stream="FAILOVER", headers=headers)
    again = await js.publish("failover.events.one", b"1", stream="FAILOVER", headers=headers)
    await later
    assert (first.seq, first.duplicate, again.seq, again.duplicate) == (1, None, 1, True)
    assert (await js.stream_info("FAILOVER")).state.messages == 1


async def test_a_publish_gives_up_after_its_patience(connections):
    js = PatientJetStream(await connections("publisher"), patience=1)
    with pytest.raises(nats.js.errors.NoStreamResponseError):
        await js.publish("failover.nowhere", b"1")


class Topics:
    """A service whose one endpoint cannot reach its stream."""

    async def list_topics(self, req: ListTopics, ctx: RequestContext) -> Vocabulary:
        raise nats.js.errors.NoStreamResponseError


async def test_an_endpoint_that_cannot_reach_nats_answers_unavailable_with_retry_after(connections):
    service_nc, client_nc = await connections("service"), await connections("client")
    endpoints = Endpoints("directory", "0.1.0", {"list_topics": Directory.list_topics},
                          {"list_topics": Topics().list_topics})
    await endpoints.start(service_nc, TokenVerifier(Clock(), 1))
    try:
        client = LotseClient(client_nc, timeout=5)
        with pytest.raises(Unavailable) as refused:
            # Sent as a request that may not repeat, so the answer is the first one.
            await client.transport.request("directory", "list_topics", b"{}", None, False)
        assert refused.value.code is ErrorCode.UNAVAILABLE and refused.value.retry_after == 1
        assert "cannot reach NATS" in refused.value.message
    finally:
        await endpoints.stop()
