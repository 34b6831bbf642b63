"""Pacing provider calls to a requests/min + tokens/min quota, on the policy layer's token buckets.

Every call reserves one request and its *estimated* tokens before it is sent, and waits until both buckets
cover the reservation (reservations queue fairly, so concurrent batches take turns instead of racing).
After the answer, the tokens bucket is corrected to the tokens the provider says it billed; a call the
provider refused with 429 never counted against its quota, so its reservation is given back — and since the
429 proves the provider's bucket is short, ours is lowered to match (a request of that size fits again only
after ``Retry-After``), so the other workers stop sending into the refusal too.

Because a reservation's wait is fixed when it is made, a systematic estimation error would still cost
throughput (over-estimates) or 429s (under-estimates) while corrections are in flight. The limiter therefore
learns the provider's billed ÷ estimated ratio (a moving average, bounded to 0.25–4×) and scales the
next reservations by it.

>>> from vectorrouter.policies import FakeClock
>>> clock = FakeClock()
>>> q = QuotaLimiter(requests_per_minute=60, tokens_per_minute=6000, burst_seconds=1, clock=clock)
>>> q.call(lambda: "sent", tokens=100), q.call(lambda: "sent", tokens=100), clock.sleeps
('sent', 'sent', [0.0, 1.0])
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from vectorrouter.errors import RateLimited
from vectorrouter.policies import SYSTEM_CLOCK, Clock, TokenBucket

__all__ = ["QuotaLimiter"]

T = TypeVar("T")


class QuotaLimiter:
    """Requests/min and tokens/min buckets; either may be ``None`` (no limit).

    ``burst_seconds`` is how much of the quota may be spent at once (the bucket's capacity, in seconds of
    refill). Providers refill continuously, so a short burst costs no long-run throughput and avoids
    opening with a volley of 429s.
    """

    def __init__(
        self,
        *,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        burst_seconds: float = 2.0,
        clock: Clock = SYSTEM_CLOCK,
        name: str = "",
    ) -> None:
        if burst_seconds <= 0:
            raise ValueError("burst_seconds must be positive")
        self.clock = clock
        #: billed ÷ estimated tokens, learned from the provider's answers.
        self.calibration = 1.0
        self._lock = threading.Lock()
        self.requests = (
            TokenBucket(
                requests_per_minute / 60.0,
                max(1.0, requests_per_minute / 60.0 * burst_seconds),
                clock=clock,
                name=f"{name} requests/min",
            )
            if requests_per_minute
            else None
        )
        self.tokens = (
            TokenBucket(
                tokens_per_minute / 60.0,
                max(1.0, tokens_per_minute / 60.0 * burst_seconds),
                clock=clock,
                name=f"{name} tokens/min",
            )
            if tokens_per_minute
            else None
        )

    @property
    def max_request_tokens(self) -> float | None:
        """The most tokens one request may reserve at once (batches are split to fit)."""
        return self.tokens.capacity if self.tokens is not None else None

    def call(self, fn: Callable[[], T], *, tokens: int, billed: Callable[[T], int | None] | None = None) -> T:
        """Wait for a slot, run ``fn``, and settle the tokens bucket to what was billed."""
        with self._lock:
            reserved = float(tokens) * self.calibration
        if self.tokens is not None:
            reserved = min(
                reserved, self.tokens.capacity
            )  # an oversized text waits a full bucket, then settles
        waits = [0.0]
        if self.requests is not None:
            waits.append(self.requests.reserve(1.0))
        if self.tokens is not None:
            waits.append(self.tokens.reserve(reserved))
        self.clock.sleep(max(waits))
        try:
            result = fn()
        except RateLimited as exc:
            # a refused call did not count against the provider's quota: hand the reservation back…
            if self.requests is not None:
                self.requests.adjust(-1.0)
            if self.tokens is not None:
                self.tokens.adjust(-reserved)
            if exc.retry_after is not None:  # …but the provider's buckets are short: make ours agree
                if self.requests is not None:
                    self.requests.hold(1.0, exc.retry_after)
                if self.tokens is not None:
                    self.tokens.hold(reserved, exc.retry_after)
            raise
        actual = billed(result) if billed is not None else None
        if actual is not None and tokens > 0:
            with self._lock:
                self.calibration = min(4.0, max(0.25, 0.7 * self.calibration + 0.3 * actual / tokens))
        if self.tokens is not None:
            self.tokens.adjust((actual if actual is not None else reserved) - reserved)
        return result
