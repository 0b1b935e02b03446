"""A thread-safe token bucket: bounds how fast a backfill writes, so it leaves capacity to the live path."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Allow on average `rate` units per second, with bursts up to one second's worth.

    `rate=None` (or 0) means unlimited. `acquire(n)` blocks until n units are available; a request larger
    than the burst is let through once the bucket is full, so a big page never deadlocks.
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate or None
        self._capacity = max(1.0, rate or 1.0)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self, units: float = 1.0) -> None:
        if self.rate is None:
            return
        need = min(units, self._capacity)
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= need:
                    # Take the whole request: an oversized one drives the bucket negative (a debt).
                    self._tokens -= units
                    return
                wait = (need - self._tokens) / self.rate
            self._sleep(wait)
