"""Nothing an anonymous caller sees — answers, their cost, locks — tells who is registered.

The timing itself is measured in tests/perf/test_identity_timing.py (no timing assertion in
`make test`); here: both paths do the same work before answering — one counted request and
one queued task — and answer alike, and the mail follows only for the real account.
"""

from __future__ import annotations

import asyncio

from proto import subjects
from tests.e2e.flows import REQUEST_RESET, RESEND, STRONG, confirmed_member, new_person, register, sign_in
from tests.support.graphql import codes_of
from tests.support.smtp import token_in


async def queued_tasks(running) -> int:
    """How many tasks identity's work queue has taken in so far (acked ones included)."""
    info = await running.client.nc.jetstream().stream_info(subjects.tasks_stream("identity"))
    return info.state.last_seq


async def test_a_reset_request_queues_one_task_and_answers_alike_whether_or_not_the_account_exists(
        api, smtp, running):
    username, email = await confirmed_member(api, smtp, "queued")
    before = await queued_tasks(running)
    known = (await api(REQUEST_RESET, identifier=username))["requestPasswordReset"]
    after_known = await queued_tasks(running)
    unknown = (await api(REQUEST_RESET, identifier="nobody.at.all"))["requestPasswordReset"]
    after_unknown = await queued_tasks(running)
    assert known == unknown == {"ok": True, "userErrors": []}
    assert (after_known - before, after_unknown - after_known) == (1, 1)
    mail = (await smtp.inbox.wait_for(email, count=2))[-1]  # the confirmation, then the reset link
    assert "/reset" in mail.get_body(("plain",)).get_content() and token_in(mail, "/reset")


async def test_a_confirmation_request_queues_one_task_either_way_and_mails_only_the_unconfirmed(
        api, smtp, running):
    username, email = new_person("unconfirmed")
    assert (await register(api, username, email))["ok"]
    await smtp.inbox.wait_for(email)
    before = await queued_tasks(running)
    known = (await api(RESEND, email=email))["resendConfirmation"]
    unknown = (await api(RESEND, email="no-such-person@example.org"))["resendConfirmation"]
    assert known == unknown == {"ok": True, "userErrors": []}
    assert await queued_tasks(running) - before == 2
    await smtp.inbox.wait_for(email, count=2)
    await asyncio.sleep(0.5)
    assert smtp.inbox.to("no-such-person@example.org") == []


async def test_a_lock_on_a_username_says_nothing_about_its_address(api, smtp):
    username, email = await confirmed_member(api, smtp, "locked")
    for _ in range(5):
        assert codes_of(await sign_in(api, username, "Falsches Passwort 12345")) == ["UNAUTHENTICATED"]
    assert codes_of(await sign_in(api, username, "Falsches Passwort 12345")) == ["RATE_LIMITED"]
    # The address of the same account, with a wrong password, answers as an unknown pair does.
    by_address = await sign_in(api, email, "Falsches Passwort 12345")
    unknown_pair = await sign_in(api, "someone.else@example.org", "Falsches Passwort 12345")
    assert codes_of(by_address) == codes_of(unknown_pair) == ["UNAUTHENTICATED"]
    assert by_address["userErrors"][0]["message"] == unknown_pair["userErrors"][0]["message"]
    # And the owner, signing in by address with the right password, is not locked out.
    assert (await sign_in(api, email, STRONG))["accessToken"]
