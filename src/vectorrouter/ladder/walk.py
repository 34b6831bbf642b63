"""The ladder: an ordered list of steps per namespace, and the walk every search takes down it.

How each mode walks (the same for every namespace; the configured order ranks steps *within* a kind):

``dense``
    fresh cache → vector steps in order → stale cache → keyword steps (needs query text).
``keyword``
    fresh cache → keyword steps in order → stale cache → vector steps (the query text is embedded).
``hybrid``
    fresh cache → the dense half walks the vector steps and the keyword half walks the keyword steps, fused by
    reciprocal rank. When one half has no answer: the stale cached hybrid answer if there is one, else the half
    that answered on its own.

A step whose breaker is half-open is probed on a background thread while the walk moves on, so no search
waits on a store that may still be dead (unless nothing else could answer: then the probe is the search).

Every answer but one from the mode's first-choice step(s) is marked ``degraded``; a cached answer past its fresh
lifetime is also ``stale``. Complete answers (both halves of a hybrid, the requested kind otherwise) are stored
in the cache; degraded cross-kind or stale answers never are.

A *gate* (installed with :meth:`Ladder.install_gate`, e.g. by the compliance layer's residency policy) may refuse
steps per namespace: refused steps are never searched, read or written for that namespace, each search lists them
as ``skipped`` attempts with the gate's reason, and when the steps left cannot answer the search fails with
:class:`~vectorrouter.errors.ResidencyViolation` instead of falling back to a refused step.

Failures are classified once (:func:`vectorrouter.errors.is_caller_error`): a caller error raises at once and the
walk stops; a :class:`~vectorrouter.errors.BackendError` is recorded as an attempt and the walk moves on;
anything else is a bug in an adapter and is raised, never hidden behind a fallback.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from vectorrouter.cache.keys import result_key
from vectorrouter.embeddings.base import ModelSpec
from vectorrouter.errors import (
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    RateLimited,
    ResidencyViolation,
    VectorRouterError,
)
from vectorrouter.ladder.cache_step import CacheStep
from vectorrouter.ladder.metrics import LabelKey, MetricsRegistry, label_key
from vectorrouter.ladder.query import Answer, LadderExhausted, Query, Walk, new_query_id
from vectorrouter.ladder.stats import StepHealth
from vectorrouter.ladder.step import KeywordStep, Outcome, Step, VectorStep, classify
from vectorrouter.policies.breaker import BreakerState
from vectorrouter.routing.fusion import rrf
from vectorrouter.types import Attempt, Namespace, SearchMode, SearchResult

if TYPE_CHECKING:
    from vectorrouter.cache.redis_cache import CacheLookup

__all__ = ["Ladder", "LadderExhausted", "Query", "StepGate"]

#: Short-path searches whose metric updates are applied together (reading any metric applies them at once).
_FOLD_EVERY = 256


class StepGate(Protocol):
    """Decides which steps of a namespace's ladder must not touch its data (residency, for one)."""

    def __call__(self, ns: Namespace, steps: Sequence[str]) -> Mapping[str, str]:
        """The refused steps, each with a one-line reason. Raise if no step at all may be used."""


class _Path(NamedTuple):
    steps: list[Step]
    vectors: list[VectorStep]
    keywords: list[KeywordStep]
    cache: CacheStep | None
    #: Steps the gate refused for this namespace, with the reason.
    refused: tuple[tuple[str, str], ...] = ()


log = logging.getLogger("vectorrouter.ladder")
T = TypeVar("T")
_STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2}


