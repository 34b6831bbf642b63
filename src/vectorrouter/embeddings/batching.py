"""The pure parts of batching: splitting texts into provider requests, and sharing in-flight work.

``plan_batches`` cuts a list of texts into requests that respect both the per-request text limit and the
per-request token limit (a tokens/min bucket can never admit a request larger than its capacity).

``InFlight`` de-duplicates across concurrent callers: the first caller to need a key *owns* it and embeds
it; anyone else needing the same key while it is in flight gets the owner's future and waits for the
vector (or the owner's error) instead of paying for it a second time.

>>> plan_batches([3, 3, 3, 3, 3], max_texts=2, max_tokens=100)
[[0, 1], [2, 3], [4]]
>>> plan_batches([60, 60, 30], max_texts=25, max_tokens=100)
[[0], [1, 2]]
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

__all__ = ["InFlight", "plan_batches"]


def plan_batches(
    tokens: Sequence[int], *, max_texts: int, max_tokens: float | None = None
) -> list[list[int]]:
    """Greedy, order-preserving split of items (given by their token counts) into batches of indices.

    An item larger than ``max_tokens`` on its own still gets a batch of one: the limiter lets it through once
    a full bucket is available and the provider decides whether it is too long.
    """
    if max_texts < 1:
        raise ValueError("max_texts must be at least 1")
    batches: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, n in enumerate(tokens):
        too_many = len(current) >= max_texts
        too_big = max_tokens is not None and current and used + n > max_tokens
        if too_many or too_big:
            batches.append(current)
            current, used = [], 0
        current.append(i)
        used += n
    if current:
        batches.append(current)
    return batches


class InFlight:
    """Keys being embedded right now, each with the future its result will be delivered on."""

    def __init__(self) -> None:
        self._futures: dict[str, Future[np.ndarray]] = {}
        self._lock = threading.Lock()

    def claim(self, keys: Sequence[str]) -> tuple[list[str], dict[str, Future[np.ndarray]]]:
        """Split ``keys`` into those this caller now owns and those someone else is already embedding."""
        owned: list[str] = []
        waiting: dict[str, Future[np.ndarray]] = {}
        with self._lock:
            for key in keys:
                fut = self._futures.get(key)
                if fut is None:
                    self._futures[key] = Future()
                    owned.append(key)
                else:
                    waiting[key] = fut
        return owned, waiting

    def resolve(self, key: str, vector: np.ndarray) -> None:
        with self._lock:
            fut = self._futures.pop(key, None)
        if fut is not None:
            fut.set_result(vector)

    def fail(self, keys: Sequence[str], exc: BaseException) -> None:
        """Deliver the owner's error to every waiter, and free the keys so a later call can try again."""
        with self._lock:
            futs = [self._futures.pop(k, None) for k in keys]
        for fut in futs:
            if fut is not None:
                fut.set_exception(exc)

    def __len__(self) -> int:
        with self._lock:
            return len(self._futures)
