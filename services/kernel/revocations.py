"""The revocation list as a token verifier holds it: which access tokens are refused before they expire.

Identity writes ended sessions and per-account cutoffs into the `identity-revocations`
bucket (proto.identity: `RevokedSession`, `RevokedTokens`); every verifier mirrors the
bucket here (services/kernel/kvwatch.py) and asks `refuses()` on every request, so this
answers from memory. Entries past their `until` refuse nothing any more (every token they
were about has expired) and are dropped; the bucket forgets them on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from nats.js.kv import KeyValue
from pydantic import ValidationError

from proto import subjects
from proto.identity import RevokedSession, RevokedTokens
from services.kernel.clock import Clock
from services.kernel.logging import get_logger

log = get_logger("revocations")

PRUNE_EVERY = timedelta(minutes=1)

Listener = Callable[[str], None]  # called with the account id of each new revocation


class RevocationList:
    def __init__(self, clock: Clock):
        self._clock = clock
        self._sessions: dict[str, RevokedSession] = {}
        self._cutoffs: dict[str, RevokedTokens] = {}
        self._listeners: list[Listener] = []
        self._pruned_at = clock.now()

    def __len__(self) -> int:
        return len(self._sessions) + len(self._cutoffs)

    def refuses(self, account_id: str, session_id: str | None, issued_at_version: int) -> bool:
        now = self._clock.now()
        if session_id is not None and (ended := self._sessions.get(session_id)) is not None and ended.until > now:
            return True
        cutoff = self._cutoffs.get(account_id)
        return cutoff is not None and cutoff.until > now and issued_at_version <= cutoff.issued_up_to

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(account_id)` after each revocation that arrives; returns the undo."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def apply(self, entry: KeyValue.Entry) -> None:
        """One entry of the bucket, as the watch delivers it."""
        parsed = subjects.parse_revocation_key(entry.key)
        if parsed is None:
            log.warning("revocations.unknown_key", key=entry.key)
            return
        kind, ident = parsed
        table: dict = self._sessions if kind == "session" else self._cutoffs
        if entry.operation in ("DEL", "PURGE") or not entry.value:
            table.pop(ident, None)  # an operator took it back, or the server aged it out
            return
        try:
            if kind == "session":
                ended = RevokedSession.model_validate_json(entry.value)
                self._sessions[ident] = ended
                account_id = ended.account_id
            else:
                cutoff = RevokedTokens.model_validate_json(entry.value)
                known = self._cutoffs.get(ident)
                # Cutoffs only grow; a lower one arriving late must not lift a higher one.
                if known is None or cutoff.issued_up_to >= known.issued_up_to:
                    self._cutoffs[ident] = cutoff
                account_id = ident
        except ValidationError:
            log.error("revocations.unreadable", key=entry.key)
            return
        self._prune()
        for listener in tuple(self._listeners):
            try:
                listener(account_id)
            except Exception:
                log.exception("revocations.listener_failed")

    def _prune(self) -> None:
        now = self._clock.now()
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        self._sessions = {k: v for k, v in self._sessions.items() if v.until > now}
        self._cutoffs = {k: v for k, v in self._cutoffs.items() if v.until > now}

