"""Limits on every request: GraphQL document depth, aliases, tokens and cost; body size; time.

The GraphQL limits are built once at import. Strawberry constructs a fresh extension per
request (shared instances leak `execution_context` between concurrent requests, see
strawberry#4369, and are deprecated in 0.341), but its validation cache is keyed by the
validation rule *classes*: `QueryDepthLimiter(...)` and `MaxAliasesLimiter(...)` create a
new rule class on every construction, so a per-request limiter would never hit the cache.
We therefore create the rule classes here, once, and hand the same classes to a cheap
per-request `AddValidationRules`.

Cost (gateway/cost.py) is checked once the document is valid and before it runs: over
MAX_QUERY_COST a request is refused outright, and each client's QUERY_BUDGET (gateway/
budget.py) refills at QUERY_BUDGET_REFILL per second, so a client cannot send one
just-under-limit query after another. A refused operation never reaches a service.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator

from graphql import ExecutionResult, GraphQLError, OperationType

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions import max_aliases, query_depth_limiter

from gateway.budget import QueryBudget
from gateway.cost import estimate, expanded_fields
from proto import context
from proto.errors import ErrorCode, LotseError

MAX_DEPTH = 10  # the member area nests 3 deep; GraphiQL's introspection query needs 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000  # GraphiQL's introspection query is about 400
# Room for the longest field a person may send (a 100 kB description gets a clear error on
# its field from validation, not a bare 413), and little more.
MAX_BODY_BYTES = 160 * 1024
REQUEST_SECONDS = 15.0
STREAMS = frozenset({"/notifications/live"})  # Server-Sent Events: open as long as the page
CACHE_SIZE = 256  # distinct documents kept parsed and validated; clients send a few dozen
# A page of 20 actors with every field and list (about 13,000) passes; 15 aliases of 100
# actors with their lists (about 100,000) do not. GraphiQL's introspection costs about 230.
MAX_QUERY_COST = 20_000
# Fields with fragments written out: 2,000 tokens hold about 2,000 without fragments,
# GraphiQL's introspection expands to about 230.
MAX_EXPANDED_FIELDS = 10_000
QUERY_BUDGET = 100_000  # per client: five maximal requests back to back …
QUERY_BUDGET_REFILL = 5_000  # … then one every four seconds; ordinary pages cost a few hundred

DEPTH_RULE = query_depth_limiter.create_validator(MAX_DEPTH, None)
ALIAS_RULE = max_aliases.create_validator(MAX_ALIASES)


def graphql_limits() -> list[Callable[[], SchemaExtension]]:
    """Extension factories for `strawberry.Schema(extensions=...)`, in the order they act."""
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules([DEPTH_RULE, ALIAS_RULE]),
        lambda: BoundedValidation(maxsize=CACHE_SIZE),
        QueryCostLimit,
    ]


class BoundedValidation(ValidationCache):
    """The validation cache, after a check that the document's fragments do not expand past
    MAX_EXPANDED_FIELDS: validation (strawberry's depth and alias limiters) walks every
    expansion, exponentially many for fragments that spread each other twice."""

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        size = expanded_fields(document) if document is not None else 0
        if size > MAX_EXPANDED_FIELDS:
            self.execution_context.pre_execution_errors = [GraphQLError(
                f"this document expands to {size} fields with its fragments written out, over the limit of "
                f"{MAX_EXPANDED_FIELDS}",
                extensions={"code": ErrorCode.INVALID_INPUT.value},
            )]
            yield
            return
        yield from super().on_validate()


def query_budget() -> QueryBudget:
    return QueryBudget(QUERY_BUDGET, QUERY_BUDGET_REFILL)


class QueryCostLimit(SchemaExtension):
    """Refuses an operation whose estimated cost is over the maximum or over what is left
    of its client's budget, by answering it before execution starts."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is not None and ec.operation_type is not OperationType.SUBSCRIPTION:
            # Subscriptions are bounded by the 20 per connection; their root field is one account.
            cost = estimate(ec.schema._schema, ec.graphql_document, ec.operation_name, ec.variables)
            refusal = self._refusal(cost)
            if refusal is not None:
                ec.result = ExecutionResult(data=None, errors=[refusal])  # strawberry then skips execution
        yield

    def _refusal(self, cost: int) -> GraphQLError | None:
        if cost > MAX_QUERY_COST:
            return GraphQLError(
                f"this query's estimated cost is {cost}, over the per-request cost limit of {MAX_QUERY_COST}: "
                "ask for fewer items (`first`) or fewer nested lists, or split it",
                extensions={"code": ErrorCode.INVALID_INPUT.value},
            )
        gateway = getattr(self.execution_context.context, "gateway", None)
        budget = getattr(gateway, "query_budget", None)
        if not isinstance(budget, QueryBudget):
            return None  # executed outside an app (tests, SDL export): no client to count
        client = self._client()
        wait = budget.spend(client, cost)
        if wait is None:
            return None
        return GraphQLError(
            f"over this client's query budget: the query's estimated cost is {cost}, and {budget.left(client)} "
            f"of the budget of {budget.capacity} are left (it refills by {budget.refill_per_second:g} a second); "
            f"try again in {wait} s",
            extensions={"code": ErrorCode.RATE_LIMITED.value, "retryAfter": wait},
        )

    def _client(self) -> str:
        """The signed-in account when its token verifies (one person, one budget, whatever the
        address), else the client address."""
        context = self.execution_context.context
        if getattr(context, "token", None):
            try:
                return f"account:{context.principal().account_id}"
            except LotseError:
                pass  # an invalid token counts against its address
        return f"address:{getattr(context, 'address', None) or 'unknown'}"


def error_body(message: str, code: ErrorCode) -> bytes:
    """A GraphQL-shaped error, so a GraphQL client shows it like any other error; with the
    request's correlation id, to find its log lines."""
    extensions: dict[str, object] = {"code": code.value}
    if (cid := context.correlation_id.get()) is not None:
        extensions["correlationId"] = cid
    return json.dumps({"errors": [{"message": message, "extensions": extensions}]}).encode()


async def send_json_error(send: Send, status: int, message: str, code: ErrorCode) -> None:
    body = error_body(message, code)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes the limit; BodySizeLimit answers 413.

    Deliberately not an HTTPException: FastAPI would render that as its own `{"detail"}`
    body before it reached us, and clients should get the same JSON error either way.
    """


class BodySizeLimit:
    """Refuse bodies over `max_bytes`: by Content-Length before the app runs, else while streaming.

    A chunked upload has no Content-Length, so counting what `receive` hands the app is the
    only limit that holds for every client.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is larger than {self.max_bytes} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await send_json_error(send, 400, "Content-Length is not a number", ErrorCode.INVALID_INPUT)
                return
            if int(declared) > self.max_bytes:
                await send_json_error(send, 413, message, ErrorCode.INVALID_INPUT)
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await send_json_error(send, 413, message, ErrorCode.INVALID_INPUT)


class TimeLimit:
    """End an HTTP request that takes longer than `seconds`: 504 with a GraphQL-shaped error.

    WebSockets are exempt: a subscription is meant to stay open; so are the event streams
    in STREAMS (the web client's live notifications), for the same reason. Work a NATS request starts
    is bounded separately by `settings.request_timeout`.
    """

    def __init__(self, app: ASGIApp, seconds: float = REQUEST_SECONDS) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in STREAMS:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if started:
                raise  # half a response is out; all we can do is break the connection
            await send_json_error(
                send, 504, f"the request took longer than {self.seconds:g} s", ErrorCode.UNAVAILABLE
            )
