"""Open WebSocket connections by account, each closed the moment identity revokes its token.

A live subscription may run for days on one access token. The token verifier tells this
registry which account a revocation is about (services/kernel/revocations.py); the
registry checks only that account's connections and ends those whose token is now refused
— a sign-out elsewhere reaches an open app within the watch's latency, not at its next push
or when the token expires. Ending a connection is the connection's own business
(gateway.graphql.TransportWS.end_session): it closes with 4403.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from services.kernel.auth import Principal, TokenVerifier
from services.kernel.logging import get_logger

log = get_logger("gateway.connections")

End = Callable[[], Awaitable[None]]


@dataclass(eq=False)  # identity, not value: two connections may carry the same token
class _Connection:
    principal: Principal
    end: End = field(repr=False)


class OpenConnections:
    def __init__(self, verifier: TokenVerifier, on_ended: Callable[[], None] = lambda: None) -> None:
        self._verifier = verifier
        self._on_ended = on_ended
        self._by_account: dict[str, set[_Connection]] = defaultdict(set)
        self._ending: set[asyncio.Task[None]] = set()
        self._stop_listening = verifier.on_revocation(self._revoked)

    def __len__(self) -> int:
        return sum(len(connections) for connections in self._by_account.values())

    def add(self, principal: Principal, end: End) -> Callable[[], None]:
        """Watch one connection signed in as `principal`; returns the call that forgets it."""
        connection = _Connection(principal, end)
        self._by_account[principal.account_id].add(connection)
        return lambda: self._forget(connection)

    def close(self) -> None:
        self._stop_listening()
        self._by_account.clear()

    def _forget(self, connection: _Connection) -> None:
        connections = self._by_account.get(connection.principal.account_id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._by_account[connection.principal.account_id]

    def _revoked(self, account_id: str) -> None:
        for connection in tuple(self._by_account.get(account_id, ())):
            if self._verifier.revoked(connection.principal):
                self._forget(connection)
                task = asyncio.create_task(self._end(connection), name="ws-session-ended")
                self._ending.add(task)
                task.add_done_callback(self._ending.discard)

    async def _end(self, connection: _Connection) -> None:
        try:
            await connection.end()
            self._on_ended()
        except Exception:
            log.exception("connections.end_failed", account_id=connection.principal.account_id)