class Ladder:
    """Steps by name, the default order, and per-namespace orders.

    >>> from vectorrouter.backends import NumpyBackend
    >>> from vectorrouter.ladder import StepPolicy, VectorStep
    >>> ladder = Ladder([VectorStep("primary", NumpyBackend), VectorStep("secondary", NumpyBackend)])
    >>> [s.name for s in ladder.route(Namespace.parse("acme:docs:v1"))]
    ['primary', 'secondary']
    """

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        order: Sequence[str] | None = None,
        namespaces: Mapping[str, Sequence[str]] | None = None,
        metrics: MetricsRegistry | None = None,
    ) -> None:
        self.steps: dict[str, Step] = {}
        for step in steps:
            if step.name in self.steps:
                raise ConfigurationError(
                    f"two steps are named {step.name!r}",
                    field="ladder.steps",
                    fix="give every step its own name",
                )
            self.steps[step.name] = step
        self.order = self._check(order if order is not None else [s.name for s in steps], "ladder.steps")
        self.namespaces = {
            name: self._check(seq, f"ladder.namespaces.{name}.steps")
            for name, seq in (namespaces or {}).items()
        }
        self._paths: dict[str, _Path] = {}
        #: Refuses steps per namespace (see :meth:`install_gate`); ``None`` lets every step serve every namespace.
        self.gate: StepGate | None = None
        self.metrics = metrics or MetricsRegistry()
        self._attempts = self.metrics.counter(
            "vr_step_attempts_total", "Search attempts per ladder step and outcome"
        )
        self._latency = self.metrics.histogram(
            "vr_step_latency_ms", "Latency of search calls that reached a step"
        )
        self._searches = self.metrics.counter(
            "vr_searches_total", "Searches answered, by mode and serving step"
        )
        self._failed = self.metrics.counter("vr_searches_failed_total", "Searches no step could answer")
        self._search_ms = self.metrics.histogram("vr_search_latency_ms", "End-to-end search latency")
        self._breaker = self.metrics.gauge(
            "vr_breaker_state", "Breaker state per step: 0 closed, 1 half-open, 2 open"
        )
        self._transitions = self.metrics.counter(
            "vr_breaker_transitions_total", "Breaker transitions per step"
        )
        self._attempt_keys: dict[tuple[str, str], tuple[LabelKey, LabelKey]] = {}
        self._search_keys: dict[tuple[str, str, bool, bool], tuple[LabelKey, LabelKey]] = {}
        self._short_keys: dict[str, tuple[LabelKey, LabelKey, LabelKey, LabelKey]] = {}
        #: Metric updates of short-path searches not yet applied (see :meth:`search_dense`).
        self._queued: deque[tuple[tuple[LabelKey, LabelKey, LabelKey, LabelKey], float]] = deque()
        self.metrics.add_collector(self._fold)
        for step in self.steps.values():
            self._breaker.set(0, step=step.name)
            step.on_breaker_change.append(self._breaker_changed)

    def _check(self, seq: Sequence[str], where: str) -> tuple[str, ...]:
        names = tuple(seq)
        if not names:
            raise ConfigurationError("a ladder needs at least one step", field=where, fix="list step names")
        rank = {"vector": 0, "cache": 1, "keyword": 2}
        for i, name in enumerate(names):
            if name not in self.steps:
                raise ConfigurationError(
                    f"unknown step {name!r}", field=where, fix=f"use one of: {', '.join(sorted(self.steps))}"
                )
            if name in names[:i]:
                raise ConfigurationError(f"step {name!r} is listed twice", field=where, fix="list it once")
            if i and rank[self.steps[names[i - 1]].kind] > rank[self.steps[name].kind]:
                raise ConfigurationError(
                    f"{name!r} ({self.steps[name].kind}) comes after {names[i - 1]!r} ({self.steps[names[i - 1]].kind})",
                    field=where,
                    fix="list vector stores first, then the cache, then keyword stores",
                )
        if not any(self.steps[n].kind == "vector" for n in names):
            raise ConfigurationError(
                "a ladder needs at least one vector store", field=where, fix="add the primary vector store"
            )
        if sum(self.steps[n].kind == "cache" for n in names) > 1:
            raise ConfigurationError("more than one cache step", field=where, fix="keep one cache per ladder")
        return names

    # -- routing ----------------------------------------------------------------------------------
    def _path(self, ns: Namespace) -> _Path:
        key = str(ns)
        path = self._paths.get(key)
        if (
            path is None
        ):  # the ladder's shape is fixed once built, so each namespace's path is worked out once
            names = self.namespaces.get(key) or self.namespaces.get(ns.logical) or self.order
            refused = dict(self.gate(ns, names)) if self.gate is not None else {}
            steps = [self.steps[n] for n in names if n not in refused]
            path = self._paths[key] = _Path(
                steps,
                [s for s in steps if isinstance(s, VectorStep)],
                [s for s in steps if isinstance(s, KeywordStep)],
                next((s for s in steps if isinstance(s, CacheStep)), None),
                tuple((n, refused[n]) for n in names if n in refused),
            )
        return path

    def install_gate(self, gate: StepGate | None) -> None:
        """Refuse steps per namespace from now on (``None`` removes the gate). Paths are worked out again."""
        self.gate = gate
        self._paths.clear()

    def refused(self, ns: Namespace) -> list[tuple[str, str]]:
        """The steps the gate keeps away from ``ns``, with the reasons."""
        return list(self._path(ns).refused)

    def _gated(self, ns: Namespace, what: str, attempts: Sequence[Attempt]) -> ResidencyViolation:
        refused = self._path(ns).refused
        tried = "; ".join(f"{a.step}: {a.outcome}{f' ({a.detail})' if a.detail else ''}" for a in attempts)
        return ResidencyViolation(
            f"{what} of {ns}: no permitted step could answer [{tried}], and "
            f"{', '.join(n for n, _ in refused)} may not serve it ({refused[0][1]}); refusing rather than "
            "leaving the region. Fix: bring a permitted store back, or add one to the ladder",
            region=None,
            attempts=attempts,
        )

    def route(self, ns: Namespace) -> list[Step]:
        """The steps of ``ns``'s ladder: its own list (by full or ``tenant:feature`` name), else the default."""
        return list(self._path(ns).steps)

    def vector_steps(self, ns: Namespace) -> list[VectorStep]:
        return list(self._path(ns).vectors)

    def keyword_steps(self, ns: Namespace) -> list[KeywordStep]:
        return list(self._path(ns).keywords)

    def has_keyword_steps(self, ns: Namespace) -> bool:
        return bool(self._path(ns).keywords)

    def cache_step(self, ns: Namespace) -> CacheStep | None:
        return self._path(ns).cache

    def cache_steps(self) -> list[CacheStep]:
        return [s for s in self.steps.values() if isinstance(s, CacheStep)]

    # -- search -----------------------------------------------------------------------------------
    def check_filter(self, q: Query) -> None:
        """Raise at once if any store on ``q``'s path cannot express its filter (so no fallback can differ)."""
        if q.filter is None:
            return
        for step in self._path(q.namespace).steps:
            backend: object
            if isinstance(step, VectorStep):
                opened = step.indexes.open_indexes().get(q.model.index_spec())
                backend = opened if opened is not None else None
            elif isinstance(step, KeywordStep):
                backend = step.backend
            else:
                continue
            check = getattr(backend, "check_filter", None)
            if check is not None:
                check(q.filter)

    def search(self, q: Query) -> SearchResult:
        started = time.perf_counter()
        self.check_filter(q)
        walk = Walk(self, q)
        ns = q.namespace
        path = self._path(ns)
        for name, reason in path.refused:
            walk.record(name, "skipped", None, reason)
        cache = path.cache
        digest = ""
        found: CacheLookup | None = None
        if cache is not None:
            digest = result_key(
                namespace=str(ns),
                model_version=ns.model_version,
                query=q.text,
                vector=q.vector,
                filter=q.filter,
                k=q.k,
                mode=q.mode,
            )
            found = self._cache_lookup(walk, cache, digest)
        now = 0.0 if cache is None else cache.cache.clock()  # only cached answers age
        answer: Answer | None
        if cache is not None and found is not None and found.answer is not None and found.answer.fresh(now):
            answer = Answer(found.answer.hits, cache.name)
        else:
            answer = self._walk(walk, path, found, now)
        if answer is None:
            raise self._exhausted(walk, path)
        if (
            cache is not None
            and found is not None
            and answer.complete
            and not answer.stale
            and answer.served_by != cache.name
        ):
            try:
                cache.store(str(ns), found, digest, answer.hits, answer.served_by)
            except BackendError as exc:
                walk.record(cache.name, classify(exc)[0], None, f"store failed: {exc}")
        return self._result(ns, q.mode, walk.attempts, answer, started)

    def search_dense(
        self, ns: Namespace, model: ModelSpec, vector: Sequence[float], k: int, text: str | None = None
    ) -> SearchResult | None:
        """A dense search with the caller's vector and no filter, on the short path: when ``ns``'s ladder has
        no cache step and refuses no step and its first vector step admits calls freely (the embedded default,
        healthy), that step is called without building a walk. ``None`` when the short path does not apply
        (the caller then takes :meth:`search`). Attempts, metrics and fallbacks are those of :meth:`search`:
        if the step fails, the walk goes on from the next step as it would have.
        """
        key = str(ns)
        path = self._path(ns)
        if path.cache is not None or path.refused or not path.vectors:
            return None
        step = path.vectors[0]
        if not step.breaker.admits_freely():
            return None  # open or half-open: the walk skips it or probes it in the background
        started = time.perf_counter()
        try:
            hits = step.search(key, model, vector, k, None)
        except BackendError as exc:
            walk = Walk(self, Query(ns, model, "dense", k, text, vector), tried=step)
            walk.failed(step, exc, started)
            answer = self._walk(walk, path, None, 0.0)
            if answer is None:
                raise self._exhausted(walk, path) from None
            return self._result(ns, "dense", walk.attempts, answer, started)
        latency = (time.perf_counter() - started) * 1000.0
        result = SearchResult(
            hits,
            key,
            "dense",
            step.name,
            False,
            (Attempt(step.name, "ok", latency, f"{len(hits)} hits"),),
            latency,
            new_query_id(),
        )
        # the four metric updates of this search are queued and applied in batches (or when metrics are read)
        keys = self._short_keys.get(step.name)
        if keys is None:
            keys = self._short_keys[step.name] = (
                *self._keys_of_attempt(step.name, "ok"),
                *self._keys_of_search("dense", step.name, False, False),
            )
        queued = self._queued
        queued.append((keys, latency))
        if len(queued) >= _FOLD_EVERY:
            self._fold()
        return result

    def _fold(self) -> None:
        """Apply the queued metric updates of short-path searches, one update per metric and label set.

        ``popleft`` is atomic: when two threads fold at once no update is applied twice or lost.
        """
        queued = self._queued
        latencies: dict[tuple[LabelKey, LabelKey, LabelKey, LabelKey], list[float]] = {}
        while True:
            try:
                keys, latency = queued.popleft()
            except IndexError:
                break
            same = latencies.get(keys)
            if same is None:
                latencies[keys] = [latency]
            else:
                same.append(latency)
        for (attempt, step_ms, search, search_ms), values in latencies.items():
            self._attempts.inc_at(attempt, len(values))
            self._latency.observe_many_at(step_ms, values)
            self._searches.inc_at(search, len(values))
            self._search_ms.observe_many_at(search_ms, values)

    def _exhausted(self, walk: Walk, path: _Path) -> VectorRouterError:
        """The error of a search no step could answer (counted and logged here)."""
        ns = walk.q.namespace
        self._failed.inc(mode=walk.q.mode)
        log.error("search of %s failed: every step of its ladder was down", ns)
        if path.refused:
            return self._gated(ns, "search", walk.attempts)
        return LadderExhausted(str(ns), walk.attempts)

    def _cache_lookup(self, walk: Walk, cache: CacheStep, digest: str) -> CacheLookup | None:
        started = time.perf_counter()
        try:
            found = cache.lookup(str(walk.q.namespace), digest)
        except BackendError as exc:
            outcome, detail = classify(exc)
            walk.record(
                cache.name, outcome, None if outcome == "skipped" else started, f"cache unavailable: {detail}"
            )
            return None
        now = cache.cache.clock()
        if found.answer is None:
            walk.record(cache.name, "empty", started, "miss")
        elif found.answer.fresh(now):
            walk.record(cache.name, "ok", started, f"fresh answer first served by {found.answer.served_by}")
        else:
            walk.record(
                cache.name, "empty", started, f"only a stale answer ({found.answer.age(now):.0f}s old)"
            )
        return found

    def _stale(
        self, walk: Walk, cache: CacheStep | None, found: CacheLookup | None, now: float
    ) -> Answer | None:
        if cache is None:
            return None
        if found is None:
            walk.record(cache.name, "skipped", None, "stale fallback: cache unavailable")
            return None
        answer = found.answer
        if answer is None:
            walk.record(cache.name, "empty", None, "stale fallback: no cached answer for this query")
            return None
        walk.record(
            cache.name, "ok", None, f"stale answer ({answer.age(now):.0f}s old, served by {answer.served_by})"
        )
        return Answer(answer.hits, cache.name, degraded=True, stale=True, complete=False)

    def _walk(self, walk: Walk, path: _Path, found: CacheLookup | None, now: float) -> Answer | None:
        q = walk.q
        vectors, keywords, cache = path.vectors, path.keywords, path.cache
        if q.mode == "hybrid":
            pool = max(q.k, q.candidates)
            # each half can stand alone (or the cache can answer), so a half-open step is probed in the background
            alone = not keywords and cache is None
            dense = walk.first_vector(vectors, pool, last_resort=alone)
            sparse = walk.first_keyword(keywords, pool, last_resort=not vectors and cache is None)
            if dense is not None and sparse is not None:
                degraded = dense[0] is not vectors[0] or sparse[0] is not keywords[0]
                return Answer(rrf([dense[1], sparse[1]], q.k), f"{dense[0].name}+{sparse[0].name}", degraded)
            stale = self._stale(walk, cache, found, now)
            if stale is not None:
                return stale
            half = dense or sparse
            if half is None:
                return None
            return Answer(half[1][: q.k], half[0].name, degraded=True, complete=False)
        if q.mode == "dense":
            first: Step | None = vectors[0] if vectors else None
            got = walk.first_vector(vectors, q.k, last_resort=cache is None and not (keywords and q.text))
        else:
            first = keywords[0] if keywords else None
            got = walk.first_keyword(keywords, q.k, last_resort=cache is None and not vectors)
        if got is not None:
            return Answer(got[1], got[0].name, degraded=got[0] is not first)
        stale = self._stale(walk, cache, found, now)
        if stale is not None:
            return stale
        if q.mode == "dense":  # then the other kind, as a last resort
            got = walk.first_keyword(keywords, q.k, last_resort=True)
        else:
            got = walk.first_vector(vectors, q.k, last_resort=True)
        if got is not None:
            return Answer(got[1], got[0].name, degraded=True, complete=False)
        return None

    def _result(
        self, ns: Namespace, mode: SearchMode, attempts: Sequence[Attempt], answer: Answer, started: float
    ) -> SearchResult:
        latency = (time.perf_counter() - started) * 1000.0
        result = SearchResult(
            hits=answer.hits,
            namespace=str(ns),
            mode=mode,
            served_by=answer.served_by,
            degraded=answer.degraded,
            stale=answer.stale,
            attempts=tuple(attempts),
            latency_ms=latency,
            query_id=new_query_id(),
        )
        keys = self._keys_of_search(mode, answer.served_by, answer.degraded, answer.stale)
        self._searches.inc_at(keys[0])
        self._search_ms.observe_at(keys[1], latency)
        if answer.degraded and log.isEnabledFor(logging.INFO):
            # one line per degraded answer at INFO (an outage would flood WARNING); breaker changes are WARNING
            tried = ", ".join(f"{a.step}={a.outcome}" for a in attempts)
            log.info(
                "search %s of %s served by %s (degraded%s) after: %s",
                result.query_id,
                ns,
                answer.served_by,
                ", stale" if answer.stale else "",
                tried,
            )
        return result

    # -- observability ----------------------------------------------------------------------------
    def _keys_of_search(
        self, mode: SearchMode, served_by: str, degraded: bool, stale: bool
    ) -> tuple[LabelKey, LabelKey]:
        """The label keys of ``vr_searches_total`` and ``vr_search_latency_ms`` (worked out once per shape)."""
        shape = (mode, served_by, degraded, stale)
        keys = self._search_keys.get(shape)
        if keys is None:
            keys = self._search_keys[shape] = (
                label_key(mode=mode, served_by=served_by, degraded=degraded, stale=stale),
                label_key(mode=mode),
            )
        return keys

    def _keys_of_attempt(self, step: str, outcome: Outcome) -> tuple[LabelKey, LabelKey]:
        """The label keys of ``vr_step_attempts_total`` and ``vr_step_latency_ms`` (worked out once each)."""
        keys = self._attempt_keys.get((step, outcome))
        if keys is None:
            keys = self._attempt_keys[(step, outcome)] = (
                label_key(step=step, outcome=outcome),
                label_key(step=step),
            )
        return keys

    def observe_attempt(self, step: str, outcome: Outcome, latency_ms: float) -> None:
        keys = self._keys_of_attempt(step, outcome)
        self._attempts.inc_at(keys[0])
        if outcome != "skipped":
            self._latency.observe_at(keys[1], latency_ms)

    def _breaker_changed(self, name: str, old: BreakerState, new: BreakerState) -> None:
        self._breaker.set(_STATE_VALUE[new], step=name)
        self._transitions.inc(step=name, to=new)
        level = logging.WARNING if new == "open" else logging.INFO
        log.log(level, "breaker of step %s: %s -> %s", name, old, new)

    def health(self) -> list[StepHealth]:
        """Breaker state, recent error rate and latency of every step, in default-ladder order first."""
        ordered = list(self.order) + [n for n in self.steps if n not in self.order]
        return [self.steps[n].health() for n in ordered]

    def probe(self, ns: Namespace | None, model: ModelSpec | None) -> None:
        """Make one light call to every step (a count, a cache ping) so health reflects the stores right now.

        Failures are recorded in each step's health window, never raised.
        """
        for step in self.steps.values():
            try:
                if isinstance(step, CacheStep):
                    step.run(step.cache.ping)
                elif ns is None or model is None:
                    continue
                elif isinstance(step, VectorStep):
                    step.run(lambda s=step: s.backend(model).count(str(ns)))  # type: ignore[misc]
                elif isinstance(step, KeywordStep):
                    step.run(lambda s=step: s.backend.count(str(ns)))  # type: ignore[misc]
            except BackendError as exc:
                log.info("probe of step %s failed: %s", step.name, exc)

    # -- reads and writes -------------------------------------------------------------------------
    def read(self, ns: Namespace, fn: Callable[[VectorStep], T]) -> T:
        """Run a read (get, count) on the first vector step of ``ns`` that answers."""
        failures: list[Attempt] = []
        for step in self.vector_steps(ns):
            try:
                return step.run(lambda s=step: fn(s))  # type: ignore[misc]
            except BackendError as exc:
                outcome, detail = classify(exc)
                failures.append(Attempt(step.name, outcome, 0.0, detail))
        if self._path(ns).refused:
            raise self._gated(ns, "read", failures)
        raise LadderExhausted(str(ns), failures)

    def write(
        self,
        ns: Namespace,
        what: str,
        vector_fn: Callable[[VectorStep], T],
        keyword_fn: Callable[[KeywordStep], object] | None = None,
    ) -> T:
        """Apply a write to every store of ``ns``'s ladder (vector stores first); returns the first vector
        store's result. Each store is retried; if any still fails the others are written anyway and
        :class:`~vectorrouter.errors.BackendUnavailable` names the failed ones (writes are idempotent, so
        re-running the call is safe)."""
        results: list[T] = []
        done: list[str] = []
        failed: list[tuple[str, BackendError]] = []
        for step in self.route(ns):
            try:
                if isinstance(step, VectorStep):
                    results.append(step.write(lambda s=step: vector_fn(s)))  # type: ignore[misc]
                elif isinstance(step, KeywordStep) and keyword_fn is not None:
                    step.write(lambda s=step: keyword_fn(s))  # type: ignore[misc]
                else:
                    continue
                done.append(step.name)
            except BackendError as exc:
                log.error("%s on step %s of %s failed after retries: %s", what, step.name, ns, exc)
                failed.append((step.name, exc))
        if failed:
            message = (
                f"{what} of {ns} failed on {', '.join(f'{n} ({e})' for n, e in failed)}"
                f"{'; it succeeded on ' + ', '.join(done) if done else ''}. "
                "Writes are idempotent by id: re-run the same call once the store is back."
            )
            waits = [e.retry_after for _, e in failed if isinstance(e, RateLimited)]
            if len(waits) == len(failed):  # only quotas refused: keep the longest Retry-After for the caller
                known = [w for w in waits if w is not None]
                raise RateLimited(
                    message, backend="ladder", retry_after=max(known) if known else None
                ) from failed[0][1]
            raise BackendUnavailable(message, backend="ladder") from failed[0][1]
        return results[0]

    def close(self) -> None:
        for step in self.steps.values():
            step.close()
