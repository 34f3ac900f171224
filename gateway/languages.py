"""Which languages a reader prefers: an explicit `lang`, else the request's Accept-Language.

Accept-Language (RFC 9110 §12.5.4): `de-DE,de;q=0.9,en;q=0.8,*;q=0.1` → de, en. Only the
primary subtag counts (items are written in "de", not "de-AT"); `*` and q=0 add nothing;
order by q, then by position. At most ten, as the contracts take.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

MAX_LANGUAGES = 10


def from_header(header: str | None) -> list[str]:
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().split("-", 1)[0].lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if code and code != "*" and code.isalpha() and len(code) <= 8 and quality > 0:
            ranked.append((-quality, position, code))
    return list(dict.fromkeys(code for _, _, code in sorted(ranked)))[:MAX_LANGUAGES]


def preferred(explicit: str | None, header: str | None) -> tuple[str, ...]:
    """`lang` first (what the reader chose), then what their software sends."""
    codes = ([explicit.strip().lower()] if explicit and explicit.strip() else []) + from_header(header)
    return tuple(dict.fromkeys(codes))[:MAX_LANGUAGES]


def of_request(explicit: str | None, request: HTTPConnection | None) -> tuple[str, ...]:
    """`preferred` for a GraphQL request or WebSocket (whose upgrade sent Accept-Language)."""
    return preferred(explicit, request.headers.get("accept-language") if request is not None else None)
