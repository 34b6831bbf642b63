"""Recent health of one ladder step: a rolling window of calls, their outcomes and latencies."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from vectorrouter.policies.breaker import BreakerState
from vectorrouter.policies.clock import Clock

__all__ = ["StepHealth", "StepStats", "percentile"]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class StepHealth:
    """What ``router.health()`` and ``vectorrouter status`` report for one step."""

    name: str
    kind: str
    store: str
    state: BreakerState
    #: Seconds until an open breaker lets a probe through (0 unless open).
    retry_in: float
    #: Seconds the step is held back because the store asked us to wait (Retry-After).
    held_for: float
    calls: int
    errors: int
    skipped: int
    error_rate: float
    p50_ms: float | None
    p99_ms: float | None
    last_error: str
    window_s: float
    times_opened: int

    def as_dict(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.__slots__}


class StepStats:
    """Calls that reached a store in the last ``window`` seconds (at most ``max_events`` kept).

    >>> from vectorrouter.policies import FakeClock
    >>> s = StepStats(FakeClock(), window=60)
    >>> s.record(True, 2.0); s.record(False, 50.0, "timeout")
    >>> s.summary()[:3], s.last_error
    ((2, 1, 0.5), 'timeout')
    """

    def __init__(self, clock: Clock, *, window: float = 60.0, max_events: int = 4096) -> None:
        self.clock = clock
        self.window = window
        self._events: deque[tuple[float, bool, float]] = deque(maxlen=max_events)
        self._skips: deque[float] = deque(maxlen=max_events)
        self._lock = threading.Lock()
        self.last_error = ""

    def record(self, ok: bool, latency_ms: float, error: str = "") -> None:
        with self._lock:
            self._events.append((self.clock.now(), ok, latency_ms))
            if not ok:
                self.last_error = error

    def record_skip(self) -> None:
        with self._lock:
            self._skips.append(self.clock.now())

    def _trim(self) -> None:
        horizon = self.clock.now() - self.window
        while self._events and self._events[0][0] < horizon:
            self._events.popleft()
        while self._skips and self._skips[0] < horizon:
            self._skips.popleft()

    def summary(self) -> tuple[int, int, float, float | None, float | None, int]:
        """``(calls, errors, error_rate, p50_ms, p99_ms, skipped)`` over the window (latency of successes)."""
        with self._lock:
            self._trim()
            events = list(self._events)
            skipped = len(self._skips)
        calls = len(events)
        errors = sum(1 for _, ok, _ in events if not ok)
        ok_lat = [lat for _, ok, lat in events if ok]
        rate = errors / calls if calls else 0.0
        return calls, errors, rate, percentile(ok_lat, 50), percentile(ok_lat, 99), skipped
