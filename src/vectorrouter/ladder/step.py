"""One rung of the degradation ladder: a store behind its own composed policies, breaker and health window.

Every search call to a step goes through ``Bulkhead | CircuitBreaker | Retry | Timeout`` (outermost first):

- the **bulkhead** refuses at once when the store already has ``max_concurrent`` calls in flight, so a slow store
  cannot hold every caller (its refusals are not counted against the breaker: saturation is not an outage);
- the **breaker** (per step, on an injectable clock) skips the step without calling it while open, which is what
  makes a dead store cost no latency once it has been noticed;
- **retry** repeats transient failures with jittered exponential backoff and waits out a short ``Retry-After``;
  a longer one holds the whole step back until the store said it may be called again;
- the **timeout** gives up waiting on a hung call.

Writes never go through the search breaker: a write to a store that is down is retried and then reported, never
skipped (see :meth:`Step.write`).
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, TypeVar

from vectorrouter.backends.base import KeywordBackend, VectorBackend
from vectorrouter.embeddings.base import ModelSpec
from vectorrouter.errors import (
    BackendError,
    BackendUnavailable,
    CircuitOpen,
    ConfigurationError,
    RateLimited,
    Timeout,
    VectorRouterError,
)
from vectorrouter.filters import Filter
from vectorrouter.ladder.stats import StepHealth, StepStats
from vectorrouter.policies import Bulkhead, Chain, CircuitBreaker, Policy, Retry
from vectorrouter.policies import Timeout as TimeoutPolicy
from vectorrouter.policies.breaker import BreakerState
from vectorrouter.policies.clock import SYSTEM_CLOCK, Clock
from vectorrouter.routing.indexes import IndexRouter, VectorFactory
from vectorrouter.types import Hit

__all__ = [
    "KeywordStep",
    "Outcome",
    "Step",
    "StepHeld",
    "StepKind",
    "StepPolicy",
    "VectorStep",
    "classify",
]

log = logging.getLogger("vectorrouter.ladder")
T = TypeVar("T")
StepKind = Literal["vector", "keyword", "cache"]
Outcome = Literal["ok", "error", "timeout", "rate_limited", "skipped", "empty"]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,31}$")


@dataclass(frozen=True, slots=True)
class StepPolicy:
    """How one step is guarded. Times are in seconds.

    >>> StepPolicy(timeout=0.3, retries=0).timeout
    0.3
    """

    #: Deadline of one call; ``None`` calls inline (right for in-process engines that cannot hang on a network).
    timeout: float | None = 1.0
    #: Extra tries after a transient failure (connection error, 5xx, 429 with a short Retry-After).
    retries: int = 1
    backoff_initial: float = 0.02
    backoff_max: float = 0.25
    #: A Retry-After up to this long is waited out inside the call; a longer one holds the step back instead.
    max_retry_after: float = 0.5
    #: Retry a call that timed out too (off by default: a store that is timing out is usually overloaded).
    retry_timeouts: bool = False
    failure_threshold: int = 5
    recovery_timeout: float = 10.0
    half_open_max_calls: int = 1
    max_concurrent: int = 64
    #: How long a call may wait for a bulkhead slot before the step is passed over.
    max_wait: float = 0.05
    #: Tries of each write (upsert/delete) before it is reported as failed.
    write_attempts: int = 3

    def __post_init__(self) -> None:
        checks = {
            "timeout": self.timeout is None or self.timeout > 0,
            "retries": self.retries >= 0,
            "failure_threshold": self.failure_threshold >= 1,
            "recovery_timeout": self.recovery_timeout >= 0,
            "half_open_max_calls": self.half_open_max_calls >= 1,
            "max_concurrent": self.max_concurrent >= 1,
            "max_wait": self.max_wait >= 0,
            "write_attempts": self.write_attempts >= 1,
            "max_retry_after": self.max_retry_after >= 0,
        }
        for field, ok in checks.items():
            if not ok:
                raise ConfigurationError(
                    f"{getattr(self, field)!r} is out of range",
                    field=f"ladder.policy.{field}",
                    fix="timeouts and waits must be positive, counts at least 1 (retries at least 0)",
                )

    @classmethod
    def in_process(cls) -> StepPolicy:
        """For embedded engines: no thread hop for a timeout and no retries (an in-process call does not flake;
        the ingest queue's worker retries and dead-letters failed writes above this)."""
        return cls(timeout=None, retries=0, write_attempts=1)


class StepHeld(CircuitOpen):
    """The store asked us to wait (Retry-After) for longer than a retry would: the step is skipped until then."""


def classify(exc: BackendError) -> tuple[Outcome, str]:
    """The attempt outcome and a one-line reason for a backend failure."""
    if isinstance(exc, CircuitOpen):
        return "skipped", str(exc)
    if isinstance(exc, Timeout):
        return "timeout", str(exc)
    if isinstance(exc, RateLimited):
        after = f" (retry after {exc.retry_after:g}s)" if exc.retry_after is not None else ""
        return "rate_limited", f"{exc}{after}"
    return "error", str(exc)


class Step:
    """Base of the three step kinds. Subclasses add the call that answers a search.

    >>> from vectorrouter.backends import NumpyBackend
    >>> from vectorrouter.ladder import VectorStep
    >>> step = VectorStep("primary", NumpyBackend, policy=StepPolicy.in_process())
    >>> step.run(lambda: "answered"), step.breaker.state
    ('answered', 'closed')
    """

    kind: ClassVar[StepKind]

    def __init__(
        self,
        name: str,
        *,
        policy: StepPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigurationError(
                f"step name {name!r} is invalid",
                field="ladder.steps",
                fix="use 1-32 letters, digits, '_' or '-', starting with a letter",
            )
        self.name = name
        self.policy = policy or StepPolicy()
        self.clock = clock
        self.stats = StepStats(clock)
        #: Called with ``(step name, old state, new state)`` on every breaker transition.
        self.on_breaker_change: list[Callable[[str, BreakerState, BreakerState], None]] = []
        p = self.policy
        self.breaker = CircuitBreaker(
            failure_threshold=p.failure_threshold,
            recovery_timeout=p.recovery_timeout,
            half_open_max_calls=p.half_open_max_calls,
            clock=clock,
            name=name,
            on_change=self._breaker_changed,
        )
        self.bulkhead = Bulkhead(p.max_concurrent, max_wait=p.max_wait, name=name)
        chain: list[Policy] = [self.bulkhead, self.breaker]
        retry_on: tuple[type[BaseException], ...] = (BackendUnavailable, RateLimited)
        if p.retry_timeouts:
            retry_on += (Timeout,)
        if p.retries:
            chain.append(
                Retry(
                    p.retries + 1,
                    initial=p.backoff_initial,
                    maximum=p.backoff_max,
                    max_retry_after=p.max_retry_after,
                    retry_on=retry_on,
                    clock=clock,
                    rng=rng,
                )
            )
        if p.timeout is not None:
            chain.append(TimeoutPolicy(p.timeout, name=f"vr-step-{name}"))
        self.guard = Chain(tuple(chain))
        #: No retry and no deadline: :meth:`run` may apply the bulkhead and breaker inline.
        self._inline = len(chain) == 2
        self._write_retry = Retry(p.write_attempts, initial=0.05, maximum=2.0, clock=clock, rng=rng)
        self._held_until = 0.0
        self._lock = threading.Lock()
        self._probe: threading.Thread | None = None

    # -- guarded calls ----------------------------------------------------------------------------
    def _breaker_changed(self, name: str, old: BreakerState, new: BreakerState) -> None:
        for listener in self.on_breaker_change:
            listener(name, old, new)

    def take_out(self, reason: str) -> None:
        """Take this step out of rotation until :meth:`put_back` (maintenance, drills, fallback evaluations).

        Searches skip it as if its breaker were open, with ``reason`` in the attempt's detail.
        """
        self.breaker.force_open(reason)

    def put_back(self) -> None:
        """Return a step taken out of rotation; it is probed (half-open) before it takes traffic again."""
        self.breaker.release()

    def held_for(self) -> float:
        """Seconds left of a Retry-After hold (0 when the step may be called)."""
        return max(0.0, self._held_until - self.clock.now())

    def run(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` under this step's policies, recording the outcome in the health window.

        Caller errors pass straight through and are not held against the store.
        """
        held = self.held_for() if self._held_until else 0.0  # no clock read unless a store asked for quiet
        if held > 0:
            self.stats.record_skip()
            raise StepHeld(f"rate limited: the store asked for {held:.2f}s more quiet", backend=self.name)
        started = time.perf_counter()
        breaker, bulkhead = self.breaker, self.bulkhead
        try:
            if self._inline and breaker.admits_freely() and bulkhead.try_enter():
                # the guard chain is (bulkhead, breaker) and both would wave this call through: the same
                # policies, inline, without a partial per policy (this is every search of an embedded engine)
                try:
                    out = fn()
                except BackendError as exc:
                    # an inner breaker's refusal says nothing of this store
                    if not isinstance(exc, CircuitOpen):
                        breaker.record_failure()
                    raise
                finally:
                    bulkhead.leave()
                breaker.record_success()
            else:
                out = self.guard.call(fn)
        except CircuitOpen:
            self.stats.record_skip()
            raise
        except BackendError as exc:
            self.stats.record(False, (time.perf_counter() - started) * 1000.0, classify(exc)[1])
            if isinstance(exc, RateLimited) and exc.retry_after:
                with self._lock:
                    self._held_until = max(self._held_until, self.clock.now() + exc.retry_after)
            raise
        self.stats.record(True, (time.perf_counter() - started) * 1000.0)
        return out

    def probe_in_background(self, fn: Callable[[], object]) -> bool:
        """Send a half-open breaker's probe on a daemon thread, so no caller waits on a store that may still
        be dead; its outcome closes or re-opens the breaker. False when a probe is already in flight."""
        with self._lock:
            if self._probe is not None and self._probe.is_alive():
                return False

            def probe() -> None:
                try:
                    fn()  # ``fn`` goes through :meth:`run`: the breaker and health window record the outcome
                except VectorRouterError as exc:
                    log.info("background probe of step %s: %s", self.name, exc)
                except Exception:  # a bug in an adapter: visible in the log, never raised into a search
                    log.exception("background probe of step %s raised", self.name)

            self._probe = threading.Thread(target=probe, name=f"vr-probe-{self.name}", daemon=True)
            self._probe.start()
            return True

    def join_probe(self, timeout: float | None = None) -> None:
        """Wait for a background probe to finish (tests and orderly shutdown)."""
        probe = self._probe
        if probe is not None:
            probe.join(timeout)

    def write(self, fn: Callable[[], T]) -> T:
        """Run a write with retries but without the breaker: writes are never skipped, only retried or reported."""
        return self._write_retry.call(fn)

    # -- reporting --------------------------------------------------------------------------------
    def store_name(self) -> str:  # pragma: no cover - every subclass overrides
        return self.name

    def health(self) -> StepHealth:
        calls, errors, rate, p50, p99, skipped = self.stats.summary()
        return StepHealth(
            name=self.name,
            kind=self.kind,
            store=self.store_name(),
            state=self.breaker.state,
            retry_in=self.breaker.retry_in(),
            held_for=self.held_for(),
            calls=calls,
            errors=errors,
            skipped=skipped,
            error_rate=rate,
            p50_ms=p50,
            p99_ms=p99,
            last_error=self.stats.last_error,
            window_s=self.stats.window,
            times_opened=self.breaker.opened_count,
        )

    def close(self) -> None:
        """Release the store. Safe to call twice."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.breaker.state})"


class VectorStep(Step):
    """A vector store: one physical index per (dimension, metric), opened on first use by ``factory``.

    >>> from vectorrouter.backends import NumpyBackend
    >>> VectorStep("primary", NumpyBackend).kind
    'vector'
    """

    kind: ClassVar[StepKind] = "vector"

    def __init__(
        self,
        name: str,
        factory: VectorFactory,
        *,
        policy: StepPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(name, policy=policy, clock=clock, rng=rng)
        self.indexes = IndexRouter(factory)
        self._factory_name = str(getattr(factory, "name", "") or "")

    def backend(self, model: ModelSpec) -> VectorBackend:
        return self.indexes.for_model(model)

    def search(
        self, namespace: str, model: ModelSpec, vector: Sequence[float], k: int, filter: Filter | None
    ) -> list[Hit]:
        return self.run(lambda: self.backend(model).search(namespace, vector, k, filter))

    def store_name(self) -> str:
        opened = sorted({b.name for b in self.indexes.open_indexes().values()})
        return ", ".join(opened) or self._factory_name or "(not opened)"

    def close(self) -> None:
        self.indexes.close()


class KeywordStep(Step):
    """A keyword (BM25) store. A degraded keyword answer goes through exactly this call.

    >>> KeywordStep.kind
    'keyword'
    """

    kind: ClassVar[StepKind] = "keyword"

    def __init__(
        self,
        name: str,
        backend: KeywordBackend,
        *,
        policy: StepPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(name, policy=policy, clock=clock, rng=rng)
        self.backend = backend
        self._closed = False

    def search(self, namespace: str, text: str, k: int, filter: Filter | None) -> list[Hit]:
        return self.run(lambda: self.backend.search(namespace, text, k, filter))

    def store_name(self) -> str:
        return str(getattr(self.backend, "name", "keyword"))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.backend.close()
