"""The gateway on a real port against a real nats-server, with no service behind it but fakes.

What only the gateway decides is checked here: limits over real HTTP, readiness,
WebSocket authentication, and the live path from a NATS subject to a subscription.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
import jwt
import pytest
import uvicorn
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from gql import gql
from gql.transport.exceptions import TransportQueryError
from nats.micro import add_service

from gateway.app import create_app
from gateway.limits import MAX_BODY_BYTES, MAX_DEPTH
from proto import subjects
from proto.identity import Account, AccountView
from services.kernel.auth import ALGORITHM, AUDIENCE, ISSUER
from services.kernel.clock import Clock
from services.kernel.streams import ensure_kv
from tests.support.graphql import GraphQL
from tests.support.platform import platform_settings

VIEWER_UPDATED = "subscription { viewerUpdated { id displayName } }"
KID = "gateway-test-key"


class SigningKey:
    """Stands in for identity's key management: a key in the JWKS bucket, tokens signed with it."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()

    def jwk(self) -> bytes:
        public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private.public_key()))
        return json.dumps({**public, "kid": KID, "alg": ALGORITHM, "use": "sig"}).encode()

    def token(self, account_id: str, clock: Clock, minutes: int = 15) -> str:
        now = int(clock.now().timestamp())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": account_id, "role": "member", "sid": "s1",
                  "iat": now, "exp": now + minutes * 60}
        return jwt.encode(claims, self.private, algorithm=ALGORITHM, headers={"kid": KID})


@pytest.fixture(scope="module")
async def key(nats_url):
    from services.kernel.connection import connect

    signing = SigningKey()
    nc = await connect(nats_url, "test-keys")
    kv = await ensure_kv(nc.jetstream(), subjects.KV_JWKS)
    await kv.put(KID, signing.jwk())
    await nc.close()
    return signing


@dataclass
class Served:
    app: FastAPI
    clock: Clock
    base_url: str

    @property
    def hub(self):
        return self.app.state.gateway.hub


@pytest.fixture(scope="module")
async def gateway(nats_url, key, tmp_path_factory):
    """The app under uvicorn on a free port, configured as `lotse gateway` runs it."""
    clock = Clock()
    settings = platform_settings(nats_url, tmp_path_factory.mktemp("gateway"), None)
    app = create_app(settings, clock)
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=settings.http_port, log_config=None, access_log=False,
        lifespan="on", ws="websockets-sansio", proxy_headers=False,
    ))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the gateway did not start"
        await asyncio.sleep(0.02)
    yield Served(app, clock, f"http://127.0.0.1:{settings.http_port}")
    server.should_exit = True
    await task


@pytest.fixture
def base_url(gateway) -> str:
    return gateway.base_url


def account(account_id: str, display_name: str) -> Account:
    return Account(id=account_id, username="amira", email="a@example.org", display_name=display_name,
                   locale="de", role="member", email_confirmed=True, created_at="2026-01-01T00:00:00Z")


# ---- readiness ------------------------------------------------------------------------

async def fake_services(nc, names):
    return [await add_service(nc, name=name, version="0.0.1") for name in names]


async def test_readiness_names_what_is_down_and_recovers(base_url, nc):
    async with httpx.AsyncClient() as http:
        alive = await http.get(f"{base_url}/healthz")
        assert alive.status_code == 200 and alive.json() == {"status": "ok"}

        down = await http.get(f"{base_url}/readyz")
        assert down.status_code == 503
        assert down.json()["down"] == ["identity", "directory", "news", "notifications"] and down.json()["nats"] is True

        identity, directory, news, notifications = await fake_services(
            nc, ["identity", "directory", "news", "notifications"])
        ready = await http.get(f"{base_url}/readyz")
        assert ready.status_code == 200 and ready.json()["down"] == []

        await notifications.stop()
        half = await http.get(f"{base_url}/readyz")
        assert half.status_code == 503 and half.json()["down"] == ["notifications"]
        await identity.stop()
        await directory.stop()
        await news.stop()


# ---- limits over real HTTP --------------------------------------------------------------

async def test_depth_limit_reaches_a_real_client_as_a_graphql_error(base_url):
    levels = MAX_DEPTH + 1
    deep = "{ viewer " + "{ id " * levels + "}" * levels + " }"
    with pytest.raises(TransportQueryError) as raised:
        await GraphQL(base_url)(deep)
    assert any("maximum operation depth" in e["message"] for e in raised.value.errors)


