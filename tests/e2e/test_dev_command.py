"""`lotse dev` as `make dev` runs it: a real process, its embedded nats-server, a real port.

This is what a new developer gets: the platform comes up with sample data, answers GraphQL
over HTTP and WebSocket (so the WebSocket library must really be installed), writes mail
to files, stops cleanly on Ctrl-C, and keeps its data for the next run.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from gql import gql

from services.identity.sample import SAMPLE_PASSWORD
from tests.e2e.flows import REQUEST_RESET, UPDATE_PROFILE, VIEWER_UPDATED, sign_in
from tests.support.graphql import GraphQL
from tests.support.nats_server import free_port
from tests.support.processes import LotseProcess, wait_for_output, wait_until_ready

pytestmark = pytest.mark.slow


def dev_process(data_dir: Path, http_port: int, nats_port: int, log: Path,
                metrics_port: int | None = None) -> LotseProcess:
    env = {
        "LOTSE_DATA_DIR": str(data_dir),
        "LOTSE_HTTP_PORT": str(http_port),
        "LOTSE_METRICS_PORT": str(metrics_port or free_port()),
        "LOTSE_NATS_URL": f"nats://127.0.0.1:{nats_port}",
        "LOTSE_LOG_FORMAT": "json",
        "LOTSE_LOG_LEVEL": "info",
    }
    return LotseProcess(["dev"], env, log)


def end_embedded_nats(data_dir: Path) -> None:
    """After a failed test: the nats-server of a killed `lotse dev`, ended by its pid file."""
    import os

    try:
        pid = int((data_dir / "nats" / "nats-server.pid").read_text())
    except (OSError, ValueError):
        return
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)


def pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and b"zombie" not in Path(f"/proc/{pid}/status").read_bytes().lower()


async def test_dev_runs_the_platform_with_sample_data_and_stops_cleanly(tmp_path):
    http_port, nats_port, metrics_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    dev = dev_process(tmp_path / "var", http_port, nats_port, tmp_path / "dev.log", metrics_port).start()
    try:
        await asyncio.to_thread(wait_until_ready, f"{base}/readyz", 90, dev)
        await asyncio.to_thread(wait_for_output, dev, "Lotse is running.")
        output = dev.output()
        assert f"{base}/graphql" in output and "mail" in output.lower()

        # Metrics are where the banner says, and not on the public port.
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        assert metrics_url in output
        async with httpx.AsyncClient() as http:
            assert "lotse_gateway_http_requests_total" in (await http.get(metrics_url)).text
            assert (await http.get(f"{base}/metrics")).status_code == 404

        api = GraphQL(base)
        session = await sign_in(api, "anna.schmidt", SAMPLE_PASSWORD)
        assert session["userErrors"] == [] and session["viewer"]["displayName"] == "Anna Schmidt"

        # Live updates over a real WebSocket against the real server.
        me = api.as_(session["accessToken"])
        async with me.websocket() as ws:
            updates = ws.subscribe(gql(VIEWER_UPDATED))
            pending = asyncio.ensure_future(updates.__anext__())
            await asyncio.sleep(0.5)
            await me(UPDATE_PROFILE, displayName="Anna Schmidt (Landkreis)")
            pushed = await asyncio.wait_for(pending, 15)
            assert pushed["viewerUpdated"]["displayName"] == "Anna Schmidt (Landkreis)"
            await updates.aclose()

        # Mail goes to files under the data dir when no SMTP host is set.
        assert (await api(REQUEST_RESET, identifier="julia.weber"))["requestPasswordReset"]["ok"]
        outbox = tmp_path / "var" / "mail"
        for _ in range(100):
            if list(outbox.glob("*.eml")):
                break
            await asyncio.sleep(0.1)
        [eml] = list(outbox.glob("*.eml"))
        assert b"/reset?token=" in eml.read_bytes() and b"julia.weber@lotse.example" in eml.read_bytes()

        nats_pid = int((tmp_path / "var" / "nats" / "nats-server.pid").read_text())
        assert dev.stop(signal.SIGINT) == 0  # Ctrl-C
        assert "Lotse stopped." in dev.output()
        assert not pid_alive(nats_pid), "the embedded nats-server outlived `lotse dev`"
    finally:
        if dev.proc and dev.proc.poll() is None:
            dev.kill()
            end_embedded_nats(tmp_path / "var")

    # A second run keeps the data: the changed name is still there, samples are not reloaded.
    again = dev_process(tmp_path / "var", http_port, nats_port, tmp_path / "dev2.log").start()
    try:
        await asyncio.to_thread(wait_until_ready, f"{base}/readyz", 90, again)
        session = await sign_in(GraphQL(base), "anna.schmidt", SAMPLE_PASSWORD)
        assert session["viewer"]["displayName"] == "Anna Schmidt (Landkreis)"
        assert again.stop(signal.SIGINT) == 0
    finally:
        if again.proc and again.proc.poll() is None:
            again.kill()
            end_embedded_nats(tmp_path / "var")


async def test_a_killed_dev_leaves_no_nats_server_behind_on_the_next_start(tmp_path):
    http_port, nats_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    first = dev_process(tmp_path / "var", http_port, nats_port, tmp_path / "a.log").start()
    try:
        await asyncio.to_thread(wait_until_ready, f"{base}/readyz", 90, first)
    finally:
        first.kill()
    orphan = int((tmp_path / "var" / "nats" / "nats-server.pid").read_text())
    assert pid_alive(orphan)  # SIGKILL gave it no chance to stop its nats-server

    second = dev_process(tmp_path / "var", http_port, nats_port, tmp_path / "b.log").start()
    try:
        await asyncio.to_thread(wait_until_ready, f"{base}/readyz", 90, second)
        assert not pid_alive(orphan)
        assert second.stop(signal.SIGINT) == 0
    finally:
        if second.proc and second.proc.poll() is None:
            second.kill()
        end_embedded_nats(tmp_path / "var")


async def test_a_second_dev_on_the_same_data_or_port_refuses_and_harms_nothing(tmp_path):
    http_port, nats_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    first = dev_process(tmp_path / "var", http_port, nats_port, tmp_path / "a.log").start()
    try:
        await asyncio.to_thread(wait_until_ready, f"{base}/readyz", 90, first)
        nats_pid = int((tmp_path / "var" / "nats" / "nats-server.pid").read_text())

        same_data = dev_process(tmp_path / "var", free_port(), free_port(), tmp_path / "b.log").start()
        assert same_data.proc.wait(60) != 0
        assert "uses" in same_data.output()
        same_port = dev_process(tmp_path / "other", http_port, free_port(), tmp_path / "c.log").start()
        assert same_port.proc.wait(60) != 0
        assert "already listens" in same_port.output()

        # The first one did not notice: its nats-server and gateway still serve.
        assert pid_alive(nats_pid)
        await asyncio.to_thread(wait_until_ready, f"{base}/readyz", 10, first)
        assert first.stop(signal.SIGINT) == 0
    finally:
        if first.proc and first.proc.poll() is None:
            first.kill()
        end_embedded_nats(tmp_path / "var")
