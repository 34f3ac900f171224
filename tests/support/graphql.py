"""A real GraphQL client (gql) over HTTP and WebSocket, with small conveniences for tests."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol


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


class TransportWebSocket:
    """A bare graphql-transport-ws client (the websockets library), for what gql hides:
    which messages arrive, and the code the server closes the socket with."""

    def __init__(self, socket: ClientConnection):
        self.socket = socket
        self.answer_pings = True  # as a live client does; False plays a phone that lost its network
        self.pings = 0

    async def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message; the server's keepalive pings are answered (and counted) on the way."""
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.socket.recv())
                if message.get("type") != "ping":
                    return message
                self.pings += 1
                if self.answer_pings:
                    await self.send({"type": "pong"})

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def subscribe(self, operation_id: str, query: str) -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query}})

    async def alive(self, timeout: float = 5.0) -> bool:
        """True when the server still answers a protocol ping with a pong."""
        try:
            await self.send({"type": "ping"})
            while (await self.receive(timeout))["type"] != "pong":
                pass
        except (ConnectionClosed, TimeoutError):
            return False
        return True

    async def closed(self, timeout: float = 5.0) -> tuple[int | None, str | None]:
        """Read until the server closes the socket; (code, reason). TimeoutError if it stays open."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await self.socket.recv()
            except ConnectionClosed:
                pass
        return self.socket.close_code, self.socket.close_reason


@asynccontextmanager
async def transport_websocket(base_url: str, token: str | None,
                              acknowledged: bool = True) -> AsyncIterator[TransportWebSocket]:
    """A connection with `connection_init` sent (and, if `acknowledged`, its ack received)."""
    url = base_url.rstrip("/").replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
        ws = TransportWebSocket(socket)
        await ws.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"} if token else {}})
        if acknowledged:
            ack = await ws.receive()
            assert ack["type"] == "connection_ack", ack
        yield ws
