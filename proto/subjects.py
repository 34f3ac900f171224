"""Every subject, stream, bucket and header name of the platform — and nothing else knows them."""

from __future__ import annotations

# Headers carried on requests and events.
AUTHORIZATION = "Authorization"
CORRELATION_ID = "Lotse-Correlation-Id"
CLIENT_ADDRESS = "Lotse-Client-Address"  # the end user's IP as the gateway saw it
MSG_ID = "Nats-Msg-Id"
EXPECTED_LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence"

SERVICES = ("identity", "directory", "news", "notifications")


def endpoint(service: str, verb: str) -> str:
    """`identity.login`: the request subject of one micro endpoint."""
    return f"{service}.{verb}"


def stream_name(service: str) -> str:
    return service.upper()


def events_filter(service: str) -> str:
    return f"{service}.events.>"


def aggregate_subject(service: str, aggregate: str, aggregate_id: str) -> str:
    """`directory.events.actor.<id>`: one aggregate's events."""
    return f"{service}.events.{aggregate}.{aggregate_id}"


def aggregate_id(subject: str) -> str:
    """The aggregate an event is about, from its subject (`directory.events.actor.<id>` → id)."""
    return subject.rsplit(".", 1)[-1]


# A service's deferred work (services/kernel/tasks.py): a work queue per service, consumed
# by one durable consumer shared by its replicas.
TASKS_CONSUMER = "tasks"


def tasks_stream(service: str) -> str:
    return f"{service.upper()}_TASKS"


def tasks_filter(service: str) -> str:
    return f"{service}.tasks.>"


def task_subject(service: str, kind: str) -> str:
    return f"{service}.tasks.{kind}"


# Outgoing mail: a work queue, deleted on ack, because a mail carries raw links.
MAIL_STREAM = "MAIL"
MAIL_OUTBOX = "mail.outbox"
MAIL_CONSUMER = "mailer"
# Notification mail (one per item, digests) waits behind account mail (confirmations,
# resets): its own subject in the same queue, read by its own consumer only when the
# account mail's is empty.
MAIL_BULK = "mail.bulk"
MAIL_BULK_CONSUMER = "mailer-bulk"

# Identity's KV buckets.
KV_USERNAMES = "identity-usernames"
KV_EMAILS = "identity-emails"
KV_THROTTLE = "identity-throttle"
KV_MAIL_LIMITS = "identity-mail-limits"
KV_JWKS = "identity-jwks"  # public keys, read by every service
KV_SIGNING_KEYS = "identity-signing-keys"  # private keys, encrypted, read by identity only
# Ended sessions and voided tokens, read by every service and the gateway (services/kernel/auth.py).
KV_REVOCATIONS = "identity-revocations"


def revoked_session_key(session_id: str) -> str:
    """The revocation entry of one ended session: its access tokens are refused."""
    return f"session.{session_id}"


def revoked_tokens_key(account_id: str) -> str:
    """The account's cutoff: its access tokens issued up to an account version are refused."""
    return f"account.{account_id}"


def parse_revocation_key(key: str) -> tuple[str, str] | None:
    """`("session", id)` or `("account", id)`; None for a key of neither shape."""
    kind, _, ident = key.partition(".")
    if kind in ("session", "account") and ident and "." not in ident:
        return kind, ident
    return None

# Notifications' KV bucket: one claim per person, cadence and period, so one replica sends a digest.
KV_DIGESTS = "notifications-digests"

# Directory's KV bucket: slug → claim of the actor that holds it, made before the append.
KV_SLUGS = "directory-slugs"

# Live updates: services publish here after their view applied a change; the gateway
# holds one subscription per pattern and fans out to WebSocket clients.
def live_account(account_id: str) -> str:
    return f"live.account.{account_id}"


LIVE_ACCOUNT_ALL = "live.account.*"
LIVE_ALL = "live.>"


def live_account_id(subject: str) -> str:
    """Whose account a live subject is about (`live.account.<id>` → id)."""
    return subject.rsplit(".", 1)[-1]
