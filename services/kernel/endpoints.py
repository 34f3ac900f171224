"""Micro endpoints: parse with the `proto` model, authorise, run, reply — or answer an error.

Every endpoint of a service is registered on one `nats.micro` service (discovery and stats
under `$SRV.*`) as `<service>.<verb>`, in a queue group shared by the replicas. A failure
answers with the micro error headers and the body `{"code","message","field"}` from the
closed set in `proto.errors`; anything unexpected becomes `INTERNAL` with a reference, and
its traceback goes to the log, never to the caller.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from nats.aio.client import Client as NATS
from nats.micro import add_service
from nats.micro.request import Request as MicroRequest
from nats.micro.service import Service
from pydantic import BaseModel, ValidationError

from proto import context, subjects
from proto.client import ERROR_CODE_HEADER, ERROR_HEADER
from proto.common import Caller, Endpoint
from proto.envelope import new_id
from proto.errors import STATUS_OF, ErrorBody, ErrorCode, Invalid, LotseError, Unavailable
from proto.validation import invalid_from
from services.kernel.auth import Principal, TokenVerifier, bearer
from services.kernel.jetstream import FAILING_OVER
from services.kernel.logging import get_logger

log = get_logger("endpoints")

MAX_BODY = 256 * 1024  # bytes; the gateway allows less, this guards direct NATS callers


@dataclass
class RequestContext:
    caller: Caller
    verifier: TokenVerifier
    correlation_id: str
    _principal: Principal | None = field(default=None, init=False)

    def principal(self) -> Principal:
        """The verified caller, or UNAUTHENTICATED."""
        if self._principal is None:
            self._principal = self.verifier.verify(self.caller.token)
        return self._principal

    def optional_principal(self) -> Principal | None:
        return self.principal() if self.caller.token else None

    def scoped_principal(self, scope: str) -> Principal:
        """The verified caller of a credential issued for `scope` (services/kernel/auth.py)."""
        return self.verifier.verify_scoped(self.caller.token, scope)


Handler = Callable[[Any, RequestContext], Awaitable[BaseModel]]


def check_handler(endpoint: Endpoint[Any, Any], handler: Handler) -> None:
    """A handler takes its endpoint's request model and returns its reply model: the
    contract's types and the service's method must not drift apart unnoticed."""
    hints = typing.get_type_hints(handler)
    params = [name for name in inspect.signature(handler).parameters if name != "self"]
    if not params or hints.get(params[0]) is not endpoint.request or hints.get("return") is not endpoint.reply:
        raise TypeError(
            f"{endpoint.service}.{endpoint.verb}: the handler must take {endpoint.request.__name__} "
            f"and return {endpoint.reply.__name__}"
        )


class Endpoints:
    """The endpoint table of one service (verb → handler); `start()` puts it on NATS."""

    def __init__(
        self,
        service: str,
        version: str,
        specs: dict[str, Endpoint[Any, Any]],
        handlers: dict[str, Handler],
        concurrency: int = 64,
    ):
        missing = set(specs) - set(handlers)
        if missing:
            raise RuntimeError(f"{service}: no handler for {sorted(missing)}")
        for verb, endpoint in specs.items():
            check_handler(endpoint, handlers[verb])
        self.service = service
        self.version = version
        self.specs = specs
        self._handlers = handlers
        self._micro: Service | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._gate: Callable[[], str | None] | None = None
        self.verifier: TokenVerifier | None = None
        # What `$SRV.PING.<service>` answers besides the name (the micro service keeps this
        # dict, not a copy): the runtime keeps `view` = ready | catching-up in it.
        self.status: dict[str, str] = {"view": "ready"}

    async def start(self, nc: NATS, verifier: TokenVerifier,
                    gate: Callable[[], str | None] | None = None) -> None:
        """`gate`: why the service cannot answer right now (every request then gets
        UNAVAILABLE with that reason), or None."""
        self.verifier = verifier
        self._gate = gate
        self._micro = await add_service(
            nc, name=self.service, version=self.version, description=f"Lotse {self.service}",
            metadata=self.status,
        )
        group = self._micro.add_group(name=self.service)
        for verb in self.specs:
            await group.add_endpoint(name=verb, handler=self._dispatcher(verb))

    async def stop(self) -> None:
        if self._micro is not None:
            await self._micro.stop()
            self._micro = None
        # Let requests in flight finish; their events are appended and must be answered.
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    def _dispatcher(self, verb: str) -> Callable[[MicroRequest], Awaitable[None]]:
        async def dispatch(request: MicroRequest) -> None:
            # nats-py runs one subscription's callbacks one after another; a slow request
            # (password hashing) must not hold up the next, so each runs as its own task.
            task = asyncio.create_task(self._serve(verb, request))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return dispatch

    async def _serve(self, verb: str, request: MicroRequest) -> None:
        headers = request.headers or {}
        cid = headers.get(subjects.CORRELATION_ID) or new_id()
        token_cid = context.correlation_id.set(cid)
        structlog.contextvars.bind_contextvars(correlation_id=cid, endpoint=f"{self.service}.{verb}")
        try:
            async with self._slots:
                try:
                    if self._gate is not None and (reason := self._gate()) is not None:
                        raise Unavailable(reason)
                    body = self._parse(verb, request.data)
                    ctx = RequestContext(
                        caller=Caller(
                            token=bearer(headers.get(subjects.AUTHORIZATION)),
                            client_address=headers.get(subjects.CLIENT_ADDRESS),
                        ),
                        verifier=self.verifier,  # type: ignore[arg-type]
                        correlation_id=cid,
                    )
                    reply = await self._handlers[verb](body, ctx)
                    await request.respond(reply.model_dump_json().encode())
                except LotseError as e:
                    log.info("endpoint.refused", code=e.code.value, field=e.field, message=e.message)
                    await self._respond_error(request, e.body())
                except FAILING_OVER as e:
                    # NATS did not answer even after services/kernel/jetstream.py's retries: a
                    # node is down and its streams are still electing leaders. Not a bug; the
                    # caller may try again (and a repeatable request is, by the transport).
                    log.warning("endpoint.nats_failing_over", error=type(e).__name__)
                    await self._respond_error(request, ErrorBody(
                        code=ErrorCode.UNAVAILABLE, retry_after=1,
                        message=f"the {self.service} service cannot reach NATS right now; try again in a moment"))
                except Exception:
                    log.exception("endpoint.failed")
                    await self._respond_error(
                        request,
                        ErrorBody(code=ErrorCode.INTERNAL, message=f"internal error (reference {cid})"),
                    )
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "endpoint")
            context.correlation_id.reset(token_cid)

    def _parse(self, verb: str, data: bytes) -> BaseModel:
        if len(data) > MAX_BODY:
            raise Invalid(f"the request is larger than {MAX_BODY // 1024} kB")
        try:
            raw = json.loads(data.decode("utf-8")) if data else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Invalid("the request body is not valid UTF-8 JSON") from None
        if not isinstance(raw, dict):
            raise Invalid("the request body must be a JSON object")
        try:
            return self.specs[verb].request.model_validate(raw)
        except ValidationError as e:
            raise invalid_from(e) from None

    @staticmethod
    async def _respond_error(request: MicroRequest, body: ErrorBody) -> None:
        await request.respond(
            body.model_dump_json().encode(),
            headers={ERROR_HEADER: body.message, ERROR_CODE_HEADER: str(STATUS_OF[body.code])},
        )
