"""Unique names across replicas (usernames, emails, slugs): a claim in a KV bucket,
made before the event that uses the name is appended.

A claim is created with `create` (fails if anyone holds it); its value names the
aggregate and when it claimed. A claim is stale when its aggregate never appeared (a crash
between claim and event) for longer than a grace period, or when the aggregate no longer
uses the name; a stale claim is taken over with a compare-and-set `update`, so two takers
cannot both win.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import nats.js.errors
from nats.js.kv import KeyValue

CLAIM_GRACE = timedelta(minutes=2)

# Given the holder's aggregate id: True while it still uses the claimed name, None when
# the aggregate does not exist (yet).
StillHeld = Callable[[str], Awaitable[bool | None]]


class Claims:
    def __init__(self, kv: KeyValue):
        self._kv = kv

    async def claim(self, key: str, aggregate_id: str, still_held: StillHeld, now: datetime) -> bool:
        value = json.dumps({"aggregate_id": aggregate_id, "at": now.isoformat()}).encode()
        try:
            await self._kv.create(key, value)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        try:
            entry = await self._kv.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return await self.claim(key, aggregate_id, still_held, now)
        holder = json.loads(entry.value or b"{}")
        if holder.get("aggregate_id") == aggregate_id:
            return True
        held = await still_held(holder.get("aggregate_id", ""))
        if held:
            return False
        if held is None and now - datetime.fromisoformat(holder["at"]) < CLAIM_GRACE:
            return False  # its aggregate may be on its way into the stream right now
        try:
            await self._kv.update(key, value, last=entry.revision)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            return False

    async def release(self, key: str, aggregate_id: str) -> None:
        """Give a claim back, but only if it is still ours."""
        try:
            entry = await self._kv.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return
        if json.loads(entry.value or b"{}").get("aggregate_id") != aggregate_id:
            return
        try:
            await self._kv.delete(key, last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
