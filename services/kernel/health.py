"""Is a service up? Ask the micro framework's `$SRV.PING.<name>`: any replica answers."""

from __future__ import annotations

import asyncio
import json

import nats.errors
from nats.aio.client import Client as NATS


async def ping(nc: NATS, service: str, timeout: float = 1.0) -> bool:
    try:
        msg = await nc.request(f"$SRV.PING.{service}", b"", timeout=timeout)
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError, asyncio.TimeoutError):
        return False
    try:
        return json.loads(msg.data).get("name") == service
    except (ValueError, AttributeError):
        return False


async def ping_all(nc: NATS, services: tuple[str, ...], timeout: float = 1.0) -> dict[str, bool]:
    results = await asyncio.gather(*(ping(nc, s, timeout) for s in services))
    return dict(zip(services, results, strict=True))
