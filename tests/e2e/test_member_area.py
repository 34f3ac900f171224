"""The member area end to end: GraphQL client → gateway → NATS → identity → SMTP → back."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from gql import gql
from gql.transport.exceptions import TransportQueryError

from tests.e2e.flows import (
    CHANGE_EMAIL, CHANGE_PASSWORD, CONFIRM, OTHER_STRONG, REFRESH, REQUEST_RESET, RESEND, RESET, SIGN_OUT,
    SIGN_OUT_EVERYWHERE, STRONG, UPDATE_PROFILE, VIEWER, VIEWER_UPDATED, confirmed_member, new_person, register,
    sign_in,
)
from tests.support.graphql import codes_of
from tests.support.smtp import html_of, link_in, text_of, token_in
from tests.support.gateway import post_form


async def test_register_confirm_by_page_sign_in_and_see_viewer(api, running, smtp):
    username, email = new_person("lena")
    answer = await register(api, username, email, display_name="Lena Krüger")
    assert answer == {"ok": True, "userErrors": []}

    [mail] = await smtp.inbox.wait_for(email)
    assert mail["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"  # German by default
    assert "Spam" in text_of(mail) and "Spam" in html_of(mail)
    link = link_in(mail, "/confirm")

    async with httpx.AsyncClient() as http:
        # A mail scanner opening the link must not confirm anything: GET only shows a button.
        page = await http.get(link)
        assert page.status_code == 200 and 'method="post"' in page.text.lower()
        assert page.headers["referrer-policy"] == "no-referrer"
        refused = await sign_in(api, username)
        assert codes_of(refused) == ["FORBIDDEN"] and "confirm" in refused["userErrors"][0]["message"]

        pressed = await post_form(http, link.split("?")[0], {"token": token_in(mail, "/confirm")})
        assert pressed.status_code == 200

    session = await sign_in(api, f"  {username.upper()}  ")  # trimmed, case-insensitive
    assert session["userErrors"] == [] and session["accessToken"] and session["refreshToken"]
    viewer = (await api.as_(session["accessToken"])(VIEWER))["viewer"]
    assert viewer["username"] == username and viewer["emailConfirmed"] is True and viewer["role"] == "MEMBER"
    assert (await api(VIEWER))["viewer"] is None  # anonymous


async def test_english_accounts_get_english_mail(api, smtp):
    username, email = new_person("eng")
    await register(api, username, email, locale="en")
    [mail] = await smtp.inbox.wait_for(email)
    assert mail["Subject"] == "Please confirm your email address"
    assert mail["Content-Language"] == "en"


async def test_register_with_a_taken_address_answers_the_same_and_mails_the_owner(api, smtp):
    username, email = await confirmed_member(api, smtp, "owner")
    other_username, _ = new_person("intruder")
    fresh_username, fresh_email = new_person("fresh")

    taken = await register(api, other_username, email)
    fresh = await register(api, fresh_username, fresh_email)
    assert taken == fresh == {"ok": True, "userErrors": []}

    mails = await smtp.inbox.wait_for(email, count=2)  # the confirmation, then the notice
    assert "bereits" in mails[-1]["Subject"] and username in text_of(mails[-1])
    assert "/confirm" not in text_of(mails[-1])


async def test_register_with_a_taken_username_answers_the_same(api, smtp):
    username, _ = await confirmed_member(api, smtp, "named")
    _, email = new_person("wants-name")
    answer = await register(api, username.upper(), email)
    assert answer == {"ok": True, "userErrors": []}
    [mail] = await smtp.inbox.wait_for(email)
    assert "vergeben" in mail["Subject"] and "/confirm" not in text_of(mail)


async def test_resend_confirmation_same_answer_and_newest_link_wins(api, smtp, running):
    username, email = new_person("resend")
    await register(api, username, email)
    [first] = await smtp.inbox.wait_for(email)

    known = (await api(RESEND, email=email))["resendConfirmation"]
    unknown = (await api(RESEND, email="nobody-here@example.org"))["resendConfirmation"]
    assert known == unknown == {"ok": True, "userErrors": []}
    second = (await smtp.inbox.wait_for(email, count=2))[-1]
    await asyncio.sleep(0.3)
    assert smtp.inbox.to("nobody-here@example.org") == []  # no mail for unknown addresses

    old = (await api(CONFIRM, token=token_in(first, "/confirm")))["confirmEmail"]
    assert old["ok"] is False and old["userErrors"][0]["field"] == "token"
    assert (await api(CONFIRM, token=token_in(second, "/confirm")))["confirmEmail"]["ok"]


async def test_sign_in_errors_are_generic_for_unknown_user_and_wrong_password(api, smtp):
    username, _ = await confirmed_member(api, smtp, "generic")
    wrong_password = await sign_in(api, username, "Falsches Passwort 12345")
    unknown_user = await sign_in(api, "no.such.person", "Falsches Passwort 12345")
    assert wrong_password["userErrors"] == unknown_user["userErrors"]
    assert codes_of(wrong_password) == ["UNAUTHENTICATED"]
    assert wrong_password["accessToken"] is None


async def test_failed_sign_ins_lock_the_account_for_a_while(api, smtp, running):
    username, _ = await confirmed_member(api, smtp, "locked")
    for _ in range(5):
        assert codes_of(await sign_in(api, username, "Falsches Passwort 12345")) == ["UNAUTHENTICATED"]
    # Locked now — even the right password waits, and the answer says how long.
    locked = await sign_in(api, username)
    assert codes_of(locked) == ["RATE_LIMITED"]
    assert 0 < locked["userErrors"][0]["retryAfter"] <= 30
    # Another client address does not unlock the account.
    from tests.support.graphql import GraphQL
    elsewhere = GraphQL(api.base_url, forwarded_for="203.0.113.77")
    assert codes_of(await sign_in(elsewhere, username)) == ["RATE_LIMITED"]

    running.clock.advance(timedelta(seconds=31))  # the lock ends by itself
    ok = await sign_in(api, username)
    assert ok["userErrors"] == [] and ok["accessToken"]
    # Success reset the count: one more failure does not lock again.
    await sign_in(api, username, "Falsches Passwort 12345")
    assert (await sign_in(api, username))["userErrors"] == []


async def test_unknown_identifiers_are_throttled_like_accounts(api):
    for _ in range(5):
        await sign_in(api, "ghost.account", "Falsches Passwort 12345")
    assert codes_of(await sign_in(api, "ghost.account", "Falsches Passwort 12345")) == ["RATE_LIMITED"]


async def test_password_reset_flow_single_use_and_sessions_end(api, smtp, running):
    username, email = await confirmed_member(api, smtp, "reset")
    session = await sign_in(api, username)

    known = (await api(REQUEST_RESET, identifier=username))["requestPasswordReset"]
    unknown = (await api(REQUEST_RESET, identifier="unknown.person"))["requestPasswordReset"]
    assert known == unknown == {"ok": True, "userErrors": []}
    mail = (await smtp.inbox.wait_for(email, count=2))[-1]
    token = token_in(mail, "/reset")

    weak = (await api(RESET, token=token, newPassword="passwort1234"))["resetPassword"]
    assert codes_of(weak) == ["INVALID_INPUT"] and weak["userErrors"][0]["field"] == "newPassword"

    done = (await api(RESET, token=token, newPassword=OTHER_STRONG))["resetPassword"]
    assert done["ok"] and done["userErrors"] == []
    notice = (await smtp.inbox.wait_for(email, count=3))[-1]
    assert "geändert" in notice["Subject"]

    again = (await api(RESET, token=token, newPassword=OTHER_STRONG + "!"))["resetPassword"]
    assert codes_of(again) == ["INVALID_INPUT"]  # single use
    # Every session ended; the reset did not sign anyone in.
    assert codes_of((await api(REFRESH, refreshToken=session["refreshToken"]))["refreshSession"]) == ["UNAUTHENTICATED"]
    assert codes_of(await sign_in(api, username, STRONG)) == ["UNAUTHENTICATED"]
    assert (await sign_in(api, email, OTHER_STRONG))["userErrors"] == []


async def test_reset_links_expire_after_sixty_minutes_and_newer_replace_older(api, smtp, running):
    username, email = await confirmed_member(api, smtp, "expiry")
    await api(REQUEST_RESET, identifier=email)
    older = token_in((await smtp.inbox.wait_for(email, count=2))[-1], "/reset")
    await api(REQUEST_RESET, identifier=email)
    newer = token_in((await smtp.inbox.wait_for(email, count=3))[-1], "/reset")

    replaced = (await api(RESET, token=older, newPassword=OTHER_STRONG))["resetPassword"]
    assert codes_of(replaced) == ["INVALID_INPUT"]

    running.clock.advance(timedelta(minutes=61))
    expired = (await api(RESET, token=newer, newPassword=OTHER_STRONG))["resetPassword"]
    assert codes_of(expired) == ["INVALID_INPUT"] and "expired" in expired["userErrors"][0]["message"]


async def test_mail_sending_requests_are_rate_limited_per_address(api, smtp):
    _, email = await confirmed_member(api, smtp, "flood")  # the registration mail counts too
    answers = [(await api(REQUEST_RESET, identifier=email))["requestPasswordReset"] for _ in range(5)]
    assert all(a["ok"] for a in answers[:4])
    assert codes_of(answers[4]) == ["RATE_LIMITED"] and answers[4]["userErrors"][0]["retryAfter"] > 0
    # Confirmation + four links arrive (the mailer works through them in its own time) ...
    await smtp.inbox.wait_for(email, count=5)
    # ... and none for the refused request: a sixth would be queued right behind the fourth link.
    await asyncio.sleep(0.5)
    assert len(smtp.inbox.to(email)) == 5
    # The limit counts addresses, known or not: it tells nobody which exist.
    unknown = [(await api(REQUEST_RESET, identifier="ghost@example.org"))["requestPasswordReset"] for _ in range(6)]
    assert codes_of(unknown[5]) == ["RATE_LIMITED"]


async def test_refresh_rotates_and_reuse_ends_the_session(api, smtp):
    username, _ = await confirmed_member(api, smtp, "refresh")
    first = await sign_in(api, username)
    second = (await api(REFRESH, refreshToken=first["refreshToken"]))["refreshSession"]
    assert second["userErrors"] == [] and second["refreshToken"] != first["refreshToken"]

    reused = (await api(REFRESH, refreshToken=first["refreshToken"]))["refreshSession"]
    assert codes_of(reused) == ["UNAUTHENTICATED"]
    # Reuse looks like theft: the whole session ended, the newer token too.
    assert codes_of((await api(REFRESH, refreshToken=second["refreshToken"]))["refreshSession"]) == ["UNAUTHENTICATED"]


async def test_sign_out_and_sign_out_everywhere(api, smtp):
    username, _ = await confirmed_member(api, smtp, "signout")
    phone, desk = await sign_in(api, username), await sign_in(api, username)
    assert (await api(SIGN_OUT, refreshToken=phone["refreshToken"]))["signOut"]["ok"]
    assert codes_of((await api(REFRESH, refreshToken=phone["refreshToken"]))["refreshSession"]) == ["UNAUTHENTICATED"]
    assert (await api(REFRESH, refreshToken=desk["refreshToken"]))["refreshSession"]["userErrors"] == []

    laptop = await sign_in(api, username)
    out = (await api.as_(laptop["accessToken"])(SIGN_OUT_EVERYWHERE))["signOutEverywhere"]
    assert out["ok"]
    assert codes_of((await api(REFRESH, refreshToken=laptop["refreshToken"]))["refreshSession"]) == ["UNAUTHENTICATED"]
    anonymous = (await api(SIGN_OUT_EVERYWHERE))["signOutEverywhere"]
    assert codes_of(anonymous) == ["UNAUTHENTICATED"]


async def test_change_password_keeps_this_session_and_ends_others(api, smtp):
    username, email = await confirmed_member(api, smtp, "chpw")
    here, there = await sign_in(api, username), await sign_in(api, username)
    me = api.as_(here["accessToken"])
    wrong = (await me(CHANGE_PASSWORD, currentPassword="Falsch falsch falsch 1", newPassword=OTHER_STRONG))
    assert wrong["changePassword"]["userErrors"][0]["field"] == "currentPassword"
    done = (await me(CHANGE_PASSWORD, currentPassword=STRONG, newPassword=OTHER_STRONG))["changePassword"]
    assert done["ok"]
    assert (await api(REFRESH, refreshToken=here["refreshToken"]))["refreshSession"]["userErrors"] == []
    assert codes_of((await api(REFRESH, refreshToken=there["refreshToken"]))["refreshSession"]) == ["UNAUTHENTICATED"]
    assert "geändert" in (await smtp.inbox.wait_for(email, count=2))[-1]["Subject"]


async def test_change_email_by_link_to_the_new_address_with_notice_to_the_old(api, smtp, running):
    username, old = await confirmed_member(api, smtp, "move")
    session = await sign_in(api, username)
    me = api.as_(session["accessToken"])
    _, new = new_person("moved")
    wrong = (await me(CHANGE_EMAIL, newEmail=new, password="Falsch falsch falsch 1"))["changeEmail"]
    assert wrong["userErrors"][0]["field"] == "password"
    assert (await me(CHANGE_EMAIL, newEmail=new, password=STRONG))["changeEmail"]["ok"]

    notice = (await smtp.inbox.wait_for(old, count=2))[-1]
    assert "/confirm" not in text_of(notice)
    [link_mail] = await smtp.inbox.wait_for(new)
    assert (await me(VIEWER))["viewer"]["pendingEmail"] == new
    assert (await api(CONFIRM, token=token_in(link_mail, "/confirm")))["confirmEmail"]["ok"]
    viewer = (await me(VIEWER))["viewer"]
    assert viewer["email"] == new and viewer["pendingEmail"] is None
    assert (await sign_in(api, new))["userErrors"] == []
    # The old address is free again for someone else.
    other_username, _ = new_person("takes-old")
    await register(api, other_username, old)
    assert "bestätigen" in (await smtp.inbox.wait_for(old, count=3))[-1]["Subject"]


async def test_update_profile_reaches_a_live_subscription(api, smtp, running):
    username, _ = await confirmed_member(api, smtp, "live")
    session = await sign_in(api, username)
    me = api.as_(session["accessToken"])
    async with me.websocket() as ws:
        updates = ws.subscribe(gql(VIEWER_UPDATED))
        pending = asyncio.ensure_future(updates.__anext__())
        await asyncio.sleep(0.5)  # the subscription is registered before the change
        changed = (await me(UPDATE_PROFILE, displayName="Lena im Zug", locale="en"))["updateProfile"]
        assert changed["viewer"]["displayName"] == "Lena im Zug"
        pushed = await asyncio.wait_for(pending, 10)
        assert pushed["viewerUpdated"]["displayName"] == "Lena im Zug"
        assert pushed["viewerUpdated"]["locale"] == "en"
        await updates.aclose()  # end the subscription rather than wait out the client's close timeout


async def test_a_subscription_without_a_valid_token_is_refused(api):
    with pytest.raises(Exception):
        async with api.websocket({"authorization": "Bearer not-a-token"}) as ws:
            async for _ in ws.subscribe(gql(VIEWER_UPDATED)):
                break


async def test_an_invalid_access_token_is_an_error_not_anonymous(api):
    with pytest.raises(TransportQueryError) as e:
        await api.as_("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")(VIEWER)
    assert e.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_mail_sending_requests_are_rate_limited_per_client(api):
    answers = [(await api(REQUEST_RESET, identifier=f"someone.{n}@example.org"))["requestPasswordReset"]
               for n in range(31)]
    assert all(a["ok"] for a in answers[:30])
    assert codes_of(answers[30]) == ["RATE_LIMITED"]
