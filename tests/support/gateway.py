"""Helpers for gateway tests: an app whose service clients are recording fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re

import httpx
from fastapi import FastAPI

from gateway.app import create_app
from proto.common import Caller
from services.kernel.settings import Settings


@dataclass
class Call:
    verb: str
    request: Any
    caller: Caller | None


@dataclass
class FakeIdentity:
    """Answers each verb from `replies` (a value, or an exception to raise) and records the call."""

    replies: dict[str, Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def __getattr__(self, verb: str) -> Any:
        async def invoke(request: Any, caller: Caller | None = None) -> Any:
            self.calls.append(Call(verb, request, caller))
            reply = self.replies.get(verb)
            if isinstance(reply, BaseException):
                raise reply
            if reply is None:
                raise AssertionError(f"the test gave no reply for identity.{verb}")
            return reply

        return invoke


@dataclass
class FakeLotse:
    """Stands in for `proto.client.LotseClient`: each service's verbs answered by a fake."""

    identity: FakeIdentity
    directory: FakeIdentity = field(default_factory=FakeIdentity)
    news: FakeIdentity = field(default_factory=FakeIdentity)

    async def send(self, endpoint: Any, request: Any, caller: Caller | None = None) -> Any:
        return await getattr(getattr(self, endpoint.service), endpoint.verb)(request, caller)

    def holders(self) -> list[FakeIdentity]:
        """As `LotseClient.holders`: the services that hold personal data."""
        return [self.identity, self.directory]


def app_with(identity: FakeIdentity, directory: FakeIdentity | None = None, news: FakeIdentity | None = None,
             **settings: Any) -> FastAPI:
    """The real app without its lifespan: no NATS, the fakes stand in for the proto client."""
    settings.setdefault("session_key", "unit-test-session-key")
    app = create_app(Settings(**settings))
    app.state.gateway.lotse = FakeLotse(identity, directory or FakeIdentity(),  # type: ignore[assignment]
                                        news or FakeIdentity())
    return app


def http(app: FastAPI, client: tuple[str, int] = ("203.0.113.7", 50000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")


async def csrf_token(client: httpx.AsyncClient, via: str = "/reset/request") -> str:
    """The CSRF token of this client's browser session, as a page's form carries it."""
    page = await client.get(via)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, f"{via} has no CSRF field:\n{page.text[:500]}"
    return found.group(1)


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, Any]) -> httpx.Response:
    """Post a form as a browser would: with the CSRF token of a page it opened first."""
    via = "/reset/request"
    if url.startswith("http"):  # a client without a base URL: the same site as the form's
        via = url.split("/", 3)[:3] and "/".join(url.split("/", 3)[:3]) + via
    return await client.post(url, data={**data, "csrf": await csrf_token(client, via)})


def as_read(page: str) -> str:
    """A page as a person reads it: without its render time and its forms' CSRF token, which
    differ from one answer to the next whatever the answer says."""
    return re.sub(r'data-rendered-at="[^"]*"|name="csrf" value="[^"]*"', "", page)
