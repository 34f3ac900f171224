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
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketState
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.unset import UNSET, UnsetType

from gateway.caller import token_from_connection_params
from gateway.context import GatewayContext, context_of
from gateway.schema import schema
from proto.errors import Invalid, LotseError
from services.kernel.auth import SESSION_ENDED, TokenRevoked

PATH = "/graphql"
SESSION_ENDED_CLOSE_CODE = 4403  # graphql-transport-ws: Forbidden


class TransportWS(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    """One graphql-transport-ws connection; from its acknowledgement on, the gateway's open
    connections (gateway/connections.py) end it when identity revokes its token."""

    _forget: Callable[[], None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
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
        if self._forget is not None:
            self._forget()
            self._forget = None
        await super().shutdown()


class GraphQLView(GraphQLRouter[GatewayContext, None]):
    graphql_transport_ws_handler_class = TransportWS

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
    return GraphQLView(
        schema,
        path=PATH,
        graphql_ide="graphiql",
        context_getter=context_of,
        # graphql-ws (the old Apollo protocol) is off: one protocol is one to secure and test.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=20,
    )
