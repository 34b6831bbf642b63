"""Deadline for a blocking call: it runs on a daemon worker and the caller stops waiting at the deadline.

Python cannot interrupt a blocked thread, so a hung call keeps its worker until it returns; the pool is
bounded, and a bulkhead outside the timeout bounds how many callers can pile up behind hung calls.
Workers are daemon threads so a hung backend never blocks interpreter exit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from vectorrouter.errors import Timeout as TimeoutError_
from vectorrouter.policies.base import Policy

__all__ = ["Timeout"]

T = TypeVar("T")


class _DaemonPool:
    def __init__(self, max_workers: int, name: str) -> None:
        self.max_workers = max_workers
        self.name = name
        self._tasks: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        fut: Future[T] = Future()
        with self._lock:
            if self._idle == 0 and self._workers < self.max_workers:
                self._workers += 1
                threading.Thread(target=self._work, name=f"{self.name}-{self._workers}", daemon=True).start()
            else:
                self._idle -= 1 if self._idle else 0
        self._tasks.put((fn, fut))
        return fut

    def _work(self) -> None:
        while True:
            fn, fut = self._tasks.get()
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # handed to the waiting caller, not swallowed
                    fut.set_exception(exc)
            with self._lock:
                self._idle += 1


class Timeout(Policy):
    """Give up waiting after ``seconds`` and raise :class:`vectorrouter.errors.Timeout`.

    >>> Timeout(1.0).call(lambda: "fast")
    'fast'
    """

    def __init__(self, seconds: float, *, max_workers: int = 32, name: str = "vectorrouter-timeout") -> None:
        if seconds <= 0:
            raise ValueError("timeout seconds must be positive")
        self.seconds = seconds
        self._pool = _DaemonPool(max_workers, name)

    def call(self, fn: Callable[[], T]) -> T:
        fut = self._pool.submit(fn)
        try:
            return fut.result(timeout=self.seconds)
        except FutureTimeout:
            fut.cancel()
            raise TimeoutError_(f"no answer within {self.seconds * 1000:.0f} ms") from None

    def __repr__(self) -> str:
        return f"Timeout({self.seconds}s)"