async def test_oversized_bodies_are_refused_declared_or_streamed(base_url):
    async def chunks():
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b" " * 4096

    async with httpx.AsyncClient() as http:
        declared = await http.post(f"{base_url}/graphql", content=b" " * (MAX_BODY_BYTES + 1),
                                   headers={"content-type": "application/json"})
        streamed = await http.post(f"{base_url}/graphql", content=chunks(),
                                   headers={"content-type": "application/json"})
    assert declared.status_code == streamed.status_code == 413
    assert streamed.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_metrics_count_requests_by_route_and_operations_by_root_field(gateway):
    api = GraphQL(gateway.base_url)
    await api("query Mine { viewer { id } }")
    settings = gateway.app.state.gateway.settings
    async with httpx.AsyncClient() as http:
        scraped = await http.get(f"http://{settings.metrics_host}:{settings.metrics_port}/metrics")
        public = await http.get(f"{gateway.base_url}/metrics")
    text = scraped.text
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert 'lotse_gateway_graphql_operations_total{name="viewer",type="query"}' in text
    assert 'route="/graphql"' in text and 'status="200"' in text
    assert "Mine" not in text  # client-chosen operation names are not labels
    assert public.status_code == 404  # not on the port the world reaches


async def test_a_taken_metrics_port_stops_the_gateway_from_starting(nats_url, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = platform_settings(nats_url, tmp_path, None, metrics_port=taken.getsockname()[1])
        app = create_app(settings, Clock())
        with pytest.raises(OSError):
            async with app.router.lifespan_context(app):
                pass
        assert app.state.gateway.nc is None  # it never connected


# ---- WebSocket --------------------------------------------------------------------------

async def test_a_subscription_without_a_token_errors_unauthenticated(base_url):
    async with GraphQL(base_url).websocket({}) as ws:
        with pytest.raises(TransportQueryError) as raised:
            async for _ in ws.subscribe(gql(VIEWER_UPDATED)):
                pass
    assert raised.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_forged_token_errors_unauthenticated(base_url):
    async with GraphQL(base_url).websocket({"authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}) as ws:
        with pytest.raises(TransportQueryError) as raised:
            async for _ in ws.subscribe(gql(VIEWER_UPDATED)):
                pass
    assert raised.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_malformed_connection_init_closes_the_socket(base_url):
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Basic abc"}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4403


async def test_the_old_graphql_ws_protocol_is_not_spoken(base_url):
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4406


async def next_push(updates, timeout: float = 10):
    return await asyncio.wait_for(updates.__anext__(), timeout)


async def subscribed(served: Served, account_id: str) -> None:
    """Wait until the hub holds the listener, so a publish cannot race the subscription."""
    deadline = time.monotonic() + 10
    while account_id not in served.hub._accounts:
        assert time.monotonic() < deadline, "the subscription never reached the hub"
        await asyncio.sleep(0.02)


async def test_a_change_published_on_nats_reaches_the_accounts_subscriber_only(gateway, key, nc):
    token = key.token("ACC1", gateway.clock)
    async with GraphQL(gateway.base_url, token=token).websocket() as ws:
        updates = ws.subscribe(gql(VIEWER_UPDATED))
        pending = asyncio.ensure_future(next_push(updates))
        await subscribed(gateway, "ACC1")
        other = AccountView(account=account("ACC2", "Someone else"))
        await nc.publish(subjects.live_account("ACC2"), other.model_dump_json().encode())
        mine = AccountView(account=account("ACC1", "Amira im Zug"))
        await nc.publish(subjects.live_account("ACC1"), mine.model_dump_json().encode())
        assert (await pending)["viewerUpdated"] == {"id": "ACC1", "displayName": "Amira im Zug"}
        await updates.aclose()  # else gql waits out its close timeout for this listener


async def test_a_subscription_ends_unauthenticated_when_its_token_expires(gateway, key, nc):
    clock = gateway.clock
    token = key.token("ACC3", clock, minutes=15)
    async with GraphQL(gateway.base_url, token=token).websocket() as ws:
        updates = ws.subscribe(gql(VIEWER_UPDATED))
        pending = asyncio.ensure_future(next_push(updates))
        await subscribed(gateway, "ACC3")
        clock.advance(timedelta(minutes=16))
        try:
            view = AccountView(account=account("ACC3", "Too late"))
            await nc.publish(subjects.live_account("ACC3"), view.model_dump_json().encode())
            with pytest.raises(TransportQueryError) as raised:
                await pending
        finally:
            clock.advance(timedelta(minutes=-16))
    assert raised.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in raised.value.errors[0]["message"]
