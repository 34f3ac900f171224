"""How identity's answers reach a GraphQL client: payloads, userErrors, query errors, the caller."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from gateway.schema.errors import UserError
from proto import identity as contract
from proto.common import Accepted
from proto.errors import Conflict, ErrorCode, Invalid, RateLimited, Unauthenticated, Unavailable
from proto.validation import invalid_from
from tests.support.gateway import FakeIdentity, app_with, http

ACCOUNT = contract.Account(
    id="01JACCOUNT0000000000000000",
    username="amira",
    email="amira@example.org",
    display_name="Amira K.",
    locale="de",
    role="member",
    email_confirmed=True,
    created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
)

SIGN_IN = """mutation ($identifier: String!, $password: String!) {
  signIn(identifier: $identifier, password: $password) {
    accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
    viewer { id username role emailConfirmed createdAt }
    userErrors { field code message retryAfter }
  }
}"""


async def graphql(identity: FakeIdentity, query: str, variables: dict | None = None, headers: dict | None = None,
                  peer: str = "203.0.113.7", **settings) -> dict:
    async with http(app_with(identity, **settings), client=(peer, 50000)) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
        )
    assert response.status_code == 200, response.text
    return response.json()


def test_user_error_carries_code_field_and_retry_after():
    error = UserError.of(RateLimited("too many attempts", "identifier", retry_after=30))
    assert (error.code.value, error.field, error.retry_after) == ("RATE_LIMITED", "identifier", 30)


def test_user_error_names_the_field_of_a_failed_proto_model_in_camel_case():
    try:
        contract.UpdateProfile(display_name="")
    except ValidationError as e:
        error = UserError.of(invalid_from(e))
    assert (error.code.value, error.field) == ("INVALID_INPUT", "displayName")


async def test_sign_in_returns_the_session_and_sends_token_and_client_address():
    identity = FakeIdentity(replies={"sign_in": contract.Session(
        access_token="access", access_expires_at=datetime(2026, 1, 1, tzinfo=UTC),
        refresh_token="refresh", refresh_expires_at=datetime(2026, 2, 1, tzinfo=UTC), account=ACCOUNT,
    )})
    body = await graphql(
        identity, SIGN_IN, {"identifier": "amira", "password": "pw"},
        headers={"Authorization": "Bearer old-token", "X-Forwarded-For": "198.51.100.23"},
        peer="10.0.0.2", trusted_proxies="10.0.0.2",
    )
    payload = body["data"]["signIn"]
    assert payload["accessToken"] == "access" and payload["refreshToken"] == "refresh"
    assert payload["viewer"] == {"id": ACCOUNT.id, "username": "amira", "role": "MEMBER",
                                 "emailConfirmed": True, "createdAt": "2026-01-02T03:04:05+00:00"}
    assert payload["userErrors"] == []
    (call,) = identity.calls
    assert call.request == contract.SignIn(identifier="amira", password="pw")
    assert (call.caller.token, call.caller.client_address) == ("old-token", "198.51.100.23")


async def test_a_rate_limited_sign_in_is_a_user_error_with_retry_after():
    identity = FakeIdentity(replies={"sign_in": RateLimited("too many sign-in attempts", "identifier", retry_after=42)})
    body = await graphql(identity, SIGN_IN, {"identifier": "amira", "password": "pw"})
    payload = body["data"]["signIn"]
    assert payload["accessToken"] is None and payload["viewer"] is None
    assert payload["userErrors"] == [
        {"field": "identifier", "code": "RATE_LIMITED", "message": "too many sign-in attempts", "retryAfter": 42}
    ]


async def test_invalid_input_is_caught_before_identity_is_asked():
    identity = FakeIdentity()
    body = await graphql(identity, """mutation {
      register(input: {username: "amira", email: "not-an-address", password: "pw", displayName: "Amira"}) {
        ok userErrors { field code }
      }
    }""")
    assert body["data"]["register"] == {"ok": False, "userErrors": [{"field": "email", "code": "INVALID_INPUT"}]}
    assert identity.calls == []


async def test_register_passes_locale_only_when_given():
    identity = FakeIdentity(replies={"register": Accepted()})
    body = await graphql(identity, """mutation {
      register(input: {username: "amira", email: "amira@example.org", password: "pw", displayName: "Amira"}) {
        ok userErrors { field }
      }
    }""")
    assert body["data"]["register"] == {"ok": True, "userErrors": []}
    assert identity.calls[0].request.locale == "de"  # the contract's default, not ours


async def test_service_errors_keep_their_code_and_field():
    identity = FakeIdentity(replies={
        "change_email": Conflict("this address belongs to another account", "newEmail"),
        "update_profile": Invalid("locale must be de or en", "locale"),
        "sign_out_everywhere": Unauthenticated("sign in first"),
    })
    body = await graphql(identity, """mutation {
      changeEmail(newEmail: "x@example.org", password: "pw") { ok userErrors { field code } }
      updateProfile(displayName: "Amira") { viewer { id } userErrors { field code } }
      signOutEverywhere { ok userErrors { code message } }
    }""")
    data = body["data"]
    assert data["changeEmail"] == {"ok": False, "userErrors": [{"field": "newEmail", "code": "CONFLICT"}]}
    assert data["updateProfile"] == {"viewer": None, "userErrors": [{"field": "locale", "code": "INVALID_INPUT"}]}
    assert data["signOutEverywhere"]["userErrors"] == [{"code": "UNAUTHENTICATED", "message": "sign in first"}]


async def test_update_profile_returns_the_viewer():
    identity = FakeIdentity(replies={"update_profile": ACCOUNT.model_copy(update={"locale": "en"})})
    body = await graphql(identity, 'mutation { updateProfile(locale: "en") { viewer { locale } userErrors { code } } }')
    assert body["data"]["updateProfile"] == {"viewer": {"locale": "en"}, "userErrors": []}
    assert identity.calls[0].request == contract.UpdateProfile(locale="en")


async def test_viewer_is_null_for_an_anonymous_request_without_asking_identity():
    identity = FakeIdentity()
    body = await graphql(identity, "{ viewer { id } }")
    assert body == {"data": {"viewer": None}}
    assert identity.calls == []


async def test_viewer_with_a_token_is_the_account():
    identity = FakeIdentity(replies={"viewer": contract.ViewerReply(account=ACCOUNT)})
    body = await graphql(identity, "{ viewer { username displayName pendingEmail } }",
                         headers={"Authorization": "Bearer t"})
    assert body == {"data": {"viewer": {"username": "amira", "displayName": "Amira K.", "pendingEmail": None}}}


async def test_viewer_with_an_expired_token_is_an_unauthenticated_error():
    identity = FakeIdentity(replies={"viewer": Unauthenticated("the access token has expired; refresh the session")})
    body = await graphql(identity, "{ viewer { id } }", headers={"Authorization": "Bearer expired"})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == ErrorCode.UNAUTHENTICATED.value
    assert "expired" in error["message"]
    assert body["data"] == {"viewer": None}


async def test_an_unreachable_service_is_an_unavailable_user_error():
    identity = FakeIdentity(replies={"request_password_reset": Unavailable("the identity service is not running")})
    body = await graphql(identity, 'mutation { requestPasswordReset(identifier: "amira") { ok userErrors { code } } }')
    assert body["data"]["requestPasswordReset"] == {"ok": False, "userErrors": [{"code": "UNAVAILABLE"}]}


async def test_a_resolver_bug_is_masked():
    identity = FakeIdentity(replies={"viewer": RuntimeError("db password is hunter2")})
    body = await graphql(identity, "{ viewer { id } }", headers={"Authorization": "Bearer t"})
    assert body["errors"][0]["message"] == "Internal error"
    assert "hunter2" not in str(body)


async def test_a_subscription_over_plain_http_is_refused_with_a_reason():
    body = await graphql(FakeIdentity(), "subscription { viewerUpdated { id } }")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT" and "WebSocket" in error["message"]
