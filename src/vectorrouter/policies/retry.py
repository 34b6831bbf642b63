"""Retry with jittered exponential backoff (tenacity underneath) that honours a server's Retry-After."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

import tenacity

from vectorrouter.errors import BackendError, CircuitOpen, RateLimited
from vectorrouter.policies.base import Policy
from vectorrouter.policies.clock import SYSTEM_CLOCK, Clock

__all__ = ["Retry", "backoff_delay"]

T = TypeVar("T")


def backoff_delay(
    attempt: int, *, initial: float, maximum: float, multiplier: float = 2.0, rng: random.Random | None = None
) -> float:
    """Full-jitter exponential backoff: uniform in ``[0, min(maximum, initial * multiplier**(attempt-1))]``."""
    cap = min(maximum, initial * multiplier ** max(0, attempt - 1))
    return (rng or random).uniform(0.0, cap)


class Retry(Policy):
    """Retry :class:`~vectorrouter.errors.BackendError` (except an open breaker) up to ``attempts`` times.

    Caller errors are never retried, nor anything in ``give_up_on`` (e.g. a spent quota, where retrying
    within seconds cannot help). A :class:`~vectorrouter.errors.RateLimited` error carrying
    ``retry_after`` waits at least that long (capped by ``max_retry_after``: beyond it, waiting is pointless and
    the error propagates so the ladder can move on). With ``trust_retry_after`` the wait is the server's figure
    (plus ≤10% jitter) even when it is shorter than the backoff: right for a quota server that computes it.

    >>> from vectorrouter.policies.clock import FakeClock
    >>> calls = []
    >>> def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise RateLimited("slow down", retry_after=2.0)
    ...     return "ok"
    >>> clock = FakeClock()
    >>> Retry(attempts=3, clock=clock).call(flaky), clock.sleeps
    ('ok', [2.0, 2.0])
    """

    def __init__(
        self,
        attempts: int = 3,
        *,
        initial: float = 0.05,
        maximum: float = 2.0,
        multiplier: float = 2.0,
        max_retry_after: float = 60.0,
        retry_on: tuple[type[BaseException], ...] = (BackendError,),
        give_up_on: tuple[type[BaseException], ...] = (),
        trust_retry_after: bool = False,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        on_retry: Callable[[int, BaseException, float], None] | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.attempts = attempts
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.max_retry_after = max_retry_after
        self.retry_on = retry_on
        self.give_up_on = give_up_on
        self.trust_retry_after = trust_retry_after
        self.clock = clock
        self.rng = rng or random.Random()
        self.on_retry = on_retry

    def _should_retry(self, exc: BaseException | None) -> bool:
        if exc is None or isinstance(exc, (CircuitOpen, *self.give_up_on)):
            return False
        if (
            isinstance(exc, RateLimited)
            and exc.retry_after is not None
            and exc.retry_after > self.max_retry_after
        ):
            return False
        return isinstance(exc, self.retry_on)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        delay = backoff_delay(
            state.attempt_number,
            initial=self.initial,
            maximum=self.maximum,
            multiplier=self.multiplier,
            rng=self.rng,
        )
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            if self.trust_retry_after:  # the server said exactly when; spread retries by ≤10% only
                delay = exc.retry_after * (1.0 + 0.1 * self.rng.random())
            else:
                delay = max(delay, exc.retry_after)
        if self.on_retry is not None and exc is not None:
            self.on_retry(state.attempt_number, exc, delay)
        return delay

    def call(self, fn: Callable[[], T]) -> T:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception(self._should_retry),
            sleep=self.clock.sleep,
            reraise=True,
        )
        return retrying(fn)

    def __repr__(self) -> str:
        return f"Retry(attempts={self.attempts})"
