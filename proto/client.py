"""The typed client every caller uses: `await client.identity.sign_in(SignIn(...), caller)`.

Each service's `Contract` (proto/<service>.py) declares its endpoints; bound to the NATS
transport here, it is that service's client, one typed method per endpoint. A request is a
NATS request to `<service>.<verb>` with the caller's token, address and the correlation id
in headers and the request model as JSON. An error reply (micro error headers, body
`{"code","message","field"}`) comes back as the same `LotseError` the service raised.
"""

from __future__ import annotations

import nats.errors
from nats.aio.client import Client as NATS
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


class NatsTransport:
    """`proto.common.Transport` over NATS request/reply."""

    def __init__(self, nc: NATS, timeout: float):
        self._nc = nc
        self._timeout = timeout

    async def request(self, service: str, verb: str, body: bytes, caller: Caller | None) -> bytes:
        try:
            msg = await self._nc.request(
                subjects.endpoint(service, verb), body, timeout=self._timeout, headers=request_headers(caller) or None
            )
        except nats.errors.NoRespondersError:
            raise Unavailable(f"the {service} service is not running") from None
        except nats.errors.TimeoutError:
            raise Unavailable(f"the {service} service did not answer in time") from None
        if (error := error_from_reply(msg.headers, msg.data)) is not None:
            raise error
        return msg.data


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
        body = await self.transport.request(endpoint.service, endpoint.verb, endpoint.encode(request), caller)
        return endpoint.decode(body)
