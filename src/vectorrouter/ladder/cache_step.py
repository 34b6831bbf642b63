"""The result cache as a ladder step: fresh answers before the walk, a stale answer when the vector stores are down."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, ClassVar

from vectorrouter.ladder.step import Step, StepKind, StepPolicy
from vectorrouter.policies.clock import SYSTEM_CLOCK, Clock
from vectorrouter.types import Hit, Namespace

if TYPE_CHECKING:
    from vectorrouter.cache.redis_cache import CacheLookup, ResultCache

__all__ = ["CacheStep"]

#: A cache answers in well under a millisecond or is skipped: fail fast, open quickly, probe soon.
CACHE_POLICY = StepPolicy(timeout=None, retries=0, failure_threshold=3, recovery_timeout=5.0)


class CacheStep(Step):
    """Wrap a :class:`~vectorrouter.cache.ResultCache`. Its failures are misses, never errors to the caller.

    >>> from vectorrouter.cache import ResultCache                      # doctest: +SKIP
    >>> step = CacheStep("cache", ResultCache.from_url("redis://127.0.0.1:6379/0"))  # doctest: +SKIP
    >>> router.on_change.append(step.invalidate)                        # doctest: +SKIP
    """

    kind: ClassVar[StepKind] = "cache"

    def __init__(
        self,
        name: str,
        cache: ResultCache,
        *,
        policy: StepPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(name, policy=policy or CACHE_POLICY, clock=clock, rng=rng)
        self.cache = cache
        self._closed = False

    def lookup(self, namespace: str, digest: str) -> CacheLookup:
        return self.run(lambda: self.cache.lookup(namespace, digest))

    def store(
        self, namespace: str, found: CacheLookup, digest: str, hits: list[Hit], served_by: str
    ) -> float:
        return self.run(
            lambda: self.cache.store(namespace, found.generation, digest, hits, served_by, asked=found.asked)
        )

    def invalidate(self, namespace: Namespace | str) -> None:
        """Router ``on_change`` callback: drop the namespace's answers (deferred, never raised, if Redis is down)."""
        self.cache.invalidate(str(namespace))

    def purge(self, namespace: Namespace | str) -> None:
        """Called when a namespace is dropped: erase its answers of every generation (deferred if Redis is down)."""
        self.cache.purge(str(namespace))

    def store_name(self) -> str:
        return str(getattr(self.cache, "name", "cache"))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.cache.close()
