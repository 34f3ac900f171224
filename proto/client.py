"""The typed client every caller uses: `await client.identity.sign_in(SignIn(...), caller)`.

A request is a NATS request to `<service>.<verb>` with the caller's token, address and the
correlation id in headers and the request model as JSON. An error reply (micro error
headers, body `{"code","message","field"}`) comes back as the same `LotseError` the
service raised.
"""

from __future__ import annotations

from typing import Any, TypeVar

import nats.errors
from nats.aio.client import Client as NATS
from pydantic import BaseModel, ValidationError

from proto import context, directory, identity, subjects
from proto.common import Caller, EndpointSpec
from proto.errors import ErrorBody, ErrorCode, LotseError, Unavailable

ERROR_CODE_HEADER = "Nats-Service-Error-Code"
ERROR_HEADER = "Nats-Service-Error"

R = TypeVar("R", bound=BaseModel)


def error_from_reply(headers: dict[str, str] | None, data: bytes) -> LotseError | None:
    if not headers or ERROR_CODE_HEADER not in headers:
        return None
    try:
        return LotseError.from_body(ErrorBody.model_validate_json(data))
    except ValidationError:
        return LotseError(headers.get(ERROR_HEADER, "service error"), code=ErrorCode.INTERNAL)


class ServiceClient:
    def __init__(self, nc: NATS, service: str, endpoints: dict[str, EndpointSpec], timeout: float):
        self._nc = nc
        self._service = service
        self._endpoints = endpoints
        self._timeout = timeout

    async def call(self, verb: str, request: BaseModel, caller: Caller | None = None) -> Any:
        spec = self._endpoints[verb]
        headers: dict[str, str] = {}
        if caller and caller.token:
            headers[subjects.AUTHORIZATION] = f"Bearer {caller.token}"
        if caller and caller.client_address:
            headers[subjects.CLIENT_ADDRESS] = caller.client_address
        if cid := context.correlation_id.get():
            headers[subjects.CORRELATION_ID] = cid
        try:
            msg = await self._nc.request(
                subjects.endpoint(self._service, verb),
                request.model_dump_json().encode(),
                timeout=self._timeout,
                headers=headers or None,
            )
        except nats.errors.NoRespondersError:
            raise Unavailable(f"the {self._service} service is not running") from None
        except nats.errors.TimeoutError:
            raise Unavailable(f"the {self._service} service did not answer in time") from None
        if (error := error_from_reply(msg.headers, msg.data)) is not None:
            raise error
        return spec.reply.model_validate_json(msg.data)

    def __getattr__(self, verb: str) -> Any:
        # `client.identity.sign_in(req, caller)`: every verb of the contract, typed by its spec.
        if verb not in self._endpoints:
            raise AttributeError(verb)

        async def invoke(request: BaseModel, caller: Caller | None = None) -> Any:
            return await self.call(verb, request, caller)

        return invoke


class IdentityClient(ServiceClient):
    def __init__(self, nc: NATS, timeout: float):
        super().__init__(nc, identity.SERVICE, identity.ENDPOINTS, timeout)


class DirectoryClient(ServiceClient):
    def __init__(self, nc: NATS, timeout: float):
        super().__init__(nc, directory.SERVICE, directory.ENDPOINTS, timeout)


class LotseClient:
    """One per process; cheap to share."""

    def __init__(self, nc: NATS, timeout: float = 10.0):
        self.nc = nc
        self.identity = IdentityClient(nc, timeout)
        self.directory = DirectoryClient(nc, timeout)
