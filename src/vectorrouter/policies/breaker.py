"""Circuit breaker (closed → open → half-open → closed), one per ladder step, on an injectable clock.

Only backend failures count: a caller error says nothing about the store's health.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal, TypeVar

from vectorrouter.errors import BackendError, CircuitOpen
from vectorrouter.policies.base import Policy
from vectorrouter.policies.clock import SYSTEM_CLOCK, Clock

__all__ = ["BreakerState", "CircuitBreaker"]

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker(Policy):
    """Open after ``failure_threshold`` consecutive backend failures; probe again after ``recovery_timeout``.

    While open, calls fail at once with :class:`CircuitOpen` (costing no latency). After the cooldown the
    breaker is half-open: up to ``half_open_max_calls`` probes go through; a success closes it, a failure
    re-opens it for another cooldown.

    >>> from vectorrouter.policies.clock import FakeClock
    >>> from vectorrouter.errors import BackendUnavailable
    >>> clock = FakeClock(); b = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    >>> def down(): raise BackendUnavailable("down")
    >>> try: b.call(down)
    ... except BackendUnavailable: pass
    >>> b.state
    'open'
    >>> clock.advance(5); b.state
    'half_open'
    >>> b.call(lambda: "back"), b.state
    ('back', 'closed')
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        recovery_timeout: float = 10.0,
        half_open_max_calls: int = 1,
        clock: Clock = SYSTEM_CLOCK,
        name: str = "",
        on_change: Callable[[str, BreakerState, BreakerState], None] | None = None,
    ) -> None:
        if failure_threshold < 1 or half_open_max_calls < 1 or recovery_timeout < 0:
            raise ValueError("failure_threshold and half_open_max_calls must be ≥ 1, recovery_timeout ≥ 0")
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.half_open_max_calls = half_open_max_calls
        self.clock = clock
        self.name = name
        self.on_change = on_change
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probes = 0
        #: Times the breaker went from closed to open (for health reports and benchmarks).
        self.opened_count = 0
        #: Why an operator took the step out of rotation (``force_open``); empty when not forced.
        self.forced = ""

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current()

    def _current(self) -> BreakerState:
        if self.forced:
            return "open"
        if self._state == "open" and self.clock.now() - self._opened_at >= self.recovery_timeout:
            self._move("half_open")
            self._probes = 0
        return self._state

    def _move(self, to: BreakerState) -> None:
        was, self._state = self._state, to
        if to == "open":
            self._opened_at = self.clock.now()
            if was == "closed":
                self.opened_count += 1
        if was != to and self.on_change is not None:
            self.on_change(self.name, was, to)

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        with self._lock:
            if self._current() != "open":
                return 0.0
            if self.forced:
                return float("inf")
            return max(0.0, self.recovery_timeout - (self.clock.now() - self._opened_at))

    def admits_freely(self) -> bool:
        """True when closed and not forced open, read without the lock (the search path asks on every call).

        A racing failure may open the breaker a moment after this says closed: that call goes through, as it
        would have had it taken the lock a moment earlier.
        """
        return self._state == "closed" and not self.forced

    def _admit(self) -> None:
        if self.admits_freely():
            return
        with self._lock:
            state = self._current()
            if self.forced:
                raise CircuitOpen(f"taken out of rotation: {self.forced}", backend=self.name)
            if state == "open":
                left = self.recovery_timeout - (self.clock.now() - self._opened_at)
                raise CircuitOpen(f"circuit open, next probe in {left:.1f}s", backend=self.name)
            if state == "half_open":
                if self._probes >= self.half_open_max_calls:
                    raise CircuitOpen("circuit half-open, probe already in flight", backend=self.name)
                self._probes += 1

    def force_open(self, reason: str) -> None:
        """Take the step out of rotation until :meth:`release` (maintenance, drills, evaluations of fallbacks)."""
        if not reason:
            raise ValueError("say why the step is taken out of rotation")
        with self._lock:
            self.forced = reason
            if self._state != "open":
                self._move("open")

    def release(self) -> None:
        """Put a forced-open step back: it is probed (half-open) before it takes traffic again."""
        with self._lock:
            if not self.forced:
                return
            self.forced = ""
            self._opened_at = self.clock.now() - self.recovery_timeout  # due for a probe at once
            self._current()

    def record_success(self) -> None:
        if self._state == "closed" and not self._failures:
            return  # nothing to reset
        with self._lock:
            self._failures = 0
            if self._state != "closed":
                self._move("closed")

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state == "half_open" or (
                self._state == "closed" and self._failures >= self.failure_threshold
            ):
                self._move("open")

    def call(self, fn: Callable[[], T]) -> T:
        self._admit()
        try:
            result = fn()
        except BackendError as exc:
            if isinstance(exc, CircuitOpen):  # an inner breaker refused: not evidence about this step
                with self._lock:
                    self._probes = max(0, self._probes - 1)
                raise
            self.record_failure()
            raise
        except BaseException:
            with self._lock:  # caller errors release a half-open probe slot without judging the step
                if self._state == "half_open":
                    self._probes = max(0, self._probes - 1)
            raise
        self.record_success()
        return result

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name or 'unnamed'}: {self.state})"
