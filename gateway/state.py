"""What one gateway process holds while it runs: settings, clock, metrics, and its NATS-backed parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from nats.aio.client import Client as NATS

from gateway.budget import QueryBudget
from gateway.connections import OpenConnections
from gateway.limits import query_budget
from gateway.live import LiveHub
from gateway.news_live import PublicationHub
from gateway.notifications_live import NotificationHub
from gateway.metrics import GatewayMetrics
from gateway.web.keys import WebKeys
from gateway.web.session import Refresher
from proto.client import LotseClient
from proto.errors import Unavailable
from services.kernel.auth import TokenVerifier
from services.kernel.clock import Clock
from services.kernel.settings import Settings


@dataclass
class Gateway:
    settings: Settings
    clock: Clock
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    query_budget: QueryBudget = field(default_factory=query_budget)
    # Set by the app's lifespan once NATS answers; None before start and after stop.
    nc: NATS | None = None
    lotse: LotseClient | None = None
    verifier: TokenVerifier | None = None
    hub: LiveHub | None = None
    connections: OpenConnections | None = None  # WebSocket connections, closed when their session ends
    news_hub: PublicationHub | None = None  # news' publications, followed from the NEWS stream
    notifications_hub: NotificationHub | None = None  # people's notifications, from the NOTIFICATIONS stream
    web_sessions: Refresher = field(default_factory=Refresher)  # the web client's single-flight refreshes

    @cached_property
    def web_keys(self) -> WebKeys:
        """Read (or on one machine made) when the first page needs it, not at import."""
        return WebKeys.of(self.settings)

    @property
    def client(self) -> LotseClient:
        if self.lotse is None:
            raise Unavailable("the gateway is not connected to the platform yet")
        return self.lotse

    @property
    def publications(self) -> PublicationHub:
        if self.news_hub is None:
            raise Unavailable("live updates are not running yet")
        return self.news_hub

    @property
    def notifications_seen(self) -> int | None:
        """How far this gateway's live side has read the NOTIFICATIONS stream: an inbox read
        here waits for a view that holds at least what was pushed (None: nothing pushed)."""
        return self.notifications_hub.last_seq if self.notifications_hub is not None else None

    @property
    def notification_hub(self) -> NotificationHub:
        if self.notifications_hub is None:
            raise Unavailable("live updates are not running yet")
        return self.notifications_hub

    @property
    def live(self) -> LiveHub:
        if self.hub is None:
            raise Unavailable("live updates are not running yet")
        return self.hub
