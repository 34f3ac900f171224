"""Putting a rendered mail on the `MAIL` work queue (delivered by notifications' mailer)."""

from __future__ import annotations

from nats.js import JetStreamContext

from proto import subjects
from proto.mail import OutgoingMail
from services.kernel.logging import get_logger

log = get_logger("outbox")


async def enqueue(js: JetStreamContext, mail: OutgoingMail, *, bulk: bool = False) -> None:
    """`bulk`: notification mail, delivered after any account mail waiting (proto.subjects.MAIL_BULK)."""
    await js.publish(
        subjects.MAIL_BULK if bulk else subjects.MAIL_OUTBOX,
        mail.model_dump_json().encode(),
        stream=subjects.MAIL_STREAM,
        headers={subjects.MSG_ID: mail.id},
    )
    # Subject and kind only: the body carries a raw link.
    log.info("mail.queued", kind=mail.kind, mail_id=mail.id)
