"""The short path of a dense search with the caller's vector (``Ladder.search_dense``) is the walk, only shorter.

Each scenario runs the same searches on two identical rigs, one as shipped and one with the short path switched
off, and requires the same answers, attempts, errors, breaker states, health windows and metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from tests.unit.ladder.rig import MODEL, NS, POLICY, Rig, make_rig

from vectorrouter.ladder import Ladder, LadderExhausted
from vectorrouter.types import SearchResult

TEXT = "luminous galactic quasar"


def vector_of(rig: Rig, text: str = TEXT) -> list[float]:
    return [float(x) for x in rig.router.embeddings.embed(MODEL.version, [text], "query")[0]]


def walk_only(rig: Rig) -> Rig:
    """The same rig with the short path refused, so every search takes the full walk."""
    rig.router.ladder.search_dense = lambda *a, **kw: None  # type: ignore[method-assign]
    return rig


def count_walks(rig: Rig) -> list[int]:
    """How many searches took the full walk (the short path never calls ``_walk`` on success)."""
    walks = [0]
    ladder: Ladder = rig.router.ladder
    inner = ladder._walk

    def counted(*args: Any) -> Any:
        walks[0] += 1
        return inner(*args)

    ladder._walk = counted  # type: ignore[method-assign]
    return walks


def outcome(rig: Rig, run: Callable[[Rig], SearchResult]) -> tuple[Any, ...]:
    """Everything a caller and an operator can see of one search, minus timings and the query id."""
    try:
        res = run(rig)
    except LadderExhausted as exc:
        return ("exhausted", tuple((a.step, a.outcome, a.detail) for a in exc.attempts))
    return (
        [h.id for h in res.hits],
        res.namespace,
        res.mode,
        res.served_by,
        res.degraded,
        res.stale,
        tuple((a.step, a.outcome, a.detail) for a in res.attempts),
    )


def observed(rig: Rig) -> tuple[Any, ...]:
    """Breaker states, health windows and metrics (histograms by count), compared across the two rigs."""
    snap = rig.router.metrics.snapshot()
    metrics = {
        name: {k: (v[0] if isinstance(v, tuple) else v) for k, v in values.items()}
        for name, values in snap.items()
    }
    health = [(h.name, h.state, h.calls, h.errors, h.skipped, h.last_error) for h in rig.router.health()]
    return health, metrics


def dense(rig: Rig) -> SearchResult:
    return rig.router.search(NS, vector=vector_of(rig), k=2, mode="dense")


def dense_with_text(rig: Rig) -> SearchResult:
    return rig.router.search(NS, TEXT, vector=vector_of(rig), k=2, mode="dense")


def implied_dense(rig: Rig) -> SearchResult:
    return rig.router.search(NS, vector=vector_of(rig), k=3)


def nothing(rig: Rig) -> None:
    pass


def primary_dead(rig: Rig) -> None:
    rig.primary.kill()


def vectors_dead(rig: Rig) -> None:
    rig.primary.kill()
    rig.secondary.kill()


def all_dead(rig: Rig) -> None:
    for s in (rig.primary, rig.secondary, rig.keyword):
        s.kill()


def primary_flaps(rig: Rig) -> None:
    """Open the primary's breaker, then let it cool down to half-open with the store back."""
    rig.primary.kill()
    for _ in range(POLICY.failure_threshold):
        rig.router.search(NS, TEXT, k=2, mode="dense")
    rig.primary.revive()
    rig.clock.advance(POLICY.recovery_timeout)


SCENARIOS = [nothing, primary_dead, vectors_dead, all_dead, primary_flaps]
SEARCHES = [dense, dense_with_text, implied_dense]


