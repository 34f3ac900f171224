"""Settings from the environment (`LOTSE_*`), read once per process.

Every field here is listed in README.md's configuration table; keep the two together.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # An empty variable means "not set": Compose passes `${LOTSE_SMTP_USER:-}` through as "",
    # and an empty SMTP user would otherwise make the mailer try to log in.
    model_config = SettingsConfigDict(env_prefix="LOTSE_", extra="ignore", env_ignore_empty=True)

    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="where the services connect; `lotse dev` runs the embedded nats-server here",
    )
    data_dir: Path = Field(
        Path("var"), description="SQLite views, embedded nats-server store, mail files, dev secret key"
    )
    http_host: str = Field("127.0.0.1", description="gateway bind address")
    http_port: int = Field(8000, description="gateway port")
    metrics_host: str = Field(
        "127.0.0.1", description="bind address of the gateway's Prometheus metrics, apart from the public port"
    )
    metrics_port: int = Field(
        9464, description="port of the gateway's Prometheus metrics (`/metrics`); never publish it"
    )
    public_url: str = Field("", description="base of links in mails; default http://<http_host>:<http_port>")
    smtp_host: str | None = Field(None, description="SMTP server; unset: mail is written to <data_dir>/mail/*.eml")
    smtp_port: int = Field(587, description="SMTP port")
    smtp_user: str | None = Field(None, description="SMTP user, if the server wants one")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_starttls: bool = Field(True, description="upgrade the SMTP connection with STARTTLS")
    mail_from: str = Field("Lotse <no-reply@lotse.localhost>", description="sender of every mail")
    mail_ack_wait: float = Field(
        30.0, ge=10.0, description="seconds after which notification mail held by a notifications replica that "
                                   "stopped answering goes to another; each mail being sent extends it; at least 10")
    secret_key: SecretStr | None = Field(
        None,
        description="encrypts identity's signing keys at rest; unset: generated once into <data_dir>/secret.key",
    )
    session_key: SecretStr | None = Field(
        None,
        description="encrypts the web client's session cookies; every gateway needs the same; "
        "unset: generated once into <data_dir>/session.key",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: readable on a terminal, JSON otherwise"
    )
    log_level: str = Field("info", description="debug, info, warning, error")
    nats_stream_replicas: int = Field(1, description="replicas of each stream and bucket: 3 on the production cluster")
    request_timeout: float = Field(10.0, description="seconds a NATS request may take")
    failover_wait: float = Field(
        7.0,
        description="seconds a write waits for NATS to fail over (a new stream leader after a node's loss) before "
                    "answering UNAVAILABLE; keep it below request_timeout",
    )
    startup_wait: float = Field(
        10.0,
        description="seconds a service waits at start for its view to catch up with its stream; after that "
                    "it serves anyway, answering UNAVAILABLE until caught up",
    )
    trusted_proxies: str = Field("", description="comma-separated proxy addresses whose X-Forwarded-For is believed")
    cors_origins: str = Field(
        "", description="comma-separated origins (https://host[:port]) whose browser apps may call the API; empty: none"
    )

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, value: str) -> str:
        # Exact origins only: a wildcard or a typo would let any site's scripts read the
        # API's answers in its visitors' browsers.
        origins = [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        for origin in origins:
            parts = urlsplit(origin)
            if (parts.scheme not in ("http", "https") or not parts.hostname or "*" in origin or parts.path
                    or parts.query or parts.fragment or parts.username is not None):
                raise ValueError(f"{origin!r} is not an origin: write scheme://host[:port], e.g. https://partner.example")
        return ",".join(origins)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin for origin in self.cors_origins.split(",") if origin]

    @property
    def https(self) -> bool:
        """Whether people reach the gateway over TLS: then cookies are `Secure` (and `__Host-`)."""
        return self.public_url.lower().startswith("https://")

    def link(self, path: str) -> str:
        base = self.public_url or f"http://{self.http_host}:{self.http_port}"
        return base.rstrip("/") + path

    def service_dir(self, service: str) -> Path:
        path = self.data_dir / service
        path.mkdir(parents=True, exist_ok=True)
        return path


@lru_cache
def get_settings() -> Settings:
    return Settings()
