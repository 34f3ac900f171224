"""deploy/nats/permissions.conf: who may publish and subscribe where, from `proto.subjects`.

nats-server takes permissions as flat lists of subjects; a config variable holding a list
cannot be spliced into another list, so shared rules cannot be written once in the config
itself. This module writes the file out in full from the names in `proto.subjects`, so a
renamed stream or a new bucket changes the permissions too. `lotse schema` rewrites it; a
test fails when it is stale.

The rules:

- A service writes only its own events, and may consume every event stream: events are the
  platform's shared facts (a service reacts to another's), and no secret enters a stream.
- Only identity may write its buckets. Everyone else may only read what verifying a token
  takes: the public keys (`identity-jwks`) — whoever could write them could mint tokens —
  and the revocation list (`identity-revocations`) — whoever could write it could sign
  anyone out, or take a revocation back.
- Only notifications' mailer may read the MAIL work queue: a mail carries a raw link. It
  also erases each mail it is done with (a message delete that overwrites the bytes).
- A service may delete single messages of its own stream only: erasing a person's events
  (services/kernel/eventstore.py). Identity may ask every other service that holds personal
  data what blocks an erasure (`<service>.erasure_blockers`) before it erases an account.
- The gateway reads two streams with ordered consumers: NEWS, to push each publication to
  its own subscribers (gateway/news_live.py), and NOTIFICATIONS, to push each person's
  notifications (gateway/notifications_live.py). It writes no event.
- Only the operator may call operator endpoints (`identity.create_admin`,
  `directory.import_actors`); the operator may also import regions, as admins may.
- Each user receives replies on its own inbox, `_INBOX.<user>.>` (services/kernel/connection.py
  sets the prefix from the URL's user): no process reads another's replies, and the gateway's
  carry fresh session tokens. Answering a request needs no publish permission on the asker's
  inbox: `allow_responses` permits one reply to each request received.
- JetStream's API is granted per stream and verb, never as `$JS.API.>`, and never with
  STREAM.DELETE: a service cannot drop the system of record. The operator is the exception.
"""

from __future__ import annotations

from pathlib import Path

from proto import subjects
from proto.privacy import PersonalDataContract, holder_services

PATH = Path(__file__).resolve().parents[1] / "deploy" / "nats" / "permissions.conf"

GATEWAY = "gateway"
OPERATOR = "operator"
USERS: tuple[str, ...] = (*subjects.SERVICES, GATEWAY, OPERATOR)

# Who reads the MAIL work queue: notifications hosts the mailer (services/kernel/mailer.py).
MAIL_READERS: tuple[str, ...] = ("notifications",)

# Endpoints only an operator may call; the gateway is denied them by name. These endpoints
# treat a call without a token as the operator's, so a gateway that forwarded an anonymous
# request to one would hand out operator rights: NATS must refuse it before the service sees it.
OPERATOR_ENDPOINTS: tuple[str, ...] = (
    subjects.endpoint("identity", "create_admin"),
    subjects.endpoint("directory", "import_actors"),
    subjects.endpoint("directory", "import_regions"),
)

# Identity's buckets that every service and the gateway read and watch to verify tokens
# (services/kernel/auth.py); only identity writes them.
VERIFIER_BUCKETS: tuple[str, ...] = (subjects.KV_JWKS, subjects.KV_REVOCATIONS)

LIVE = subjects.LIVE_ALL  # every live subject
JS_API = "$JS.API"

Group = tuple[str, list[str]]  # (why, subjects)


def password_variable(user: str) -> str:
    """The environment variable nats-server reads the user's password from."""
    return f"LOTSE_NATS_PASSWORD_{user.upper()}"


def inbox(user: str) -> str:
    return f"_INBOX.{user}.>"


def buckets() -> dict[str, str]:
    """Every KV bucket in `proto.subjects` → the service that owns it (its name's prefix)."""
    owned = {}
    for name, value in vars(subjects).items():
        if name.startswith("KV_") and isinstance(value, str):
            owner = value.split("-", 1)[0]
            if owner not in subjects.SERVICES:
                raise ValueError(f"bucket {value!r} does not start with the name of a service")
            owned[value] = owner
    return owned


def kv_stream(bucket: str) -> str:
    return f"KV_{bucket}"


