"""A view of another service's stream, kept in this service's own database file.

News and notifications keep the directory's facts and identity's accounts they need;
the directory keeps identity's accounts. Each is the kernel's projector over the other
stream, started once that stream exists (services.kernel.streams.wait_for_event_stream:
the other service may not have started yet).
"""

from __future__ import annotations

from pathlib import Path

from nats.js import JetStreamContext

from services.kernel.logging import get_logger
from services.kernel.projector import Projector, View
from services.kernel.streams import wait_for_event_stream

log = get_logger("kernel.follower")


class Follower:
    """Projects another service's stream into this service's database file."""

    def __init__(self, js: JetStreamContext, service: str, path: Path, view: View, replicas: int = 1):
        self._js = js
        self._service = service
        self._replicas = replicas
        self.projector = Projector(js, service, path, view)

    async def start(self) -> None:
        await wait_for_event_stream(self._js, self._service, self._replicas, on_wait=lambda stream, e: log.info(
            "follower.waiting_for_stream", stream=stream, error=repr(e)))
        await self.projector.start()

    async def stop(self) -> None:
        await self.projector.stop()
