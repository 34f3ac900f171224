"""Running a command: decide on the current view, append one event, wait for the view.

The decision is made by the caller's `decide()` (load state from the view, call the pure
domain function). If another writer appended to the aggregate in between, the append loses
with "wrong last sequence": the view catches up, we decide again on the fresh state and
retry once; a second loss answers CONFLICT. Nothing is lost silently.

A decision that finds nothing (NOT_FOUND) may have been made on a view a moment behind
another replica that stored the thing just now; it is decided once more after this view
caught up, and only if catching up brought anything new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from proto.envelope import Envelope, Event
from proto.errors import Conflict, NotFound, Unavailable
from services.kernel.eventstore import EventStore, WrongLastSequence
from services.kernel.projector import Projector


@dataclass(frozen=True)
class Decision:
    aggregate: str
    aggregate_id: str
    event: Event
    expected: int  # stream sequence of the aggregate's last event in the view; 0 if new
    # A deterministic envelope id for an event that several replicas may decide at once
    # (services/directory/privacy.py's redactions); None: a fresh one.
    event_id: str | None = None


@dataclass(frozen=True)
class Appended:
    """What a command stored: the event's stream sequence and its envelope (time, author),
    so the caller can evolve the state it decided on instead of reading it back."""

    seq: int
    envelope: Envelope


class CommandRunner:
    def __init__(self, store: EventStore, projector: Projector):
        self.store = store
        self.projector = projector

    async def run(self, decide: Callable[[], Awaitable[Decision | None]], by: str | None) -> Appended | None:
        """Append the decided event and say what was stored, once the view applied it.

        `decide` returning None means "nothing to change" (an idempotent repeat).
        """
        for attempt in (1, 2):
            try:
                decision = await decide()
            except NotFound:
                if attempt == 2 or not await self.caught_up_further():
                    raise
                continue
            if decision is None:
                return None
            envelope = self.store.envelope(decision.event, by, decision.event_id)
            try:
                seq = await self.store.publish(
                    decision.aggregate, decision.aggregate_id, envelope, expected=decision.expected
                )
            except WrongLastSequence:
                if attempt == 2:
                    raise Conflict(
                        "this was changed by someone else at the same time; reload and try again"
                    ) from None
                await self.caught_up_further()
                continue
            try:
                await self.projector.wait_for(seq)
            except TimeoutError:
                # The event is stored (the stream is the truth); only this replica's view lags.
                raise Unavailable(
                    "your change was saved but is not visible yet; reload in a moment", retry_after=1
                ) from None
            return Appended(seq, envelope)
        raise AssertionError("unreachable")

    async def caught_up_further(self) -> bool:
        try:
            return await self.projector.caught_up_further()
        except TimeoutError:
            raise Unavailable("the service is catching up; try again in a moment", retry_after=1) from None

    async def append_all(self, decisions: Sequence[Decision], by: str | None, *,
                         in_flight: int = 100) -> list[Appended | None]:
        """Append decisions on distinct aggregates side by side (an import's rows), then wait
        once for the view to hold them all. One request per event would wait for the view
        once per event; here the publishes are in flight together and the view applies them
        in a few batches.

        None in the answer: that aggregate had an event already (its append lost with
        "wrong last sequence"); the view has caught up with it when this returns, so the
        caller can look at what is there. Each append keeps its own expected sequence and
        message id: a retried import is neither doubled nor lost.
        """
        slots = asyncio.Semaphore(in_flight)

        async def one(decision: Decision) -> Appended | None:
            envelope = self.store.envelope(decision.event, by, decision.event_id)
            async with slots:
                try:
                    seq = await self.store.publish(decision.aggregate, decision.aggregate_id, envelope,
                                                   expected=decision.expected)
                except WrongLastSequence:
                    return None
            return Appended(seq, envelope)

        results = await asyncio.gather(*(one(d) for d in decisions), return_exceptions=True)
        # All are settled before a failure is raised: none goes on unseen behind the answer.
        for result in results:
            if isinstance(result, BaseException):
                raise result
        appended = [r for r in results if not isinstance(r, BaseException)]
        last = max((a.seq for a in appended if a is not None), default=0)
        try:
            if any(a is None for a in appended):
                await self.projector.catch_up()
            await self.projector.wait_for(last)
        except TimeoutError:
            raise Unavailable("the changes were saved but are not visible yet; reload in a moment",
                              retry_after=1) from None
        return list(appended)
