"""A per-link limit on forms sent: a token bucket per link, in this web process's memory.

Each link may send ``per_minute`` forms in a burst and then one every ``60 / per_minute``
seconds. Several web processes each keep their own buckets (the limit is then per process),
which is enough to stop a stuck retry loop or a script hammering one link.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_KEYS = 10_000
"""Buckets kept before the full ones (idle links) are forgotten."""


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimit:
    """Token buckets keyed by link."""

    per_minute: int
    now: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str) -> bool:
        """Take one token from ``key``'s bucket; False when it is empty."""
        rate = self.per_minute / 60.0
        with self._lock:
            now = self.now()
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_KEYS:
                    self._forget_idle(now, rate)
                bucket = self._buckets[key] = _Bucket(float(self.per_minute), now)
            bucket.tokens = min(self.per_minute, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens < 1:
                return False
            bucket.tokens -= 1
            return True

    def _forget_idle(self, now: float, rate: float) -> None:
        full = [
            k for k, b in self._buckets.items() if b.tokens + (now - b.at) * rate >= self.per_minute
        ]
        for key in full:
            del self._buckets[key]
