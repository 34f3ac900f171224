"""The pages mail links open: GET shows a form and spends nothing; POST (with its CSRF token) acts."""

from __future__ import annotations

import pytest

from gateway.web.i18n import language
from proto import identity as contract
from proto.common import Accepted
from proto.errors import Conflict, Invalid, NotFound, RateLimited, Unavailable
from tests.support.gateway import FakeIdentity, app_with, csrf_token, http, post_form

FORM = {"content-type": "application/x-www-form-urlencoded"}


async def get(identity: FakeIdentity, url: str, headers: dict | None = None):
    async with http(app_with(identity)) as client:
        return await client.get(url, headers=headers or {})


async def post(identity: FakeIdentity, url: str, data: dict):
    async with http(app_with(identity)) as client:
        return await post_form(client, url, data)


@pytest.mark.parametrize("path", ["/confirm", "/reset"])
async def test_opening_a_link_spends_nothing_and_shows_a_form_with_the_token(path):
    identity = FakeIdentity()
    response = await get(identity, f"{path}?token=tok-123")
    assert response.status_code == 200
    assert identity.calls == []  # a mail scanner opening the link must not use it up
    assert f'<form method="post" action="{path}">' in response.text
    assert '<input type="hidden" name="token" value="tok-123">' in response.text
    assert 'name="viewport"' in response.text


@pytest.mark.parametrize("path", ["/confirm?token=t", "/reset?token=t"])
async def test_link_pages_send_no_referrer_no_cache_no_script_no_frames(path):
    response = await get(FakeIdentity(), path)
    headers = response.headers
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "<script" not in response.text


async def test_the_token_is_escaped_into_the_page():
    response = await get(FakeIdentity(), '/confirm?token="><script>alert(1)</script>')
    assert "<script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;" in response.text


