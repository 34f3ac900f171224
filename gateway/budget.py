"""A query-cost budget per client: a token bucket each, filled at a steady rate.

The per-request maximum stops one expensive query; this stops many just-under-limit ones
sent back to back. Each client (a signed-in account, else a client address) has a bucket
of `capacity` cost units that refills at `refill_per_second`; a query takes its estimated
cost out, or is refused with the time until the bucket holds enough.

Kept in this process: each gateway replica counts on its own, so behind N replicas a
client gets up to N budgets. That is enough for its job — keeping one client from
occupying a gateway — and costs no round trip per request.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_CLIENTS = 100_000  # buckets kept; the least recently seen is dropped first


@dataclass
class _Bucket:
    tokens: float
    updated: float


class QueryBudget:
    def __init__(self, capacity: int, refill_per_second: float, now: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_CLIENTS) -> None:
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._now = now
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def spend(self, client: str, cost: int) -> int | None:
        """Take `cost` from the client's bucket: None when taken, else the whole seconds to
        wait until it could be (nothing is taken then)."""
        now = self._now()
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = _Bucket(float(self.capacity), now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill_per_second)
            bucket.updated = now
        self._buckets[client] = bucket  # most recently seen last
        while len(self._buckets) > self._max_clients:
            # A bucket unused for long is full again; forgetting it loses nothing but its history.
            self._buckets.popitem(last=False)
        if cost <= bucket.tokens:
            bucket.tokens -= cost
            return None
        return max(1, math.ceil((cost - bucket.tokens) / self.refill_per_second))

    def left(self, client: str) -> int:
        """What the client could spend now (for messages)."""
        bucket = self._buckets.get(client)
        if bucket is None:
            return self.capacity
        elapsed = self._now() - bucket.updated
        return int(min(self.capacity, bucket.tokens + elapsed * self.refill_per_second))
