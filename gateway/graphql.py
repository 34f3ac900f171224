"""The GraphQL endpoint: HTTP (queries, mutations, GraphiQL) and WebSocket (graphql-transport-ws).

WebSocket authentication: a client sends its access token in `connection_init`
(`{"authorization": "Bearer <token>"}` or `{"token": "<token>"}`); it becomes the caller's
token for everything on that connection. It is verified where it matters — when a
subscription starts, and again on every push — so an expired token ends a subscription
with UNAUTHENTICATED instead of silently outliving its 15 minutes. A payload of the wrong
shape closes the connection (4403).
"""

from __future__ import annotations

from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from gateway.caller import token_from_connection_params
from gateway.context import GatewayContext, context_of
from gateway.schema import schema
from proto.errors import Invalid

PATH = "/graphql"


class GraphQLView(GraphQLRouter[GatewayContext, None]):
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
