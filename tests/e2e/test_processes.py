"""The platform as separate processes (as Compose runs it), crashed and restarted.

Nothing a user gave may be lost: a registration survives identity being killed and its
SQLite view deleted; a mail queued while the mailer is down is delivered when it is back;
a restart of nats-server itself is ridden out.
"""

from __future__ import annotations

import asyncio
import os
import subprocess

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from tests.support.gateway import post_form
from tests.e2e.flows import (
    OTHER_STRONG, REQUEST_RESET, RESET, SIGN_OUT_EVERYWHERE, VIEWER, new_person, register, sign_in,
)
from tests.support.graphql import GraphQL, transport_websocket
from tests.support.nats_server import LocalNats, free_port
from tests.support.processes import LOTSE, LotseProcess, wait_for_output, wait_for_service, wait_until_ready
from tests.support.smtp import link_in, token_in

SESSION_ENDED = "this session has ended; sign in again"

pytestmark = pytest.mark.slow


@pytest.fixture
def deployment(tmp_path, smtp):
    nats = LocalNats(store_dir=tmp_path / "nats")
    nats.start()
    http_port = free_port()
    base_env = {
        "LOTSE_NATS_URL": nats.url,
        "LOTSE_HTTP_HOST": "127.0.0.1",
        "LOTSE_HTTP_PORT": str(http_port),
        "LOTSE_METRICS_PORT": str(free_port()),
        "LOTSE_PUBLIC_URL": f"http://127.0.0.1:{http_port}",
        "LOTSE_SMTP_HOST": "127.0.0.1",
        "LOTSE_SMTP_PORT": str(smtp.port),
        "LOTSE_SMTP_STARTTLS": "false",
        "LOTSE_SECRET_KEY": "a-test-secret-that-all-processes-share",
        "LOTSE_LOG_FORMAT": "json",
    }
    processes: dict[str, LotseProcess] = {}

    def start(name: str) -> LotseProcess:
        args = ["gateway"] if name == "gateway" else ["serve", name]
        env = {**base_env, "LOTSE_DATA_DIR": str(tmp_path / name)}
        processes[name] = LotseProcess(args, env, tmp_path / "logs" / f"{name}.log").start()
        return processes[name]

    for name in ("identity", "directory", "news", "notifications", "gateway"):
        start(name)
    ready_url = f"http://127.0.0.1:{http_port}/readyz"
    wait_until_ready(ready_url, process=processes["gateway"])
    yield {"nats": nats, "start": start, "processes": processes, "env": base_env, "tmp": tmp_path,
           "base_url": f"http://127.0.0.1:{http_port}", "ready_url": ready_url}
    try:
        exit_codes = {name: process.stop() for name, process in processes.items()}
    finally:
        nats.cleanup()  # even when a process would not stop: no nats-server outlives the test
    assert all(code == 0 for code in exit_codes.values()), exit_codes


async def test_registration_survives_a_crashed_identity_and_a_deleted_view(deployment, smtp):
    api = GraphQL(deployment["base_url"])
    username, email = new_person("crash")
    assert (await register(api, username, email))["ok"]
    [mail] = await smtp.inbox.wait_for(email)

    identity = deployment["processes"]["identity"]
    identity.kill()
    view = deployment["tmp"] / "identity" / "identity" / "identity.sqlite3"
    assert view.exists()
    for leftover in view.parent.glob("identity.sqlite3*"):
        leftover.unlink()
    deployment["start"]("identity")
    await asyncio.to_thread(wait_for_service, {**deployment["env"]}, "identity")

    # The view was rebuilt from the stream: the link from before the crash still works.
    async with httpx.AsyncClient() as http:
        page = link_in(mail, "/confirm").split("?")[0]
        confirmed = await post_form(http, page, {"token": token_in(mail, "/confirm")})
    assert confirmed.status_code == 200
    session = await sign_in(api, username)
    assert session["userErrors"] == [] and session["viewer"]["emailConfirmed"]


async def test_mail_queued_while_the_mailer_is_down_is_delivered_later(deployment, smtp):
    api = GraphQL(deployment["base_url"])
    username, email = new_person("queued")
    await register(api, username, email)
    await smtp.inbox.wait_for(email)

    deployment["processes"]["notifications"].kill()
    assert (await api(REQUEST_RESET, identifier=email))["requestPasswordReset"]["ok"]
    await asyncio.sleep(1)
    assert len(smtp.inbox.to(email)) == 1  # nobody delivers now, the queue keeps it

    deployment["start"]("notifications")
    mails = await smtp.inbox.wait_for(email, count=2, timeout=30)
    assert "/reset" in link_in(mails[-1], "/reset")


