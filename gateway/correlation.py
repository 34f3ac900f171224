"""A correlation id per HTTP request or WebSocket connection.

The gateway is where a piece of work starts: the id set here travels with every NATS
request the proto client sends and is bound into every log line, in this process and in
the services, so one request can be followed across the platform.
"""

from __future__ import annotations

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proto import context
from proto.envelope import new_id

HEADER = b"x-correlation-id"


class CorrelationId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cid = new_id()
        token = context.correlation_id.set(cid)

        async def tagging_send(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                msg["headers"] = [*msg.get("headers", []), (HEADER, cid.encode())]
            await send(msg)

        with structlog.contextvars.bound_contextvars(correlation_id=cid):
            try:
                await self.app(scope, receive, tagging_send)
            finally:
                context.correlation_id.reset(token)
