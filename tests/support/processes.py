"""Starting `lotse` commands as real processes, as an operator or `make dev` would, and
ending them by their pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

LOTSE = str(Path(sys.executable).parent / "lotse")


class LotseProcess:
    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.args = args
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "LotseProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([LOTSE, *self.args], env={**os.environ, **self.env},
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """A crash: SIGKILL, no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """A clean stop; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError(f"{self.args} did not stop within {timeout}s:\n{self.output()}")
        return self.proc.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_until_ready(url: str, timeout: float = 60.0, process: LotseProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.proc is not None and process.proc.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.proc.returncode}:\n{process.output()}")
        try:
            last = httpx.get(url, timeout=2)
            if last.status_code == 200:
                return
        except httpx.HTTPError as e:
            last = e
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready after {timeout}s (last: {last})")


def wait_for_service(env: dict[str, str], name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = subprocess.run([LOTSE, "health", name], env={**os.environ, **env}, capture_output=True)
        if result.returncode == 0:
            return
        time.sleep(0.3)
    raise AssertionError(f"{name} not healthy after {timeout}s")


def wait_for_output(process: LotseProcess, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in process.output():
        if process.proc is not None and process.proc.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.proc.returncode}:\n{process.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not printed within {timeout}s:\n{process.output()}")
        time.sleep(0.1)
