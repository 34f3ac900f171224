"""Helpers for gateway tests: an app whose identity client is a recording fake."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    identity: FakeIdentity


def app_with(identity: FakeIdentity, **settings: Any) -> FastAPI:
    """The real app without its lifespan: no NATS, the fake stands in for the proto client."""
    app = create_app(Settings(**settings))
    app.state.gateway.lotse = FakeLotse(identity)  # type: ignore[assignment]
    return app


def http(app: FastAPI, client: tuple[str, int] = ("203.0.113.7", 50000)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
