"""How searches walk the ladder: fallbacks, breakers, classification, modes, and what results report."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from tests.unit.ladder.rig import DOCS, MODEL, NS, POLICY, Rig, make_rig

from vectorrouter import (
    BackendUnavailable,
    DimensionMismatch,
    EmbeddingService,
    Eq,
    Filter,
    NamespaceNotFound,
    Range,
    Router,
    UnsupportedFilter,
)
from vectorrouter.backends import NumpyBackend
from vectorrouter.embeddings import HashEmbedder
from vectorrouter.ladder import KeywordStep, Ladder, LadderExhausted, StepPolicy, VectorStep
from vectorrouter.policies import FakeClock
from vectorrouter.testing.scripted import Script


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = make_rig()
    yield r
    r.close()


def outcomes(result) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(a.step, a.outcome) for a in result.attempts]


# -- the happy path -------------------------------------------------------------------------------


def test_healthy_primary_answers_dense_search_undegraded(rig: Rig) -> None:
    res = rig.search(mode="dense")
    assert res.hits[0].id == "quasar"
    assert (res.served_by, res.degraded, res.stale) == ("primary", False, False)
    assert outcomes(res) == [("primary", "ok")]
    assert res.attempts[0].latency_ms > 0
    assert rig.secondary.calls["search"] == 0


def test_hybrid_fuses_the_first_vector_and_first_keyword_step(rig: Rig) -> None:
    res = rig.search()
    assert res.mode == "hybrid"
    assert res.served_by == "primary+keyword"
    assert not res.degraded
    assert res.hits[0].id == "quasar"
    assert outcomes(res) == [("primary", "ok"), ("keyword", "ok")]


# -- falling down the ladder ----------------------------------------------------------------------


def test_dead_primary_falls_to_secondary_and_says_why(rig: Rig) -> None:
    rig.primary.kill()
    res = rig.search(mode="dense")
    assert res.hits[0].id == "quasar"
    assert (res.served_by, res.degraded) == ("secondary", True)
    assert outcomes(res) == [("primary", "error"), ("secondary", "ok")]
    assert "connection refused" in res.attempts[0].detail
    assert res.skipped == (res.attempts[0],)


def test_open_breaker_skips_primary_without_calling_it(rig: Rig) -> None:
    rig.primary.kill()
    for _ in range(POLICY.failure_threshold):
        rig.search(mode="dense")
    assert rig.router.ladder.steps["primary"].breaker.state == "open"
    calls = rig.primary.calls["search"]
    for _ in range(20):
        res = rig.search(mode="dense")
        assert res.served_by == "secondary"
        assert res.attempts[0].outcome == "skipped"
        assert "circuit open" in res.attempts[0].detail
        assert res.attempts[0].latency_ms == 0.0
    assert rig.primary.calls["search"] == calls, "an open breaker must not call the dead store"


def test_half_open_probe_brings_the_primary_back_without_making_a_search_wait(rig: Rig) -> None:
    rig.primary.kill()
    for _ in range(POLICY.failure_threshold):
        rig.search(mode="dense")
    rig.primary.revive()
    assert rig.search(mode="dense").served_by == "secondary", "still open before the cooldown"
    rig.clock.advance(POLICY.recovery_timeout)
    primary = rig.router.ladder.steps["primary"]
    assert primary.breaker.state == "half_open"
    probing = rig.search(mode="dense")
    assert probing.served_by == "secondary", "the search that triggers the probe does not wait for it"
    assert (probing.attempts[0].outcome, probing.attempts[0].detail) == (
        "skipped",
        "breaker half-open: probe sent",
    )
    primary.join_probe(5)
    assert primary.breaker.state == "closed"
    res = rig.search(mode="dense")
    assert (res.served_by, res.degraded) == ("primary", False)


def test_failed_probe_reopens_the_breaker_for_another_cooldown(rig: Rig) -> None:
    rig.primary.kill()
    for _ in range(POLICY.failure_threshold):
        rig.search(mode="dense")
    rig.clock.advance(POLICY.recovery_timeout)
    calls = rig.primary.calls["search"]
    assert rig.search(mode="dense").served_by == "secondary"
    primary = rig.router.ladder.steps["primary"]
    primary.join_probe(5)
    assert rig.primary.calls["search"] == calls + 1, "exactly one probe"
    assert primary.breaker.state == "open"
    rig.search(mode="dense")
    assert rig.primary.calls["search"] == calls + 1


def test_a_half_open_step_with_nothing_after_it_is_probed_inline() -> None:
    rig = make_rig(order=["primary"])
    try:
        rig.primary.kill()
        for _ in range(POLICY.failure_threshold):
            with pytest.raises(LadderExhausted):
                rig.search(mode="dense")
        rig.primary.revive()
        rig.clock.advance(POLICY.recovery_timeout)
        assert rig.search(mode="dense").served_by == "primary", "the only step: this search is the probe"
    finally:
        rig.close()


def test_every_vector_step_down_falls_to_keyword_marked_degraded(rig: Rig) -> None:
    rig.primary.kill()
    rig.secondary.kill()
    res = rig.search(mode="dense")
    assert (res.served_by, res.degraded, res.stale) == ("keyword", True, False)
    assert res.hits[0].id == "quasar"
    assert outcomes(res) == [("primary", "error"), ("secondary", "error"), ("keyword", "ok")]


def test_degraded_keyword_answer_goes_through_the_same_keyword_call(rig: Rig) -> None:
    normal = rig.search(mode="keyword")
    rig.primary.kill()
    rig.secondary.kill()
    degraded = rig.search(mode="dense")
    assert degraded.ids == normal.ids
    assert [h.score for h in degraded.hits] == [h.score for h in normal.hits]


def test_keyword_mode_falls_back_to_vector_steps_when_keyword_is_down(rig: Rig) -> None:
    rig.keyword.kill()
    res = rig.search(mode="keyword")
    assert (res.served_by, res.degraded) == ("primary", True)
    assert outcomes(res) == [("keyword", "error"), ("primary", "ok")]


def test_hybrid_with_vector_steps_down_serves_keyword_only_degraded(rig: Rig) -> None:
    rig.primary.kill()
    rig.secondary.kill()
    res = rig.search()
    assert (res.served_by, res.degraded) == ("keyword", True)
    assert res.ids == rig.search(mode="keyword").ids, "the keyword half alone, cut to k"


def test_hybrid_with_keyword_down_serves_dense_only_degraded(rig: Rig) -> None:
    rig.keyword.kill()
    res = rig.search()
    assert (res.served_by, res.degraded) == ("primary", True)


def test_hybrid_with_primary_down_fuses_secondary_and_keyword(rig: Rig) -> None:
    rig.primary.kill()
    res = rig.search()
    assert (res.served_by, res.degraded) == ("secondary+keyword", True)


def test_every_step_down_raises_ladder_exhausted_listing_each_attempt(rig: Rig) -> None:
    for s in (rig.primary, rig.secondary, rig.keyword):
        s.kill()
    with pytest.raises(LadderExhausted, match="primary: error.*secondary: error.*keyword: error") as info:
        rig.search(mode="dense")
    assert isinstance(info.value, BackendUnavailable)
    assert [a.step for a in info.value.attempts] == ["primary", "secondary", "keyword"]
    assert rig.router.metrics.counter("vr_searches_failed_total").get(mode="dense") == 1


def test_vector_only_query_skips_keyword_steps_for_want_of_text(rig: Rig) -> None:
    rig.primary.kill()
    rig.secondary.kill()
    vec = rig.router.embeddings.embed(MODEL.version, ["luminous galactic"], "query")[0]
    with pytest.raises(LadderExhausted, match="keyword: skipped \\(no query text\\)"):
        rig.router.search(NS, vector=vec.tolist(), k=2)


class Switchable:
    """The test embedder, with an off switch that turns every call into a provider outage."""

    def __init__(self) -> None:
        self.inner = HashEmbedder.from_spec(MODEL)
        self.down = False

    def embed(self, texts, task):  # type: ignore[no-untyped-def]
        if self.down:
            raise BackendUnavailable("embedding provider down", backend="hash")
        return self.inner.embed(texts, task)


def test_embedding_outage_skips_vector_steps_and_keyword_answers() -> None:
    from tests.doubles.memory_keyword import MemoryKeyword

    embedder = Switchable()
    script = Script()
    ladder = Ladder(
        [
            VectorStep("primary", script.wrap_factory(NumpyBackend), policy=POLICY),
            KeywordStep("keyword", MemoryKeyword(), policy=POLICY),
        ]
    )
    router = Router(embeddings=EmbeddingService([MODEL], embedders={MODEL.version: embedder}), ladder=ladder)
    router.ingest(NS, DOCS)
    embedder.down = True
    try:
        res = router.search(NS, "luminous galactic quasar", mode="dense", k=2)
        assert (res.served_by, res.degraded) == ("keyword", True)
        assert outcomes(res) == [("embed", "error"), ("primary", "skipped"), ("keyword", "ok")]
        assert "embedding failed" in res.attempts[1].detail
        assert script.calls["search"] == 0
    finally:
        router.close()


# -- timeouts and rate limits ----------------------------------------------------------------------


def test_hung_primary_times_out_and_secondary_answers() -> None:
    rig = make_rig(policy=StepPolicy(timeout=0.05, retries=0, failure_threshold=2, write_attempts=1))
    try:
        rig.primary.hang(max_hang=5)
        res = rig.search(mode="dense")
        assert outcomes(res) == [("primary", "timeout"), ("secondary", "ok")]
        assert "no answer within 50 ms" in res.attempts[0].detail
    finally:
        rig.primary.revive()
        rig.close()


def test_short_retry_after_is_waited_out_inside_the_step() -> None:
    rig = make_rig(policy=StepPolicy(timeout=None, retries=1, max_retry_after=1.0, write_attempts=1))
    try:
        rig.primary.rate_limit(retry_after=0.5)
        calls = rig.primary.calls["search"]
        res = rig.search(mode="dense")
        assert rig.primary.calls["search"] == calls + 2, "one retry after the 429"
        assert 0.5 in rig.clock.sleeps, "the retry waited the server's Retry-After on the step clock"
        assert outcomes(res) == [("primary", "rate_limited"), ("secondary", "ok")]
    finally:
        rig.close()


def test_long_retry_after_holds_the_step_back_until_the_store_allows_calls() -> None:
    rig = make_rig(policy=StepPolicy(timeout=None, retries=1, max_retry_after=1.0, failure_threshold=50))
    try:
        rig.primary.rate_limit(retry_after=30.0)
        first = rig.search(mode="dense")
        assert first.attempts[0].outcome == "rate_limited"
        assert "retry after 30s" in first.attempts[0].detail
        assert rig.clock.sleeps == [], "a 30 s Retry-After is not slept inside a search"
        calls = rig.primary.calls["search"]
        held = rig.search(mode="dense")
        assert held.attempts[0].outcome == "skipped"
        assert "rate limited" in held.attempts[0].detail
        assert rig.primary.calls["search"] == calls
        rig.primary.revive()
        rig.clock.advance(30.0)
        assert rig.search(mode="dense").served_by == "primary"
    finally:
        rig.close()


def test_flaky_primary_is_rescued_by_its_own_retry() -> None:
    rig = make_rig(policy=StepPolicy(timeout=None, retries=1, write_attempts=1))
    try:
        rig.primary.flaky(every=2)
        served = {rig.search(mode="dense").served_by for _ in range(6)}
        assert served == {"primary"}
    finally:
        rig.close()


# -- caller errors never walk ---------------------------------------------------------------------


class Picky(NumpyBackend):
    """A store that cannot express range filters."""

    name = "picky"

    def check_filter(self, filter: Filter) -> None:
        if any(n.op == "range" for n in filter.walk()):
            raise UnsupportedFilter(self.name, "a range condition")

    def search(self, namespace, vector, k, filter=None):  # type: ignore[no-untyped-def]
        if filter is not None:
            self.check_filter(filter)
        return super().search(namespace, vector, k, filter)


def test_unsupported_filter_on_the_answering_step_raises_without_falling_back() -> None:
    script = Script()
    ladder = Ladder(
        [
            VectorStep("primary", script.wrap_factory(Picky), policy=POLICY),
            VectorStep("secondary", NumpyBackend, policy=POLICY),
        ]
    )
    router = Router(embeddings=EmbeddingService([MODEL]), ladder=ladder)
    router.ingest(NS, DOCS)
    with pytest.raises(UnsupportedFilter, match="picky cannot express a range"):
        router.search(NS, "galaxy", filter=Range("year", gte=2021))
    assert router.ladder.steps["primary"].breaker.state == "closed"
    assert router.ladder.steps["secondary"].stats.summary()[0] == 0, "the fallback was never tried"
    router.close()


def test_a_fallback_that_cannot_express_the_filter_rejects_it_up_front() -> None:
    ladder = Ladder(
        [VectorStep("primary", NumpyBackend, policy=POLICY), VectorStep("secondary", Picky, policy=POLICY)]
    )
    router = Router(embeddings=EmbeddingService([MODEL]), ladder=ladder)
    router.ingest(NS, DOCS)
    with pytest.raises(UnsupportedFilter):
        router.search(NS, "galaxy", filter=Range("year", gte=2021))
    assert router.ladder.steps["primary"].stats.summary()[0] == 0, "rejected before any store was called"
    assert router.search(NS, "galaxy", filter=Eq("kind", "space")).served_by == "primary"
    router.close()


def test_wrong_dimension_and_unknown_namespace_raise_before_any_step(rig: Rig) -> None:
    before = {n: s.stats.summary()[0] for n, s in rig.router.ladder.steps.items()}
    with pytest.raises(DimensionMismatch, match="7 dimensions but 64"):
        rig.router.search(NS, vector=[0.1] * 7)
    with pytest.raises(NamespaceNotFound):
        rig.router.search("acme:nope", "x")
    assert {n: s.stats.summary()[0] for n, s in rig.router.ladder.steps.items()} == before
    assert rig.primary.calls["search"] == 0


# -- per-namespace ladders ------------------------------------------------------------------------


def test_a_namespace_can_walk_its_own_list_of_steps() -> None:
    rig = make_rig(namespaces={NS: ["secondary", "keyword"]})
    try:
        res = rig.search(mode="dense")
        assert (res.served_by, res.degraded) == ("secondary", False)
        assert rig.primary.calls["search"] == 0
        assert rig.primary.calls["upsert"] == 0, "writes go to the namespace's own stores only"
    finally:
        rig.close()


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (["keyword", "primary"], "list vector stores first"),
        (["primary", "nope"], "unknown step 'nope'"),
        (["primary", "primary"], "listed twice"),
        (["keyword"], "at least one vector store"),
        ([], "at least one step"),
    ],
)
def test_ladder_orders_are_validated_with_the_fix(order: list[str], message: str) -> None:
    from vectorrouter import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        make_rig(order=order, ingest=False)


# -- writes and reads -----------------------------------------------------------------------------


def test_ingest_writes_every_store_and_reports_one_that_failed(rig: Rig) -> None:
    rig.secondary.kill()
    extra = DOCS[0].__class__(id="nova", text="a nova is a sudden bright star")
    with pytest.raises(
        BackendUnavailable,
        match="ingest of acme:docs:hash-64 failed on secondary.*succeeded on primary, keyword",
    ):
        rig.router.ingest(NS, [extra])
    assert rig.router.count(NS) == 5, "the primary has it"
    assert rig.router.search(NS, "sudden bright star nova", mode="keyword", k=1).ids == ["nova"]
    rig.secondary.revive()
    rig.router.ingest(NS, [extra])  # idempotent re-run
    rig.primary.kill()
    assert rig.router.search(NS, "sudden bright nova star", mode="dense", k=1).ids == ["nova"]


def test_reads_fall_back_to_the_next_vector_store(rig: Rig) -> None:
    rig.primary.kill()
    assert rig.router.count(NS) == 4
    assert [r.id for r in rig.router.get(NS, ["apple"])] == ["apple"]


def test_deletes_reach_every_store(rig: Rig) -> None:
    assert rig.router.delete(NS, ["quasar"]) == 1
    rig.primary.kill()
    assert "quasar" not in rig.search(mode="dense").ids
    rig.secondary.kill()
    assert "quasar" not in rig.search(mode="dense").ids


# -- observability --------------------------------------------------------------------------------


def test_health_reports_state_error_rate_and_latency(rig: Rig) -> None:
    rig.search(mode="dense")
    rig.primary.kill()
    for _ in range(3):
        rig.search(mode="dense")
    health = {h.name: h for h in rig.router.health()}
    p = health["primary"]
    assert (p.state, p.calls, p.errors, p.skipped, p.times_opened) == ("open", 3, 2, 1, 1)
    assert p.error_rate == pytest.approx(2 / 3)
    assert p.p50_ms is not None
    assert p.p50_ms > 0
    assert p.retry_in == pytest.approx(POLICY.recovery_timeout)
    assert "connection refused" in p.last_error
    assert health["secondary"].state == "closed"
    assert health["secondary"].calls == 3
    assert p.store == "numpy"
    rig.clock.advance(120)
    assert {h.name: h for h in rig.router.health()}["primary"].calls == 0, "the window forgets old calls"


def test_metrics_count_attempts_searches_and_breaker_transitions(rig: Rig) -> None:
    rig.primary.kill()
    for _ in range(3):
        rig.search(mode="dense")
    m = rig.router.metrics
    assert m.counter("vr_step_attempts_total").get(step="primary", outcome="error") == 2
    assert m.counter("vr_step_attempts_total").get(step="primary", outcome="skipped") == 1
    assert (
        m.counter("vr_searches_total").get(mode="dense", served_by="secondary", degraded=True, stale=False)
        == 3
    )
    assert m.gauge("vr_breaker_state").get(step="primary") == 2
    assert m.counter("vr_breaker_transitions_total").get(step="primary", to="open") == 1
    assert m.histogram("vr_step_latency_ms").count(step="secondary") == 3
    text = m.render_prometheus()
    assert "# TYPE vr_breaker_state gauge" in text
    assert 'vr_breaker_state{step="primary"} 2.0' in text
    assert 'vr_step_latency_ms_bucket{step="secondary",le="+Inf"} 3' in text


def test_degraded_answers_and_breaker_changes_are_logged(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.primary.kill()
    with caplog.at_level(logging.INFO, logger="vectorrouter.ladder"):
        for _ in range(2):
            rig.search(mode="dense")
    messages = [r.getMessage() for r in caplog.records]
    assert any("served by secondary (degraded)" in m and "primary=error" in m for m in messages)
    assert any("breaker of step primary: closed -> open" in m for m in messages)


def test_router_without_a_ladder_names_steps_after_its_stores() -> None:
    from tests.doubles.memory_keyword import MemoryKeyword

    router = Router(
        embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend, keyword=MemoryKeyword()
    )
    router.ingest(NS, DOCS)
    assert [h.name for h in router.health()] == ["numpy", "memkw"]
    assert router.search(NS, "quasar").served_by == "numpy+memkw"
    router.close()


def test_bulkhead_full_passes_the_step_over() -> None:
    clock = FakeClock()
    script = Script()
    policy = StepPolicy(timeout=None, retries=0, max_concurrent=1, max_wait=0.0)
    ladder = Ladder(
        [
            VectorStep("primary", script.wrap_factory(NumpyBackend), policy=policy, clock=clock),
            VectorStep("secondary", NumpyBackend, policy=policy, clock=clock),
        ]
    )
    router = Router(embeddings=EmbeddingService([MODEL]), ladder=ladder)
    router.ingest(NS, DOCS)
    bulkhead = ladder.steps["primary"].bulkhead  # type: ignore[attr-defined]
    # another caller holds the only slot until released
    inside, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=bulkhead.call, args=(lambda: (inside.set(), release.wait(10)),))
    holder.start()
    assert inside.wait(10)
    try:
        res = router.search(NS, "quasar", mode="dense")
        assert outcomes(res) == [("primary", "error"), ("secondary", "ok")]
        assert "bulkhead full" in res.attempts[0].detail
        assert ladder.steps["primary"].breaker.state == "closed", "saturation is not an outage"
    finally:
        release.set()
        holder.join(10)
        router.close()
