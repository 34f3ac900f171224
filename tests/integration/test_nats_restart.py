"""What a process keeps current from NATS survives a `kill -9` of its nats-server.

The server is restarted on the same port and store, as `lotse dev` restarts its embedded
one (and as Compose restarts a container): the connection reconnects by itself, and the
token verifier's watch of the signing keys (services/kernel/kvwatch.py) must follow
changes made after the restart — nats-py's own watcher would stay silent until it misses
two heartbeats, 10 s or more. (tests/integration/test_token_revocation.py checks the
revocation list through a clean restart.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from proto import subjects
from services.kernel.auth import TokenVerifier
from services.kernel.clock import Clock
from services.kernel.connection import connect
from services.kernel.streams import ensure_kv
from tests.integration.test_gateway_http import SigningKey
from tests.support.nats_server import LocalNats

# Well below the ≥10 s nats-py needs on its own (two missed 5 s heartbeats), so this fails
# without the watch's restart, and far above the ~1-2 s it takes.
FOLLOWS_WITHIN = 8.0


@pytest.fixture
def server():
    own = LocalNats()
    own.start()
    yield own
    own.cleanup()


def kill_and_restart(server: LocalNats) -> None:
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    server.start()  # same port, same store


async def until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def bucket_after_restart(nc):
    """The bucket, once JetStream answers again (it recovers its store after the port opens)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return await nc.jetstream().key_value(subjects.KV_JWKS)
        except Exception:
            assert time.monotonic() < deadline, "JetStream did not come back"
            await asyncio.sleep(0.2)


async def test_the_signing_keys_stay_current_after_the_server_was_killed(server):
    nc = await connect(server.url, "restart-test")
    verifier = TokenVerifier(Clock())
    try:
        kv = await ensure_kv(nc.jetstream(), subjects.KV_JWKS)
        old, new = SigningKey(), SigningKey()
        await kv.put("old", old.jwk())
        await verifier.start(nc)
        assert verifier.key_ids == {"old"}

        kill_and_restart(server)
        kv = await bucket_after_restart(nc)

        # A rotation after the restart: a new key, the old one withdrawn.
        await kv.put("new", new.jwk())
        await kv.delete("old")
        await until(lambda: verifier.key_ids == {"new"}, FOLLOWS_WITHIN,
                    f"the verifier did not follow the rotation after the restart: {verifier.key_ids}")

        # And it keeps following, not only once.
        await kv.put("newer", old.jwk())
        await until(lambda: verifier.key_ids == {"new", "newer"}, FOLLOWS_WITHIN, "a later key was missed")
    finally:
        await verifier.stop()
        await nc.close()
