"""A failure-injecting wrapper around any vector or keyword backend, for chaos tests and benchmarks.

A :class:`Script` holds the fault (healthy, killed, hanging, rate limited, slow, flaky) and counts calls per
verb; :class:`ScriptedBackend` applies it in front of a real store. One script can drive every index a
factory opens (:meth:`Script.wrap_factory`), so "the primary died" means all of its indexes did.

>>> from vectorrouter.backends import IndexSpec, NumpyBackend
>>> from vectorrouter.types import Record
>>> script = Script()
>>> store = script.wrap(NumpyBackend(IndexSpec.for_dimension(2)))
>>> store.upsert("t:f:v", [Record(id="a", vector=[1.0, 0.0])])
>>> script.kill()
>>> store.search("t:f:v", [1.0, 0.0], k=1)
Traceback (most recent call last):
...
vectorrouter.errors.BackendUnavailable: numpy: scripted outage: connection refused
>>> script.revive(); [h.id for h in store.search("t:f:v", [1.0, 0.0], k=1)], script.calls["search"]
(['a'], 2)
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from vectorrouter.errors import BackendUnavailable, RateLimited
from vectorrouter.errors import Timeout as TimeoutError_
from vectorrouter.filters import Filter
from vectorrouter.types import Hit, Record

__all__ = ["Fault", "Script", "ScriptedBackend"]

Fault = Literal["healthy", "down", "hang", "rate_limited", "slow", "flaky"]
VERBS = ("upsert", "get", "delete", "delete_by_filter", "count", "scroll", "search")


class Script:
    """The fault state shared by every backend it wraps. All methods are thread-safe.

    ``affects`` limits faults to some verbs (e.g. ``{"search"}`` so ingest still works during an outage).
    """

    def __init__(
        self, *, affects: Sequence[str] = VERBS, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        unknown = set(affects) - set(VERBS)
        if unknown:
            raise ValueError(f"unknown verbs {sorted(unknown)}; choose from {VERBS}")
        self.affects = frozenset(affects)
        self.sleep = sleep
        self.fault: Fault = "healthy"
        self.calls: Counter[str] = Counter()
        #: Calls that the fault intercepted (raised, hung or slowed), by verb.
        self.faulted: Counter[str] = Counter()
        self.retry_after: float | None = None
        self.delay = 0.0
        self.every = 0
        self.max_hang = 30.0
        self._released = threading.Event()
        self._released.set()
        self._lock = threading.Lock()

    # -- switching faults -------------------------------------------------------------------------
    def _set(self, fault: Fault) -> None:
        with self._lock:
            self.fault = fault

    def kill(self) -> None:
        """Every call fails at once, as a refused connection would."""
        self._set("down")

    def hang(self, *, max_hang: float = 30.0) -> None:
        """Every call blocks until :meth:`revive` (or ``max_hang`` seconds, so a forgotten test cannot wedge)."""
        self.max_hang = max_hang
        self._released.clear()
        self._set("hang")

    def rate_limit(self, retry_after: float | None = 1.0) -> None:
        """Every call is refused with a 429 carrying ``retry_after``."""
        self.retry_after = retry_after
        self._set("rate_limited")

    def slow(self, seconds: float) -> None:
        """Every call answers correctly after ``seconds``."""
        self.delay = seconds
        self._set("slow")

    def flaky(self, every: int = 2) -> None:
        """Every ``every``-th call fails; the others answer."""
        if every < 1:
            raise ValueError("every must be ≥ 1")
        self.every = every
        self._set("flaky")

    def revive(self) -> None:
        """Back to healthy; hung calls are released and complete normally."""
        self._set("healthy")
        self._released.set()

    # -- applying ---------------------------------------------------------------------------------
    def enter(self, verb: str, backend: str) -> None:
        with self._lock:
            self.calls[verb] += 1
            n = self.calls[verb]
            fault = self.fault if verb in self.affects else "healthy"
            if fault != "healthy" and not (fault == "flaky" and n % self.every):
                self.faulted[verb] += 1
        if fault == "down":
            raise BackendUnavailable("scripted outage: connection refused", backend=backend)
        if fault == "rate_limited":
            raise RateLimited(
                "scripted 429: too many requests", backend=backend, retry_after=self.retry_after
            )
        if fault == "flaky" and n % self.every == 0:
            raise BackendUnavailable(f"scripted flake on call {n}", backend=backend)
        if fault == "slow":
            self.sleep(self.delay)
        if fault == "hang" and not self._released.wait(self.max_hang):
            raise TimeoutError_(f"scripted hang outlasted {self.max_hang}s", backend=backend)

    def wrap(self, backend: Any) -> ScriptedBackend:
        return ScriptedBackend(backend, self)

    def wrap_factory(self, factory: Callable[[Any], Any]) -> Callable[[Any], ScriptedBackend]:
        """A vector factory whose every index is wrapped by this script."""

        def scripted(spec: Any) -> ScriptedBackend:
            return ScriptedBackend(factory(spec), self)

        scripted.name = getattr(factory, "name", "scripted")  # type: ignore[attr-defined]
        return scripted


class ScriptedBackend:
    """Forwards every verb of the wrapped store after letting the :class:`Script` intercept it."""

    def __init__(self, inner: Any, script: Script | None = None) -> None:
        self.inner = inner
        self.script = script or Script()
        self.name: str = inner.name
        if hasattr(inner, "spec"):
            self.spec = inner.spec

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        self.script.enter("upsert", self.name)
        self.inner.upsert(namespace, records)

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        self.script.enter("get", self.name)
        return self.inner.get(namespace, ids, with_vectors=with_vectors)  # type: ignore[no-any-return]

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        self.script.enter("delete", self.name)
        return self.inner.delete(namespace, ids)  # type: ignore[no-any-return]

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        self.script.enter("delete_by_filter", self.name)
        return self.inner.delete_by_filter(namespace, filter)  # type: ignore[no-any-return]

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        self.script.enter("count", self.name)
        return self.inner.count(namespace, filter)  # type: ignore[no-any-return]

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        self.script.enter("scroll", self.name)
        return self.inner.scroll(namespace, filter, batch_size=batch_size, with_vectors=with_vectors)  # type: ignore[no-any-return]

    def search(self, namespace: str, query: Any, k: int, filter: Filter | None = None) -> list[Hit]:
        self.script.enter("search", self.name)
        return self.inner.search(namespace, query, k, filter)  # type: ignore[no-any-return]

    def check_filter(self, filter: Filter) -> None:
        check = getattr(self.inner, "check_filter", None)
        if check is not None:
            check(filter)

    def close(self) -> None:
        self.inner.close()
