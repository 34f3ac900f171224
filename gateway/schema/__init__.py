"""The one GraphQL schema, composed from one module per domain.

A domain module defines any of `Query`, `Mutation`, `Subscription`; adding a domain is one
import and one entry in DOMAINS. Two domains defining the same root field is an error at
import, not a silent override.
"""

from __future__ import annotations

from collections import Counter
from types import ModuleType

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gateway.limits import graphql_limits
from gateway.metrics import GraphQLMetrics
from gateway.schema import directory, identity, news, notifications
from gateway.schema.errors import is_unexpected
from gateway.schema.loaders import PerOperationLoaders
from gateway.schema.websocket_only import WebSocketOnlySubscriptions
from services.kernel.logging import get_logger

log = get_logger("gateway.graphql")

DOMAINS: tuple[ModuleType, ...] = (identity, directory, news, notifications)


def compose(root: str) -> type:
    parts = tuple(getattr(domain, root) for domain in DOMAINS if hasattr(domain, root))
    if not parts:
        raise TypeError(f"no domain defines {root}")
    names = Counter(f.name for part in parts for f in part.__strawberry_definition__.fields)
    if clashes := sorted(name for name, count in names.items() if count > 1):
        raise TypeError(f"{root} fields defined by more than one domain: {', '.join(clashes)}")
    return merge_types(root, parts)


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Strawberry logs every error, a client's typo included. A client's mistakes are for
        # the client to read; the operator's log gets only bugs, with their traceback (the
        # client sees "Internal error", see MaskErrors below).
        for error in errors:
            if is_unexpected(error):
                log.error("graphql.resolver_failed", path=error.path, exc_info=error.original_error)


schema = GatewaySchema(
    query=compose("Query"),
    mutation=compose("Mutation"),
    subscription=compose("Subscription"),
    extensions=[
        *graphql_limits(),
        WebSocketOnlySubscriptions,
        PerOperationLoaders,  # a fresh set of DataLoaders for each operation
        # A resolver's bug must not show its traceback text to the world; what we raise on
        # purpose (GraphQLError with a code) passes unchanged.
        lambda: MaskErrors(should_mask_error=is_unexpected, error_message="Internal error"),
        GraphQLMetrics,
    ],
)
