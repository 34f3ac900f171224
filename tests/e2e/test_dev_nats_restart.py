"""`lotse dev` when its nats-server dies: restarted on the same port and store, the platform
recovers without anyone touching it; and when the server cannot come back, `lotse dev`
stops and says where to look.

Real processes throughout: `lotse dev`, its nats-server (killed with SIGKILL by the pid it
wrote), HTTP and WebSocket clients. Deadlines are generous; nothing is timed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from gql import gql

from services.identity.sample import SAMPLE_PASSWORD
from tests.e2e.flows import REQUEST_RESET, UPDATE_PROFILE, VIEWER_UPDATED, sign_in
from tests.e2e.test_dev_command import dev_process, end_embedded_nats, pid_alive
from tests.support.graphql import GraphQL
from tests.support.nats_server import free_port
from tests.support.processes import LotseProcess, wait_for_output, wait_until_ready

pytestmark = pytest.mark.slow

CREATE_ACTOR = """mutation($input: CreateActorInput!) {
  createActor(input: $input) { actor { id name status } userErrors { field code message } } }"""
ACTOR = """query($id: ID!) { actor(id: $id) { id name status } }"""
MY_ACTORS = """query { myActors { id name } }"""


def nats_pid(data_dir: Path) -> int:
    return int((data_dir / "nats" / "nats-server.pid").read_text().strip())


def kill_nats(data_dir: Path) -> int:
    """SIGKILL the embedded nats-server; return once the kernel has really ended it."""
    pid = nats_pid(data_dir)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid):
        assert time.monotonic() < deadline, f"nats-server {pid} outlived SIGKILL"
        time.sleep(0.005)
    return pid


def restarted(data_dir: Path, old_pid: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid = nats_pid(data_dir)
        except (OSError, ValueError):
            pid = old_pid  # being rewritten
        if pid != old_pid and pid_alive(pid):
            return pid
        assert time.monotonic() < deadline, "nats-server was not restarted"
        time.sleep(0.1)


async def new_mail(outbox: Path, known: set[Path], timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while not (fresh := set(outbox.glob("*.eml")) - known):
        assert time.monotonic() < deadline, "no mail was written"
        await asyncio.sleep(0.1)
    [mail] = fresh
    return mail


async def started(tmp_path: Path, log: str) -> tuple[LotseProcess, str, int]:
    http_port, nats_port = free_port(), free_port()
    dev = dev_process(tmp_path / "var", http_port, nats_port, tmp_path / log).start()
    base = f"http://127.0.0.1:{http_port}"
    await asyncio.to_thread(wait_until_ready, f"{base}/readyz", 90, dev)
    await asyncio.to_thread(wait_for_output, dev, "Lotse is running.", 90)  # sample data loaded
    return dev, base, nats_port


async def test_a_killed_nats_server_is_restarted_and_the_platform_recovers(tmp_path):
    data = tmp_path / "var"
    dev, base, _ = await started(tmp_path, "dev.log")
    try:
        api = GraphQL(base)
        anna = api.as_((await sign_in(api, "anna.schmidt", SAMPLE_PASSWORD))["accessToken"])
        before = (await anna(CREATE_ACTOR, input={"kind": "municipality", "name": "Vor dem Absturz",
                                                  "regions": ["10041100"]}))["createActor"]
        assert before["userErrors"] == [], before

        old = await asyncio.to_thread(kill_nats, data)
        new = await asyncio.to_thread(restarted, data, old)
        assert new != old
        await asyncio.to_thread(wait_until_ready, f"{base}/readyz", 90, dev)

        # What was written before the crash is still there.
        kept = (await anna(ACTOR, id=before["actor"]["id"]))["actor"]
        assert kept == before["actor"]

        # A new write works and is readable at once (the directory's view follows its stream).
        after = (await anna(CREATE_ACTOR, input={"kind": "municipality", "name": "Nach dem Neustart",
                                                 "regions": ["10041100"]}))["createActor"]
        assert after["userErrors"] == [], after
        mine = {actor["name"] for actor in (await anna(MY_ACTORS))["myActors"]}
        assert {"Vor dem Absturz", "Nach dem Neustart"} <= mine

        # Signing in works (identity's keys, sessions), and so do live updates over WebSocket.
        julia = await sign_in(api, "julia.weber", SAMPLE_PASSWORD)
        assert julia["userErrors"] == [] and julia["viewer"]["username"] == "julia.weber"
        me = api.as_(julia["accessToken"])
        async with me.websocket() as ws:
            updates = ws.subscribe(gql(VIEWER_UPDATED))
            pending = asyncio.ensure_future(updates.__anext__())
            await asyncio.sleep(0.5)
            await me(UPDATE_PROFILE, displayName="Julia Weber (nach Neustart)")
            pushed = await asyncio.wait_for(pending, 15)
            assert pushed["viewerUpdated"]["displayName"] == "Julia Weber (nach Neustart)"
            await updates.aclose()

        # The mailer's durable consumer delivers again.
        outbox = data / "mail"
        known = set(outbox.glob("*.eml"))
        assert (await api(REQUEST_RESET, identifier="mehmet.yilmaz"))["requestPasswordReset"]["ok"]
        mail = await new_mail(outbox, known)
        assert b"mehmet.yilmaz@lotse.example" in mail.read_bytes() and b"/reset?token=" in mail.read_bytes()

        assert "nats.restarted" in dev.output()
        assert dev.stop(signal.SIGINT) == 0
        assert not pid_alive(new), "the restarted nats-server outlived `lotse dev`"
    finally:
        if dev.proc and dev.proc.poll() is None:
            dev.kill()
        end_embedded_nats(data)


def occupy(port: int, seconds: float = 0.4) -> socket.socket | None:
    """Hold the port the way another program would, if it is free within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
            return sock
        except OSError:
            sock.close()
            time.sleep(0.005)
    return None


async def test_dev_stops_with_the_log_named_when_nats_cannot_come_back(tmp_path):
    data = tmp_path / "var"
    dev, base, nats_port = await started(tmp_path, "dev.log")
    holder: socket.socket | None = None
    try:
        # Kill it and take its port before the supervisor's restart (0.5 s later) can; should
        # the restart win the race anyway, kill the new server and try again.
        for _ in range(5):
            killed = await asyncio.to_thread(kill_nats, data)
            holder = await asyncio.to_thread(occupy, nats_port)
            if holder is not None:
                break
            await asyncio.to_thread(restarted, data, killed)
        assert holder is not None, "could not take the port from the supervisor"

        code = await asyncio.to_thread(dev.proc.wait, 120)
        output = dev.output()
        assert code != 0, output
        assert "not restarting it again" in output
        assert str(data / "nats" / "nats-server.log") in output
        assert "nats.port_taken" in output  # each failed attempt said why
        assert "Lotse stopped." in output
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"{base}/healthz")  # the gateway went with it
    finally:
        if holder is not None:
            holder.close()
        if dev.proc and dev.proc.poll() is None:
            dev.kill()
        end_embedded_nats(data)
