"""Subscriptions run over WebSocket (graphql-transport-ws) only.

Over plain HTTP graphql-core would execute a subscription like a query — its stream is
never started and the client gets a null it cannot explain — and strawberry's multipart
HTTP streaming would hold a request open past the time limit. A validation rule refuses
both up front. The rule class is built once, so the validation cache keeps working
(see gateway/limits.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, ValidationRule
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from proto.errors import ErrorCode


class NoSubscriptionOverHttp(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation == OperationType.SUBSCRIPTION:
            self.report_error(GraphQLError(
                "subscriptions run over WebSocket (graphql-transport-ws), not plain HTTP",
                node, extensions={"code": ErrorCode.INVALID_INPUT.value},
            ))


class WebSocketOnlySubscriptions(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        request = getattr(self.execution_context.context, "request", None)
        if not isinstance(request, WebSocket):
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules, NoSubscriptionOverHttp,
            )
        yield
