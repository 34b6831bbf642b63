"""The degradation ladder: searches keep answering while stores fail, and say how they were served.

A namespace's search path is data: an ordered list of steps (vector stores, at most one result cache, keyword
stores), each behind its own timeout, retry, circuit breaker and bulkhead. See :mod:`vectorrouter.ladder.walk`
for how ``dense``, ``keyword`` and ``hybrid`` searches walk it, and :mod:`vectorrouter.ladder.config` for the
``[ladder]`` configuration section.

>>> from vectorrouter import EmbeddingService, ModelSpec, Router
>>> from vectorrouter.backends import NumpyBackend
>>> from vectorrouter.testing.scripted import Script
>>> primary = Script()                                   # a failure-injecting wrapper around a real store
>>> ladder = Ladder([
...     VectorStep("primary", primary.wrap_factory(NumpyBackend), policy=StepPolicy.in_process()),
...     VectorStep("secondary", NumpyBackend, policy=StepPolicy.in_process()),
... ])
>>> router = Router(embeddings=EmbeddingService([ModelSpec("h", "hash", 64)]), ladder=ladder)
>>> _ = router.ingest("acme:docs", ["the primary store is down", "the secondary answers"])
>>> primary.kill()
>>> result = router.search("acme:docs", "who answers?", k=1)
>>> result.served_by, result.degraded, [(a.step, a.outcome) for a in result.attempts]
('secondary', True, [('primary', 'error'), ('secondary', 'ok')])
"""

from vectorrouter.ladder.cache_step import CacheStep
from vectorrouter.ladder.metrics import MetricsRegistry
from vectorrouter.ladder.stats import StepHealth
from vectorrouter.ladder.step import KeywordStep, Step, StepHeld, StepPolicy, VectorStep, classify
from vectorrouter.ladder.walk import Ladder, LadderExhausted, Query

__all__ = [
    "CacheStep",
    "KeywordStep",
    "Ladder",
    "LadderExhausted",
    "MetricsRegistry",
    "Query",
    "Step",
    "StepHealth",
    "StepHeld",
    "StepPolicy",
    "VectorStep",
    "classify",
]
