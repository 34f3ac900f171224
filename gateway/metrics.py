"""Prometheus metrics of the gateway: HTTP requests, GraphQL operations and their errors.

They are served on a listener of their own (`LOTSE_METRICS_HOST`/`LOTSE_METRICS_PORT`), not
on the public port: route names, error rates and live connections tell an outsider how the
platform is used and where it hurts. Prometheus scrapes that address from inside.

Every label has a bounded set of values: routes are the app's route templates, GraphQL
operations are named by their root field (checked against the schema) rather than by the
client-chosen operation name, and error codes come from the platform's closed set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, get_operation_ast
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from proto.errors import ErrorCode

METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
# Codes a GraphQL error can carry: the platform's, plus what the GraphQL layer itself reports.
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
ERROR_CODES = frozenset(code.value for code in ErrorCode) | {GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED}


class GatewayMetrics:
    """One registry per app, so two apps in one process (tests) do not share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "lotse_gateway_http_requests", "HTTP requests answered",
            ["method", "route", "status"], registry=self.registry,
        )
        self.http_latency = Histogram(
            "lotse_gateway_http_request_duration_seconds", "Time to answer an HTTP request",
            ["method", "route"], registry=self.registry,
        )
        self.operations = Counter(
            "lotse_gateway_graphql_operations", "GraphQL operations by type and root field",
            ["type", "name"], registry=self.registry,
        )
        self.errors = Counter(
            "lotse_gateway_graphql_errors", "GraphQL errors by code", ["code"], registry=self.registry,
        )
        self.user_errors = Counter(
            "lotse_gateway_graphql_user_errors", "userErrors returned by mutations, by code",
            ["code"], registry=self.registry,
        )
        self.live_listeners = Gauge(
            "lotse_gateway_live_listeners", "Subscriptions waiting for live updates", registry=self.registry,
        )
        self.sessions_ended = Counter(
            "lotse_gateway_websocket_sessions_ended", "WebSocket connections closed because their session ended",
            registry=self.registry,
        )

    def graphql_error(self, error: GraphQLError, parsed: bool) -> None:
        code = (error.extensions or {}).get("code")
        if code not in ERROR_CODES:
            if not parsed:
                code = GRAPHQL_PARSE_FAILED
            elif error.path is None and error.original_error is None:
                code = GRAPHQL_VALIDATION_FAILED  # the document's fault, found before anything ran
            else:
                code = ErrorCode.INTERNAL.value  # a resolver's (masked) failure
        self.errors.labels(code).inc()


class MetricsListener:
    """prometheus_client's own exposition server, in a thread: it answers even while the
    event loop is busy, which is when metrics matter most. Any path serves the metrics."""

    def __init__(self, metrics: GatewayMetrics, host: str, port: int) -> None:
        self.metrics, self.host, self.port = metrics, host, port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def start(self) -> None:
        """Raises OSError when the address is taken: better than a gateway without metrics."""
        self._server, self._thread = start_http_server(self.port, addr=self.host, registry=self.metrics.registry)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class HttpMetrics:
    """ASGI middleware: count and time every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client sees if the app raises before answering
        started = time.perf_counter()

        async def recording_send(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = route_of(scope)
            self.metrics.http_requests.labels(method, route, str(status)).inc()
            self.metrics.http_latency.labels(method, route).observe(time.perf_counter() - started)


def operation_label(execution_context: ExecutionContext) -> tuple[str, str]:
    """(type, root field) of the operation, or fixed stand-in labels when it never got that far."""
    document = execution_context.graphql_document
    if document is None:
        return "unknown", "unparsed"
    operation = get_operation_ast(document, execution_context.operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return "unknown", "unknown"
    kind = operation.operation.value
    root = execution_context.schema._schema.get_root_type(operation.operation)
    names = {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
    if not names or root is None:
        return kind, "unknown"
    if all(name.startswith("__") for name in names):
        return kind, "introspection"
    if len(names) > 1:
        return kind, "multiple"
    (name,) = names
    return kind, name if name in root.fields else "unknown"


class GraphQLMetrics(SchemaExtension):
    """Counts each operation and its errors; finds the app's metrics through the context."""

    def on_operation(self) -> Iterator[None]:
        yield
        metrics = getattr(getattr(self.execution_context.context, "gateway", None), "metrics", None)
        if not isinstance(metrics, GatewayMetrics):
            return  # executed outside an app (tests, SDL export): nothing to count into
        ec = self.execution_context
        kind, name = operation_label(ec)
        metrics.operations.labels(kind, name).inc()
        # What the client got: the result's errors (masked as it saw them), else those that
        # ended the operation before it ran. (Strawberry copies execution errors into
        # pre_execution_errors too, so that list alone cannot tell the two apart.)
        errors = (ec.result.errors if ec.result is not None else None) or ec.pre_execution_errors or []
        for error in errors:
            metrics.graphql_error(error, parsed=ec.graphql_document is not None)
