"""The NATS connection of a process: retries the first connect, then reconnects forever.

Credentials travel in the URL (`nats://identity:<password>@nats:4222`): nats-py takes user
and password from it as they are, without percent-decoding, so passwords must be URL-safe
(deploy/env.example generates hex ones). deploy/nats gives each NATS user its own reply
inbox, `_INBOX.<user>.>`, so no process can read the replies meant for another.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client as NATS

from services.kernel.logging import get_logger

log = get_logger("nats")

PING_INTERVAL = 3  # seconds


def nats_user(url: str) -> str | None:
    """The user named in the (first) server URL, if any."""
    return urlsplit(url.split(",")[0].strip()).username


def inbox_prefix(url: str) -> str:
    """`_INBOX.<user>` when the URL names a user (deploy/nats permits only that), else `_INBOX`."""
    user = nats_user(url)
    return f"_INBOX.{user}" if user else "_INBOX"


def redacted(url: str) -> str:
    """The URL without passwords, for logs."""
    parts = []
    for server in url.split(","):
        split = urlsplit(server.strip())
        if split.password is not None:
            host = split.netloc.rpartition("@")[2]
            split = split._replace(netloc=f"{split.username}:***@{host}")
        parts.append(split.geturl())
    return ",".join(parts)


async def connect(url: str, name: str, *, first_connect_timeout: float = 30.0) -> NATS:
    made: list[NATS] = []  # the client, once connected: the callbacks are given before it exists

    async def disconnected() -> None:
        # nats-py calls this for a lost server and for our own close at stop alike; only the
        # first is worth a warning (every `make dev` stop logged five of them).
        if made and made[0].is_closed:
            log.info("nats.closed", connection=name)
        else:
            log.warning("nats.disconnected", connection=name)

    async def reconnected() -> None:
        log.info("nats.reconnected", connection=name)

    async def error(e: Exception) -> None:
        log.warning("nats.error", connection=name, error=str(e))

    # In Compose a service may start before its NATS node answers: keep trying for a while
    # instead of crash-looping, then fail loudly.
    deadline = asyncio.get_running_loop().time() + first_connect_timeout
    while True:
        try:
            client = await nats.connect(
                servers=[u.strip() for u in url.split(",")],
                name=name,
                max_reconnect_attempts=-1,  # once up, a service outlives a restart of its node
                # Between attempts on the same server. After a node's loss the next one in the
                # list (every node of a cluster; README: Past one machine) is tried at once.
                reconnect_time_wait=0.5,
                connect_timeout=2,
                # A node that dies without closing its sockets (power, network) is noticed
                # after two unanswered pings: within 6-9 s, not nats-py's default 4 minutes.
                ping_interval=PING_INTERVAL,
                max_outstanding_pings=2,
                inbox_prefix=inbox_prefix(url),
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
            made.append(client)
            return client
        except (OSError, nats.errors.NoServersError, asyncio.TimeoutError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.info("nats.waiting", connection=name, url=redacted(url))
            await asyncio.sleep(0.5)


async def release(nc: NATS) -> None:
    """End a connection: drained when its server answers (what is in flight is finished),
    closed when it does not — nats-py refuses to drain a connection that is reconnecting,
    and there is nothing to finish on a server that is gone."""
    if nc.is_closed:
        return
    if nc.is_connected:
        try:
            await nc.drain()
            return
        except (nats.errors.ConnectionReconnectingError, nats.errors.ConnectionClosedError):
            pass  # lost the server just now
    await nc.close()
