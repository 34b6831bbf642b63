"""Bulkhead: at most ``max_concurrent`` calls in flight; the rest wait up to ``max_wait`` or are refused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from vectorrouter.errors import BackendUnavailable
from vectorrouter.policies.base import Policy

__all__ = ["Bulkhead"]

T = TypeVar("T")


class Bulkhead(Policy):
    """Bound concurrency. ``max_wait=None`` waits as long as it takes (right for embedding batches);
    a finite ``max_wait`` refuses with :class:`BackendUnavailable` (right for a search step, so a saturated
    store makes the ladder move on instead of queueing).

    >>> Bulkhead(2).call(lambda: "in")
    'in'
    """

    def __init__(self, max_concurrent: int, *, max_wait: float | None = None, name: str = "") -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.max_concurrent = max_concurrent
        self.max_wait = max_wait
        self.name = name
        # one plain lock and a counter: the uncontended path (every search) is two lock round-trips
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiting = 0
        self.in_flight = 0
        self.peak = 0

    def _has_room(self) -> bool:
        return self.in_flight < self.max_concurrent

    def try_enter(self) -> bool:
        """Take a slot if one is free, without waiting; ``False`` means none is (use :meth:`call`, which waits).

        With :meth:`leave`, the uncontended path of a caller that inlines the bulkhead (a search step).
        """
        with self._lock:  # the plain lock beneath the condition: no Python-level __enter__
            if self.in_flight >= self.max_concurrent:
                return False
            self.in_flight += 1
            if self.in_flight > self.peak:
                self.peak = self.in_flight
            return True

    def leave(self) -> None:
        """Give back a slot taken by :meth:`try_enter`."""
        with self._lock:
            self.in_flight -= 1
            if self._waiting:
                self._cond.notify()

    def call(self, fn: Callable[[], T]) -> T:
        cond = self._cond
        with self._lock:
            if self.in_flight >= self.max_concurrent:
                self._waiting += 1
                try:
                    admitted = cond.wait_for(self._has_room, timeout=self.max_wait)
                finally:
                    self._waiting -= 1
                if not admitted:
                    raise BackendUnavailable(
                        f"bulkhead full ({self.max_concurrent} calls in flight for {self.max_wait}s)",
                        backend=self.name,
                    )
            self.in_flight += 1
            if self.in_flight > self.peak:
                self.peak = self.in_flight
        try:
            return fn()
        finally:
            self.leave()

    def __repr__(self) -> str:
        return f"Bulkhead({self.max_concurrent})"
