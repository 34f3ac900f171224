"""Headers every response gets, whichever route or middleware answered it.

- `X-Content-Type-Options: nosniff` everywhere: a browser must not guess that a JSON answer
  or an uploaded text is HTML or script.
- `Cache-Control: no-store` on everything /graphql answers: its answers carry personal data
  (the viewer, contact persons, session tokens), and a shared cache or a browser's disk
  must not keep them. Other routes set their own (feeds and exports may be cached).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE_PATHS = frozenset({"/graphql"})


class SecurityHeaders:
    def __init__(self, app: ASGIApp, no_store_paths: frozenset[str] = NO_STORE_PATHS) -> None:
        self.app = app
        self.no_store_paths = no_store_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["path"] in self.no_store_paths

        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = [(k, v) for k, v in msg.get("headers", [])
                           if not (no_store and k.lower() == b"cache-control")]
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                if no_store:
                    headers.append((b"cache-control", b"no-store"))
                msg["headers"] = headers
            await send(msg)

        await self.app(scope, receive, with_headers)
