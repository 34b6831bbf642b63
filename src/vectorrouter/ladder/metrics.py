"""A small in-process metrics registry: counters, gauges and histograms with labels.

Export it by serving :meth:`MetricsRegistry.render_prometheus` from any HTTP handler (it is the Prometheus
text exposition format), by reading :meth:`MetricsRegistry.snapshot` into another system, or from the shell
with ``vectorrouter status --metrics``.

>>> m = MetricsRegistry()
>>> m.counter("vr_step_attempts_total", "attempts per step").inc(step="primary", outcome="ok")
>>> m.snapshot()["vr_step_attempts_total"][(("outcome", "ok"), ("step", "primary"))]
1.0
>>> print(m.render_prometheus().splitlines()[2])
vr_step_attempts_total{outcome="ok",step="primary"} 1.0
"""

from __future__ import annotations

import bisect
import threading
import types
import weakref
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["LATENCY_BUCKETS_MS", "Counter", "Gauge", "Histogram", "MetricsRegistry", "label_key"]

LabelKey = tuple[tuple[str, str], ...]

#: Upper bounds (milliseconds) of the latency histogram buckets; +Inf is implicit.
LATENCY_BUCKETS_MS: tuple[float, ...] = (0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


_KEYS: dict[tuple[tuple[str, Any], ...], LabelKey] = {}


def label_key(**labels: Any) -> LabelKey:
    """The normalised key of one label set, for the ``*_at`` methods of a hot path that computes it once.

    >>> label_key(step="primary", outcome="ok")
    (('outcome', 'ok'), ('step', 'primary'))
    """
    return _key(labels)


def _key(labels: dict[str, Any]) -> LabelKey:
    # label sets repeat endlessly on the search path: normalise each distinct one once
    raw = tuple(labels.items())
    key = _KEYS.get(raw)
    if key is None:
        key = tuple(sorted((k, str(v)) for k, v in raw))
        if len(_KEYS) < 100_000:  # label values are bounded (steps, outcomes, modes); this is only a guard
            _KEYS[raw] = key
    return key


def _fmt_labels(key: LabelKey, extra: tuple[tuple[str, str], ...] = ()) -> str:
    pairs = key + extra
    if not pairs:
        return ""
    body = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in pairs
    )
    return "{" + body + "}"


class _Metric:
    kind = ""

    def __init__(self, name: str, help: str) -> None:
        self.name = name
        self.help = help
        self._lock = threading.Lock()
        #: Set by the registry that made this metric: readers fold its writers' pending updates in first.
        self._registry: MetricsRegistry | None = None

    def _collect(self) -> None:
        if self._registry is not None:
            self._registry.collect()


class Counter(_Metric):
    """A monotonically increasing number per label set."""

    kind = "counter"

    def __init__(self, name: str, help: str) -> None:
        super().__init__(name, help)
        self.values: dict[LabelKey, float] = {}

    def inc(self, amount: float = 1.0, **labels: Any) -> None:
        self.inc_at(_key(labels), amount)

    def inc_at(self, key: LabelKey, amount: float = 1.0) -> None:
        """:meth:`inc` for a key from :func:`label_key` (the search path keeps its keys)."""
        with self._lock:
            self.values[key] = self.values.get(key, 0.0) + amount

    def get(self, **labels: Any) -> float:
        self._collect()
        return self.values.get(_key(labels), 0.0)

    def lines(self) -> list[str]:
        self._collect()
        with self._lock:
            return [f"{self.name}{_fmt_labels(k)} {v}" for k, v in sorted(self.values.items())]


class Gauge(Counter):
    """A number that goes up and down (breaker state, in-flight calls)."""

    kind = "gauge"

    def set(self, value: float, **labels: Any) -> None:
        with self._lock:
            self.values[_key(labels)] = float(value)


