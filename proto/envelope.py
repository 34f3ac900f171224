"""The event envelope: what every event in every stream looks like on the wire."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from ulid import ULID


def new_id() -> str:
    return str(ULID())


def stable_id(*parts: str) -> str:
    """The same id for the same parts, every time: for data loaded by a script that may be
    cut short and run again (sample data), so a second run finds the first run's claims."""
    return str(ULID.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]))


class Event(BaseModel):
    """Base of every event's `data`; `TYPE` names it in the envelope.

    Events are frozen facts: a subclass lists exactly what changed, nothing derived.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    TYPE: ClassVar[str]
    registry: ClassVar[dict[str, type["Event"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:
            Event.registry[cls.TYPE] = cls


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)
    type: str
    occurred_at: datetime
    by: str | None = None
    correlation_id: str | None = None
    data: dict[str, Any]

    def event(self) -> Event:
        """The typed event inside; unknown types raise KeyError (a newer writer's event)."""
        return Event.registry[self.type].model_validate(self.data)
