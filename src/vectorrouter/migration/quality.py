"""Quality monitoring for a migration: ranking agreement, per-arm latency and scores, feedback, nDCG.

Latencies and scores go into fixed log-spaced histograms, so summaries from several processes merge exactly
(``merge_summaries``) and ``migrate status`` can show the fleet, not one process.
"""

from __future__ import annotations

import math
import os
import random
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from vectorrouter.errors import InvalidRecord

if TYPE_CHECKING:
    from vectorrouter.migration.resolver import Route
    from vectorrouter.migration.state import StateStore
    from vectorrouter.types import SearchResult

__all__ = [
    "ArmStats",
    "QualityMonitor",
    "merge_summaries",
    "ndcg_at_k",
    "overlap_at_k",
    "rank_correlation",
]


def overlap_at_k(a: Sequence[str], b: Sequence[str], k: int) -> float:
    """Share of the top ``k`` ids the two rankings have in common (1.0 = same set).

    >>> overlap_at_k(["a", "b", "c"], ["c", "a", "d"], 3)
    0.6666666666666666
    """
    if k <= 0:
        raise ValueError("k must be positive")
    return len(set(a[:k]) & set(b[:k])) / k


def rank_correlation(a: Sequence[str], b: Sequence[str], k: int | None = None) -> float:
    """Spearman's rho of two top-k rankings over their union; an id missing from one list ranks k+1 there.

    >>> rank_correlation(["a", "b", "c"], ["a", "b", "c"])
    1.0
    >>> round(rank_correlation(["a", "b", "c"], ["c", "b", "a"]), 3)
    -1.0
    """
    k = k or max(len(a), len(b))
    a, b = list(a[:k]), list(b[:k])
    union = list(dict.fromkeys(a + b))
    if len(union) < 2:
        return 1.0
    ra = np.array([a.index(i) if i in a else k for i in union], dtype=np.float64)
    rb = np.array([b.index(i) if i in b else k for i in union], dtype=np.float64)
    if ra.std() == 0 or rb.std() == 0:
        return 1.0 if np.array_equal(ra, rb) else 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, float], k: int = 10) -> float:
    """Normalised discounted cumulative gain of one ranking against graded labels (0 when nothing is relevant).

    >>> ndcg_at_k(["d1", "d2"], {"d2": 1}, 10)
    0.6309297535714575
    """
    dcg = sum(relevance.get(d, 0.0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


# Histogram edges: latency 0.01 ms … ~100 s in 10% steps; scores -1 … 1 in steps of 0.02.
_LAT_EDGES = np.geomspace(0.01, 1e5, 170)
_SCORE_EDGES = np.linspace(-1.0, 1.0, 101)


def _percentile(counts: Sequence[int], edges: np.ndarray, q: float) -> float | None:
    total = sum(counts)
    if total == 0:
        return None
    target = q / 100.0 * total
    seen = 0
    for i, c in enumerate(counts):
        seen += c
        if seen >= target:
            return float(edges[min(i, len(edges) - 1)])
    return float(edges[-1])


@dataclass(slots=True)
class ArmStats:
    """Counters of one arm in one process."""

    searches: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * (len(_LAT_EDGES) + 1))
    top_score: list[int] = field(default_factory=lambda: [0] * (len(_SCORE_EDGES) + 1))
    clicks: int = 0
    rating_sum: float = 0.0
    ratings: int = 0
    shadow_compared: int = 0
    overlap_sum: float = 0.0
    rank_corr_sum: float = 0.0

    def add_search(self, latency_ms: float, top: float | None) -> None:
        self.searches += 1
        self.latency[int(np.searchsorted(_LAT_EDGES, latency_ms))] += 1
        if top is not None:
            self.top_score[int(np.searchsorted(_SCORE_EDGES, max(-1.0, min(1.0, top))))] += 1

    def summary(self) -> dict[str, Any]:
        return {
            "searches": self.searches,
            "latency": list(self.latency),
            "top_score": list(self.top_score),
            "clicks": self.clicks,
            "rating_sum": self.rating_sum,
            "ratings": self.ratings,
            "shadow_compared": self.shadow_compared,
            "overlap_sum": self.overlap_sum,
            "rank_corr_sum": self.rank_corr_sum,
        }


def merge_summaries(summaries: Iterable[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Add per-arm summaries from several processes into one (histograms add bucket by bucket)."""
    out: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        for arm, s in summary.items():
            acc = out.setdefault(arm, ArmStats().summary())
            for key, value in s.items():
                if isinstance(value, list):
                    acc[key] = [x + y for x, y in zip(acc[key], value, strict=True)]
                else:
                    acc[key] += value
    return out


def describe(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Readable figures of one arm's (merged) summary: latency percentiles, score median, agreement, feedback."""
    n = summary["searches"]
    compared = summary["shadow_compared"]
    return {
        "searches": n,
        "p50_ms": _percentile(summary["latency"], _LAT_EDGES, 50),
        "p95_ms": _percentile(summary["latency"], _LAT_EDGES, 95),
        "p99_ms": _percentile(summary["latency"], _LAT_EDGES, 99),
        "top_score_p50": _percentile(summary["top_score"], _SCORE_EDGES, 50),
        "shadow_compared": compared,
        "overlap_at_k": summary["overlap_sum"] / compared if compared else None,
        "rank_corr": summary["rank_corr_sum"] / compared if compared else None,
        "clicks": summary["clicks"],
        "click_rate": summary["clicks"] / n if n else None,
        "mean_rating": summary["rating_sum"] / summary["ratings"] if summary["ratings"] else None,
    }


#: Runs a served query on another arm: ``(served route, query, served result) -> (arm label, result)``, or
#: ``None`` when there is no other arm to compare with. ``MigrationResolver.attach`` provides one.
ShadowFn = Callable[["Route", str, "SearchResult"], "tuple[str, SearchResult] | None"]


class QualityMonitor:
    """Per-arm statistics of live traffic, shadow comparisons on a sample, and feedback by query id.

    ``shadow`` runs a sampled query on the other arm (serve one arm, run both) and records top-k overlap and
    rank correlation against what was served; it runs on a background thread so the served search does not
    wait for it. Sampling draws from a generator seeded with ``seed``.

    Two seams make the figures reproducible where that matters (tests, notebooks): ``run_shadow`` decides how
    a sampled comparison runs (default: a daemon thread; :meth:`inline` runs it on the caller's thread, so it
    has finished when ``search`` returns), and ``latency_of`` reads a search's latency (default: the
    ``latency_ms`` the router measured; a test passes a scripted one instead of depending on machine load).

    >>> monitor = QualityMonitor(k=10)
    >>> monitor.feedback_arm("q1", "new")
    >>> monitor.feedback("q1", "doc-3", 1.0)
    >>> monitor.summary()["new"]["clicks"]
    1
    """

    def __init__(
        self,
        *,
        k: int = 10,
        shadow_rate: float = 0.0,
        shadow: ShadowFn | None = None,
        seed: int = 0,
        remember: int = 100_000,
        run_shadow: Callable[[Callable[[], None]], None] | None = None,
        latency_of: Callable[[SearchResult], float] | None = None,
    ) -> None:
        if not 0.0 <= shadow_rate <= 1.0:
            raise ValueError(f"shadow_rate must be within [0, 1], got {shadow_rate}")
        self.k = k
        self.shadow_rate = shadow_rate
        self.shadow = shadow
        self._rng = random.Random(seed)
        self._arms: dict[str, ArmStats] = {}
        self._query_arms: OrderedDict[str, str] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()
        self._pending: list[threading.Thread] = []
        self.shadow_errors = 0
        self._run_shadow = run_shadow or self._in_thread
        self._latency_of = latency_of or (lambda result: result.latency_ms)

    @staticmethod
    def inline(job: Callable[[], None]) -> None:
        """A ``run_shadow`` that compares on the caller's thread: deterministic, but the search waits for it."""
        job()

    def _in_thread(self, job: Callable[[], None]) -> None:
        worker = threading.Thread(target=job, daemon=True)
        with self._lock:
            self._pending = [t for t in self._pending if t.is_alive()] + [worker]
            worker.start()  # under the lock: drain() never sees a thread that has not started

    def _stats(self, arm: str) -> ArmStats:
        return self._arms.setdefault(arm, ArmStats())

    def feedback_arm(self, query_id: str, arm: str) -> None:
        """Remember which arm served ``query_id`` (bounded: the oldest ids are forgotten first)."""
        with self._lock:
            self._query_arms[query_id] = arm
            while len(self._query_arms) > self._remember:
                self._query_arms.popitem(last=False)

    def record(self, route: Route, query: str | None, result: SearchResult) -> None:
        top = result.hits[0].score if result.hits else None
        with self._lock:
            self._stats(route.arm).add_search(self._latency_of(result), top)
            sample = self.shadow is not None and query and self._rng.random() < self.shadow_rate
        if result.query_id:
            self.feedback_arm(result.query_id, route.arm)
        if sample:
            assert query is not None
            self._run_shadow(lambda: self._compare(route, query, result))

    def _compare(self, served: Route, query: str, result: SearchResult) -> None:
        assert self.shadow is not None
        try:
            outcome = self.shadow(served, query, result)
        except Exception:  # a shadow query must never hurt serving; it only counts
            with self._lock:
                self.shadow_errors += 1
            return
        if outcome is None:
            return
        other, shadow = outcome
        overlap = overlap_at_k(result.ids, shadow.ids, self.k)
        corr = rank_correlation(result.ids, shadow.ids, self.k)
        top = shadow.hits[0].score if shadow.hits else None
        with self._lock:
            stats = self._stats(served.arm)
            stats.shadow_compared += 1
            stats.overlap_sum += overlap
            stats.rank_corr_sum += corr
            self._stats(f"{other} (shadow)").add_search(self._latency_of(shadow), top)

    def drain(self, timeout: float | None = None) -> None:
        """Wait for in-flight shadow comparisons (tests and ``flush`` before reporting)."""
        with self._lock:
            pending = list(self._pending)
        for t in pending:
            t.join(timeout)

    def feedback(self, query_id: str, doc_id: str, signal: float = 1.0) -> None:
        """A click (``signal == 1``) or a rating (any other number) on a hit of search ``query_id``."""
        if not isinstance(doc_id, str) or not doc_id:
            raise InvalidRecord(f"feedback doc_id must be a non-empty string, got {doc_id!r}")
        with self._lock:
            arm = self._query_arms.get(query_id)
            if arm is None:
                raise InvalidRecord(
                    f"unknown query_id {query_id!r}: feedback must name a recent search's SearchResult.query_id"
                )
            stats = self._stats(arm)
            if signal == 1.0:
                stats.clicks += 1
            else:
                stats.rating_sum += float(signal)
                stats.ratings += 1

    def summary(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {arm: s.summary() for arm, s in self._arms.items()}

    def publish(
        self, store: StateStore, logical: str, process: str | None = None, *, drain: bool = True
    ) -> None:
        """Write this process's summary where ``migrate status`` reads it (call it every minute or so)."""
        if drain:
            self.drain(timeout=5.0)
        store.put_quality(logical, process or f"{socket.gethostname()}-{os.getpid()}", self.summary())
