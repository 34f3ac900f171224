"""The revocation list between identity's writer and a token verifier, on a real nats-server:
what is written before a verifier starts is refused from its first answer, what is written
later reaches it, cutoffs only grow, and a restart of nats-server does not stop the watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from nats.aio.client import Client as NATS

from proto import subjects
from proto.identity import REVOCATION_RETENTION, RevokedTokens
from proto.envelope import new_id
from services.identity.domain import Revocation
from services.identity.revocations import Revoker
from services.kernel.auth import TokenRevoked, TokenVerifier
from services.kernel.clock import Clock
from services.kernel.connection import connect
from services.kernel.streams import ensure_kv
from tests.support.nats_server import LocalNats
from tests.support.tokens import TestIssuer

DEADLINE = 5.0


@asynccontextmanager
async def verifying(nc: NATS, clock: Clock) -> AsyncIterator[TokenVerifier]:
    verifier = TokenVerifier(clock)
    await verifier.start(nc)
    try:
        yield verifier
    finally:
        await verifier.stop()


async def revoker(nc: NATS, clock: Clock) -> Revoker:
    return Revoker(await ensure_kv(nc.jetstream(), subjects.KV_REVOCATIONS, ttl=REVOCATION_RETENTION), clock)


async def refused_within(verifier: TokenVerifier, token: str) -> bool:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while asyncio.get_running_loop().time() < deadline:
        try:
            verifier.verify(token)
        except TokenRevoked:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_verifier_that_starts_after_a_revocation_refuses_from_its_first_answer(nc):
    clock = Clock()
    issuer = TestIssuer(clock)
    await issuer.publish(nc.jetstream())
    account, ended, going_on = new_id(), new_id(), new_id()
    await (await revoker(nc, clock)).write(account, Revocation(sessions=frozenset({ended})))

    async with verifying(nc, clock) as verifier:
        with pytest.raises(TokenRevoked, match="this session has ended; sign in again"):
            verifier.verify(issuer.token(account, session_id=ended))
        assert verifier.verify(issuer.token(account, session_id=going_on)).session_id == going_on


async def test_a_revocation_reaches_a_running_verifier(nc):
    clock = Clock()
    issuer = TestIssuer(clock)
    await issuer.publish(nc.jetstream())
    account, session = new_id(), new_id()
    before, after = issuer.token(account, session_id=session, version=9), issuer.token(account, version=10)
    async with verifying(nc, clock) as verifier:
        assert verifier.verify(before).issued_at_version == 9
        await (await revoker(nc, clock)).write(account, Revocation(issued_up_to=9))
        assert await refused_within(verifier, before)
        assert verifier.verify(after).issued_at_version == 10  # issued from the version after the change


async def test_a_cutoff_is_never_lowered(nc):
    clock = Clock()
    account = new_id()
    writer = await revoker(nc, clock)
    await writer.write(account, Revocation(issued_up_to=20))
    await writer.write(account, Revocation(issued_up_to=12))  # a slower replica, deciding on older state
    kv = await nc.jetstream().key_value(subjects.KV_REVOCATIONS)
    stored = RevokedTokens.model_validate_json((await kv.get(subjects.revoked_tokens_key(account))).value)
    assert stored.issued_up_to == 20
    await writer.write(account, Revocation(issued_up_to=31))
    stored = RevokedTokens.model_validate_json((await kv.get(subjects.revoked_tokens_key(account))).value)
    assert stored.issued_up_to == 31


@pytest.mark.slow
async def test_a_verifier_keeps_watching_through_a_restart_of_nats(tmp_path):
    server = LocalNats(store_dir=tmp_path / "nats")
    server.start()
    clock = Clock()
    issuer = TestIssuer(clock)
    nc = await connect(server.url, "verifier")
    writer_nc = await connect(server.url, "identity")
    try:
        await issuer.publish(nc.jetstream())
        account, session = new_id(), new_id()
        token = issuer.token(account, session_id=session)
        async with verifying(nc, clock) as verifier:
            assert verifier.verify(token)
            server.stop()
            server.start()  # same port, same store: the bucket is still there, the consumer is not
            writer = await jetstream_back(writer_nc, clock)
            await writer.write(account, Revocation(sessions=frozenset({session})))
            assert await refused_within(verifier, token)
    finally:
        await writer_nc.close()
        await nc.close()
        server.cleanup()


async def jetstream_back(nc: NATS, clock: Clock) -> Revoker:
    """Identity's writer, once JetStream answers again after the restart."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            return await revoker(nc, clock)
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
