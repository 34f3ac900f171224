"""Sign-out means signed out, everywhere, at once: ended sessions' access tokens are refused
by a second gateway replica and by services called directly over NATS, and a WebSocket
connection of an ended session is closed with graphql-transport-ws's 4403.

Each check polls with a generous deadline (DEADLINE) — "at once" means the bucket watch's
latency, a few milliseconds, but a loaded test machine must not make the test flaky — and
asserts nothing about time beyond it. Each test also keeps a session that did not end,
and checks it still works: a revocation that is too broad fails here as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from gql.transport.exceptions import TransportQueryError

from lotse.platform import Platform
from proto import identity as contract
from proto.common import Caller
from proto.directory import MyActors
from proto.errors import Unauthenticated
from services.kernel.auth import TokenRevoked, TokenVerifier
from services.kernel.connection import connect
from tests.e2e.flows import (
    CHANGE_EMAIL, CHANGE_PASSWORD, CONFIRM, OTHER_STRONG, REFRESH, REQUEST_RESET, RESET, SIGN_OUT,
    SIGN_OUT_EVERYWHERE, STRONG, VIEWER, VIEWER_UPDATED, confirmed_member, new_person, sign_in,
)
from tests.support.graphql import GraphQL, TransportWebSocket, codes_of, transport_websocket
from tests.support.nats_server import free_port
from tests.support.smtp import text_of, token_in

DEADLINE = 5.0  # seconds a revocation may take to be seen; it takes milliseconds
SESSION_ENDED_CLOSE = 4403


@pytest.fixture(scope="module")
async def replica(running, tmp_path_factory) -> str:
    """A second gateway, as a load balancer would have beside the first: its own app and
    port, the same NATS, nothing shared in memory with the first."""
    port = free_port()
    settings = running.settings.model_copy(update={
        "http_port": port, "public_url": f"http://127.0.0.1:{port}", "metrics_port": free_port(),
        "data_dir": tmp_path_factory.mktemp("replica"),
    })
    platform = Platform(settings, running.clock, [], gateway=True)
    await platform.start()
    yield f"http://127.0.0.1:{port}"
    await platform.stop()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {DEADLINE}s: {what}")
        await asyncio.sleep(0.05)


async def gateway_refuses(base_url: str, token: str) -> bool:
    """False while the gateway at `base_url` still serves `viewer` with the token."""
    try:
        await GraphQL(base_url, token)(VIEWER)
    except TransportQueryError as e:
        [error] = e.errors
        assert error["extensions"]["code"] == "UNAUTHENTICATED", error
        assert error["message"] == "this session has ended; sign in again", error
        return True
    return False


async def services_refuse(running, token: str) -> bool:
    """Directory and identity, asked directly over NATS (no gateway in between)."""
    refused = []
    for ask in (lambda: running.client.directory.my_actors(MyActors(), Caller(token=token)),
                lambda: running.client.identity.viewer(contract.GetViewer(), Caller(token=token))):
        try:
            await ask()
            refused.append(False)
        except Unauthenticated as e:
            assert e.message == "this session has ended; sign in again"
            refused.append(True)
    return all(refused)


async def works(running, base_url: str, token: str) -> None:
    """The token is served by the gateway at `base_url` and by directory and identity over NATS."""
    assert (await GraphQL(base_url, token)(VIEWER))["viewer"]["id"]
    await running.client.directory.my_actors(MyActors(), Caller(token=token))
    assert (await running.client.identity.viewer(contract.GetViewer(), Caller(token=token))).account


async def refused_everywhere(running, replica: str, token: str) -> None:
    await eventually(lambda: gateway_refuses(replica, token), "the second gateway refuses the token")
    await eventually(lambda: gateway_refuses(running.base_url, token), "the first gateway refuses the token")
    await eventually(lambda: services_refuse(running, token), "directory and identity refuse the token")


async def subscribed(ws: TransportWebSocket) -> TransportWebSocket:
    await ws.subscribe("1", VIEWER_UPDATED)
    assert await ws.alive()  # the subscription is on, the socket answers
    return ws


async def assert_closed_as_ended(ws: TransportWebSocket) -> None:
    code, reason = await ws.closed(DEADLINE)
    assert (code, reason) == (SESSION_ENDED_CLOSE, "this session has ended; sign in again")


async def signed_in_member(api: GraphQL, smtp, prefix: str, sessions: int = 1) -> tuple[str, str, list[dict]]:
    username, email = await confirmed_member(api, smtp, prefix)
    return username, email, [await sign_in(api, username) for _ in range(sessions)]


async def test_sign_out_everywhere_ends_every_token_on_every_replica_and_closes_live_sockets(
        api, running, replica, smtp):
    _, _, (laptop, phone) = await signed_in_member(api, smtp, "everywhere", sessions=2)
    _, _, (bystander,) = await signed_in_member(api, smtp, "bystander")
    for session in (laptop, phone, bystander):
        await works(running, replica, session["accessToken"])

    async with transport_websocket(replica, phone["accessToken"]) as phone_live, \
            transport_websocket(replica, bystander["accessToken"]) as bystander_live:
        await subscribed(phone_live)
        await subscribed(bystander_live)

        out = (await api.as_(laptop["accessToken"])(SIGN_OUT_EVERYWHERE))["signOutEverywhere"]
        assert out == {"ok": True, "userErrors": []}

        await assert_closed_as_ended(phone_live)  # on the replica, with no push to trigger it
        for session in (laptop, phone):
            await refused_everywhere(running, replica, session["accessToken"])
        # Someone else's session is untouched, socket and all.
        assert await bystander_live.alive()
        await works(running, replica, bystander["accessToken"])

    # A new socket with the ended session's token is refused at connection_init.
    async with transport_websocket(replica, phone["accessToken"], acknowledged=False) as late:
        code, _ = await late.closed(DEADLINE)
        assert code == SESSION_ENDED_CLOSE

    # A verifier that starts now (a restarted service) reads the revocation from the bucket.
    nc = await connect(running.settings.nats_url, "late-verifier")
    verifier = TokenVerifier(running.clock)
    try:
        await verifier.start(nc)
        with pytest.raises(TokenRevoked):
            verifier.verify(laptop["accessToken"])
        assert verifier.verify(bystander["accessToken"]).session_id
    finally:
        await verifier.stop()
        await nc.close()


async def test_signing_out_one_session_ends_that_session_only(api, running, replica, smtp):
    _, _, (leaving, staying) = await signed_in_member(api, smtp, "one-out", sessions=2)
    async with transport_websocket(replica, leaving["accessToken"]) as leaving_live, \
            transport_websocket(replica, staying["accessToken"]) as staying_live:
        await subscribed(leaving_live)
        await subscribed(staying_live)
        assert (await api(SIGN_OUT, refreshToken=leaving["refreshToken"]))["signOut"]["ok"]

        await assert_closed_as_ended(leaving_live)
        await refused_everywhere(running, replica, leaving["accessToken"])
        assert await staying_live.alive()
        await works(running, replica, staying["accessToken"])


async def test_a_reused_refresh_token_ends_the_session_and_its_access_tokens(api, running, replica, smtp):
    _, _, (first,) = await signed_in_member(api, smtp, "reuse")
    _, _, (other,) = await signed_in_member(api, smtp, "reuse-other")
    rotated = (await api(REFRESH, refreshToken=first["refreshToken"]))["refreshSession"]
    assert rotated["userErrors"] == []
    await works(running, replica, rotated["accessToken"])

    stolen = (await api(REFRESH, refreshToken=first["refreshToken"]))["refreshSession"]
    assert codes_of(stolen) == ["UNAUTHENTICATED"]
    # Whoever holds the rotated pair is out too: the session may have been stolen.
    for token in (first["accessToken"], rotated["accessToken"]):
        await refused_everywhere(running, replica, token)
    await works(running, replica, other["accessToken"])


async def test_a_password_reset_ends_every_session(api, running, replica, smtp):
    username, email, (one, two) = await signed_in_member(api, smtp, "reset-out", sessions=2)
    _, _, (other,) = await signed_in_member(api, smtp, "reset-other")
    async with transport_websocket(replica, two["accessToken"]) as live:
        await subscribed(live)
        assert (await api(REQUEST_RESET, identifier=username))["requestPasswordReset"]["ok"]
        token = token_in((await smtp.inbox.wait_for(email, count=2))[-1], "/reset")
        assert (await api(RESET, token=token, newPassword=OTHER_STRONG))["resetPassword"]["ok"]

        await assert_closed_as_ended(live)
        for session in (one, two):
            await refused_everywhere(running, replica, session["accessToken"])
    await works(running, replica, other["accessToken"])
    fresh = await sign_in(api, username, OTHER_STRONG)
    await works(running, replica, fresh["accessToken"])


async def test_a_password_change_ends_every_other_session_and_keeps_this_one(api, running, replica, smtp):
    _, _, (here, there) = await signed_in_member(api, smtp, "change-pw", sessions=2)
    async with transport_websocket(replica, here["accessToken"]) as here_live, \
            transport_websocket(replica, there["accessToken"]) as there_live:
        await subscribed(here_live)
        await subscribed(there_live)
        done = (await api.as_(here["accessToken"])(
            CHANGE_PASSWORD, currentPassword=STRONG, newPassword=OTHER_STRONG))["changePassword"]
        assert done["ok"], done

        await assert_closed_as_ended(there_live)
        await refused_everywhere(running, replica, there["accessToken"])
        assert await here_live.alive()
        await works(running, replica, here["accessToken"])


async def test_a_confirmed_change_of_address_ends_every_other_session(api, running, replica, smtp):
    _, old, (here, there) = await signed_in_member(api, smtp, "move-out", sessions=2)
    _, new = new_person("moved-in")
    assert (await api.as_(here["accessToken"])(CHANGE_EMAIL, newEmail=new, password=STRONG))["changeEmail"]["ok"]
    [link] = await smtp.inbox.wait_for(new)
    notice = (await smtp.inbox.wait_for(old, count=2))[-1]
    for mail in (link, notice):  # both say what the confirmation will do
        assert "auf allen anderen Geräten abgemeldet" in text_of(mail)
    # Asking changes nothing yet: someone without the new mailbox cannot sign anyone out.
    for session in (here, there):
        await works(running, replica, session["accessToken"])

    async with transport_websocket(replica, there["accessToken"]) as there_live:
        await subscribed(there_live)
        assert (await api(CONFIRM, token=token_in(link, "/confirm")))["confirmEmail"]["ok"]

        await assert_closed_as_ended(there_live)
        await refused_everywhere(running, replica, there["accessToken"])
    assert codes_of((await api(REFRESH, refreshToken=there["refreshToken"]))["refreshSession"]) == ["UNAUTHENTICATED"]
    # The session that asked for the change goes on, refresh token included.
    await works(running, replica, here["accessToken"])
    assert (await api(REFRESH, refreshToken=here["refreshToken"]))["refreshSession"]["userErrors"] == []


@pytest.fixture(scope="module")
async def admin_token(running, smtp) -> str:
    username, email = new_person("revoking-admin")
    await running.client.identity.create_admin(contract.CreateAdmin(email=email, username=username))
    [mail] = await smtp.inbox.wait_for(email)
    anonymous = GraphQL(running.base_url, forwarded_for="203.0.113.240")
    assert (await anonymous(RESET, token=token_in(mail, "/reset"), newPassword=STRONG))["resetPassword"]["ok"]
    session = await sign_in(anonymous, username)
    assert session["viewer"]["role"] == "ADMIN", session
    return session["accessToken"]


async def test_a_role_change_voids_tokens_with_the_old_role_and_a_refreshed_one_has_the_new(
        api, running, replica, smtp, admin_token):
    _, _, (session,) = await signed_in_member(api, smtp, "promoted")
    account_id = session["viewer"]["id"]
    async with transport_websocket(replica, session["accessToken"]) as live:
        await subscribed(live)
        promoted = await running.client.identity.set_role(
            contract.SetRole(account_id=account_id, role="admin"), Caller(token=admin_token))
        assert promoted.role == "admin"

        await assert_closed_as_ended(live)
        await refused_everywhere(running, replica, session["accessToken"])
    # The session itself goes on: refreshing gives a token with the new role, at once —
    # issued within the same second as the change, and valid.
    refreshed = (await api(REFRESH, refreshToken=session["refreshToken"]))["refreshSession"]
    assert refreshed["userErrors"] == [] and refreshed["viewer"]["role"] == "ADMIN"
    await works(running, replica, refreshed["accessToken"])
    async with transport_websocket(replica, refreshed["accessToken"]) as live:
        assert await (await subscribed(live)).alive()
    # The admin who changed it is not affected.
    await works(running, replica, admin_token)
