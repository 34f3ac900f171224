"""Bad input, from the outside in: each gets a clear error naming what is wrong, and
changes nothing — no event in the stream, no mail."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gql.transport.exceptions import TransportQueryError

from proto import subjects
from tests.e2e.flows import STRONG, UPDATE_PROFILE, VIEWER, confirmed_member, new_person, register, sign_in
from tests.support.graphql import codes_of
from tests.support.smtp import html_of

HOSTILE = "<script>alert('x')</script>'; DROP TABLE accounts; --"


async def stream_last_seq(running) -> int:
    info = await running.client.nc.jetstream().stream_info(subjects.stream_name("identity"))
    return info.state.last_seq


@pytest.fixture
async def unchanged(running, smtp):
    """Assert the test appended no identity event and sent no mail."""
    before_seq, before_mail = await stream_last_seq(running), len(smtp.inbox.messages)
    yield
    await asyncio.sleep(0.3)  # a mail would be on its way by now
    assert await stream_last_seq(running) == before_seq
    assert len(smtp.inbox.messages) == before_mail


async def post(running, body: bytes, content_type: str = "application/json", **headers) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(f"{running.base_url}/graphql", content=body,
                               headers={"content-type": content_type, **headers})


async def test_malformed_json_is_a_clear_400(running, unchanged):
    response = await post(running, b'{"query": "mutation { register(')
    assert response.status_code == 400
    assert "JSON" in response.text or "json" in response.text


async def test_wrong_types_are_refused_before_any_service_sees_them(api, unchanged):
    with pytest.raises(TransportQueryError) as e:
        await api("mutation { signIn(identifier: 12, password: true) { accessToken } }")
    assert "String" in str(e.value.errors[0]["message"])


async def test_an_oversized_body_is_413(running, unchanged):
    big = json.dumps({"query": "query { viewer { id } }", "variables": {"x": "a" * 200_000}}).encode()
    response = await post(running, big)
    assert response.status_code == 413


async def test_too_deep_or_too_many_aliases_are_refused(api, unchanged):
    aliases = " ".join(f"a{i}: viewer {{ id }}" for i in range(40))
    with pytest.raises(TransportQueryError):
        await api(f"query {{ {aliases} }}")


@pytest.mark.parametrize("field, value, expected_field", [
    ("username", HOSTILE, "username"),
    ("email", "<b>x</b>@example.org", "email"),
    ("email", "not-an-address", "email"),
    ("displayName", "x" * 101, "displayName"),
    ("locale", "fr", "locale"),
    ("password", "short", "password"),
    ("password", "x" * 1025, "password"),
])
async def test_invalid_registration_fields_are_named(api, field, value, expected_field, unchanged):
    username, email = new_person("bad")
    values = {"username": username, "email": email, "password": STRONG, "displayName": "Bad Input", "locale": "de"}
    values[field] = value
    data = await api("mutation($input: RegisterInput!) { register(input: $input) { ok userErrors { field code } } }",
                     input=values)
    assert data["register"]["ok"] is False
    assert data["register"]["userErrors"] == [{"field": expected_field, "code": "INVALID_INPUT"}]


async def test_sql_and_html_in_text_are_stored_as_given_and_escaped_where_shown(api, smtp):
    username, email = new_person("hostile")
    await register(api, username, email, display_name=HOSTILE)
    [mail] = await smtp.inbox.wait_for(email)
    assert "<script>" not in html_of(mail) and "&lt;script&gt;" in html_of(mail)


async def test_text_in_profile_is_kept_verbatim(api, smtp):
    username, _ = await confirmed_member(api, smtp, "verbatim")
    me = api.as_((await sign_in(api, username))["accessToken"])
    changed = (await me(UPDATE_PROFILE, displayName=HOSTILE))["updateProfile"]
    assert changed["viewer"]["displayName"] == HOSTILE
    assert (await me(VIEWER))["viewer"]["displayName"] == HOSTILE


def forged_tokens(kid: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "role": "admin", "iss": "lotse-identity", "aud": "lotse",
              "iat": now, "exp": now + 600}
    other_key = Ed25519PrivateKey.generate()
    return {
        "alg none": jwt.encode(claims, key=None, algorithm="none", headers={"kid": kid}),
        "signed by another key": jwt.encode(claims, other_key, algorithm="EdDSA", headers={"kid": kid}),
        "HMAC with a guessed secret": jwt.encode(claims, "secret-secret-secret-secret-32b!", algorithm="HS256",
                                                 headers={"kid": kid}),
        "unknown kid": jwt.encode(claims, other_key, algorithm="EdDSA", headers={"kid": "nope"}),
        "garbage": "abc.def.ghi",
    }


async def test_forged_and_malformed_access_tokens_are_refused(api, running, unchanged):
    kid = running.platform.services["identity"].keys.current_kid
    for name, token in forged_tokens(kid).items():
        with pytest.raises(TransportQueryError) as e:
            await api.as_(token)(VIEWER)
        assert e.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED", name
        denied = (await api.as_(token)(UPDATE_PROFILE, displayName="Forged"))["updateProfile"]
        assert codes_of(denied) == ["UNAUTHENTICATED"], name


async def test_an_expired_access_token_is_refused(api, running, smtp):
    from datetime import timedelta

    username, _ = await confirmed_member(api, smtp, "expired")
    token = (await sign_in(api, username))["accessToken"]
    running.clock.advance(timedelta(minutes=16))
    with pytest.raises(TransportQueryError) as e:
        await api.as_(token)(VIEWER)
    assert e.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("payload, message", [
    (b"\xff\xfe\xfd", "UTF-8"),
    (b'{"username": ', "JSON"),
    (b'["a list"]', "object"),
    (b'{"username": 5, "email": [], "password": null, "display_name": {}}', "username"),
    (b'{"identifier": "x", "password": "y", "admin": true}', "admin"),
])
async def test_bad_nats_payloads_get_an_invalid_input_reply(running, payload, message, unchanged):
    verb = "sign_in" if b"identifier" in payload else "register"
    reply = await running.client.nc.request(subjects.endpoint("identity", verb), payload, timeout=5)
    assert reply.headers["Nats-Service-Error-Code"] == "400"
    body = json.loads(reply.data)
    assert body["code"] == "INVALID_INPUT"
    assert message in (body["message"] + str(body["field"]))
