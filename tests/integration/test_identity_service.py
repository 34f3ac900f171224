"""Identity through its NATS endpoints, with the mailer delivering to a real SMTP server."""

from __future__ import annotations

import pytest

from proto.common import Caller
from proto.errors import ErrorCode, Invalid, LotseError, Unauthenticated
from proto.identity import ConfirmEmail, GetViewer, Register, SignIn
from services.kernel.clock import Clock
from tests.support.platform import running_platform, platform_settings
from tests.support.smtp import token_in

STRONG = "Fahrrad Ampel Wolke 42 Sommer"


@pytest.fixture
async def identity(nats_url, smtp, tmp_path):
    clock = Clock()
    settings = platform_settings(nats_url, tmp_path, smtp.port)
    async with running_platform(settings, clock, ["identity", "notifications"]) as (platform, client):
        yield client, clock, platform


async def test_register_confirm_sign_in(identity, smtp):
    client, _, _ = identity
    reply = await client.identity.register(Register(
        username="lena.k", email="lena@example.org", password=STRONG, display_name="Lena K", locale="de"))
    assert reply.ok
    [mail] = await smtp.inbox.wait_for("lena@example.org")
    assert mail.is_multipart()
    token = token_in(mail, "/confirm")

    with pytest.raises(LotseError) as refused:
        await client.identity.sign_in(SignIn(identifier="lena.k", password=STRONG))
    assert refused.value.code == ErrorCode.FORBIDDEN

    await client.identity.confirm_email(ConfirmEmail(token=token))
    session = await client.identity.sign_in(SignIn(identifier="  LENA@example.org ", password=STRONG))
    assert session.account.username == "lena.k"
    viewer = await client.identity.viewer(GetViewer(), Caller(token=session.access_token))
    assert viewer.account and viewer.account.email_confirmed

    with pytest.raises(Invalid):
        await client.identity.confirm_email(ConfirmEmail(token=token))  # single use
    with pytest.raises(Unauthenticated):
        await client.identity.sign_in(SignIn(identifier="lena.k", password=STRONG + "x"))
