"""The embedding service pipeline: cache keys, de-duplication, batching, bulkhead, quota, retries, costs,
lifecycle — on deterministic embedders and a FakeClock (no real waiting, no wall-clock assertions)."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from vectorrouter.embeddings import (
    Embedded,
    EmbeddingService,
    HashEmbedder,
    LayeredCache,
    MemoryLayer,
    ModelSpec,
    RetiringModelWarning,
    Task,
    TaskSpec,
    estimate_tokens,
)
from vectorrouter.errors import (
    BackendUnavailable,
    ConfigurationError,
    DimensionMismatch,
    InvalidRecord,
    QuotaExhausted,
    RateLimited,
)
from vectorrouter.policies import FakeClock


class Recording:
    """A hashing embedder that records every batch it is sent and can be scripted to fail."""

    def __init__(self, dimensions: int = 8, *, errors: Sequence[BaseException] = ()) -> None:
        self.inner = HashEmbedder(dimensions)
        self.batches: list[list[str]] = []
        self.errors = list(errors)
        self.lock = threading.Lock()

    @property
    def texts(self) -> list[str]:
        return [t for b in self.batches for t in b]

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        with self.lock:
            self.batches.append(list(texts))
            if self.errors:
                raise self.errors.pop(0)
        return self.inner.embed(texts, task)


def spec(version: str = "v1", dims: int = 8, **kw: object) -> ModelSpec:
    return ModelSpec(version=version, provider="hash", dimensions=dims, **kw)  # type: ignore[arg-type]


def make(emb: object, s: ModelSpec | None = None, **kw: object) -> EmbeddingService:
    s = s or spec()
    kw.setdefault("clock", FakeClock())
    return EmbeddingService([s], embedders={s.version: emb}, **kw)  # type: ignore[arg-type, dict-item]


# -- cache ------------------------------------------------------------------------------------------
def test_second_call_is_served_from_the_cache() -> None:
    emb = Recording()
    svc = make(emb)
    first = svc.embed("v1", ["red apples", "green pears"], "document")
    second = svc.embed("v1", ["green pears", "red apples"], "document")
    assert len(emb.batches) == 1
    np.testing.assert_array_equal(first[::-1], second)
    assert svc.costs.total().cache_hits == 2


def test_a_model_version_change_misses_the_cache() -> None:
    a, b = Recording(), Recording()
    old, new = spec("v1"), spec("v2")
    svc = EmbeddingService([old, new], embedders={"v1": a, "v2": b}, clock=FakeClock())
    svc.embed("v1", ["same text"], "document")
    svc.embed("v2", ["same text"], "document")
    assert a.texts == ["same text"]
    assert b.texts == ["same text"]  # v2 was asked, never answered with v1's vector


def test_query_and_document_tasks_are_cached_separately() -> None:
    emb = Recording()
    svc = make(emb)
    svc.embed("v1", ["hello"], "query")
    svc.embed("v1", ["hello"], "document")
    assert len(emb.batches) == 2


def test_a_changed_prefix_changes_the_cache_key() -> None:
    plain = spec("v1")
    prefixed = spec("v1", tasks={"query": TaskSpec(prefix="query: ")})
    assert plain.fingerprint("query") != prefixed.fingerprint("query")
    assert plain.fingerprint("document") == prefixed.fingerprint("document")


def test_prefix_is_sent_to_the_provider() -> None:
    emb = Recording()
    svc = make(
        emb, spec(tasks={"query": TaskSpec(prefix="query: "), "document": TaskSpec(prefix="passage: ")})
    )
    svc.embed("v1", ["rrf"], "query")
    svc.embed("v1", ["rrf"], "document")
    assert emb.texts == ["query: rrf", "passage: rrf"]


def test_cached_vectors_cannot_be_modified_by_a_caller() -> None:
    svc = make(Recording())
    out = svc.embed("v1", ["x"], "query")
    out[0, 0] = 42.0  # the caller's copy
    again = svc.embed("v1", ["x"], "query")
    assert again[0, 0] != 42.0


# -- de-duplication ---------------------------------------------------------------------------------
def test_identical_and_whitespace_variant_texts_are_embedded_once_per_call() -> None:
    emb = Recording()
    svc = make(emb)
    out = svc.embed("v1", ["a  b", "a b", " a b\n", "c"], "document", tenant="t")
    assert sorted(emb.texts) == ["a b", "c"]
    np.testing.assert_array_equal(out[0], out[2])
    usage = svc.costs.total(tenant="t")
    assert (usage.requested, usage.embedded, usage.deduplicated) == (4, 2, 2)


def test_concurrent_callers_share_one_in_flight_embedding() -> None:
    started, release = threading.Event(), threading.Event()

    class Slow(Recording):
        def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
            started.set()
            release.wait(10)
            return super().embed(texts, task)

    emb = Slow()
    svc = make(emb)
    results: dict[str, np.ndarray] = {}

    def first() -> None:
        results["first"] = svc.embed("v1", ["shared text", "only first"], "document")

    t1 = threading.Thread(target=first)
    t1.start()
    assert started.wait(10)
    waiter_done = threading.Event()

    def second() -> None:
        results["second"] = svc.embed("v1", ["shared text"], "document")
        waiter_done.set()

    t2 = threading.Thread(target=second)
    t2.start()
    assert not waiter_done.wait(0.05)  # it is waiting for the first caller, not embedding by itself
    release.set()
    t1.join(10)
    t2.join(10)
    assert emb.texts.count("shared text") == 1
    np.testing.assert_array_equal(results["first"][0], results["second"][0])
    assert svc.costs.total().deduplicated == 1


def test_a_waiter_gets_the_owners_error_instead_of_hanging() -> None:
    started, release = threading.Event(), threading.Event()

    class Failing:
        def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
            started.set()
            release.wait(10)
            raise InvalidRecord("provider rejected the text")

    svc = make(Failing())
    errors: list[BaseException] = []

    def call() -> None:
        try:
            svc.embed("v1", ["doomed"], "document")
        except InvalidRecord as exc:
            errors.append(exc)

    t1 = threading.Thread(target=call)
    t1.start()
    assert started.wait(10)
    t2 = threading.Thread(target=call)
    t2.start()
    release.set()
    t1.join(10)
    t2.join(10)
    assert len(errors) == 2
    assert not t2.is_alive()


# -- batching and concurrency -----------------------------------------------------------------------
def test_batches_default_to_25_texts() -> None:
    emb = Recording()
    make(emb).embed("v1", [f"text {i}" for i in range(60)], "document")
    assert sorted(len(b) for b in emb.batches) == [10, 25, 25]


def test_the_models_max_batch_caps_the_batch_size() -> None:
    emb = Recording()
    make(emb, spec(max_batch=10), batch_size=25).embed("v1", [f"t {i}" for i in range(35)], "document")
    assert sorted(len(b) for b in emb.batches) == [5, 10, 10, 10]


def test_order_is_preserved_across_parallel_batches() -> None:
    texts = [f"document {i}" for i in range(100)]
    out = make(Recording(), batch_size=7).embed("v1", texts, "document")
    np.testing.assert_allclose(out, HashEmbedder(8).embed(texts, "document"))


def test_bulkhead_bounds_concurrent_provider_requests() -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    gate = threading.Barrier(2, timeout=5)

    class Counting(Recording):
        def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            with contextlib.suppress(threading.BrokenBarrierError):
                gate.wait()  # two requests must be able to overlap…
            with lock:
                state["now"] -= 1
            return super().embed(texts, task)

    make(Counting(), batch_size=1, max_concurrent=2).embed("v1", [f"t{i}" for i in range(8)], "document")
    assert state["peak"] == 2  # …but never a third


# -- quota and retries on a FakeClock ---------------------------------------------------------------
def test_requests_per_minute_paces_batches() -> None:
    clock = FakeClock()
    emb = Recording()
    svc = make(emb, spec(requests_per_minute=60), clock=clock, batch_size=1, max_concurrent=1)
    svc.embed("v1", [f"t{i}" for i in range(5)], "document")
    # a burst of 2 s of quota (2 requests), then one request per second
    assert sum(clock.sleeps) == pytest.approx(3.0)
    assert len(emb.batches) == 5


def test_tokens_per_minute_splits_batches_to_the_bucket_and_paces_them() -> None:
    clock = FakeClock()
    emb = Recording()
    # 600 tokens/min = 10/s, burst 2 s = 20 tokens per request at most
    svc = make(emb, spec(tokens_per_minute=600), clock=clock, max_concurrent=1)
    texts = [f"word{i} word word word word" for i in range(8)]  # 25 bytes: 7 estimated tokens each
    assert {estimate_tokens(t) for t in texts} == {7}
    svc.embed("v1", texts, "document")
    assert [len(b) for b in emb.batches] == [2, 2, 2, 2]  # 3 texts (21 tokens) would not fit in 20
    # 56 tokens with a 20-token burst at 10 tokens/s: 3.6 s of waiting in all
    assert sum(clock.sleeps) == pytest.approx((56 - 20) / 10)


def test_billed_tokens_correct_the_limiter_and_the_ledger() -> None:
    class Billing(Recording):
        def embed_with_usage(self, texts: Sequence[str], task: Task) -> Embedded:
            return Embedded(self.embed(texts, task), tokens=100 * len(texts))

    clock = FakeClock()
    svc = make(Billing(), spec(tokens_per_minute=6000, price_per_million=1.0), clock=clock, max_concurrent=1)
    svc.embed("v1", ["a"], "document", tenant="t")
    svc.embed("v1", ["b"], "document", tenant="t")
    usage = svc.costs.total(tenant="t")
    assert usage.tokens == 200
    assert usage.cost == pytest.approx(200 / 1e6)
    # bucket: 100 tokens/s, 200 capacity. Call a reserves its 1-token estimate and settles to 100 billed
    # (bucket 100); the limiter learns billed/estimated (capped at 4x), so call b reserves 4 and settles to
    # 100 (bucket 0): no wait yet. Call c reserves 4 on an empty bucket: 0.04 s.
    assert sum(clock.sleeps) == pytest.approx(0.0)
    svc.embed("v1", ["c"], "document")
    assert sum(clock.sleeps) == pytest.approx(4 / 100)
    assert svc._runtime("v1").limiter.calibration == 4.0


def test_rate_limited_batches_wait_retry_after_and_lose_nothing() -> None:
    clock = FakeClock()
    emb = Recording(errors=[RateLimited("429", retry_after=4.0), RateLimited("429", retry_after=4.0)])
    svc = make(emb, clock=clock)
    out = svc.embed("v1", ["a", "b", "c"], "document")
    assert out.shape == (3, 8)
    assert sum(4.0 <= w <= 4.4 for w in clock.sleeps) == 2  # Retry-After, with at most 10% jitter
    assert svc.costs.total().rate_limited == 2
    assert svc.costs.total().embedded == 3


def test_a_spent_quota_is_raised_typed_at_once_and_never_returns_none() -> None:
    clock = FakeClock()
    emb = Recording(errors=[QuotaExhausted("monthly cap", retry_after=3600.0)])
    svc = make(emb, clock=clock)
    with pytest.raises(QuotaExhausted) as info:
        svc.embed("v1", ["a"], "document")
    assert info.value.retry_after == 3600.0
    assert len(emb.batches) == 1
    assert 3600.0 not in clock.sleeps


def test_successful_batches_stay_cached_when_another_batch_fails() -> None:
    emb = Recording(errors=[BackendUnavailable("down")] * 1)
    svc = make(emb, batch_size=2, max_concurrent=1, retry_attempts=1)
    texts = ["a", "b", "c", "d"]
    with pytest.raises(BackendUnavailable):
        svc.embed("v1", texts, "document")
    paid_before = len(emb.texts)
    svc.embed("v1", texts, "document")
    assert len(emb.texts) - paid_before == 2  # only the failed batch is paid again


# -- validation and lifecycle -----------------------------------------------------------------------
def test_dimension_mismatch_names_both_numbers() -> None:
    svc = make(HashEmbedder(12), spec(dims=8))
    with pytest.raises(DimensionMismatch) as info:
        svc.embed("v1", ["x"], "query")
    assert info.value.expected == 8
    assert info.value.got == 12
    assert "12 dimensions but 8" in str(info.value)
    assert "models.v1.dimensions" in str(info.value)


def test_mismatched_vectors_are_never_cached() -> None:
    svc = make(HashEmbedder(12), spec(dims=8))
    with pytest.raises(DimensionMismatch):
        svc.embed("v1", ["x"], "query")
    assert len(svc.cache.layers[0]) == 0  # type: ignore[arg-type]


def test_a_retiring_model_warns_once_with_its_date(caplog: pytest.LogCaptureFixture) -> None:
    old = spec(lifecycle="retiring", retire_on=dt.date(2031, 1, 31))
    svc = make(Recording(), old)
    with pytest.warns(RetiringModelWarning, match="retires on 2031-01-31"):
        svc.embed("v1", ["x"], "query")
    svc.embed("v1", ["y"], "query")  # filterwarnings=error: a second warning would fail here
    assert sum("2031-01-31" in r.message for r in caplog.records) == 1


def test_a_retiring_model_without_a_date_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"models\.v1\.retire_on"):
        spec(lifecycle="retiring")


def test_bad_task_and_a_bare_string_are_caller_errors() -> None:
    svc = make(Recording())
    with pytest.raises(InvalidRecord, match="task"):
        svc.embed("v1", ["x"], "passage")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="list of strings"):
        svc.embed("v1", "x", "query")


def test_empty_input_returns_an_empty_matrix_of_the_declared_width() -> None:
    assert make(Recording()).embed("v1", [], "query").shape == (0, 8)


# -- costs, erasure, async ---------------------------------------------------------------------------
def test_costs_are_kept_per_model_version_and_tenant() -> None:
    a, b = spec("v1", price_per_million=1_000_000.0), spec("v2", price_per_million=0.0)
    svc = EmbeddingService([a, b], embedders={"v1": Recording(), "v2": Recording()}, clock=FakeClock())
    svc.embed("v1", ["one two"], "document", tenant="acme")
    svc.embed("v1", ["three"], "document", tenant="globex")
    svc.embed("v2", ["one two"], "document", tenant="acme")
    rows = {(u.version, u.tenant): u for u in svc.usage()}
    assert set(rows) == {("v1", "acme"), ("v1", "globex"), ("v2", "acme")}
    assert rows[("v1", "acme")].tokens == 2
    assert rows[("v1", "acme")].cost == pytest.approx(2.0)
    assert rows[("v2", "acme")].cost == 0.0
    assert svc.costs.total(version="v1").tokens == 4  # "three" is 5 bytes: 2 estimated tokens


def test_forget_removes_every_versions_vectors_of_a_text() -> None:
    a, b = spec("v1"), spec("v2")
    svc = EmbeddingService([a, b], embedders={"v1": Recording(), "v2": Recording()}, clock=FakeClock())
    svc.embed("v1", ["alice's address", "public text"], "document")
    svc.embed("v2", ["alice's address"], "query")
    assert svc.residue(["alice's address"]).total == 2
    removed = svc.forget(["alice's  address"])  # normalization finds the same entries
    assert removed == {"memory": 2}
    assert svc.residue(["alice's address"]).total == 0
    assert svc.residue(["public text"]).total == 1


def test_async_face_runs_the_same_pipeline() -> None:
    import asyncio

    emb = Recording()
    svc = make(emb)
    out = asyncio.run(svc.aembed("v1", ["x", "x"], "query"))
    assert out.shape == (2, 8)
    assert emb.texts == ["x"]


def test_an_unbounded_memory_layer_of_zero_items_disables_l1() -> None:
    emb = Recording()
    svc = make(emb, cache=LayeredCache([MemoryLayer(0)]))
    svc.embed("v1", ["x"], "query")
    svc.embed("v1", ["x"], "query")
    assert len(emb.batches) == 2


def test_quota_limiter_refunds_a_refused_call_and_learns_the_billing_ratio() -> None:
    from vectorrouter.embeddings import QuotaLimiter

    clock = FakeClock()
    q = QuotaLimiter(requests_per_minute=60, tokens_per_minute=600, burst_seconds=1, clock=clock)
    assert q.requests is not None
    assert q.tokens is not None

    def refused() -> None:
        raise RateLimited("429", retry_after=1.0)

    with pytest.raises(RateLimited):
        q.call(refused, tokens=10)
    # the refusal did not count at the provider, but it proves the provider is short: a request of the
    # same size fits again exactly after Retry-After, for every worker sharing the limiter
    assert q.requests.available == pytest.approx(0.0)
    assert q.tokens.available == pytest.approx(0.0)
    clock.advance(1.0)
    q.call(lambda: 5, tokens=10, billed=lambda n: n)
    assert clock.sleeps[-1] == pytest.approx(0.0)
    assert q.calibration == pytest.approx(0.7 + 0.3 * 0.5)
    assert q.tokens.available == pytest.approx(5.0)


# -- input and provider output ----------------------------------------------------------------------
def test_a_generator_of_texts_is_embedded_and_later_calls_do_not_hang() -> None:
    emb = Recording()
    svc = make(emb)
    out = svc.embed("v1", (t for t in ["alpha", "beta"]), "query")  # type: ignore[arg-type]
    assert out.shape == (2, 8)
    # before, a generator failed after its keys were claimed, and this call waited on them forever
    done: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: done.append(svc.embed("v1", ["alpha", "gamma"], "query")))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "a later call hung on keys an earlier call claimed"
    assert np.allclose(done[0][0], out[0])


@pytest.mark.parametrize("bad", [None, 7, b"bytes"])
def test_a_text_that_is_not_a_string_is_named_and_claims_nothing(bad: object) -> None:
    emb = Recording()
    svc = make(emb)
    with pytest.raises(InvalidRecord, match=rf"texts\[1\] is {type(bad).__name__}, not a string"):
        svc.embed("v1", ["fine", bad], "document")  # type: ignore[list-item]
    assert emb.batches == []
    assert svc.embed("v1", ["fine"], "document").shape == (1, 8)


def test_a_numpy_array_of_texts_is_read_as_a_list() -> None:
    svc = make(Recording())
    assert svc.embed("v1", np.array(["alpha", "beta"]), "query").shape == (2, 8)  # type: ignore[arg-type]


class NaNOnSecond:
    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        self.calls += 1
        out = HashEmbedder(8).embed(texts, task)
        if len(out) > 1:
            out[1, 3] = np.nan
        return out


def test_a_provider_returning_nan_is_an_error_and_nothing_is_cached() -> None:
    emb = NaNOnSecond()
    svc = make(emb)
    with pytest.raises(
        ConfigurationError, match=r"models\.v1\.provider: model 'v1' returned a vector holding NaN"
    ):
        svc.embed("v1", ["alpha", "beta"], "document")
    assert svc.embed("v1", ["alpha"], "document").shape == (1, 8)
    assert emb.calls == 2, "alpha was not cached from the batch that held a NaN"


@pytest.mark.parametrize("dims", [0, -3, 2.5, True])
def test_a_model_needs_a_positive_integer_width(dims: object) -> None:
    with pytest.raises(
        ConfigurationError, match=r"models\.v1\.dimensions: dimensions must be a positive integer"
    ):
        spec(dims=dims)  # type: ignore[arg-type]
