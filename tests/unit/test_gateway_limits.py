"""Limits on every request: depth, aliases, tokens, body size, time."""

from __future__ import annotations

import asyncio
import json

from strawberry.extensions.validation_cache import _get_validate_cache

from gateway.limits import CACHE_SIZE, MAX_ALIASES, MAX_BODY_BYTES, MAX_DEPTH, MAX_TOKENS, TimeLimit
from gateway.schema import schema
from tests.support.gateway import FakeIdentity, app_with, http


def messages(body: dict) -> list[str]:
    return [error["message"] for error in body.get("errors", [])]


async def post_query(query: str) -> dict:
    async with http(app_with(FakeIdentity())) as client:
        response = await client.post("/graphql", json={"query": query})
    return response.json()


async def test_a_query_deeper_than_the_limit_is_refused():
    levels = MAX_DEPTH + 1  # the root field is depth 0
    nested = "{ viewer " + "{ id " * levels + "}" * levels + " }"
    body = await post_query(nested)
    assert any("exceeds maximum operation depth" in m for m in messages(body)), body
    assert body.get("data") is None


async def test_too_many_aliases_are_refused():
    aliases = " ".join(f"a{i}: viewer {{ id }}" for i in range(MAX_ALIASES + 1))
    body = await post_query("{ " + aliases + " }")
    assert any("aliases" in m for m in messages(body)), body


async def test_aliases_up_to_the_limit_pass():
    aliases = " ".join(f"a{i}: viewer {{ id }}" for i in range(MAX_ALIASES))
    body = await post_query("{ " + aliases + " }")
    assert "errors" not in body and body["data"]["a0"] is None


async def test_a_document_with_too_many_tokens_is_not_parsed():
    fields = " ".join(["__typename"] * (MAX_TOKENS + 1))
    body = await post_query("{ " + fields + " }")
    assert any(f"more than {MAX_TOKENS} tokens" in m for m in messages(body)), body


async def test_validation_is_cached_across_requests():
    # The limiter's rule classes are built once; a per-request limiter would miss every time.
    cache = _get_validate_cache(CACHE_SIZE)
    query = "query CacheProbe { viewer { id username } }"
    await schema.execute(query)
    hits = cache.cache_info().hits
    await schema.execute(query)
    await schema.execute(query)
    assert cache.cache_info().hits == hits + 2


async def test_a_declared_body_over_the_limit_is_refused_before_the_app_reads_it():
    identity = FakeIdentity()
    async with http(app_with(identity)) as client:
        response = await client.post(
            "/graphql",
            content=b"x" * (MAX_BODY_BYTES + 1),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_streamed_body_without_length_is_cut_at_the_limit():
    async def chunks():
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b"x" * 1024

    async with http(app_with(FakeIdentity())) as client:
        response = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "larger than" in response.json()["errors"][0]["message"]


async def test_a_streamed_form_on_the_pages_is_cut_too():
    identity = FakeIdentity()

    async def chunks():
        yield b"token="
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b"a" * 1024

    async with http(app_with(identity)) as client:
        response = await client.post(
            "/confirm", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
        )
    assert response.status_code == 413
    assert identity.calls == []


async def test_a_body_within_the_limit_passes():
    async with http(app_with(FakeIdentity())) as client:
        response = await client.post("/graphql", json={"query": "{ viewer { id } }", "variables": {"pad": "x" * 1000}})
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_a_request_over_the_time_limit_gets_504():
    async def slow_app(scope, receive, send):
        await asyncio.sleep(30)

    limited = TimeLimit(slow_app, seconds=0.05)
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    await limited({"type": "http", "method": "POST", "path": "/graphql", "headers": []}, receive, send)
    assert sent[0]["status"] == 504
    assert json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
