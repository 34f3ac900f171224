"""Unique usernames and emails across replicas: a claim in a KV bucket before the event.

A claim is created with `create` (fails if anyone holds it), its value names the account.
A claim is stale when its account never appeared (a crash between claim and event) for
longer than a grace period, or when the account no longer uses the name; a stale claim
is taken over with a compare-and-set `update`, so two takers cannot both win.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import nats.js.errors
from nats.js.kv import KeyValue

CLAIM_GRACE = timedelta(minutes=2)

# Given the holder's account id: True while that account still uses the claimed value,
# None when the account does not exist (yet).
StillHeld = Callable[[str], Awaitable[bool | None]]


class Claims:
    def __init__(self, kv: KeyValue):
        self._kv = kv

    async def claim(self, key: str, account_id: str, still_held: StillHeld, now: datetime) -> bool:
        value = json.dumps({"account_id": account_id, "at": now.isoformat()}).encode()
        try:
            await self._kv.create(key, value)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        try:
            entry = await self._kv.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return await self.claim(key, account_id, still_held, now)
        holder = json.loads(entry.value or b"{}")
        if holder.get("account_id") == account_id:
            return True
        held = await still_held(holder.get("account_id", ""))
        if held:
            return False
        if held is None and now - datetime.fromisoformat(holder["at"]) < CLAIM_GRACE:
            return False  # its account may be on its way into the stream right now
        try:
            await self._kv.update(key, value, last=entry.revision)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            return False

    async def release(self, key: str, account_id: str) -> None:
        """Give a claim back, but only if it is still ours."""
        try:
            entry = await self._kv.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return
        if json.loads(entry.value or b"{}").get("account_id") != account_id:
            return
        try:
            await self._kv.delete(key, last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