async def test_pages_are_german_by_default_and_english_on_request():
    assert '<html lang="de">' in (await get(FakeIdentity(), "/confirm?token=t")).text
    assert '<html lang="en">' in (await get(FakeIdentity(), "/confirm?token=t&lang=en")).text
    by_header = await get(FakeIdentity(), "/reset?token=t", {"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})
    assert "Choose a new password" in by_header.text


@pytest.mark.parametrize(
    ("explicit", "header", "expected"),
    [
        (None, None, "de"),
        (None, "fr-FR, en;q=0.5", "en"),
        (None, "de-AT, en;q=0.8", "de"),
        (None, "en;q=0, de;q=0.1", "de"),
        ("de", "en", "de"),
        ("xx", "en-US", "en"),
    ],
)
def test_language_choice(explicit, header, expected):
    assert language(explicit, None, header) == expected


def test_the_language_switch_cookie_counts_after_an_explicit_choice():
    assert language(None, "en", "de-DE") == "en"
    assert language("de", "en", None) == "de"
    assert language(None, "fr", "en") == "en"  # a cookie we never set is ignored


async def test_a_link_without_token_says_so():
    response = await get(FakeIdentity(), "/confirm")
    assert response.status_code == 400
    assert "unvollständig" in response.text


async def test_pressing_the_button_confirms():
    identity = FakeIdentity(replies={"confirm_email": Accepted()})
    response = await post(identity, "/confirm", {"token": "tok-123", "lang": "en"})
    assert response.status_code == 200
    assert "Address confirmed" in response.text
    (call,) = identity.calls
    assert call.request == contract.ConfirmEmail(token="tok-123")
    assert call.caller.client_address == "203.0.113.7" and call.caller.token is None


async def test_a_used_confirmation_link_offers_a_new_one():
    identity = FakeIdentity(replies={"confirm_email": NotFound("this link is no longer valid", "token")})
    response = await post(identity, "/confirm", {"token": "spent"})
    assert response.status_code == 410
    assert "abgelaufen oder wurde schon benutzt" in response.text
    assert 'action="/confirm/resend"' in response.text


async def test_a_new_address_taken_meanwhile_is_explained_without_offering_a_new_link():
    identity = FakeIdentity(
        replies={"confirm_email": Conflict("this address already belongs to another account", "token")}
    )
    response = await post(identity, "/confirm", {"token": "tok"})
    assert response.status_code == 409 and "anderen Lotse-Konto" in response.text
    assert "/confirm/resend" not in response.text


async def test_asking_for_a_new_confirmation_link():
    identity = FakeIdentity(replies={"resend_confirmation": Accepted()})
    response = await post(identity, "/confirm/resend", {"email": " amira@example.org ", "lang": "de"})
    assert response.status_code == 200 and "Neuer Link unterwegs" in response.text
    assert identity.calls[0].request == contract.ResendConfirmation(email="amira@example.org", locale="de")


async def test_an_unreachable_identity_keeps_the_link_usable():
    identity = FakeIdentity(replies={"confirm_email": Unavailable("the identity service is not running")})
    response = await post(identity, "/confirm", {"token": "tok-123"})
    assert response.status_code == 503
    assert '<input type="hidden" name="token" value="tok-123">' in response.text


async def test_rate_limited_says_how_long_to_wait():
    identity = FakeIdentity(replies={"confirm_email": RateLimited("slow down", retry_after=120)})
    response = await post(identity, "/confirm", {"token": "tok"})
    assert response.status_code == 429 and "in 2 Minuten" in response.text


async def test_reset_with_mismatched_passwords_asks_again_without_calling_identity():
    identity = FakeIdentity()
    response = await post(
        identity, "/reset", {"token": "tok", "new_password": "a-long-pass", "new_password_repeat": "other"}
    )
    assert response.status_code == 400
    assert "stimmen nicht überein" in response.text
    assert '<input type="hidden" name="token" value="tok">' in response.text
    assert identity.calls == []


async def test_a_weak_password_shows_why_and_keeps_the_token():
    identity = FakeIdentity(replies={"reset_password": Invalid("add another word or two", "newPassword")})
    response = await post(identity, "/reset", {"token": "tok", "new_password": "abc", "new_password_repeat": "abc"})
    assert response.status_code == 400
    assert "add another word or two" in response.text
    assert '<input type="hidden" name="token" value="tok">' in response.text
    assert 'value="abc"' not in response.text  # the password is never echoed back


async def test_reset_success():
    identity = FakeIdentity(replies={"reset_password": Accepted()})
    response = await post(
        identity,
        "/reset",
        {"token": "tok", "new_password": "pw pw pw", "new_password_repeat": "pw pw pw", "lang": "en"},
    )
    assert response.status_code == 200 and "Password changed" in response.text
    assert identity.calls[0].request == contract.ResetPassword(token="tok", new_password="pw pw pw")


async def test_an_expired_reset_link_offers_a_new_one():
    identity = FakeIdentity(replies={"reset_password": Invalid("this link has expired", "token")})
    response = await post(identity, "/reset", {"token": "old", "new_password": "x", "new_password_repeat": "x"})
    assert response.status_code == 410 and 'action="/reset/request"' in response.text


async def test_requesting_a_new_reset_link():
    identity = FakeIdentity(replies={"request_password_reset": Accepted()})
    response = await post(identity, "/reset/request", {"identifier": "amira"})
    assert response.status_code == 200
    assert identity.calls[0].request == contract.RequestPasswordReset(identifier="amira", locale="de")


async def test_a_post_without_the_forms_csrf_token_changes_nothing():
    identity = FakeIdentity(replies={"confirm_email": Accepted()})
    async with http(app_with(identity)) as client:
        await client.get("/confirm?token=tok")  # the browser has its CSRF cookie …
        missing = await client.post("/confirm", data={"token": "tok"})  # … but the form lacks the token
        forged = await client.post("/confirm", data={"token": "tok", "csrf": "0" * 64})
    assert missing.status_code == 403 and forged.status_code == 403
    assert identity.calls == []


async def test_a_cross_site_post_is_refused_even_with_a_token():
    identity = FakeIdentity(replies={"confirm_email": Accepted()})
    async with http(app_with(identity)) as client:
        token = await csrf_token(client)
        response = await client.post("/confirm", data={"token": "tok", "csrf": token},
                                     headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403 and identity.calls == []