@pytest.mark.parametrize("search", SEARCHES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_the_short_path_answers_exactly_as_the_walk(
    scenario: Callable[[Rig], None], search: Callable[[Rig], SearchResult]
) -> None:
    short, full = make_rig(), walk_only(make_rig())
    try:
        for rig in (short, full):
            scenario(rig)
        for _ in range(POLICY.failure_threshold + 2):  # enough to open a breaker on the way
            assert outcome(short, search) == outcome(full, search)
            for rig in (short, full):
                for step in rig.router.ladder.steps.values():
                    step.join_probe(5)
        assert observed(short) == observed(full)
        assert short.primary.calls == full.primary.calls, "the short path calls each store as often"
        assert short.secondary.calls == full.secondary.calls
    finally:
        short.close()
        full.close()


def test_a_healthy_dense_search_with_a_vector_takes_the_short_path() -> None:
    rig = make_rig()
    try:
        walks = count_walks(rig)
        res = dense(rig)
        assert (res.served_by, res.degraded, walks[0]) == ("primary", False, 0)
        assert [(a.step, a.outcome, a.detail) for a in res.attempts] == [("primary", "ok", "2 hits")]
        # what the short path does not cover takes the walk: text to embed, a filter, keyword or hybrid modes
        rig.router.search(NS, TEXT, k=2, mode="dense")
        rig.router.search(NS, vector=vector_of(rig), k=2, mode="dense", filter={"kind": "space"})
        rig.router.search(NS, TEXT, vector=vector_of(rig), k=2)
        assert walks[0] == 3
    finally:
        rig.close()


def test_a_failing_primary_is_called_once_per_search_and_the_walk_goes_on_from_the_next_step() -> None:
    rig = make_rig()
    try:
        rig.primary.kill()
        before = rig.primary.calls["search"]
        res = dense(rig)
        assert rig.primary.calls["search"] == before + 1
        assert [(a.step, a.outcome) for a in res.attempts] == [("primary", "error"), ("secondary", "ok")]
        assert (res.served_by, res.degraded) == ("secondary", True)
    finally:
        rig.close()


def test_queued_metric_updates_are_applied_in_batches_and_whenever_metrics_are_read() -> None:
    rig = make_rig()
    try:
        m = rig.router.metrics
        attempts = m.counter("vr_step_attempts_total")
        ok = (("outcome", "ok"), ("step", "primary"))
        for _ in range(300):
            dense(rig)
        queued = len(rig.router.ladder._queued)
        assert 0 < queued < 300, "updates are queued, and applied a batch at a time"
        assert attempts.values[ok] == 300 - queued, "the raw values hold the applied batches only"
        assert attempts.get(step="primary", outcome="ok") == 300, "a read applies the rest first"
        assert len(rig.router.ladder._queued) == 0
        dense(rig)
        assert m.histogram("vr_step_latency_ms").count(step="primary") == 301
        assert m.histogram("vr_search_latency_ms").count(mode="dense") == 301
        dense(rig)
        assert 'vr_searches_total{degraded="False",mode="dense",served_by="primary",stale="False"} 302' in (
            m.render_prometheus()
        )
        dense(rig)
        assert m.snapshot()["vr_step_attempts_total"][ok] == 303
    finally:
        rig.close()


def test_concurrent_searches_and_readers_lose_no_metric_update() -> None:
    rig = make_rig()
    try:
        vec = vector_of(rig)
        m = rig.router.metrics
        done = threading.Event()
        errors: list[BaseException] = []

        def search(n: int) -> None:
            try:
                for _ in range(n):
                    rig.router.search(NS, vector=vec, k=2, mode="dense")
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        def read() -> None:
            while not done.is_set():
                m.render_prometheus()

        reader = threading.Thread(target=read)
        reader.start()
        workers = [threading.Thread(target=search, args=(350,)) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        done.set()
        reader.join(60)
        assert not errors
        assert (
            m.counter("vr_searches_total").get(mode="dense", served_by="primary", degraded=False, stale=False)
            == 4 * 350
        )
        assert m.histogram("vr_search_latency_ms").count(mode="dense") == 4 * 350
    finally:
        rig.close()


def test_a_step_applies_its_bulkhead_and_breaker_inline_exactly_as_through_the_chain() -> None:
    from vectorrouter.backends import NumpyBackend
    from vectorrouter.errors import BackendUnavailable, CircuitOpen, InvalidRecord
    from vectorrouter.ladder import StepPolicy, VectorStep
    from vectorrouter.policies import FakeClock

    def ok() -> str:
        return "ok"

    def down() -> str:
        raise BackendUnavailable("connection refused", backend="x")

    def inner_breaker() -> str:
        raise CircuitOpen("an inner breaker is open", backend="x")

    def caller_error() -> str:
        raise InvalidRecord("bad filter")

    policy = StepPolicy(timeout=None, retries=0, failure_threshold=3, recovery_timeout=5.0)
    clock = FakeClock()
    inline = VectorStep("inline", NumpyBackend, policy=policy, clock=clock)
    chained = VectorStep("chained", NumpyBackend, policy=policy, clock=clock)
    assert inline._inline, "no retry and no deadline: the inline guard applies"
    chained._inline = False
    script = [ok, down, inner_breaker, caller_error, down, ok, down, down, down, ok, ok]
    for fn in script:
        seen = []
        for step in (inline, chained):
            try:
                got: object = step.run(fn)
            except Exception as exc:  # the type is what is compared
                got = type(exc)
            seen.append(
                (
                    got,
                    step.breaker.state,
                    step.breaker._failures,
                    step.stats.summary()[:3],
                    step.bulkhead.in_flight,
                )
            )
        assert seen[0] == seen[1], fn.__name__
    assert inline.breaker.state == "open", "the script opens the breaker on the way"
    clock.advance(5.0)
    assert inline.run(ok) == chained.run(ok) == "ok"
    assert inline.breaker.state == chained.breaker.state == "closed"


def test_a_shared_registry_does_not_keep_a_dropped_ladder_alive() -> None:
    import gc
    import weakref

    from vectorrouter.backends import NumpyBackend
    from vectorrouter.ladder import MetricsRegistry, VectorStep

    registry = MetricsRegistry()
    kept = Ladder([VectorStep("primary", NumpyBackend)], metrics=registry)
    dropped = Ladder([VectorStep("primary", NumpyBackend)], metrics=registry)
    gone = weakref.ref(dropped)
    del dropped
    gc.collect()
    assert gone() is None, "the registry holds its ladders' collectors weakly"
    registry.counter("vr_searches_total").get(mode="dense")  # a read prunes the dead collector
    assert len(registry._collectors) == 1
    assert kept.metrics is registry


def test_a_batch_of_observations_lands_in_the_same_buckets_as_one_at_a_time() -> None:
    from vectorrouter.ladder.metrics import Histogram, label_key

    values = [0.1, 0.25, 0.26, 3.0, 3.0, 49.9, 50.0, 7000.0]
    one, many = Histogram("h", ""), Histogram("h", "")
    key = label_key(step="primary")
    for v in values:
        one.observe_at(key, v)
    many.observe_many_at(key, values[:3])
    many.observe_many_at(key, values[3:])
    assert many.counts == one.counts
    assert many.sums[key] == one.sums[key]
    assert many.lines() == one.lines()
