"""Keeping up with a KV bucket: its current entries first, then every change, through NATS restarts.

Token verifiers mirror identity's public keys and revocation list this way. nats-py's
watcher is an ordered consumer, and an ordered consumer notices a lost server-side
consumer only when a heartbeat arrives — after nats-server restarted and forgot it, none
ever does, and the mirror would silently stop at the last entry it saw. So the watch
starts over (all current values again, then changes) when the connection reconnected, or
when the bucket holds an entry newer than the last one seen and nothing arrived for
STALL_AFTER — the same check the projector makes of its view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats.errors
from nats.aio.client import Client as NATS
from nats.js.kv import KeyValue

from services.kernel.background import stop_task
from services.kernel.logging import get_logger

log = get_logger("kvwatch")

WATCH_INTERVAL = 1.0  # seconds without an update before checking whether the watch still works
STALL_AFTER = 2.0  # seconds the bucket may be ahead of the watch before it starts over
RETRY_AFTER = 1.0  # seconds between attempts while NATS cannot be watched

OnEntry = Callable[[KeyValue.Entry], None]


class BucketWatch:
    """Calls `on_entry` for every entry of `kv`, from its current values on; `start()`
    returns once those current values are in."""

    def __init__(self, nc: NATS, kv: KeyValue, on_entry: OnEntry, name: str):
        self._nc = nc
        self._kv = kv
        self._on_entry = on_entry
        self._name = name
        self._ready = asyncio.Event()
        self._seen = 0  # highest revision handed to on_entry
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0  # how often the watch started over (tests and logs read it)

    async def start(self, timeout: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name=f"kv-watch-{self._name}")
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            await self.stop()
            raise TimeoutError(f"the {self._name} bucket did not deliver its entries within {timeout}s")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._watch_until_stale()
                self.restarts += 1
                log.info("kvwatch.restart", bucket=self._name, seen=self._seen)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("kvwatch.failed", bucket=self._name, error=str(e))
                await asyncio.sleep(RETRY_AFTER)

    async def _watch_until_stale(self) -> None:
        """Hand over entries until the watch must start over; return then."""
        reconnects = self._nc.stats["reconnects"]
        watcher = await self._kv.watchall()
        stalled_since: float | None = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    entry = await watcher.updates(timeout=WATCH_INTERVAL)
                except nats.errors.TimeoutError:
                    if self._nc.stats["reconnects"] != reconnects:
                        return  # the server may have forgotten the consumer: start over
                    if not await self._behind():
                        stalled_since = None
                    elif stalled_since is None:
                        stalled_since = loop.time()
                    elif loop.time() - stalled_since >= STALL_AFTER:
                        return
                    continue
                if entry is None:  # the current values are all in
                    self._ready.set()
                    continue
                if isinstance(entry, KeyValue.Entry):
                    stalled_since = None
                    self._seen = max(self._seen, entry.revision or 0)
                    self._on_entry(entry)
                else:
                    return  # the watcher was stopped under us
        finally:
            try:
                await watcher.stop()
            except Exception:
                pass  # the connection may be gone; the consumer goes with it

    async def _behind(self) -> bool:
        """Whether the bucket holds an entry this watch has not delivered.

        Entries expire oldest first, so while any is stored the newest is, and a working
        watch has seen it."""
        try:
            state = (await self._kv.status()).stream_info.state
        except Exception:
            return False  # NATS unreachable: nothing to compare with yet
        return state.messages > 0 and state.last_seq > self._seen
