"""Notifications: delivers outgoing mail from the `MAIL` work queue over SMTP (or to files)."""

from __future__ import annotations

from services.kernel.clock import Clock
from services.kernel.mailer import Mailer
from services.kernel.runtime import ServiceRuntime
from services.kernel.settings import Settings
from services.notifications.views import NotificationsView


class NotificationsService(ServiceRuntime):
    name = "notifications"

    def __init__(self, settings: Settings, clock: Clock):
        # The contract's endpoints are answered from the next change on; until then only the mailer runs.
        super().__init__(settings, clock, NotificationsView(), {})
        self.mailer: Mailer | None = None

    async def on_start(self) -> None:
        assert self.js is not None
        self.mailer = Mailer(self.js, self.settings, self.clock)
        await self.mailer.start()

    async def on_stop(self) -> None:
        if self.mailer:
            await self.mailer.stop()
