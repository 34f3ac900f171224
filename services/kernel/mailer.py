"""Delivering the `MAIL` work queue over SMTP, or to .eml files when no SMTP host is set.

A durable pull consumer shared by all replicas. A message is acked only after the SMTP
server accepted it; a temporary failure is retried with growing delays; a permanent
refusal (5xx for the recipient) is logged and dropped. What is never delivered leaves the
queue after 24 hours (the stream's max age): the links in it would be stale anyway.

Account mail (`mail.outbox`: confirmations, resets, invitations) keeps priority over
notification mail (`mail.bulk`: one per item, digests): two consumers on the same queue,
and the bulk one is asked for a few mails only when the account one had none — a digest
run to thousands of people never makes a password reset wait behind it.

A delivered or dropped mail is erased before it is acked (services/kernel/workqueues.py):
an ack alone would leave its names, addresses and links in the store's block files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from pydantic import ValidationError

from proto import subjects
from proto.mail import OutgoingMail
from services.kernel import workqueues
from services.kernel.background import stop_task
from services.kernel.jetstream import pull
from services.kernel.clock import Clock
from services.kernel.logging import get_logger
from services.kernel.settings import Settings

log = get_logger("mailer")

MAX_DELAY = 15 * 60.0
BULK_BATCH = 10
# Notification mail waits while `defer_bulk` says something more urgent runs in the same
# process (a fan-out's inbox and live delivery), but never longer than this at a stretch.
BULK_DEFER_MAX = 5.0
BULK_DEFER_STEP = 0.02


def retry_delay(attempt: int) -> float:
    """5 s, 10 s, 20 s, … up to 15 minutes."""
    return min(5.0 * 2 ** (attempt - 1), MAX_DELAY)


def build_message(mail: OutgoingMail, sender: str, now_date: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = now_date
    # The mail's own id, not a random one: a mail sent again after a crash between the SMTP
    # server's acceptance and the queue's ack carries the same Message-ID, and mail clients
    # show it once.
    message["Message-ID"] = f"<{mail.id}@{sender.rsplit('@', 1)[-1].strip('> ')}>"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    # After the body: set_content() drops every Content-* header set before it.
    message["Content-Language"] = mail.locale
    return message


class Mailer:
    def __init__(self, js: JetStreamContext, settings: Settings, clock: Clock,
                 defer_bulk: Callable[[], bool] | None = None):
        self._js = js
        self._settings = settings
        self._clock = clock
        self._defer_bulk = defer_bulk
        self._deferring_since: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._bulk: JetStreamContext.PullSubscription | None = None
        self.outbox_dir = settings.data_dir / "mail"

    async def start(self) -> None:
        self._sub = await self._js.pull_subscribe(
            subjects.MAIL_OUTBOX, durable=subjects.MAIL_CONSUMER, stream=subjects.MAIL_STREAM,
            config=api.ConsumerConfig(ack_policy=api.AckPolicy.EXPLICIT, ack_wait=120, max_deliver=-1,
                                      max_ack_pending=100))
        # Notification mail comes in thousands: a batch held by a mailer that died goes to
        # another within `mail_ack_wait`; each mail tells the server it is being sent (in_progress).
        bulk_config = api.ConsumerConfig(ack_policy=api.AckPolicy.EXPLICIT, ack_wait=self._settings.mail_ack_wait,
                                         max_deliver=-1, max_ack_pending=100)
        self._bulk = await self._js.pull_subscribe(
            subjects.MAIL_BULK, durable=subjects.MAIL_BULK_CONSUMER, stream=subjects.MAIL_STREAM, config=bulk_config)
        await self._keep_ack_wait(bulk_config)
        self._task = asyncio.create_task(self._run(), name="mailer")
        log.info("mailer.start", transport="smtp" if self._settings.smtp_host else "files",
                 outbox=None if self._settings.smtp_host else str(self.outbox_dir))

    async def _keep_ack_wait(self, wanted: api.ConsumerConfig) -> None:
        """pull_subscribe leaves an existing consumer as it is: a changed setting is applied
        here, or it would only ever reach a deployment whose queue is new."""
        info = await self._js.consumer_info(subjects.MAIL_STREAM, subjects.MAIL_BULK_CONSUMER)
        if info.config.ack_wait != wanted.ack_wait:
            info.config.ack_wait = wanted.ack_wait
            await self._js.add_consumer(subjects.MAIL_STREAM, config=info.config)
            log.info("mailer.ack_wait_changed", seconds=wanted.ack_wait)

    async def stop(self) -> None:
        await stop_task(self._task)
        # Drop the pull subscription now: a fetch cancelled above can leave a message (the
        # server's answer to the pending pull) in its queue that nobody takes, and the
        # connection's drain would wait on it until its 30 s timeout — past Compose's grace.
        # Unacked mail stays in the stream and is redelivered to the next mailer.
        for sub in (self._sub, self._bulk):
            if sub is not None:
                try:
                    await sub.unsubscribe()
                except Exception:  # the connection may already be closed
                    pass
        self._sub = self._bulk = None

    async def _run(self) -> None:
        assert self._sub is not None and self._bulk is not None, "start() subscribes before the loop runs"
        busy = False  # notification mail waiting: look for account mail briefly between its batches
        while True:
            # Account mail first; notification mail a batch at a time, only when none waits.
            msgs = await self._fetch(self._sub, 10, 0.05 if busy else 1.0)
            bulk = not msgs
            if bulk:
                msgs = await self._fetch(self._bulk, BULK_BATCH, 0.05 if busy else 1.0)
                busy = bool(msgs)
            for msg in msgs:
                if bulk:
                    await self._yield_to_urgent()  # account mail never waits
                await self._handle(msg)

    async def _yield_to_urgent(self) -> None:
        """Building a mail costs milliseconds of this event loop: a thousand of them would
        hold up a fan-out under way here by seconds. Mail minutes late is as good as mail
        now; an inbox and a phone told a second late are not."""
        if self._defer_bulk is None:
            return
        loop = asyncio.get_running_loop()
        while self._defer_bulk():
            if self._deferring_since is None:
                self._deferring_since = loop.time()
            if loop.time() - self._deferring_since >= BULK_DEFER_MAX:
                return  # busy for long: mail goes on alongside until it is quiet once more
            await asyncio.sleep(BULK_DEFER_STEP)
        self._deferring_since = None

    async def _fetch(self, sub: JetStreamContext.PullSubscription, batch: int, timeout: float) -> list[Msg]:
        try:
            return await pull(sub, batch, timeout)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.warning("mailer.fetch_failed", error=repr(e))
            await asyncio.sleep(1)
            return []

    async def _handle(self, msg: Msg) -> None:
        try:
            mail = OutgoingMail.model_validate_json(msg.data)
        except ValidationError:
            log.error("mailer.unreadable", seq=msg.metadata.sequence.stream)
            await workqueues.dropped(self._js, subjects.MAIL_STREAM, msg)
            return
        attempt = msg.metadata.num_delivered or 1
        try:
            await msg.in_progress()
            await self.deliver(mail)
        except aiosmtplib.SMTPRecipientsRefused as e:
            log.error("mailer.refused", mail_id=mail.id, kind=mail.kind, error=str(e))
            await workqueues.dropped(self._js, subjects.MAIL_STREAM, msg)
            return
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as e:
            delay = retry_delay(attempt)
            log.warning("mailer.retry", mail_id=mail.id, kind=mail.kind, attempt=attempt,
                        retry_in=delay, error=str(e))
            await msg.nak(delay=delay)
            return
        await workqueues.done(self._js, subjects.MAIL_STREAM, msg)

    async def deliver(self, mail: OutgoingMail) -> None:
        message = build_message(mail, self._settings.mail_from, format_datetime(self._clock.now()))
        if not self._settings.smtp_host:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            path = self.outbox_dir / f"{self._clock.now():%Y%m%d-%H%M%S}-{mail.id}.eml"
            await asyncio.to_thread(path.write_bytes, bytes(message))
            # Never the address or the subject: a log outlives any erasure of the person.
            log.info("mail.written", mail_id=mail.id, kind=mail.kind, file=str(path))
            return
        password = self._settings.smtp_password.get_secret_value() if self._settings.smtp_password else None
        await aiosmtplib.send(
            message,
            hostname=self._settings.smtp_host,
            port=self._settings.smtp_port,
            username=self._settings.smtp_user,
            password=password,
            start_tls=self._settings.smtp_starttls,
            timeout=30,
        )
        log.info("mail.sent", mail_id=mail.id, kind=mail.kind)
