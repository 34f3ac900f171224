"""The gateway's open WebSocket connections: a revocation ends exactly the connections whose
token it refuses (gateway/connections.py), fed by the real verifier's revocation list."""

from __future__ import annotations

import asyncio

from nats.js.kv import KeyValue

from gateway.connections import OpenConnections
from proto import subjects
from proto.identity import REVOCATION_RETENTION, RevokedSession, RevokedTokens
from services.kernel.auth import Principal, TokenVerifier
from services.kernel.clock import Clock

ANNA, BEN = "01J000000000000000000ANNA0", "01J0000000000000000000BEN0"


def put(key: str, value: bytes) -> KeyValue.Entry:
    return KeyValue.Entry(bucket=subjects.KV_REVOCATIONS, key=key, value=value, revision=1, delta=0, created=None,
                          operation=None)


class Socket:
    def __init__(self) -> None:
        self.ended = asyncio.Event()

    async def end(self) -> None:
        self.ended.set()


async def test_a_revocation_ends_the_refused_connections_and_leaves_the_rest():
    clock = Clock()
    verifier = TokenVerifier(clock)
    ended_count = []
    connections = OpenConnections(verifier, on_ended=lambda: ended_count.append(1))
    phone, laptop, bens = Socket(), Socket(), Socket()
    connections.add(Principal(ANNA, "member", "s-phone", 10), phone.end)
    connections.add(Principal(ANNA, "member", "s-laptop", 12), laptop.end)
    connections.add(Principal(BEN, "member", "s-ben", 10), bens.end)

    until = clock.now() + REVOCATION_RETENTION
    verifier.revocations.apply(put(subjects.revoked_session_key("s-phone"),
                                   RevokedSession(account_id=ANNA, until=until).model_dump_json().encode()))
    await asyncio.wait_for(phone.ended.wait(), 1)
    assert not laptop.ended.is_set() and not bens.ended.is_set()
    assert len(connections) == 2 and ended_count == [1]

    # A cutoff below the laptop's token version (a token issued after the change) ends nothing.
    verifier.revocations.apply(put(subjects.revoked_tokens_key(ANNA),
                                   RevokedTokens(issued_up_to=11, until=until).model_dump_json().encode()))
    await asyncio.sleep(0.05)
    assert not laptop.ended.is_set() and len(connections) == 2


async def test_a_forgotten_connection_is_not_ended():
    clock = Clock()
    verifier = TokenVerifier(clock)
    connections = OpenConnections(verifier)
    socket = Socket()
    forget = connections.add(Principal(ANNA, "member", "s-phone", 10), socket.end)
    forget()
    verifier.revocations.apply(put(subjects.revoked_session_key("s-phone"), RevokedSession(
        account_id=ANNA, until=clock.now() + REVOCATION_RETENTION).model_dump_json().encode()))
    await asyncio.sleep(0.05)
    assert not socket.ended.is_set() and len(connections) == 0
    connections.close()
