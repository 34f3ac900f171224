"""A deployment of real processes, as Compose runs it: each service and gateway a `lotse`
process of its own, any of them in several replicas, all speaking to one NATS server or to
every node of a cluster (LOTSE_NATS_URL lists them, comma-separated, as deploy/nats says).

Replicas of a service share nothing but NATS: each has its own data directory (its own
SQLite view). Every process shares the keys a deployment shares (LOTSE_SECRET_KEY,
LOTSE_SESSION_KEY); each gateway listens on ports of its own.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.nats_server import free_port
from tests.support.processes import LotseProcess, wait_until_ready


class Deployment:
    def __init__(self, base_dir: Path, nats_urls: list[str], smtp_port: int | None = None, **env: str):
        self.base_dir = base_dir
        self.env = {
            "LOTSE_NATS_URL": ",".join(nats_urls),
            "LOTSE_HTTP_HOST": "127.0.0.1",
            "LOTSE_SECRET_KEY": "a-test-secret-that-all-processes-share",
            "LOTSE_SESSION_KEY": "a-session-key-that-all-gateways-share",
            "LOTSE_LOG_FORMAT": "json",
            **({"LOTSE_SMTP_HOST": "127.0.0.1", "LOTSE_SMTP_PORT": str(smtp_port), "LOTSE_SMTP_STARTTLS": "false"}
               if smtp_port else {}),
            **env,
        }
        self.processes: dict[str, LotseProcess] = {}
        self.gateways: dict[str, str] = {}  # name → base URL

    def start(self, service: str, replica: int = 1, **extra: str) -> LotseProcess:
        """`lotse serve <service>` (or `lotse gateway`), named `<service>-<replica>`."""
        name = f"{service}-{replica}"
        env = {**self.env, "LOTSE_DATA_DIR": str(self.base_dir / name), **extra}
        if service == "gateway":
            port = free_port()
            env |= {"LOTSE_HTTP_PORT": str(port), "LOTSE_METRICS_PORT": str(free_port()),
                    "LOTSE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
            self.gateways[name] = f"http://127.0.0.1:{port}"
        args = ["gateway"] if service == "gateway" else ["serve", service]
        self.processes[name] = LotseProcess(args, env, self.base_dir / "logs" / f"{name}.log").start()
        return self.processes[name]

    def wait_until_ready(self, timeout: float = 90.0) -> None:
        """Every gateway's /readyz answers 200: it reaches every service it needs."""
        for name, base in self.gateways.items():
            wait_until_ready(f"{base}/readyz", timeout, self.processes[name])

    def stop(self) -> dict[str, int]:
        """Stop every process (gateways first, as Compose would); their exit codes."""
        codes = {}
        for name in sorted(self.processes, key=lambda n: not n.startswith("gateway")):
            codes[name] = self.processes[name].stop()
        return codes

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{process.output()[-4000:]}" for name, process in self.processes.items())
