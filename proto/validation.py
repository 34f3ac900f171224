"""Turning a pydantic ValidationError into the platform's `Invalid`, naming the field."""

from __future__ import annotations

from functools import lru_cache

from pydantic import ValidationError

from proto.errors import Invalid


@lru_cache(maxsize=1024)  # field names: a few hundred, asked for with every event projected
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def field_path(loc: tuple[object, ...]) -> str | None:
    parts = [camel(str(p)) if isinstance(p, str) else str(p) for p in loc]
    return ".".join(parts) or None


def invalid_from(error: ValidationError) -> Invalid:
    """The first problem, named by its field in the public (camelCase) spelling."""
    first = error.errors(include_url=False)[0]
    field = field_path(tuple(first.get("loc", ())))
    message = str(first.get("msg", "invalid value"))
    # pydantic's messages start with "Value error, " for custom validators; people don't need it.
    message = message.removeprefix("Value error, ")
    return Invalid(message, field)
