"""`lotse dev`: the embedded nats-server, every service and the gateway in one command.

Data lives under LOTSE_DATA_DIR (default ./var): the nats-server store (the system of
record), each service's SQLite view, and the mail outbox. A second run keeps it all;
sample data is loaded once, the first time. The nats-server is supervised: restarted when
it dies, and `lotse dev` stops with its log named when it keeps dying (lotse/embedded_nats.py).
"""

from __future__ import annotations

from lotse.embedded_nats import EmbeddedNats, NatsGaveUp, listening
from services.kernel.connection import redacted
from lotse.platform import SERVICES, Platform, run_until_signalled
from lotse.sample import load_sample_data
from services.kernel.clock import clock
from services.kernel.logging import configure, get_logger
from services.kernel.settings import Settings

log = get_logger("dev")


def banner(settings: Settings, loaded: bool) -> str:
    base = settings.link("")
    mail = (f"SMTP {settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host
            else str((settings.data_dir / "mail").resolve()) + "/*.eml")
    lines = [
        "",
        "Lotse is running.",
        f"  GraphiQL      {base}/graphql",
        f"  Health        {base}/readyz",
        f"  Metrics       http://{settings.metrics_host}:{settings.metrics_port}/metrics",
        f"  Mail outbox   {mail}",
        f"  NATS          {redacted(settings.nats_url)}",
        f"  Data          {settings.data_dir.resolve()}",
    ]
    if loaded:
        lines.append("  Sample data   loaded (sample accounts: see README.md, “Sample data”)")
    lines += ["Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


async def run(settings: Settings) -> None:
    configure(settings.log_level, settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for host, port, variable in ((settings.http_host, settings.http_port, "LOTSE_HTTP_PORT"),
                                 (settings.metrics_host, settings.metrics_port, "LOTSE_METRICS_PORT")):
        if listening(host, port):
            raise SystemExit(
                f"something already listens on {host}:{port}; is another `make dev` running? "
                f"Stop it, or set {variable} to another port."
            )
    nats = EmbeddedNats(settings.nats_url, settings.data_dir / "nats")
    nats.start()
    platform = Platform(settings, clock, SERVICES, gateway=True)

    async def ready() -> None:
        loaded = await load_sample_data(settings, platform)
        print(banner(settings, loaded), flush=True)

    try:
        await run_until_signalled(platform, after_start=ready, guard=nats.supervise)
    except NatsGaveUp as e:
        raise SystemExit(str(e)) from None
    finally:
        nats.stop()  # whatever failed above: no nats-server outlives `lotse dev`
        print("Lotse stopped.", flush=True)
