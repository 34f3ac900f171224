"""Is a service up, and ready? Ask the micro framework's `$SRV.PING.<name>`: any replica answers.

A service whose view is still being rebuilt answers the ping (it runs) with
`view: catching-up` and how far it is in its metadata (see runtime.py): up, not ready.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import nats.errors
from nats.aio.client import Client as NATS


@dataclass(frozen=True)
class Status:
    up: bool
    ready: bool
    detail: dict[str, str] = field(default_factory=dict)  # the ping's metadata


async def status(nc: NATS, service: str, timeout: float = 1.0) -> Status:
    try:
        msg = await nc.request(f"$SRV.PING.{service}", b"", timeout=timeout)
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError, asyncio.TimeoutError):
        return Status(up=False, ready=False)
    try:
        body = json.loads(msg.data)
        up = body.get("name") == service
        detail = {str(k): str(v) for k, v in (body.get("metadata") or {}).items()}
    except (ValueError, AttributeError):
        return Status(up=False, ready=False)
    return Status(up=up, ready=up and detail.get("view", "ready") == "ready", detail=detail)


async def ping(nc: NATS, service: str, timeout: float = 1.0) -> bool:
    return (await status(nc, service, timeout)).up


async def ping_all(nc: NATS, services: tuple[str, ...], timeout: float = 1.0) -> dict[str, bool]:
    results = await asyncio.gather(*(ping(nc, s, timeout) for s in services))
    return dict(zip(services, results, strict=True))


async def status_all(nc: NATS, services: tuple[str, ...], timeout: float = 1.0) -> dict[str, Status]:
    results = await asyncio.gather(*(status(nc, s, timeout) for s in services))
    return dict(zip(services, results, strict=True))
