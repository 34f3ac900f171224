"""A real GraphQL client (gql) over HTTP and WebSocket, with small conveniences for tests."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport


class GraphQL:
    """Run operations against a gateway's /graphql, optionally as a signed-in caller."""

    def __init__(self, base_url: str, token: str | None = None, forwarded_for: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.forwarded_for = forwarded_for

    def as_(self, token: str | None) -> "GraphQL":
        return GraphQL(self.base_url, token, self.forwarded_for)

    async def __call__(self, document: str, **variables: Any) -> dict[str, Any]:
        """Execute and return `data`; GraphQL errors raise gql's TransportQueryError."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        transport = HTTPXAsyncTransport(url=f"{self.base_url}/graphql", headers=headers, timeout=30)
        async with Client(transport=transport, fetch_schema_from_transport=False) as session:
            return await session.execute(GraphQLRequest(document, variable_values=variables or None))

    @asynccontextmanager
    async def websocket(self, init_payload: dict[str, Any] | None = None) -> AsyncIterator[Any]:
        ws_url = self.base_url.replace("http://", "ws://") + "/graphql"
        payload = init_payload if init_payload is not None else (
            {"authorization": f"Bearer {self.token}"} if self.token else {})
        transport = WebsocketsTransport(
            url=ws_url,
            init_payload=payload,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport, fetch_schema_from_transport=False) as session:
            yield session


def errors_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return payload["userErrors"]


def codes_of(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]
