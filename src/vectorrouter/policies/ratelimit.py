"""Token-bucket rate limiting (requests/min, tokens/min…), with reservations so waiting callers stay fair."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from vectorrouter.errors import RateLimited
from vectorrouter.policies.base import Policy
from vectorrouter.policies.clock import SYSTEM_CLOCK, Clock

__all__ = ["RateLimit", "TokenBucket"]

T = TypeVar("T")


class TokenBucket:
    """``rate`` tokens per second refill a bucket of ``capacity`` (default: one second's worth... or ``rate``).

    ``acquire(n)`` reserves ``n`` tokens at once (the balance may go negative) and sleeps until the reservation
    is covered, so concurrent callers are served in order and the long-run rate never exceeds ``rate``.

    >>> from vectorrouter.policies.clock import FakeClock
    >>> clock = FakeClock()
    >>> bucket = TokenBucket.per_minute(60, clock=clock)      # 1 per second, burst of 60
    >>> for _ in range(61): bucket.acquire()
    >>> clock.sleeps
    [1.0]
    """

    def __init__(
        self, rate: float, capacity: float | None = None, *, clock: Clock = SYSTEM_CLOCK, name: str = ""
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else rate
        if self.capacity <= 0:
            raise ValueError("capacity must be positive")
        self.clock = clock
        self.name = name
        self._tokens = self.capacity
        self._stamp = clock.now()
        self._lock = threading.Lock()

    @classmethod
    def per_minute(
        cls, per_minute: float, *, burst: float | None = None, clock: Clock = SYSTEM_CLOCK, name: str = ""
    ) -> TokenBucket:
        """A bucket for a per-minute quota; the default burst is the whole minute's allowance."""
        return cls(per_minute / 60.0, burst if burst is not None else per_minute, clock=clock, name=name)

    def _refill(self) -> None:
        now = self.clock.now()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self, n: float = 1.0) -> float:
        """Take ``n`` tokens now; returns how long the caller must wait before using them."""
        if n > self.capacity:
            raise RateLimited(
                f"one request needs {n:g} tokens but the bucket holds at most {self.capacity:g}; "
                "split the request (smaller batches) or raise the quota",
                backend=self.name,
            )
        with self._lock:
            self._refill()
            self._tokens -= n
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def adjust(self, delta: float) -> None:
        """Correct a past reservation by ``delta`` tokens: positive takes more (the real cost was higher than
        reserved), negative gives some back (it was lower, or the call never reached the server)."""
        with self._lock:
            self._refill()
            self._tokens = min(self.capacity, self._tokens - delta)

    def hold(self, n: float, seconds: float) -> None:
        """Make a request of ``n`` tokens fit no sooner than ``seconds`` from now (a server said so): the
        balance drops to ``n - seconds * rate`` if it is above that."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, n - seconds * self.rate)

    def acquire(self, n: float = 1.0, *, max_wait: float | None = None) -> None:
        """Block until ``n`` tokens are available; refuse with :class:`RateLimited` if that exceeds ``max_wait``."""
        wait = self.reserve(n)
        if max_wait is not None and wait > max_wait:
            with self._lock:
                self._tokens += n  # give the reservation back
            raise RateLimited(f"rate limit: next slot in {wait:.2f}s", backend=self.name, retry_after=wait)
        self.clock.sleep(wait)

    @property
    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens


class RateLimit(Policy):
    """Acquire one token (or ``cost(…)`` tokens) from each bucket before the call."""

    def __init__(self, *buckets: TokenBucket, max_wait: float | None = None) -> None:
        self.buckets = buckets
        self.max_wait = max_wait

    def call(self, fn: Callable[[], T]) -> T:
        for bucket in self.buckets:
            bucket.acquire(1.0, max_wait=self.max_wait)
        return fn()

    def __repr__(self) -> str:
        return f"RateLimit({', '.join(f'{b.rate * 60:g}/min' for b in self.buckets)})"
