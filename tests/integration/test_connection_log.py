"""A connection's own close at stop is not a lost server: `make dev` stopped with a warning
per connection. A lost server still warns. Logged by a process of its own, since the log
configuration is the process's (structlog caches its loggers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.nats_server import LocalNats

SCRIPT = """
import asyncio, sys
from services.kernel.connection import connect, release

async def main(url, lose):
    nc = await connect(url, "probe")
    if lose == "lose":
        print("connected", flush=True)
        sys.stdin.readline()  # the test kills the server, then says so
        await asyncio.sleep(1.0)
    await release(nc)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def events(stderr: str) -> list[tuple[str, str]]:
    found = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)  # stderr is no terminal: the log is JSON
            found.append((entry["event"], entry["level"]))
    return found


def run(url: str, how: str, server: LocalNats | None = None) -> list[tuple[str, str]]:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, url, how], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    if server is not None:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "connected"
        server.kill()
    _, stderr = proc.communicate("go\n", timeout=30)
    assert proc.returncode == 0, stderr
    return events(stderr)


def test_our_own_close_is_logged_as_closed_and_a_lost_server_as_a_warning():
    server = LocalNats()
    server.start()
    try:
        closing = run(server.url, "close")
        assert ("nats.closed", "info") in closing
        assert not [e for e in closing if e[1] == "warning"], closing

        lost = run(server.url, "lose", server)
        assert ("nats.disconnected", "warning") in lost
    finally:
        server.stop()
