"""The gateway's ASGI app: GraphQL at /graphql, the web client (gateway/web), exports, health;
metrics on their own port.

    uvicorn --factory gateway.app:create_app
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from gateway import exports, feeds, health
from gateway.connections import OpenConnections
from gateway.correlation import CorrelationId
from gateway.graphql import graphql_router
from gateway.headers import SecurityHeaders
from gateway.limits import BodySizeLimit, TimeLimit
from gateway.live import LiveHub
from gateway.metrics import HttpMetrics, MetricsListener
from gateway.news_live import PublicationHub
from gateway.notifications_live import NotificationHub
from gateway.state import Gateway
from gateway.web import routes as web
from proto.client import LotseClient
from services.kernel import logging as kernel_logging
from services.kernel.auth import TokenVerifier
from services.kernel.clock import Clock
from services.kernel.clock import clock as platform_clock
from services.kernel.connection import connect, redacted, release
from services.kernel.settings import Settings, get_settings

log = kernel_logging.get_logger("gateway")


@asynccontextmanager
async def running(gateway: Gateway) -> AsyncIterator[None]:
    """NATS connection, proto client, token verifier, live hubs, open WebSocket connections:
    up in that order, down in reverse."""
    settings = gateway.settings
    nc = await connect(settings.nats_url, "gateway")
    verifier = TokenVerifier(gateway.clock, settings.nats_stream_replicas)
    hub = LiveHub()
    publications = PublicationHub()
    notifications = NotificationHub()
    connections: OpenConnections | None = None
    try:
        await verifier.start(nc)
        await hub.start(nc)
        await publications.start(nc)
        await notifications.start(nc)
        gateway.news_hub, gateway.notifications_hub = publications, notifications
        connections = OpenConnections(verifier, on_ended=gateway.metrics.sessions_ended.inc)
        gateway.metrics.live_listeners.set_function(lambda: hub.listener_count)
        gateway.nc, gateway.lotse, gateway.verifier, gateway.hub, gateway.connections = (
            nc, LotseClient(nc, timeout=settings.request_timeout), verifier, hub, connections,
        )
        log.info("gateway.started", nats=redacted(settings.nats_url))
        yield
    finally:
        gateway.lotse = gateway.hub = gateway.verifier = gateway.connections = gateway.news_hub = None
        gateway.notifications_hub = None
        if connections is not None:
            connections.close()
        await notifications.stop()
        await publications.stop()
        await hub.stop()
        await verifier.stop()
        gateway.nc = None
        await release(nc)
        log.info("gateway.stopped")


@asynccontextmanager
async def serving_metrics(gateway: Gateway) -> AsyncIterator[MetricsListener]:
    settings = gateway.settings
    listener = MetricsListener(gateway.metrics, settings.metrics_host, settings.metrics_port)
    try:
        listener.start()
    except OSError as e:
        log.error("gateway.metrics_unavailable", address=f"{settings.metrics_host}:{settings.metrics_port}",
                  error=str(e), hint="set LOTSE_METRICS_PORT to a free port")
        raise
    try:
        yield listener
    finally:
        await asyncio.to_thread(listener.stop)  # waits for the server thread's poll to end


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    kernel_logging.configure(settings.log_level, settings.log_format)
    gateway = Gateway(settings=settings, clock=clock or platform_clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Metrics first: a taken metrics port stops the start before anything connects.
        async with serving_metrics(gateway):
            async with running(gateway):
                yield

    app = FastAPI(title="Lotse gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.gateway = gateway

    app.include_router(graphql_router(), prefix="")
    app.include_router(exports.router)
    app.include_router(feeds.router)
    app.include_router(health.router)
    web.install(app)

    # Outermost last: metrics see the 413s and 504s the limits answer with, and every
    # answer — a CORS preflight too — gets a correlation id and the security headers.
    app.add_middleware(BodySizeLimit)
    app.add_middleware(TimeLimit)
    if origins := settings.cors_origin_list:
        # Partners' browser apps: tokens travel in the Authorization header, never in
        # cookies, so credentials stay off (README, "Browser apps (CORS)").
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"], allow_credentials=False,
            expose_headers=["X-Correlation-Id"], max_age=600,
        )
    app.add_middleware(CorrelationId)
    app.add_middleware(HttpMetrics, metrics=gateway.metrics)
    app.add_middleware(SecurityHeaders)
    return app
