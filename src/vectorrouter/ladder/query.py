"""The state of one search's walk: the validated query, the attempts so far, and how each step is tried.

Caller errors propagate from here untouched; backend errors become recorded attempts (see
:func:`vectorrouter.ladder.step.classify`).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vectorrouter.embeddings.base import ModelSpec
from vectorrouter.errors import BackendError, BackendUnavailable
from vectorrouter.filters import Filter
from vectorrouter.ladder.step import KeywordStep, Outcome, Step, VectorStep, classify
from vectorrouter.types import Attempt, Hit, Namespace, SearchMode

if TYPE_CHECKING:
    from vectorrouter.ladder.walk import Ladder

__all__ = ["Answer", "LadderExhausted", "Query", "Walk", "new_query_id"]

log = logging.getLogger("vectorrouter.ladder")

_qid_prefix = os.urandom(6).hex()
_qid_counter = itertools.count()


def _reseed_query_ids() -> None:
    # a forked worker must not hand out its parent's ids
    global _qid_prefix, _qid_counter
    _qid_prefix, _qid_counter = os.urandom(6).hex(), itertools.count()


os.register_at_fork(after_in_child=_reseed_query_ids)


def new_query_id() -> str:
    """A process-unique id for one search (random per process, then a counter: no syscall per search)."""
    return f"{_qid_prefix}{next(_qid_counter):08x}"


class LadderExhausted(BackendUnavailable):
    """No step of the namespace's ladder could answer. ``attempts`` says what each step did."""

    def __init__(self, namespace: str, attempts: Sequence[Attempt]) -> None:
        self.attempts = tuple(attempts)
        tried = "; ".join(f"{a.step}: {a.outcome}{f' ({a.detail})' if a.detail else ''}" for a in attempts)
        super().__init__(f"no step could answer a search of {namespace} [{tried}]", backend="ladder")


@dataclass(slots=True)
class Query:
    """One validated search, as the router hands it to the ladder. Treat it as a value: nothing changes it
    once built (not frozen only because a frozen dataclass costs twice as much to build, once per search)."""

    namespace: Namespace
    model: ModelSpec
    mode: SearchMode
    k: int
    text: str | None = None
    #: A caller-supplied query vector (already checked against the model's width).
    vector: Sequence[float] | None = None
    filter: Filter | None = None
    #: Computes the query vector from ``text`` when no vector was supplied (called at most once, lazily).
    embed: Callable[[], Sequence[float]] | None = None
    #: How many hits each half of a hybrid search contributes to fusion.
    candidates: int = 100


@dataclass(slots=True)
class Answer:
    hits: list[Hit]
    served_by: str
    degraded: bool = False
    stale: bool = False
    complete: bool = True


@dataclass(slots=True)
class Walk:
    """The mutable state of one search's walk."""

    ladder: Ladder
    q: Query
    attempts: list[Attempt] = field(default_factory=list)
    #: A step this search already tried (and that failed) before the walk began; the walk passes it over.
    tried: Step | None = None
    _vector: Sequence[float] | None = None
    _vector_failed: str = ""

    def record(self, step: str, outcome: Outcome, started: float | None, detail: str = "") -> None:
        latency = (time.perf_counter() - started) * 1000.0 if started is not None else 0.0
        self.attempts.append(Attempt(step, outcome, latency, detail))
        self.ladder.observe_attempt(step, outcome, latency)

    def vector(self) -> Sequence[float] | None:
        """The query vector, embedding the text once; ``None`` if the embedding provider failed."""
        if self._vector is None and not self._vector_failed:
            if self.q.vector is not None:
                self._vector = self.q.vector
            elif self.q.embed is None:
                self._vector_failed = "no query vector"
            else:
                started = time.perf_counter()
                try:
                    self._vector = self.q.embed()
                except BackendError as exc:
                    outcome, detail = classify(exc)
                    self._vector_failed = f"embedding failed: {detail}"
                    self.record("embed", outcome, started, detail)
        return self._vector

    def attempt(self, step: Step, fn: Callable[..., list[Hit]], *args: object) -> list[Hit] | None:
        started = time.perf_counter()
        try:
            hits = fn(*args)
        except BackendError as exc:
            self.failed(step, exc, started)
            return None
        self.record(step.name, "ok", started, f"{len(hits)} hits")
        return hits

    def failed(self, step: Step, exc: BackendError, started: float) -> None:
        """Record a call to ``step`` that raised a backend error (the walk then moves on)."""
        outcome, detail = classify(exc)
        self.record(step.name, outcome, None if outcome == "skipped" else started, detail)
        log.info("step %s %s for %s: %s", step.name, outcome, self.q.namespace, detail)

    def probe_elsewhere(self, step: Step, last: bool, fn: Callable[..., object], *args: object) -> bool:
        """A half-open step is probed on a background thread and passed over, unless nothing comes after it."""
        if last or step.breaker.admits_freely() or step.breaker.state != "half_open":
            return False
        sent = step.probe_in_background(lambda: fn(*args))
        self.record(
            step.name, "skipped", None, f"breaker half-open: {'probe sent' if sent else 'probe in flight'}"
        )
        return True

    def first_vector(
        self, steps: Sequence[VectorStep], k: int, *, last_resort: bool = False
    ) -> tuple[Step, list[Hit]] | None:
        q = self.q
        for i, step in enumerate(steps):
            if step is self.tried:
                continue
            vec = self.vector()
            if vec is None:
                self.record(step.name, "skipped", None, self._vector_failed)
                continue
            args = (str(q.namespace), q.model, vec, k, q.filter)
            if self.probe_elsewhere(step, last_resort and i == len(steps) - 1, step.search, *args):
                continue
            hits = self.attempt(step, step.search, *args)
            if hits is not None:
                return step, hits
        return None

    def first_keyword(
        self, steps: Sequence[KeywordStep], k: int, *, last_resort: bool = False
    ) -> tuple[Step, list[Hit]] | None:
        q = self.q
        for i, step in enumerate(steps):
            if not q.text:
                self.record(step.name, "skipped", None, "no query text")
                continue
            args = (str(q.namespace), q.text, k, q.filter)
            if self.probe_elsewhere(step, last_resort and i == len(steps) - 1, step.search, *args):
                continue
            hits = self.attempt(step, step.search, *args)
            if hits is not None:
                return step, hits
        return None
