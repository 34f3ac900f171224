"""The gateway's HTTP edge: malformed bodies, headers on every answer, CORS for partners' apps."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.kernel.settings import Settings
from tests.support.gateway import FakeIdentity, app_with, http

MALFORMED = {
    "invalid UTF-8": (b'{"query": "{ viewer { id } }", "x": "\xff\xfe"}', "not valid UTF-8"),
    "UTF-16": ('{"query": "{ viewer { id } }"}'.encode("utf-16"), "not valid UTF-8"),
    "null": (b"null", "must be a JSON object"),
    "a bare string": (b'"{ viewer { id } }"', "not a string"),
    "a number": (b"42", "not a number"),
    "an array (a batch)": (b'[{"query": "{ viewer { id } }"}]', "batched operations"),
    "an empty array": (b"[]", "batched operations"),
    "truncated JSON": (b'{"query": "{ viewer { id', "not valid JSON"),
    "empty": (b"", "not valid JSON"),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_malformed_body_gets_400_in_the_graphql_error_format(case):
    body, says = MALFORMED[case]
    identity = FakeIdentity()
    async with http(app_with(identity)) as client:
        response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert says in error["message"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    # The id in the body is the request's own: the one in its header and its log lines.
    assert error["extensions"]["correlationId"] == response.headers["x-correlation-id"]
    assert response.headers["cache-control"] == "no-store"
    assert identity.calls == []  # nothing reached a service


async def test_strawberrys_own_refusals_answer_in_the_same_format():
    async with http(app_with(FakeIdentity())) as client:
        wrong_type = await client.post("/graphql", content=b"query=x", headers={"content-type": "text/plain"})
        no_query = await client.post("/graphql", json={"variables": {}})
        bad_variables = await client.post("/graphql", json={"query": "{ viewer { id } }", "variables": [1]})
    for response in (wrong_type, no_query, bad_variables):
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT" and error["extensions"]["correlationId"]
    assert "variables" in bad_variables.json()["errors"][0]["message"]


async def test_a_well_formed_body_still_works():
    async with http(app_with(FakeIdentity())) as client:
        response = await client.post("/graphql", json={"query": "{ viewer { id } }"})
    assert response.status_code == 200 and response.json() == {"data": {"viewer": None}}


# ---- headers ------------------------------------------------------------------------------

async def test_every_graphql_answer_is_no_store_and_every_answer_nosniff():
    async with http(app_with(FakeIdentity())) as client:
        answers = {
            "query": await client.post("/graphql", json={"query": "{ viewer { id } }"}),
            "error": await client.post("/graphql", json={"query": "{ nope }"}),
            "graphiql": await client.get("/graphql", headers={"accept": "text/html"}),
            "too large": await client.post("/graphql", content=b" " * (200 * 1024),
                                           headers={"content-type": "application/json"}),
        }
        elsewhere = {
            "healthz": await client.get("/healthz"),
            "asset": await client.get("/assets/pages.css"),
            "missing": await client.get("/no-such-page"),
        }
    for name, response in answers.items():
        assert response.headers.get_list("cache-control") == ["no-store"], name
        assert response.headers["x-content-type-options"] == "nosniff", name
    for name, response in elsewhere.items():
        assert response.headers.get_list("x-content-type-options") == ["nosniff"], name
    assert "no-store" not in elsewhere["asset"].headers.get("cache-control", "")  # assets may be cached


# ---- CORS ---------------------------------------------------------------------------------

PARTNER = "https://app.partner.example"


def preflight(origin: str) -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"}


async def test_a_listed_origin_may_call_the_api_from_a_browser():
    app = app_with(FakeIdentity(), cors_origins=f"{PARTNER}, https://intranet.partner.example")
    async with http(app) as client:
        allowed = await client.options("/graphql", headers=preflight(PARTNER))
        actual = await client.post("/graphql", json={"query": "{ viewer { id } }"}, headers={"origin": PARTNER})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PARTNER
    assert set(allowed.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert {"authorization", "content-type"} <= {
        h.strip().lower() for h in allowed.headers["access-control-allow-headers"].split(",")}
    assert "access-control-allow-credentials" not in allowed.headers  # tokens travel in headers
    assert actual.headers["access-control-allow-origin"] == PARTNER
    assert "x-correlation-id" in actual.headers["access-control-expose-headers"].lower()


async def test_an_origin_not_listed_gets_no_cors_headers():
    app = app_with(FakeIdentity(), cors_origins=PARTNER)
    async with http(app) as client:
        refused = await client.options("/graphql", headers=preflight("https://evil.example"))
        simple = await client.post("/graphql", json={"query": "{ viewer { id } }"},
                                   headers={"origin": "https://evil.example"})
    assert refused.status_code >= 400
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_by_default_no_origin_is_allowed():
    async with http(app_with(FakeIdentity())) as client:
        refused = await client.options("/graphql", headers=preflight(PARTNER))
        simple = await client.post("/graphql", json={"query": "{ viewer { id } }"}, headers={"origin": PARTNER})
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers
    assert Settings().cors_origin_list == []


@pytest.mark.parametrize("spec", ["*", "https://*.partner.example", "partner.example", "https://partner.example/app",
                                  "ftp://partner.example", "https://user@partner.example"])
def test_only_exact_origins_are_accepted(spec):
    with pytest.raises(ValidationError) as refused:
        Settings(cors_origins=spec)
    assert "cors_origins" in str(refused.value) and "is not an origin" in str(refused.value)


def test_origins_are_read_as_a_browser_sends_them():
    settings = Settings(cors_origins=" https://a.example/ ,http://localhost:5173,, ")
    assert settings.cors_origin_list == ["https://a.example", "http://localhost:5173"]
