"""A message on the `MAIL` work queue: fully rendered, ready for SMTP."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from proto.envelope import new_id


class OutgoingMail(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)  # also the Nats-Msg-Id: a retried enqueue sends once
    to: EmailStr
    subject: str
    text: str
    html: str
    locale: str = "de"
    kind: str  # "confirm-email", "password-reset", … — for logs and metrics, never the body
    # Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) on notification mail.
    headers: dict[str, str] = {}
