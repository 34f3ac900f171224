"""Unique actor slugs across replicas: a claim in the `directory-slugs` bucket before the event.

A claim is made with `create` (fails if anyone holds the slug); its value names the actor
and when it was claimed. A claim is stale when its actor never appeared (a crash between
claim and append) for longer than a grace period, or when that actor has moved to another
slug; a stale claim is taken over with a compare-and-set `update`, so two takers cannot
both win.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import nats.js.errors
from nats.js.kv import KeyValue

CLAIM_GRACE = timedelta(minutes=2)

# Given the holder's actor id: True while that actor still uses the slug, None when the
# actor does not exist (yet).
StillHeld = Callable[[str], Awaitable[bool | None]]


class SlugClaims:
    def __init__(self, kv: KeyValue):
        self._kv = kv

    async def claim(self, slug: str, actor_id: str, still_held: StillHeld, now: datetime) -> bool:
        value = json.dumps({"actor_id": actor_id, "at": now.isoformat()}).encode()
        try:
            await self._kv.create(slug, value)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        try:
            entry = await self._kv.get(slug)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return await self.claim(slug, actor_id, still_held, now)
        holder = json.loads(entry.value or b"{}")
        if holder.get("actor_id") == actor_id:
            return True
        held = await still_held(holder.get("actor_id", ""))
        if held:
            return False
        if held is None and now - datetime.fromisoformat(holder["at"]) < CLAIM_GRACE:
            return False  # its actor may be on its way into the stream right now
        try:
            await self._kv.update(slug, value, last=entry.revision)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            return False

    async def release(self, slug: str, actor_id: str) -> None:
        """Give a claim back, but only if it is still ours."""
        try:
            entry = await self._kv.get(slug)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return
        if json.loads(entry.value or b"{}").get("actor_id") != actor_id:
            return
        try:
            await self._kv.delete(slug, last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
