"""`lotse gateway` as a real process, at its HTTP edge: what a prober sends it.

Malformed bodies used to crash strawberry's body parsing (500, and a traceback in the log
for every one); now each gets 400 in the GraphQL error format, and the log stays clean.
No service runs behind this gateway: none of these requests may need one.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.support.nats_server import LocalNats, free_port
from tests.support.processes import LotseProcess

pytestmark = pytest.mark.slow

BODIES = [
    b'{"query": "{ viewer { id } }", "operationName": "\xc3\x28"}',  # invalid UTF-8
    b"null",
    b'"{ viewer { id } }"',
    b"17",
    b"[]",
    b'[{"query": "{ viewer { id } }"}, {"query": "{ viewer { id } }"}]',
    b'{"query": "{ viewer { id }',
    b"\xff\xfe{\x00}\x00",
]


@pytest.fixture
def gateway(tmp_path):
    nats = LocalNats()
    nats.start()
    port = free_port()
    env = {"LOTSE_NATS_URL": nats.url, "LOTSE_HTTP_PORT": str(port), "LOTSE_METRICS_PORT": str(free_port()),
           "LOTSE_DATA_DIR": str(tmp_path / "gateway"), "LOTSE_LOG_FORMAT": "json", "LOTSE_LOG_LEVEL": "info"}
    process = LotseProcess(["gateway"], env, tmp_path / "gateway.log").start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.proc.poll() is None, process.output()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the gateway did not start:\n{process.output()}"
            time.sleep(0.2)
        yield base, process
    finally:
        if process.proc.poll() is None:
            process.stop()
        nats.cleanup()


def test_malformed_bodies_get_400_and_leave_no_traceback_in_the_log(gateway):
    base, process = gateway
    with httpx.Client(base_url=base, timeout=10) as client:
        for body in BODIES:
            response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (body, response.status_code, response.text)
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "INVALID_INPUT", body
            assert error["extensions"]["correlationId"] == response.headers["x-correlation-id"]
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-content-type-options"] == "nosniff"
        # The gateway is unharmed: a proper request is answered.
        assert client.post("/graphql", json={"query": "{ viewer { id } }"}).json() == {"data": {"viewer": None}}

    assert process.stop() == 0
    log = process.output()
    assert "Traceback" not in log, log
    levels = [json.loads(line).get("level") for line in log.splitlines() if line.startswith("{")]
    assert levels and "error" not in levels and "critical" not in levels, log
