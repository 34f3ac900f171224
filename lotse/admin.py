"""Operator tasks over NATS: they run beside a live platform, like any other client."""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from proto.client import LotseClient
from proto.errors import LotseError
from proto.identity import CreateAdmin
from proto.validation import invalid_from
from services.kernel.connection import connect
from services.kernel.health import ping
from services.kernel.settings import Settings


async def create_admin(settings: Settings, email: str, username: str, display_name: str | None,
                       locale: str) -> str:
    nc = await connect(settings.nats_url, "lotse-admin", first_connect_timeout=5)
    try:
        try:
            request = CreateAdmin(email=email, username=username, display_name=display_name, locale=locale)
        except ValidationError as e:
            raise invalid_from(e) from None
        reply = await LotseClient(nc, settings.request_timeout).identity.create_admin(request)
        return reply.message or "done"
    except LotseError as e:
        raise SystemExit(f"{e.code}: {e.message}" + (f" ({e.field})" if e.field else "")) from None
    finally:
        await nc.close()


async def healthy(settings: Settings, name: str) -> bool:
    if name == "gateway":
        url = f"http://{settings.http_host}:{settings.http_port}/readyz"
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False
    try:
        nc = await connect(settings.nats_url, "lotse-health", first_connect_timeout=3)
    except Exception:
        return False
    try:
        return await ping(nc, name, timeout=2)
    finally:
        await nc.close()
