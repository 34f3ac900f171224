"""The typed client every caller uses: `await client.identity.sign_in(SignIn(...), caller)`.

Each service's `Contract` (proto/<service>.py) declares its endpoints; bound to the NATS
transport here, it is that service's client, one typed method per endpoint. A request is a
NATS request to `<service>.<verb>` with the caller's token, address and the correlation id
in headers and the request model as JSON. An error reply (micro error headers, body
`{"code","message","field"}`) comes back as the same `LotseError` the service raised.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from pydantic import ValidationError

from proto import context, directory, identity, news, notifications, subjects
from proto.common import Caller, Endpoint, Q, R
from proto.errors import ErrorBody, ErrorCode, LotseError, Unavailable
from proto.privacy import PersonalDataContract

ERROR_CODE_HEADER = "Nats-Service-Error-Code"
ERROR_HEADER = "Nats-Service-Error"


def error_from_reply(headers: dict[str, str] | None, data: bytes) -> LotseError | None:
    if not headers or ERROR_CODE_HEADER not in headers:
        return None
    try:
        return LotseError.from_body(ErrorBody.model_validate_json(data))
    except ValidationError:
        return LotseError(headers.get(ERROR_HEADER, "service error"), code=ErrorCode.INTERNAL)


def request_headers(caller: Caller | None) -> dict[str, str]:
    """What travels beside the body: who is asking, from where, as part of which work."""
    headers: dict[str, str] = {}
    if caller and caller.token:
        headers[subjects.AUTHORIZATION] = f"Bearer {caller.token}"
    if caller and caller.client_address:
        headers[subjects.CLIENT_ADDRESS] = caller.client_address
    if cid := context.correlation_id.get():
        headers[subjects.CORRELATION_ID] = cid
    return headers


LOST_CHECK = 0.1  # seconds between looks at the connection while a reply is awaited
PAUSES = (0.05, 0.1, 0.2, 0.3, 0.5)  # between attempts; then the last, until the time is up
NO_RESPONDERS_PATIENCE = 3.0  # seconds "no responders" is taken for a replica reconnecting


async def request_riding_reconnects(nc: NATS, subject: str, payload: bytes, *, timeout: float,
                                    headers: dict[str, Any] | None = None) -> Msg:
    """`nc.request`, sent again when the connection it went out on is lost before the reply
    came: with the NATS server it was connected to, the request or its reply is gone (the
    reply inbox lives on that server until the client subscribes anew elsewhere), and
    waiting for the timeout would only add the whole timeout to a fail-over.

    Only for requests that may arrive twice (the caller's to judge: a read, a keyed write, a
    JetStream publish with its `Nats-Msg-Id`). Raises `nats.errors.TimeoutError` when no
    reply came within `timeout`, over all attempts.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        while nc.is_reconnecting and loop.time() < deadline:  # sent now, it would only wait in a buffer
            await asyncio.sleep(0.02)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise nats.errors.TimeoutError
        sent_on = nc.stats["reconnects"]
        reply = asyncio.ensure_future(nc.request(subject, payload, timeout=remaining, headers=headers))
        try:
            while True:
                done, _ = await asyncio.wait({reply}, timeout=LOST_CHECK)
                if done:
                    return reply.result()
                if nc.is_reconnecting or nc.stats["reconnects"] != sent_on:
                    break  # lost: send it again once connected
        finally:
            if not reply.done():
                reply.cancel()
                with contextlib.suppress(asyncio.CancelledError, nats.errors.TimeoutError):
                    await reply


class NatsTransport:
    """`proto.common.Transport` over NATS request/reply.

    A NATS node failing under a request must cost the caller a pause, not an error
    (README: Past one machine). So, within `timeout`:
    - "no responders" (for a moment no replica of the service is subscribed: one is
      reconnecting to another node) is retried whatever the request, for a few seconds —
      nobody received it;
    - a repeatable request (`Endpoint.may_repeat`: a read, an idempotent import, a write
      with an idempotency key) is also sent again when its connection is lost, when it was
      not answered in time, and when the service answered UNAVAILABLE with a `retry_after`
      (NATS was failing over under it: try again in a moment — not so a view being rebuilt,
      which takes longer than any caller waits); it may take `patience` in all, longer than
      one attempt's timeout.
    Any other request is sent once: it might have been done already.
    """

    def __init__(self, nc: NATS, timeout: float, patience: float | None = None):
        self._nc = nc
        self._timeout = timeout
        self._patience = patience if patience is not None else 1.4 * timeout

    async def request(self, service: str, verb: str, body: bytes, caller: Caller | None,
                      repeatable: bool = False) -> bytes:
        subject = subjects.endpoint(service, verb)
        headers = request_headers(caller) or None
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + (self._patience if repeatable else self._timeout)
        attempt = 0
        while True:
            attempt += 1
            timeout = min(self._timeout, deadline - loop.time())
            try:
                if repeatable:
                    msg = await request_riding_reconnects(self._nc, subject, body, timeout=timeout, headers=headers)
                else:
                    msg = await self._nc.request(subject, body, timeout=timeout, headers=headers)
            except nats.errors.NoRespondersError:
                failure: LotseError = Unavailable(f"the {service} service is not running")
                if loop.time() - started > NO_RESPONDERS_PATIENCE:
                    raise failure from None
            except nats.errors.TimeoutError:
                failure = Unavailable(f"the {service} service did not answer in time")
                if not repeatable:
                    raise failure from None
            else:
                if (error := error_from_reply(msg.headers, msg.data)) is None:
                    return msg.data
                if not (repeatable and error.code is ErrorCode.UNAVAILABLE and error.retry_after is not None):
                    raise error
                failure = error
            pause = PAUSES[min(attempt, len(PAUSES)) - 1]
            if loop.time() + pause >= deadline:
                raise failure
            await asyncio.sleep(pause)


class LotseClient:
    """One per process; cheap to share."""

    def __init__(self, nc: NATS, timeout: float = 10.0):
        self.nc = nc
        self.transport = NatsTransport(nc, timeout)
        self.identity = identity.Identity(self.transport)
        self.directory = directory.Directory(self.transport)
        self.news = news.News(self.transport)
        self.notifications = notifications.Notifications(self.transport)

    def holders(self) -> list[PersonalDataContract]:
        """Every service that holds personal data (its contract inherits
        `PersonalDataContract`): whom an export gathers from and an erasure asks first."""
        return [contract for contract in vars(self).values() if isinstance(contract, PersonalDataContract)]

    async def send(self, endpoint: Endpoint[Q, R], request: Q, caller: Caller | None = None) -> R:
        """Call an endpoint given by its description (`Directory.get_actor`): for code that
        is handed the endpoint to call, such as the gateway's resolver helpers."""
        body = await self.transport.request(endpoint.service, endpoint.verb, endpoint.encode(request), caller,
                                            endpoint.may_repeat(request))
        return endpoint.decode(body)
