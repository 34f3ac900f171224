"""The closed set of error codes every endpoint answers with, and the exception that carries one.

Services raise `LotseError` (or a subclass); the endpoint helper turns it into the micro
error reply; the typed client turns that reply back into the same exception, so a
gateway resolver sees exactly what the service decided.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


# The micro protocol carries a status in `Nats-Service-Error-Code`; HTTP's numbers are the
# convention the NATS tooling (`nats micro`) shows, so we keep them there.
STATUS_OF: dict[ErrorCode, int] = {
    ErrorCode.INVALID_INPUT: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
}


class ErrorBody(BaseModel):
    """Body of every error reply."""

    code: ErrorCode
    message: str
    field: str | None = None
    retry_after: int | None = None  # seconds, with RATE_LIMITED, or UNAVAILABLE while NATS fails over


class LotseError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        code: ErrorCode | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after

    def body(self) -> ErrorBody:
        return ErrorBody(
            code=self.code, message=self.message, field=self.field, retry_after=self.retry_after
        )

    @classmethod
    def from_body(cls, body: ErrorBody) -> "LotseError":
        kind = _BY_CODE.get(body.code, LotseError)
        return kind(body.message, body.field, code=body.code, retry_after=body.retry_after)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r}, field={self.field!r})"


class Invalid(LotseError):
    code = ErrorCode.INVALID_INPUT


class NotFound(LotseError):
    code = ErrorCode.NOT_FOUND


class Conflict(LotseError):
    code = ErrorCode.CONFLICT


class Unauthenticated(LotseError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(LotseError):
    code = ErrorCode.FORBIDDEN


class RateLimited(LotseError):
    code = ErrorCode.RATE_LIMITED


class Unavailable(LotseError):
    code = ErrorCode.UNAVAILABLE


_BY_CODE: dict[ErrorCode, type[LotseError]] = {
    kind.code: kind
    for kind in (Invalid, NotFound, Conflict, Unauthenticated, Forbidden, RateLimited, Unavailable)
}
