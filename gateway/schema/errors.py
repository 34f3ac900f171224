"""How service errors reach GraphQL clients.

Mutations answer with a payload whose `userErrors` say what went wrong, field by field:
a client shows them next to the form. Queries and subscriptions have no payload; they
raise a GraphQL error whose `extensions.code` is the platform's error code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic

import strawberry
from graphql import GraphQLError
from pydantic import ValidationError
from gateway.context import GatewayInfo

from proto import errors
from proto.common import Endpoint, Q, R
from proto.validation import invalid_from
from services.kernel.logging import get_logger

log = get_logger("gateway.errors")


# A GraphQL copy of the closed set, so the proto class stays free of strawberry's markings.
_ErrorCode = Enum("ErrorCode", {code.name: code.value for code in errors.ErrorCode})  # type: ignore[misc]
ErrorCode = strawberry.enum(
    _ErrorCode,
    name="ErrorCode",
    description="Why an operation failed; the same closed set every service answers with.",
)


@strawberry.type(description="A problem with a mutation's input or with doing what it asked.")
class UserError:
    field: str | None = strawberry.field(
        description="The argument or input field at fault (camelCase), or null when the whole request is."
    )
    code: ErrorCode  # type: ignore[valid-type]
    message: str
    retry_after: int | None = strawberry.field(
        default=None, description="With RATE_LIMITED, or UNAVAILABLE while the platform fails over: seconds to wait "
                    "before trying again."
    )

    @classmethod
    def of(cls, error: errors.LotseError) -> "UserError":
        return cls(
            field=error.field,
            code=ErrorCode[error.code.name],
            message=error.message,
            retry_after=error.retry_after,
        )


@dataclass
class Outcome(Generic[R]):
    """What a mutation's call came to: the reply, or the errors to put in the payload."""

    reply: R | None = None
    user_errors: list[UserError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.user_errors


def _note(error: errors.LotseError) -> None:
    # The client sees every error; the operator needs only those that are not the client's doing.
    if error.code in (errors.ErrorCode.UNAVAILABLE, errors.ErrorCode.INTERNAL):
        log.warning("gateway.service_error", code=error.code.value, error=error.message)


async def attempt(info: GatewayInfo, build: Callable[[], Q], endpoint: Endpoint[Q, R]) -> Outcome[R]:
    """Build the proto request, send it as the caller, and turn any failure into userErrors.

    Building can fail too: the proto models check input (lengths, email syntax) before it
    leaves the gateway, and that failure names its field like the service would.
    """
    try:
        request = build()
        reply = await info.context.gateway.client.send(endpoint, request, info.context.caller)
    except ValidationError as e:
        failure: errors.LotseError = invalid_from(e)
    except errors.LotseError as e:
        failure = e
    else:
        return Outcome(reply=reply)
    _note(failure)
    metrics = getattr(getattr(info.context, "gateway", None), "metrics", None)
    if metrics is not None:
        metrics.user_errors.labels(failure.code.value).inc()
    return Outcome(user_errors=[UserError.of(failure)])


def graphql_error(error: errors.LotseError) -> GraphQLError:
    """A LotseError as a GraphQL error: `extensions.code`, plus `field`/`retryAfter` when known."""
    extensions: dict[str, object] = {"code": error.code.value}
    if error.field:
        extensions["field"] = error.field
    if error.retry_after is not None:
        extensions["retryAfter"] = error.retry_after
    return GraphQLError(error.message, extensions=extensions)


async def ask(info: GatewayInfo, request: Q, endpoint: Endpoint[Q, R]) -> R:
    """For queries: the reply, or a GraphQL error carrying the code."""
    try:
        return await info.context.gateway.client.send(endpoint, request, info.context.caller)
    except errors.LotseError as e:
        _note(e)
        raise graphql_error(e) from None


def is_unexpected(error: GraphQLError) -> bool:
    """For MaskErrors: hide what a resolver raised by accident (a bug), keep what we meant to say."""
    original = error.original_error
    return original is not None and not isinstance(original, (GraphQLError, errors.LotseError))
