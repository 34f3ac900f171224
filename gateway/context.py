"""What every resolver sees as `info.context`: the running gateway and who is calling."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from gateway.caller import client_address
from gateway.state import Gateway
from proto.common import Caller
from proto.errors import Unauthenticated
from services.kernel.auth import Principal, bearer


class GatewayContext(BaseContext):
    def __init__(self, gateway: Gateway, token: str | None, address: str | None) -> None:
        super().__init__()
        self.gateway = gateway
        # Over HTTP the token comes from the Authorization header; over WebSocket the view
        # replaces it with the one from `connection_init` (gateway.graphql.GraphQLView).
        self.token = token
        self.address = address

    @property
    def caller(self) -> Caller:
        return Caller(token=self.token, client_address=self.address)

    def principal(self) -> Principal:
        """The verified caller, for what the gateway decides itself (subscriptions).

        Raises `Unauthenticated`; requests to services carry the raw token instead and each
        service verifies it on its own.
        """
        verifier = self.gateway.verifier
        if verifier is None:
            raise Unauthenticated("sign-in is not available yet; try again shortly")
        return verifier.verify(self.token)


async def context_of(connection: HTTPConnection) -> GatewayContext:
    """FastAPI dependency: the context of one HTTP request or one WebSocket connection."""
    gateway: Gateway = connection.app.state.gateway
    peer = connection.client.host if connection.client else None
    address = client_address(peer, connection.headers.get("x-forwarded-for"), gateway.settings.trusted_proxies)
    return GatewayContext(gateway, bearer(connection.headers.get("authorization")), address)


# What resolvers declare as their `info`: strawberry's Info with our context, so a type
# checker follows `info.context.gateway.client` to the typed proto client.
GatewayInfo = Info[GatewayContext, None]
