"""A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.nats_server import free_port


class Inbox:
    """aiosmtpd handler: every accepted message, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        # Mail to these addresses is refused for now (451): the mailer keeps it queued and
        # tries again later, as with a mail server that is down.
        self.deferred: set[str] = set()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        if any(rcpt.lower() in self.deferred for rcpt in envelope.rcpt_tos):
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        if self.loop:
            self.loop.call_soon_threadsafe(self._arrived.set)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        """Wait until `address` has at least `count` messages; return them all."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(address)) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{address} got {len(self.to(address))} mails, expected {count}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass
        return self.to(address)

    def clear(self) -> None:
        self.messages.clear()


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.inbox.loop = asyncio.get_event_loop()
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "mail has no text part"
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "mail has no HTML part"
    return part.get_content()


def link_in(message: EmailMessage, path: str) -> str:
    """The first link to `path` (e.g. "/confirm") in the mail's text part."""
    match = re.search(rf"https?://\S+{re.escape(path)}\?token=[A-Za-z0-9_\-]+", text_of(message))
    assert match, f"no {path} link in: {text_of(message)}"
    return match.group(0)


def token_in(message: EmailMessage, path: str) -> str:
    return link_in(message, path).split("token=", 1)[1]
