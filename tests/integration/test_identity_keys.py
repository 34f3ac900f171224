"""Signing keys rotate with overlap: old tokens verify until their key is withdrawn, and
every service learns of a new key through the watched JWKS bucket."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from proto import subjects
from proto.errors import Unauthenticated
from services.identity.keys import OVERLAP, ROTATION, KeyRing
from services.kernel.auth import TokenVerifier
from services.kernel.clock import Clock
from tests.support.platform import platform_settings


@pytest.fixture(autouse=True)
async def fresh_buckets(nc):
    """Each test starts with no keys: the buckets live on the module's nats-server."""
    js = nc.jetstream()
    for bucket in (subjects.KV_SIGNING_KEYS, subjects.KV_JWKS):
        try:
            await js.delete_key_value(bucket)
        except Exception:
            pass


def claims(clock: Clock, lifetime: timedelta = timedelta(minutes=15)) -> dict:
    now = clock.now()
    return {"sub": "01J00000000000000000000000", "role": "member", "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp())}


async def wait_for_kids(verifier: TokenVerifier, expected: set[str]) -> None:
    for _ in range(100):
        if verifier.key_ids == expected:
            return
        await asyncio.sleep(0.05)
    assert verifier.key_ids == expected


async def test_rotation_keeps_old_tokens_valid_through_the_overlap(nc, tmp_path):
    clock = Clock()
    settings = platform_settings("unused", tmp_path, None, secret_key="rotation-test-secret")
    js = nc.jetstream()
    ring = KeyRing(js, settings, clock)
    await ring.start()
    verifier = TokenVerifier(clock)
    await verifier.start(nc)
    first_kid = ring.current_kid
    # Long-lived on purpose: only the key's withdrawal, not expiry, may end this token.
    old_token = ring.sign(claims(clock, ROTATION + timedelta(days=1)))
    await wait_for_kids(verifier, {first_kid})
    assert verifier.verify(old_token).account_id == "01J00000000000000000000000"

    clock.advance(ROTATION)
    await ring.refresh()
    assert ring.current_kid != first_kid
    await wait_for_kids(verifier, {first_kid, ring.current_kid})
    new_token = ring.sign(claims(clock))
    assert verifier.verify(new_token)
    assert verifier.verify(old_token)  # within the overlap the old key still verifies

    # A public key put into the bucket by someone else, without identity's `created_at`:
    # it must not stop identity from withdrawing its own replaced key (nor be withdrawn).
    await (await js.key_value(subjects.KV_JWKS)).put("foreign", json.dumps({"kty": "OKP", "kid": "foreign"}).encode())
    clock.advance(OVERLAP + timedelta(seconds=1))
    await ring.refresh()
    for _ in range(100):
        if first_kid not in verifier.key_ids:
            break
        await asyncio.sleep(0.05)
    assert first_kid not in verifier.key_ids and ring.current_kid in verifier.key_ids
    assert "foreign" in await (await js.key_value(subjects.KV_JWKS)).keys()
    with pytest.raises(Unauthenticated, match="not valid"):
        verifier.verify(old_token)
    await verifier.stop()


async def test_a_second_replica_uses_the_same_key_and_a_wrong_secret_cannot_read_it(nc, tmp_path):
    clock = Clock()
    js = nc.jetstream()
    settings = platform_settings("unused", tmp_path, None, secret_key="shared-secret-of-replicas")
    one, two = KeyRing(js, settings, clock), KeyRing(js, settings, clock)
    await one.start()
    await two.start()
    assert one.current_kid == two.current_kid

    stranger = KeyRing(js, platform_settings("unused", tmp_path, None, secret_key="another-secret"), clock)
    with pytest.raises(Exception):  # the private key is encrypted at rest
        await stranger.start()
