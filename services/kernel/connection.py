"""The NATS connection of a process: retries the first connect, then reconnects forever."""

from __future__ import annotations

import asyncio

import nats
from nats.aio.client import Client as NATS

from services.kernel.logging import get_logger

log = get_logger("nats")


async def connect(url: str, name: str, *, first_connect_timeout: float = 30.0) -> NATS:
    async def disconnected() -> None:
        log.warning("nats.disconnected", connection=name)

    async def reconnected() -> None:
        log.info("nats.reconnected", connection=name)

    async def error(e: Exception) -> None:
        log.warning("nats.error", connection=name, error=str(e))

    # In Compose a service may start before its NATS node answers: keep trying for a while
    # instead of crash-looping, then fail loudly.
    deadline = asyncio.get_running_loop().time() + first_connect_timeout
    while True:
        try:
            return await nats.connect(
                servers=[u.strip() for u in url.split(",")],
                name=name,
                max_reconnect_attempts=-1,  # once up, a service outlives a restart of its node
                reconnect_time_wait=0.5,
                connect_timeout=2,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
        except (OSError, nats.errors.NoServersError, asyncio.TimeoutError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.info("nats.waiting", connection=name, url=url)
            await asyncio.sleep(0.5)
