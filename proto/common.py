"""Models shared by several services' contracts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class Request(BaseModel):
    """Base of every request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Empty(Request):
    pass


class Accepted(Reply):
    """The answer that says nothing more than "we took it" (no enumeration).

    `message` is for people: what happens next, the same text whatever the input was.
    """

    ok: bool = True
    message: str | None = None


@dataclass(frozen=True)
class Caller:
    """Who is asking, as the transport carries it: the raw bearer token, the client address."""

    token: str | None = None
    client_address: str | None = None


@dataclass(frozen=True)
class EndpointSpec:
    """One micro endpoint's contract: its request and reply models and what it is for."""

    request: type[Request]
    reply: type[BaseModel]
    summary: str


# Text a person typed: no control characters except line breaks and tabs.
Locale = Annotated[str, StringConstraints(pattern=r"^(de|en)$")]