async def test_services_ride_out_a_restart_of_nats(deployment, smtp):
    api = GraphQL(deployment["base_url"])
    username, email = new_person("natsrestart")
    await register(api, username, email)
    [mail] = await smtp.inbox.wait_for(email)

    nats: LocalNats = deployment["nats"]
    nats.stop()
    nats.start()  # same port, same store: the streams are still there
    await asyncio.to_thread(wait_until_ready, deployment["ready_url"], 60)

    confirmed = None
    attempts = []
    for _ in range(50):  # consumers re-attach a moment after the connection is back
        confirmed = (await api("mutation($t: String!) { confirmEmail(token: $t) { ok userErrors { code message } } }",
                               t=token_in(mail, "/confirm")))["confirmEmail"]
        attempts.append(confirmed)
        if confirmed["ok"]:
            break
        await asyncio.sleep(0.2)
    assert confirmed and confirmed["ok"], attempts
    session = await sign_in(api, email)
    assert session["userErrors"] == []

    # Token verifiers watch the revocation list anew after the restart: identity's process
    # (asked through the gateway) refuses a token of a session that ended after it.
    me = api.as_(session["accessToken"])
    assert (await me(VIEWER))["viewer"]["email"] == email
    assert (await me(SIGN_OUT_EVERYWHERE))["signOutEverywhere"]["ok"]
    answers = await refused_within(me, 5.0)
    assert answers[-1:] == [SESSION_ENDED], answers
    # A gateway process started after the revocation reads it from the bucket: its own
    # verifier refuses the token at connection_init with 4403.
    assert deployment["processes"]["gateway"].stop() == 0
    gateway = deployment["start"]("gateway")
    await asyncio.to_thread(wait_until_ready, deployment["ready_url"], 60, gateway)
    async with transport_websocket(deployment["base_url"], session["accessToken"], acknowledged=False) as ws:
        assert (await ws.closed(5.0))[0] == 4403


async def refused_within(api: GraphQL, timeout: float) -> list[str]:
    """What `viewer` answered until it was refused as a session that ended, within `timeout`
    seconds; the last answer is that refusal, or the list shows what came instead."""
    deadline = asyncio.get_running_loop().time() + timeout
    answers: list[str] = []
    while asyncio.get_running_loop().time() < deadline:
        try:
            await api(VIEWER)
            answers.append("accepted")
        except TransportQueryError as e:
            answers.append(e.errors[0]["message"])
            if answers[-1] == SESSION_ENDED:
                return answers
        await asyncio.sleep(0.1)
    return answers


async def test_the_first_admin_comes_from_the_command_line(deployment, smtp):
    result = await asyncio.to_thread(
        subprocess.run,
        [LOTSE, "admin", "create-admin", "--email", "chefin@example.org", "--username", "chefin"],
        env={**os.environ, **deployment["env"]}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [mail] = await smtp.inbox.wait_for("chefin@example.org")
    token = token_in(mail, "/reset")
    assert token not in result.stdout + result.stderr  # the command prints nothing secret

    api = GraphQL(deployment["base_url"])
    assert (await api(RESET, token=token, newPassword=OTHER_STRONG))["resetPassword"]["ok"]
    session = await sign_in(api, "chefin", OTHER_STRONG)
    assert session["viewer"]["role"] == "ADMIN" and session["viewer"]["emailConfirmed"]

    refused = await asyncio.to_thread(
        subprocess.run,
        [LOTSE, "admin", "create-admin", "--email", "not-an-address", "--username", "x"],
        env={**os.environ, **deployment["env"]}, capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode != 0 and "email" in refused.stderr


@pytest.mark.parametrize("args", [["serve", "identity"], ["gateway"]])
async def test_a_process_still_waiting_for_nats_stops_at_once(tmp_path, args):
    env = {"LOTSE_NATS_URL": f"nats://127.0.0.1:{free_port()}", "LOTSE_HTTP_PORT": str(free_port()),
           "LOTSE_METRICS_PORT": str(free_port()), "LOTSE_DATA_DIR": str(tmp_path)}
    process = LotseProcess(args, env, tmp_path / "waiting.log").start()
    # Retrying its first connection now (its signal handlers are set before it connects); a
    # fixed sleep was too short on a loaded machine, where the imports alone can take seconds.
    await asyncio.to_thread(wait_for_output, process, "Connect call failed", 60)
    assert process.proc.poll() is None
    assert process.stop(timeout=10) == 0  # SIGTERM, as Compose sends it
