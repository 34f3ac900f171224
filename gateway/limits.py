"""Limits on every request: GraphQL document depth, aliases and tokens; body size; time.

The GraphQL limits are built once at import. Strawberry constructs a fresh extension per
request (shared instances leak `execution_context` between concurrent requests, see
strawberry#4369, and are deprecated in 0.341), but its validation cache is keyed by the
validation rule *classes*: `QueryDepthLimiter(...)` and `MaxAliasesLimiter(...)` create a
new rule class on every construction, so a per-request limiter would never hit the cache.
We therefore create the rule classes here, once, and hand the same classes to a cheap
per-request `AddValidationRules`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions import max_aliases, query_depth_limiter

from proto.errors import ErrorCode

MAX_DEPTH = 10  # the member area nests 3 deep; GraphiQL's introspection query needs 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000  # GraphiQL's introspection query is about 400
# Room for the longest field a person may send (a 100 kB description gets a clear error on
# its field from validation, not a bare 413), and little more.
MAX_BODY_BYTES = 160 * 1024
REQUEST_SECONDS = 15.0
CACHE_SIZE = 256  # distinct documents kept parsed and validated; clients send a few dozen

DEPTH_RULE = query_depth_limiter.create_validator(MAX_DEPTH, None)
ALIAS_RULE = max_aliases.create_validator(MAX_ALIASES)


def graphql_limits() -> list[Callable[[], SchemaExtension]]:
    """Extension factories for `strawberry.Schema(extensions=...)`, in the order they act."""
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules([DEPTH_RULE, ALIAS_RULE]),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
    ]


def error_body(message: str, code: ErrorCode) -> bytes:
    """A GraphQL-shaped error, so a GraphQL client shows it like any other error."""
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code.value}}]}).encode()


async def send_json_error(send: Send, status: int, message: str, code: ErrorCode) -> None:
    body = error_body(message, code)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes the limit; BodySizeLimit answers 413.

    Deliberately not an HTTPException: FastAPI would render that as its own `{"detail"}`
    body before it reached us, and clients should get the same JSON error either way.
    """


class BodySizeLimit:
    """Refuse bodies over `max_bytes`: by Content-Length before the app runs, else while streaming.

    A chunked upload has no Content-Length, so counting what `receive` hands the app is the
    only limit that holds for every client.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is larger than {self.max_bytes} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await send_json_error(send, 400, "Content-Length is not a number", ErrorCode.INVALID_INPUT)
                return
            if int(declared) > self.max_bytes:
                await send_json_error(send, 413, message, ErrorCode.INVALID_INPUT)
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await send_json_error(send, 413, message, ErrorCode.INVALID_INPUT)


class TimeLimit:
    """End an HTTP request that takes longer than `seconds`: 504 with a GraphQL-shaped error.

    WebSockets are exempt: a subscription is meant to stay open. Work a NATS request starts
    is bounded separately by `settings.request_timeout`.
    """

    def __init__(self, app: ASGIApp, seconds: float = REQUEST_SECONDS) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if started:
                raise  # half a response is out; all we can do is break the connection
            await send_json_error(
                send, 504, f"the request took longer than {self.seconds:g} s", ErrorCode.UNAVAILABLE
            )
