"""Liveness and readiness.

`/healthz` answers while the process runs (restart it when this fails). `/readyz` answers
200 only when NATS is connected and every service the gateway needs replies to
`$SRV.PING` with its view caught up, so a load balancer sends no traffic to a gateway that
could only fail it. A service rebuilding its view is named under `catchingUp`, with how
far it is (`applied` of `of` events).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.state import Gateway
from services.kernel.health import status_all

# The services whose endpoints the gateway's schema calls; extended as domains are added.
READY_SERVICES: tuple[str, ...] = ("identity", "directory", "news", "notifications")
PING_SECONDS = 1.0

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    gateway: Gateway = request.app.state.gateway
    nc = gateway.nc
    catching_up: dict[str, dict[str, int]] = {}
    if nc is None or not nc.is_connected:
        services = {name: False for name in READY_SERVICES}
        nats_ok = False
    else:
        found = await status_all(nc, READY_SERVICES, timeout=PING_SECONDS)
        services = {name: s.ready for name, s in found.items()}
        for name, s in found.items():
            if s.up and not s.ready:
                catching_up[name] = {key: int(s.detail.get(key, "0") or 0) for key in ("applied", "of")}
        nats_ok = True
    down = [name for name, up in services.items() if not up]
    if not nats_ok:
        down.insert(0, "nats")
    body: dict[str, object] = {"status": "ready" if not down else "unavailable", "nats": nats_ok,
                               "services": services, "down": down}
    if catching_up:
        body["catchingUp"] = catching_up
    return JSONResponse(body, status_code=200 if not down else 503, headers={"Cache-Control": "no-store"})
