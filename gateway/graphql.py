"""The GraphQL endpoint: HTTP (queries, mutations, GraphiQL) and WebSocket (graphql-transport-ws).

WebSocket authentication: a client sends its access token in `connection_init`
(`{"authorization": "Bearer <token>"}` or `{"token": "<token>"}`); it becomes the caller's
token for everything on that connection. It is verified where it matters — when a
subscription starts, and again on every push — so an expired token ends a subscription
with UNAUTHENTICATED instead of silently outliving its 15 minutes. A payload of the wrong
shape closes the connection (4403).

A connection whose session ends (sign-out, sign-out everywhere, a password reset or
change, a confirmed change of address, a role change: identity revokes the token) is
closed at once with 4403 — graphql-transport-ws's "Forbidden", the code for a connection
whose authorisation the server refuses; clients may reconnect with fresh credentials,
whereas 4401 ("Unauthorized") means a subscribe before the acknowledgement, after which
clients give up. A token already revoked at `connection_init` is refused the same way.

Keepalive: from its acknowledgement on, the server pings every connection (graphql-transport-ws
`ping`) every PING_INTERVAL seconds; a client that has not answered with a `pong` (or sent
anything) for PONG_TIMEOUT seconds is taken for gone — a phone that lost its network — and
its connection closed with 1001, its subscriptions ended: a dead connection is noticed within
a minute. A client that reconnects with `notificationReceived(after:)` misses nothing.

HTTP bodies: strawberry answers some malformed bodies with a bare text 400 and crashes on
others (`null`, a bare string or number: 500, with a traceback in the log). Every body
that is not one JSON object is refused here first, and every refusal of the HTTP layer
answers in the GraphQL error format, with the request's correlation id, so a client shows
it like any other error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import BackgroundTasks, Request
from fastapi.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket, WebSocketState
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.unset import UNSET, UnsetType

from gateway.caller import token_from_connection_params
from gateway.context import GatewayContext, context_of
from gateway.limits import error_body
from gateway.schema import schema
from gateway.web.graphiql import graphiql_response
from proto.errors import ErrorCode, Invalid, LotseError
from services.kernel.auth import SESSION_ENDED, TokenRevoked

PATH = "/graphql"
SESSION_ENDED_CLOSE_CODE = 4403  # graphql-transport-ws: Forbidden
PING_INTERVAL = 20.0
PONG_TIMEOUT = 45.0
GONE_CLOSE_CODE = 1001  # going away: no pong in time


class TransportWS(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    """One graphql-transport-ws connection; from its acknowledgement on, the gateway's open
    connections (gateway/connections.py) end it when identity revokes its token."""

    _forget: Callable[[], None] | None = None
    _keepalive: asyncio.Task[None] | None = None
    _heard: float = 0.0  # loop time of the client's last message
    ping_interval = PING_INTERVAL
    pong_timeout = PONG_TIMEOUT

    async def handle_message(self, message: Any) -> None:
        self._heard = asyncio.get_running_loop().time()
        await super().handle_message(message)

    async def _keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        self._heard = loop.time()
        while True:
            await asyncio.sleep(self.ping_interval)
            if loop.time() - self._heard > self.pong_timeout:
                for operation_id in list(self.operations):
                    await self.cleanup_operation(operation_id)
                await self.websocket.close(code=GONE_CLOSE_CODE, reason="no pong: connection taken for gone")
                return
            try:
                await self.send_message({"type": "ping"})
            except Exception:  # the socket is gone already; handle() ends on its own
                return

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._keepalive is None:
            self._keepalive = asyncio.create_task(self._keep_alive(), name="graphql-ws-keepalive")
        gateway = self.context.gateway
        if not self.connection_acknowledged or self._forget is not None or self.context.token is None:
            return
        if gateway.verifier is None or gateway.connections is None:
            return
        try:
            principal = gateway.verifier.verify(self.context.token)
        except TokenRevoked:
            await self.end_session()  # revoked while the acknowledgement was on its way
            return
        except LotseError:
            return  # expired or not valid: each subscription is refused as it starts
        self._forget = gateway.connections.add(principal, self.end_session)

    async def end_session(self) -> None:
        # Operations first, so none of them writes to the socket after it closed.
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        socket = self.context.request
        if isinstance(socket, WebSocket) and WebSocketState.DISCONNECTED in (
            socket.application_state, socket.client_state,
        ):
            return  # gone already
        await self.websocket.close(code=SESSION_ENDED_CLOSE_CODE, reason=SESSION_ENDED)

    async def shutdown(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        if self._forget is not None:
            self._forget()
            self._forget = None
        await super().shutdown()

JSON_KINDS = {type(None): "null", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def check_json_body(body: bytes) -> None:
    """Refuse, with a message a person can act on, any POSTed JSON body that is not one
    JSON object (HTTPException 400). Parsing again after this costs microseconds at the
    160 kB a body may have."""
    try:
        text = body.decode("utf-8")  # JSON is UTF-8 (RFC 8259); json.loads would guess UTF-16
    except UnicodeDecodeError as e:
        raise HTTPException(400, f"the request body is not valid UTF-8 (byte {e.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise HTTPException(400, f"the request body is not valid JSON: {e.msg} (line {e.lineno}, "
                                 f"column {e.colno})") from None
    if isinstance(data, list):
        raise HTTPException(400, "batched operations (a JSON array) are not supported: send one operation "
                                 'per request, as a JSON object {"query": …}')
    if not isinstance(data, dict):
        raise HTTPException(400, f'the request body must be a JSON object {{"query": …, "variables": {{…}}}}, '
                                 f"not {JSON_KINDS.get(type(data), 'that')}")


def error_response(status: int, message: str) -> Response:
    code = ErrorCode.NOT_FOUND if status == 404 else ErrorCode.INVALID_INPUT
    return Response(error_body(message, code), status_code=status, media_type="application/json")


class GraphQLView(GraphQLRouter[GatewayContext, None]):
    graphql_transport_ws_handler_class = TransportWS
    post_route: Route | None = None

    async def run(self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        try:
            return await super().run(request, context, root_value)
        except HTTPException as e:
            return error_response(e.status_code, e.reason)

    async def handle_post(self, request: Request) -> Response:
        """POST /graphql, as strawberry's FastAPI route answers it but without FastAPI's
        dependency injection: that route solves four dependencies per request (the context
        and what it is made of), about a tenth of what a small query costs the gateway.
        The same steps, written out (GET and WebSocket keep strawberry's routes)."""
        # The route for the metrics' label, as FastAPI's routes leave it in the scope.
        request.scope.setdefault("route", self.post_route)
        context = await context_of(request)
        context.request = request
        context.background_tasks = BackgroundTasks()
        # What a resolver may set a status or header on, as FastAPI makes it for the route
        # (no length, no status of its own); read by get_sub_response before run() first
        # awaits anything, as in strawberry's route.
        sub_response = Response()
        del sub_response.headers["content-length"]
        sub_response.status_code = None  # type: ignore[assignment]
        context.response = self.temporal_response = sub_response
        response = await self.run(request, context, None)
        if context.background_tasks.tasks and response.background is None:
            response.background = context.background_tasks
        return response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if "application/json" in content_type:
                check_json_body(await request.get_body())
        return await super().parse_http_body(request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """Our GraphiQL page: the same IDE, every file from this gateway (gateway/web/graphiql.py)."""
        return graphiql_response()

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        params = context.connection_params
        if params is not None and not isinstance(params, dict):
            raise ConnectionRejectionError({"message": "connection_init payload must be an object"})
        try:
            token = token_from_connection_params(params)
        except Invalid as e:
            raise ConnectionRejectionError({"message": e.message, "field": e.field}) from None
        if token is not None:
            context.token = token
            if context.gateway.verifier is not None:
                try:
                    context.gateway.verifier.verify(token)
                except TokenRevoked:
                    raise ConnectionRejectionError({"message": SESSION_ENDED}) from None
                except LotseError:
                    pass  # expired or not valid: each subscription is refused as it starts
        return UNSET


def graphql_router() -> GraphQLView:
    router = GraphQLView(
        schema,
        path=PATH,
        graphql_ide="graphiql",
        context_getter=context_of,
        # graphql-ws (the old Apollo protocol) is off: one protocol is one to secure and test.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=20,
    )
    # First, so that a POST matches it before strawberry's own POST route.
    router.post_route = Route(PATH, router.handle_post, methods=["POST"])
    router.routes.insert(0, router.post_route)
    return router
