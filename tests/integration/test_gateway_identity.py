"""The mail-link pages against the real identity service: what a person sees for each answer.

The GraphQL flows themselves are the e2e suite's; here the gateway's own mapping of
identity's real errors to pages is checked (spent links, weak passwords), plus readiness
with the services up.
"""

from __future__ import annotations

import httpx
import pytest

from services.kernel.clock import Clock
from tests.support.graphql import GraphQL
from tests.support.platform import platform_settings, running_platform
from tests.support.smtp import SmtpServer, token_in
from tests.support.gateway import post_form

STRONG = "Fahrrad Ampel Wolke 42 Sommer"
OTHER_STRONG = "Leuchtturm Regenschirm 7 Kaktus"
REGISTER = """mutation($input: RegisterInput!) { register(input: $input) { ok userErrors { field code } } }"""
REQUEST_RESET = """mutation($identifier: String!) { requestPasswordReset(identifier: $identifier) { ok } }"""
SIGN_IN = """mutation($identifier: String!, $password: String!) {
  signIn(identifier: $identifier, password: $password) { accessToken userErrors { code } } }"""
HIDDEN_TOKEN = '<input type="hidden" name="token" value="{}">'


@pytest.fixture(scope="module")
async def base_url(nats_url, smtp, tmp_path_factory):
    settings = platform_settings(nats_url, tmp_path_factory.mktemp("platform"), smtp.port)
    services = ["identity", "directory", "news", "notifications"]
    async with running_platform(settings, Clock(), services=services, gateway=True):
        yield f"http://127.0.0.1:{settings.http_port}"


async def registered(base_url: str, smtp: SmtpServer, name: str) -> tuple[str, str]:
    """Register `name`; return (email, confirmation token from the mail)."""
    email = f"{name}@example.org"
    answer = await GraphQL(base_url)(REGISTER, input={
        "username": name, "email": email, "password": STRONG, "displayName": name.title()})
    assert answer["register"] == {"ok": True, "userErrors": []}
    [mail] = await smtp.inbox.wait_for(email)
    return email, token_in(mail, "/confirm")


async def test_ready_when_the_services_the_schema_calls_answer(base_url):
    async with httpx.AsyncClient() as http:
        ready = await http.get(f"{base_url}/readyz")
    assert ready.status_code == 200, ready.text


async def test_confirm_page_spends_the_link_once_then_offers_a_new_one(base_url, smtp):
    _, token = await registered(base_url, smtp, "pages.confirm")
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(2):  # a scanner and a preview open the link: nothing happens
            shown = await http.get("/confirm", params={"token": token})
            assert shown.status_code == 200 and HIDDEN_TOKEN.format(token) in shown.text
        pressed = await post_form(http, "/confirm", {"token": token})
        assert pressed.status_code == 200 and "Adresse bestätigt" in pressed.text
        again = await post_form(http, "/confirm", {"token": token, "lang": "en"})
    assert again.status_code == 410
    assert "no longer valid" in again.text and 'action="/confirm/resend"' in again.text


async def test_reset_page_explains_a_weak_password_keeps_the_link_and_then_resets(base_url, smtp):
    email, confirm_token = await registered(base_url, smtp, "pages.reset")
    async with httpx.AsyncClient(base_url=base_url) as http:
        assert (await post_form(http, "/confirm", {"token": confirm_token})).status_code == 200
        assert (await GraphQL(base_url)(REQUEST_RESET, identifier=email))["requestPasswordReset"]["ok"]
        mail = (await smtp.inbox.wait_for(email, count=2))[-1]
        token = token_in(mail, "/reset")

        weak = await post_form(http, "/reset", {"token": token, "new_password": "passwort",
                                              "new_password_repeat": "passwort"})
        assert weak.status_code == 400
        assert "Dieses Passwort können wir nicht annehmen" in weak.text
        assert HIDDEN_TOKEN.format(token) in weak.text

        done = await post_form(http, "/reset", {"token": token, "new_password": OTHER_STRONG,
                                              "new_password_repeat": OTHER_STRONG})
        assert done.status_code == 200 and "Passwort geändert" in done.text
        spent = await post_form(http, "/reset", {"token": token, "new_password": OTHER_STRONG,
                                               "new_password_repeat": OTHER_STRONG})
        assert spent.status_code == 410 and 'action="/reset/request"' in spent.text

    session = (await GraphQL(base_url)(SIGN_IN, identifier=email, password=OTHER_STRONG))["signIn"]
    assert session["userErrors"] == [] and session["accessToken"]