def stream_admin(stream: str) -> list[str]:
    """Create or update at start, read one message (direct or not), purge, and delete single
    messages with their bytes overwritten (erasure)."""
    return [
        f"{JS_API}.STREAM.CREATE.{stream}", f"{JS_API}.STREAM.UPDATE.{stream}",
        f"{JS_API}.STREAM.INFO.{stream}", f"{JS_API}.STREAM.PURGE.{stream}",
        f"{JS_API}.STREAM.MSG.GET.{stream}", f"{JS_API}.STREAM.MSG.DELETE.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}", f"{JS_API}.DIRECT.GET.{stream}.>",
    ]


def consume(stream: str, acks: bool = True) -> list[str]:
    """Consumers on a stream: its info (a reader waits until the stream exists and checks
    how far it reaches), `CONSUMER.<verb>.<stream>[.<name>[.<filter>]]`, the two-word verbs
    `CONSUMER.DURABLE.CREATE` and `CONSUMER.MSG.NEXT`, acks, and the flow-control replies of
    push consumers. Ordered consumers (views, KV watches) never ack."""
    rules = [
        f"{JS_API}.STREAM.INFO.{stream}",
        f"{JS_API}.CONSUMER.*.{stream}", f"{JS_API}.CONSUMER.*.{stream}.>",
        f"{JS_API}.CONSUMER.*.*.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]
    if acks:
        rules.append(f"$JS.ACK.{stream}.>")
    return rules


def bucket_read(bucket: str) -> list[str]:
    """Open (creating it if it is not there yet, as `ensure_kv` does), get and watch a bucket."""
    stream = kv_stream(bucket)
    return [
        f"{JS_API}.STREAM.CREATE.{stream}", f"{JS_API}.STREAM.INFO.{stream}",
        f"{JS_API}.STREAM.MSG.GET.{stream}", f"{JS_API}.DIRECT.GET.{stream}.>",
        *consume(stream, acks=False),
    ]


def bucket_write(bucket: str) -> list[str]:
    """Read, and put/create/update/delete keys (each a publish to `$KV.<bucket>.<key>`)."""
    return [f"$KV.{bucket}.>", *bucket_read(bucket)]


def micro_discovery() -> list[str]:
    """`$SRV.PING|INFO|STATS[.<name>[.<id>]]`: health checks and discovery."""
    return [f"$SRV.{verb}{suffix}" for verb in ("PING", "INFO", "STATS") for suffix in ("", ".>")]


def service_publish(service: str) -> list[Group]:
    owned = [bucket for bucket, owner in buckets().items() if owner == service]
    groups: list[Group] = [
        ("its own events, and live updates after its view applied a change",
         [subjects.events_filter(service), LIVE]),
        (f"its stream {subjects.stream_name(service)}",
         [f"{JS_API}.INFO", *stream_admin(subjects.stream_name(service))]),
        ("consumers on every event stream (reactions to other services' events)",
         [rule for other in subjects.SERVICES for rule in consume(subjects.stream_name(other))]),
        (f"its deferred work: the {subjects.tasks_stream(service)} work queue and its durable consumer",
         [subjects.tasks_filter(service), *stream_admin(subjects.tasks_stream(service)),
          *consume(subjects.tasks_stream(service))]),
        (f"outgoing mail: create the {subjects.MAIL_STREAM} work queue at start and enqueue, not read",
         [subjects.MAIL_OUTBOX, subjects.MAIL_BULK,
          *(f"{JS_API}.STREAM.{verb}.{subjects.MAIL_STREAM}" for verb in ("CREATE", "UPDATE", "INFO"))]),
    ]
    for bucket in owned:
        groups.append((f"its bucket {bucket}", bucket_write(bucket)))
    for bucket in VERIFIER_BUCKETS:
        if bucket not in owned:
            groups.append((f"verify tokens: read and watch {bucket}", bucket_read(bucket)))
    if service in MAIL_READERS:
        groups.append((f"the mailer: durable consumer `{subjects.MAIL_CONSUMER}` on {subjects.MAIL_STREAM}, "
                       "erasing each mail it is done with",
                       [*consume(subjects.MAIL_STREAM), f"{JS_API}.STREAM.MSG.DELETE.{subjects.MAIL_STREAM}"]))
    if service == "identity":
        asked = [subjects.endpoint(holder, PersonalDataContract.erasure_blockers.verb)
                 for holder in holder_services() if holder != service]
        if asked:
            groups.append(("before erasing an account: ask every service that holds personal data", asked))
    groups.append(("health checks (`lotse health`) and discovery", micro_discovery()))
    return groups


def permissions() -> dict[str, dict]:
    """user → {"publish": [groups], "deny": [...], "subscribe": [...], "responses": bool}."""
    table: dict[str, dict] = {}
    for service in subjects.SERVICES:
        table[service] = {
            "publish": service_publish(service),
            "deny": [],
            "subscribe": [f"{service}.>", "$SRV.>", inbox(service)],
            "responses": True,
        }
    table[GATEWAY] = {
        "publish": [
            ("requests to every service's endpoints: `<service>.<verb>`, one token, so never "
             "`<service>.events.…`", [subjects.endpoint(service, "*") for service in subjects.SERVICES]),
            (f"verify tokens: read and watch {' and '.join(VERIFIER_BUCKETS)}",
             [f"{JS_API}.INFO", *(rule for bucket in VERIFIER_BUCKETS for rule in bucket_read(bucket))]),
            ("/readyz pings every service", ["$SRV.PING", "$SRV.PING.>"]),
            (f"`newsPublished`: follow {subjects.stream_name('news')}'s events with an ordered consumer "
             "(read only, never acked; gateway/news_live.py)", consume(subjects.stream_name("news"), acks=False)),
            (f"`notificationReceived`: follow {subjects.stream_name('notifications')}'s deliveries with an ordered "
             "consumer (read only, never acked; gateway/notifications_live.py)",
             consume(subjects.stream_name("notifications"), acks=False)),
        ],
        "deny": list(OPERATOR_ENDPOINTS),
        "subscribe": [LIVE, inbox(GATEWAY)],
        "responses": False,
    }
    table[OPERATOR] = {
        "publish": [
            ("operator endpoints (`lotse admin …`)", list(OPERATOR_ENDPOINTS)),
            ("the nats CLI: services, streams, backups and restores (`nats account backup`, "
             "with `--inbox-prefix _INBOX.operator`)",
             ["$SRV.>", f"{JS_API}.>", "$JS.ACK.>", "$JS.FC.>", "$JS.SNAPSHOT.>"]),
        ],
        "deny": [],
        "subscribe": [inbox(OPERATOR)],
        "responses": False,
    }
    return table


def _quoted(items: list[str], indent: str) -> list[str]:
    return [f'{indent}"{item}"' for item in items]


def render() -> str:
    lines = [
        "# GENERATED by `lotse schema` from proto/subjects.py (lotse/nats_permissions.py explains",
        "# the rules). Do not edit: change the generator and run `make schema`.",
        "#",
        "# Included by single.conf and cluster.conf. One NATS user per process kind; passwords come",
        "# from the environment and nats-server refuses to start when one is missing. They also",
        "# appear in LOTSE_NATS_URL, and nats-py does not percent-decode a URL: use URL-safe",
        "# passwords (`openssl rand -hex 32`).",
        "",
    ]
    for user, rules in permissions().items():
        lines.append(f"{user.upper()}_PERMISSIONS = {{")
        lines.append("  publish = {")
        lines.append("    allow = [")
        for why, group in rules["publish"]:
            lines.append(f"      # {why}")
            lines += _quoted(group, "      ")
        lines.append("    ]")
        if rules["deny"]:
            lines.append("    deny = [")
            lines += _quoted(rules["deny"], "      ")
            lines.append("    ]")
        lines.append("  }")
        lines.append("  subscribe = {")
        lines.append("    allow = [")
        lines += _quoted(rules["subscribe"], "      ")
        lines.append("    ]")
        lines.append("  }")
        if rules["responses"]:
            lines.append("  # one reply to each request it receives, to whichever inbox asked")
            lines.append("  allow_responses = true")
        lines.append("}")
        lines.append("")
    width = max(len(user) for user in USERS)
    lines.append("authorization {")
    lines.append("  # No default user: a connection without credentials is refused.")
    lines.append("  users = [")
    for user in USERS:
        lines.append(
            f"    {{ user: {user + ',':<{width + 1}} password: ${password_variable(user)}, "
            f"permissions: ${user.upper()}_PERMISSIONS }}"
        )
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_permissions() -> str:
    PATH.write_text(render(), encoding="utf-8")
    return str(PATH)