class Histogram(_Metric):
    """Counts of observations per bucket, plus their sum and count (Prometheus histogram semantics)."""

    kind = "histogram"

    def __init__(self, name: str, help: str, buckets: tuple[float, ...] = LATENCY_BUCKETS_MS) -> None:
        super().__init__(name, help)
        self.buckets = tuple(sorted(buckets))
        self.counts: dict[LabelKey, list[int]] = {}
        self.sums: dict[LabelKey, float] = {}

    def observe(self, value: float, **labels: Any) -> None:
        self.observe_at(_key(labels), value)

    def observe_at(self, key: LabelKey, value: float) -> None:
        """:meth:`observe` for a key from :func:`label_key`."""
        self.observe_many_at(key, (value,))

    def observe_many_at(self, key: LabelKey, values: Sequence[float]) -> None:
        """:meth:`observe_at` for several values under one lock (a batch of queued updates)."""
        with self._lock:
            counts = self.counts.get(key)
            if counts is None:
                counts = self.counts[key] = [0] * (len(self.buckets) + 1)
            buckets = self.buckets
            total = self.sums.get(key, 0.0)
            for value in values:
                counts[bisect.bisect_left(buckets, value)] += 1
                total += value  # in order, so the sum is the one single observations would have made
            self.sums[key] = total

    def count(self, **labels: Any) -> int:
        self._collect()
        return sum(self.counts.get(_key(labels), []))

    def lines(self) -> list[str]:
        self._collect()
        out: list[str] = []
        with self._lock:
            for key, counts in sorted(self.counts.items()):
                running = 0
                for bound, n in zip((*self.buckets, float("inf")), counts, strict=True):
                    running += n
                    le = "+Inf" if bound == float("inf") else f"{bound:g}"
                    out.append(f"{self.name}_bucket{_fmt_labels(key, (('le', le),))} {running}")
                out.append(f"{self.name}_sum{_fmt_labels(key)} {self.sums[key]}")
                out.append(f"{self.name}_count{_fmt_labels(key)} {running}")
        return out


class MetricsRegistry:
    """Named metrics, created on first use and shared afterwards."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._lock = threading.Lock()
        self._collectors: list[Callable[[], Callable[[], None] | None]] = []

    def add_collector(self, fold: Callable[[], None]) -> None:
        """Call ``fold`` before every read: a hot path that queues its updates (see ``Ladder``) applies them.

        A bound method is held weakly, so a registry shared by many ladders does not keep closed ones alive.
        """
        if isinstance(fold, types.MethodType):
            self._collectors.append(weakref.WeakMethod(fold))
        else:
            self._collectors.append(lambda: fold)

    def collect(self) -> None:
        """Apply every writer's queued updates (each read does this first)."""
        dead = False
        for ref in list(self._collectors):
            fold = ref()
            if fold is None:
                dead = True
            else:
                fold()
        if dead:
            with self._lock:
                self._collectors = [ref for ref in self._collectors if ref() is not None]

    def _get(self, cls: type[_Metric], name: str, help: str) -> Any:
        with self._lock:
            metric = self._metrics.get(name)
            if metric is None:
                metric = self._metrics[name] = cls(name, help)
                metric._registry = self
            elif type(metric) is not cls:
                raise ValueError(f"metric {name!r} is a {metric.kind}, not a {cls.kind}")
            return metric

    def counter(self, name: str, help: str = "") -> Counter:
        return self._get(Counter, name, help)  # type: ignore[no-any-return]

    def gauge(self, name: str, help: str = "") -> Gauge:
        return self._get(Gauge, name, help)  # type: ignore[no-any-return]

    def histogram(self, name: str, help: str = "") -> Histogram:
        return self._get(Histogram, name, help)  # type: ignore[no-any-return]

    def snapshot(self) -> dict[str, dict[LabelKey, Any]]:
        """Every metric's current values: counters and gauges as floats, histograms as (count, sum)."""
        self.collect()
        out: dict[str, dict[LabelKey, Any]] = {}
        with self._lock:
            metrics = list(self._metrics.values())
        for m in metrics:
            if isinstance(m, Counter):
                out[m.name] = dict(m.values)
            elif isinstance(m, Histogram):
                out[m.name] = {k: (sum(c), m.sums[k]) for k, c in m.counts.items()}
        return out

    def render_prometheus(self) -> str:
        """The Prometheus text exposition format (version 0.0.4) of every metric."""
        self.collect()
        with self._lock:
            metrics = sorted(self._metrics.values(), key=lambda m: m.name)
        lines: list[str] = []
        for m in metrics:
            lines.append(f"# HELP {m.name} {m.help}")
            lines.append(f"# TYPE {m.name} {m.kind}")
            lines.extend(m.lines())  # type: ignore[attr-defined]
        return "\n".join(lines) + "\n"
