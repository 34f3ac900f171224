"""Models shared by several services' contracts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Generic, Protocol, TypeVar, overload

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


Q = TypeVar("Q", bound=Request)
R = TypeVar("R", bound=BaseModel)


class Transport(Protocol):
    """How a request reaches a service and its reply comes back (proto.client: over NATS).

    Raises the service's `LotseError` on an error reply; returns the reply body otherwise.
    """

    async def request(self, service: str, verb: str, body: bytes, caller: Caller | None,
                      repeatable: bool = False) -> bytes: ...


@dataclass(frozen=True)
class Endpoint(Generic[Q, R]):
    """One micro endpoint's contract: request model in, reply model out, and what it is for.

    Declared once, as a class attribute of the service's `Contract`; its name there is the
    verb. Read from the class it is this description (for the service, the AsyncAPI
    document, permissions); read from a contract bound to a transport it is the typed call
    `await client.directory.search_actors(request, caller) -> ActorConnection`.
    """

    request: type[Q]
    reply: type[R]
    summary: str
    # Whether sending the same request twice does what sending it once does (a read; an
    # import whose rows are keyed): then the transport sends it again when a NATS node fails
    # under it. Any other request is sent again only when it carries an idempotency key.
    repeatable: bool = field(default=False, kw_only=True)
    service: str = field(default="", init=False)
    verb: str = field(default="", init=False)

    def __set_name__(self, owner: type["Contract"], name: str) -> None:
        # A contract meant to be inherited (proto.privacy.PersonalDataContract) names no
        # service; `Contract.__init_subclass__` binds a copy to each service that inherits it.
        object.__setattr__(self, "service", getattr(owner, "service", ""))
        object.__setattr__(self, "verb", name)

    def bound_to(self, owner: type["Contract"], name: str) -> "Endpoint[Q, R]":
        """The same contract, declared by `owner`: an inherited endpoint as that service's own."""
        copy: Endpoint[Q, R] = Endpoint(self.request, self.reply, self.summary, repeatable=self.repeatable)
        copy.__set_name__(owner, name)
        return copy

    @overload
    def __get__(self, contract: None, owner: type["Contract"]) -> "Endpoint[Q, R]": ...

    @overload
    def __get__(self, contract: "Contract", owner: type["Contract"]) -> "Call[Q, R]": ...

    def __get__(self, contract: "Contract | None", owner: type["Contract"]) -> "Endpoint[Q, R] | Call[Q, R]":
        if contract is None:
            return self
        return Call(self, contract.transport)

    def encode(self, request: Q) -> bytes:
        return request.model_dump_json().encode()

    def may_repeat(self, request: Q) -> bool:
        """Whether this request may be sent again without doing twice what it asks."""
        return self.repeatable or bool(getattr(request, "idempotency_key", None))

    def decode(self, body: bytes) -> R:
        return self.reply.model_validate_json(body)


class Call(Generic[Q, R]):
    """An endpoint bound to a transport: `await call(request, caller) -> reply`."""

    __slots__ = ("endpoint", "_transport")

    def __init__(self, endpoint: Endpoint[Q, R], transport: Transport) -> None:
        self.endpoint = endpoint
        self._transport = transport

    async def __call__(self, request: Q, caller: Caller | None = None) -> R:
        endpoint = self.endpoint
        body = await self._transport.request(endpoint.service, endpoint.verb, endpoint.encode(request), caller,
                                             endpoint.may_repeat(request))
        return endpoint.decode(body)


class Contract:
    """A service's endpoints as class attributes. Instantiated with a transport, the same
    class is that service's typed client."""

    service: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "service" not in cls.__dict__:
            return  # a shared set of endpoints, not a service
        # Endpoints inherited from a shared contract are this service's: `<service>.<verb>`.
        for klass in cls.__mro__[1:]:
            for name, value in vars(klass).items():
                if isinstance(value, Endpoint) and name not in cls.__dict__:
                    setattr(cls, name, value.bound_to(cls, name))

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def endpoints(cls) -> dict[str, Endpoint[Any, Any]]:
        """verb → endpoint: the service's own in declaration order, then the inherited ones."""
        found: dict[str, Endpoint[Any, Any]] = {}
        for klass in cls.__mro__:
            for name, value in vars(klass).items():
                if isinstance(value, Endpoint) and name not in found:
                    found[name] = getattr(cls, name)
        return found


# Text a person typed: no control characters except line breaks and tabs.
Locale = Annotated[str, StringConstraints(pattern=r"^(de|en)$")]
