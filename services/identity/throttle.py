"""Brute-force and mail-flood limits, shared by every identity replica through JetStream KV.

Sign-in: failures are counted per identifier as typed (a username or an address, folded)
and per client address — not per account, so that a lock earned under one identifier says
nothing about whether another belongs to the same account. From the 5th failure on an
identifier (the 20th from one address — offices share an address) each further attempt
waits for a lock that doubles from 30 seconds up to 15 minutes and ends by itself; a
success resets that identifier's count. Password and address changes by a signed-in owner
count per account. Counters vanish with the bucket's TTL.

Mail-sending requests: at most a few per target address and more per client address in a
rolling hour. Keys are hashes, so the bucket holds no address in clear, and a counter is
kept for every requested address whether or not it belongs to an account — the limit
itself tells nobody which addresses exist.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from datetime import datetime, timedelta

import nats.js.errors
from nats.js.kv import KeyValue

from proto.errors import RateLimited
from services.identity.secrets import key_of

LOCK_BASE = timedelta(seconds=30)
LOCK_MAX = timedelta(minutes=15)


@dataclass(frozen=True)
class Policy:
    free_failures: int  # failures allowed before locks begin


ACCOUNT = Policy(free_failures=4)
ADDRESS = Policy(free_failures=19)

MAIL_WINDOW = timedelta(hours=1)
MAIL_PER_TARGET = 5
MAIL_PER_CLIENT = 30


def lock_after(failures: int, policy: Policy) -> timedelta:
    """How long the lock lasts after `failures` failures: 0 until the policy's threshold."""
    beyond = failures - policy.free_failures
    if beyond <= 0:
        return timedelta()
    # Capped exponent: thousands of failures must not overflow the timedelta.
    return min(LOCK_BASE * 2 ** min(beyond - 1, 16), LOCK_MAX)


def wait_seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


class _Counters:
    """Compare-and-set JSON records in one KV bucket."""

    def __init__(self, kv: KeyValue):
        self._kv = kv

    async def read(self, key: str) -> tuple[dict, int]:
        try:
            entry = await self._kv.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return {}, 0
        if not entry.value:
            return {}, entry.revision or 0
        return json.loads(entry.value), entry.revision or 0

    async def change(self, key: str, mutate: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Apply `mutate(record) -> record` atomically, retrying on concurrent writers."""
        for _ in range(10):
            record, revision = await self.read(key)
            new = mutate(dict(record))
            try:
                if revision:
                    await self._kv.update(key, json.dumps(new).encode(), last=revision)
                else:
                    await self._kv.create(key, json.dumps(new).encode())
                return new
            except nats.js.errors.KeyWrongLastSequenceError:
                continue
        raise RateLimited("too many requests at once; try again in a moment", retry_after=1)

    async def forget(self, key: str) -> None:
        try:
            await self._kv.delete(key)
        except nats.js.errors.KeyNotFoundError:
            pass


class SignInThrottle:
    def __init__(self, kv: KeyValue):
        self._counters = _Counters(kv)

    @staticmethod
    def _keys(account_key: str, client_address: str | None) -> list[tuple[str, Policy]]:
        keys = [(f"signin.account.{key_of(account_key)}", ACCOUNT)]
        if client_address:
            keys.append((f"signin.client.{key_of(client_address)}", ADDRESS))
        return keys

    async def check(self, account_key: str, client_address: str | None, now: datetime,
                    field: str = "identifier") -> None:
        """Raise RATE_LIMITED while the account or the address is locked; `field`: the
        argument that carried the password."""
        for key, _ in self._keys(account_key, client_address):
            record, _ = await self._counters.read(key)
            locked_until = record.get("locked_until")
            if locked_until and datetime.fromisoformat(locked_until) > now:
                seconds = wait_seconds(datetime.fromisoformat(locked_until), now)
                raise RateLimited(
                    f"too many failed sign-ins; try again in {seconds} seconds",
                    field,
                    retry_after=seconds,
                )

    async def failed(self, account_key: str, client_address: str | None, now: datetime) -> None:
        for key, policy in self._keys(account_key, client_address):
            def count(record: dict, policy: Policy = policy) -> dict:
                failures = int(record.get("failures", 0)) + 1
                lock = lock_after(failures, policy)
                return {"failures": failures, "locked_until": (now + lock).isoformat() if lock else None}

            await self._counters.change(key, count)

    async def succeeded(self, account_key: str) -> None:
        await self._counters.forget(f"signin.account.{key_of(account_key)}")


class MailLimits:
    def __init__(self, kv: KeyValue):
        self._counters = _Counters(kv)

    async def take(self, target: str, client_address: str | None, now: datetime, field: str | None) -> None:
        """Count one mail-sending request; raise RATE_LIMITED once a limit is used up."""
        limits = [(f"mail.target.{key_of(target)}", MAIL_PER_TARGET)]
        if client_address:
            limits.append((f"mail.client.{key_of(client_address)}", MAIL_PER_CLIENT))
        for key, limit in limits:
            def spend(record: dict) -> dict:
                start = record.get("window_start")
                if not start or now - datetime.fromisoformat(start) >= MAIL_WINDOW:
                    return {"window_start": now.isoformat(), "count": 1}
                return {"window_start": start, "count": int(record.get("count", 0)) + 1}

            record = await self._counters.change(key, spend)
            if record["count"] > limit:
                until = datetime.fromisoformat(record["window_start"]) + MAIL_WINDOW
                seconds = wait_seconds(until, now)
                raise RateLimited(
                    f"too many requests for mail; try again in {math.ceil(seconds / 60)} minutes",
                    field,
                    retry_after=seconds,
                )
