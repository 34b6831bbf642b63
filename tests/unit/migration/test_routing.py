"""The router seam: routed searches by arm, the parity gate, rollback, the adapter arm, feedback, shadows."""

import numpy as np
import pytest

from vectorrouter import Router
from vectorrouter.errors import ConfigurationError, InvalidRecord
from vectorrouter.migration import (
    Backfill,
    FileStateStore,
    Migration,
    MigrationResolver,
    MigrationState,
    ProcrustesAdapter,
    QualityMonitor,
    Schedule,
)

from .conftest import DOCS, NEW, OLD, CountingEmbedder, SwitchableBackend


def rolled_out(
    store: FileStateStore, router: Router, *, pct_step: int = 3, parity: bool = True
) -> MigrationState:
    st = MigrationState("acme:docs", OLD.version, NEW.version, schedule=Schedule(min_dwell_seconds=0))
    Backfill(router, store, st).run()
    st.phase, st.step = "rolling_out", pct_step
    if not parity:
        st.parity = {"passed": False}
    store.save(st)
    return st


def test_full_rollout_serves_the_new_version_once_parity_passed(
    router: Router, store: FileStateStore, resolver: MigrationResolver
) -> None:
    rolled_out(store, router)
    result = router.search("acme:docs", "violins", k=3, routing_key="u1")
    assert result.namespace == "acme:docs:hash-48"
    assert "violins" in result.hits[0].text
    # an explicit version is never rerouted
    assert (
        router.search("acme:docs:hash-32", "violins", k=3, routing_key="u1").namespace == "acme:docs:hash-32"
    )


def test_no_search_reaches_a_version_that_has_not_passed_parity(
    router: Router, store: FileStateStore, resolver: MigrationResolver
) -> None:
    rolled_out(store, router, parity=False)
    served = {router.search("acme:docs", "ice", routing_key=f"u{i}").namespace for i in range(50)}
    assert served == {"acme:docs:hash-32"}


def test_rollback_flag_sends_the_next_search_to_the_old_version_while_the_new_store_is_down(
    router: Router, store: FileStateStore, resolver: MigrationResolver, backends: dict[int, SwitchableBackend]
) -> None:
    rolled_out(store, router)
    assert router.search("acme:docs", "ice", routing_key="u1").namespace == "acme:docs:hash-48"
    backends[48].down = True
    other_process_store = FileStateStore(store.directory)  # the flag is flipped from somewhere else
    Migration(router, other_process_store, "acme:docs").rollback()
    calls_before = backends[48].calls
    result = router.search("acme:docs", "ice", routing_key="u1")
    assert result.namespace == "acme:docs:hash-32"
    assert backends[48].calls == calls_before  # the down store is not even tried
    Migration(router, other_process_store, "acme:docs").rollback(on=False)
    backends[48].down = False
    assert router.search("acme:docs", "ice", routing_key="u1").namespace == "acme:docs:hash-48"


def test_partial_rollout_is_sticky_per_routing_key(
    router: Router, store: FileStateStore, resolver: MigrationResolver
) -> None:
    rolled_out(store, router, pct_step=2)  # 50%
    first = {f"u{i}": router.search("acme:docs", "tax", routing_key=f"u{i}").namespace for i in range(200)}
    again = {f"u{i}": router.search("acme:docs", "tax", routing_key=f"u{i}").namespace for i in range(200)}
    assert first == again
    assert 60 < sum(ns.endswith("hash-48") for ns in first.values()) < 140


def test_adapter_arm_embeds_with_the_new_model_and_searches_the_old_index(
    router: Router,
    store: FileStateStore,
    resolver: MigrationResolver,
    new_embedder: CountingEmbedder,
    tmp_path,
) -> None:
    texts = [d.text for d in DOCS]
    new = router.embeddings.embed(NEW.version, texts, "document")
    old = router.embeddings.embed(OLD.version, texts, "document")
    path = ProcrustesAdapter.fit(new, old).save(tmp_path / "adapter.npz")
    st = MigrationState(
        "acme:docs", OLD.version, NEW.version, schedule=Schedule(arm="adapter"), adapter_path=str(path)
    )
    st.phase, st.step = "rolling_out", 3
    store.save(st)
    new_embedder.texts.clear()
    result = router.search("acme:docs", "glaciers and ice", k=3, routing_key="u9", mode="dense")
    assert result.namespace == "acme:docs:hash-32"  # the old index answers…
    assert new_embedder.texts == ["glaciers and ice"]  # …a query embedded by the new model
    assert "glaciers" in result.hits[0].text


def test_feedback_is_credited_to_the_arm_that_served_the_query(
    router: Router, store: FileStateStore, resolver: MigrationResolver, monitor: QualityMonitor
) -> None:
    rolled_out(store, router, pct_step=2)
    results = [router.search("acme:docs", "rockets", routing_key=f"u{i}") for i in range(40)]
    for r in results:
        router.feedback(r.query_id, r.hits[0].id)  # type: ignore[arg-type]
    summary = monitor.summary()
    by_arm = {arm: s["clicks"] for arm, s in summary.items()}
    served = {"old": 0, "new": 0}
    for r in results:
        served["new" if r.namespace.endswith("hash-48") else "old"] += 1
    assert by_arm == {k: v for k, v in served.items() if v}
    with pytest.raises(InvalidRecord, match="unknown query_id"):
        router.feedback("nope", "d001")


def test_feedback_without_a_resolver_says_how_to_attach_one(router: Router) -> None:
    with pytest.raises(ConfigurationError, match="MigrationResolver"):
        router.feedback("q", "d")


def test_shadow_queries_record_overlap_and_rank_correlation_per_arm(
    router: Router, store: FileStateStore
) -> None:
    monitor = QualityMonitor(k=5, shadow_rate=1.0)
    MigrationResolver(store, monitor=monitor, publish_every=0.0).attach(router)
    rolled_out(store, router, pct_step=2)
    for i in range(20):
        router.search("acme:docs", "apples and pears", k=5, routing_key=f"u{i}")
    monitor.drain()
    summary = monitor.summary()
    compared = sum(s["shadow_compared"] for arm, s in summary.items() if "shadow" not in arm)
    assert compared == 20
    for arm in ("old", "new"):
        s = summary[arm]
        assert 0.0 <= s["overlap_sum"] / s["shadow_compared"] <= 1.0
    assert summary["new (shadow)"]["searches"] + summary["old (shadow)"]["searches"] == 20
    published = store.quality("acme:docs")  # the resolver publishes this process's figures as it goes
    assert (
        sum(
            arm["searches"]
            for proc in published.values()
            for name, arm in proc.items()
            if "shadow" not in name
        )
        >= 19
    )


def test_an_unreadable_state_store_degrades_to_the_active_version(
    router: Router, store: FileStateStore
) -> None:
    class Broken(FileStateStore):
        def snapshot(self, logical: str):
            from vectorrouter.errors import BackendUnavailable

            raise BackendUnavailable("redis down")

    rolled_out(store, router)
    resolver = MigrationResolver(Broken(store.directory))
    router.resolver = resolver
    assert router.search("acme:docs", "ice", routing_key="u1").namespace == "acme:docs:hash-32"
    assert resolver.store_errors == 1


def test_migration_steps_gate_on_parity_dwell_and_finish(router: Router, store: FileStateStore) -> None:
    m = Migration(router, store, "acme:docs")
    plan = m.plan(NEW.version)
    assert (plan.documents, plan.target_index.name, plan.source_index.name) == (
        60,
        "vr-48d-cosine",
        "vr-32d-cosine",
    )
    with pytest.raises(ConfigurationError, match="no migration"):
        m.advance()
    m.start(NEW.version, schedule=Schedule(min_dwell_seconds=60))
    assert m.advance(now=1000.0).split().new == 5.0
    with pytest.raises(ConfigurationError, match="wait, or pass --force"):
        m.advance(now=1010.0)
    assert m.advance(now=1061.0).split().new == 25.0
    with pytest.raises(ConfigurationError, match="100%"):
        m.finish()
    m.advance(force=True)
    m.advance(force=True)
    with pytest.raises(ConfigurationError, match="last step"):
        m.advance(force=True)
    m.finish()
    assert router.resolve("acme:docs").model_version == NEW.version
    assert m.state().phase == "finished"


def test_advance_refuses_when_parity_failed(router: Router, store: FileStateStore) -> None:
    m = Migration(router, store, "acme:docs")
    m.start(NEW.version)
    st = m.state()
    st.parity = {"passed": False}
    store.save(st)
    with pytest.raises(ConfigurationError, match="parity"):
        m.advance()


def test_adapter_vectors_keep_results_close_to_the_old_model(router: Router) -> None:
    texts = [d.text for d in DOCS]
    new = router.embeddings.embed(NEW.version, texts, "document")
    old = router.embeddings.embed(OLD.version, texts, "document")
    adapter = ProcrustesAdapter.fit(new, old)
    mapped = adapter.transform(new)
    assert float(np.mean(np.sum(mapped * old, axis=1))) > float(np.mean(np.sum(new[:, :32] * old, axis=1)))


def test_a_precomputed_vector_is_only_routed_where_its_width_fits(
    router: Router, store: FileStateStore, resolver: MigrationResolver
) -> None:
    rolled_out(store, router)
    old_vec = router.embeddings.embed(OLD.version, ["violins"], "query")[0].tolist()
    new_vec = router.embeddings.embed(NEW.version, ["violins"], "query")[0].tolist()
    assert router.search("acme:docs", vector=old_vec, routing_key="u1").namespace == "acme:docs:hash-32"
    assert router.search("acme:docs", vector=new_vec, routing_key="u1").namespace == "acme:docs:hash-48"


def test_a_second_process_sharing_the_catalog_file_sees_and_mirrors_into_the_new_version(
    tmp_path, store: FileStateStore
) -> None:
    from vectorrouter import EmbeddingService, Record
    from vectorrouter.routing import Catalog

    from .conftest import SwitchableBackend

    shared: dict[int, SwitchableBackend] = {}

    def factory(spec):
        return shared.setdefault(spec.dimension, SwitchableBackend(spec))

    def make() -> Router:
        r = Router(
            embeddings=EmbeddingService([OLD, NEW]),
            vector_factory=factory,
            catalog=Catalog(tmp_path / "catalog.sqlite"),
            default_model=OLD.version,
        )
        MigrationResolver(store).attach(r)
        return r

    serving, migrating = make(), make()
    serving.ingest("acme:docs", DOCS[:10])
    Migration(migrating, store, "acme:docs").start(NEW.version)  # registers the new version in its catalog
    serving.ingest("acme:docs", [Record(id="late", text="written by the serving process")])
    assert serving.get("acme:docs:hash-48", ["late"])[0].text == "written by the serving process"
    assert serving.count("acme:docs:hash-48") == 11


class ScriptedClock:
    """Wall-clock seconds that move only when the test says so."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def gated_migration(
    router: Router, store: FileStateStore, *, new_arm_ms: float = 2.0, dwell: float = 60.0
) -> tuple[Migration, QualityMonitor, ScriptedClock]:
    """A migration at 5% whose monitor compares inline and reads scripted latencies (old arm: 2 ms).

    Nothing here depends on threads finishing in time or on how busy the machine is: the shadow comparison has
    run when ``search`` returns, and latency is what the test says, so the gate's verdict is the same every run.
    """

    def latency(result) -> float:  # type: ignore[no-untyped-def]
        return new_arm_ms if result.namespace.endswith("hash-48") else 2.0

    monitor = QualityMonitor(k=5, shadow_rate=1.0, run_shadow=QualityMonitor.inline, latency_of=latency)
    MigrationResolver(store, monitor=monitor, publish_every=0.0).attach(router)
    clock = ScriptedClock()
    m = Migration(router, store, "acme:docs", clock=clock)
    m.start(NEW.version, schedule=Schedule(min_dwell_seconds=dwell))
    m.advance()  # 5%
    return m, monitor, clock


def test_auto_advance_waits_for_traffic_and_agreement_then_advances(
    router: Router, store: FileStateStore
) -> None:
    from vectorrouter.migration import QualityGate

    m, monitor, clock = gated_migration(router, store)
    gate = QualityGate(min_searches=3, min_overlap=0.05, min_shadow_compared=10)
    clock.now += 61  # the dwell is over; only traffic is missing
    advanced, reasons = m.auto_advance(gate)
    assert not advanced
    assert "needs 3" in reasons[0]
    for i in range(400):
        router.search("acme:docs", "rockets and orbits", k=5, routing_key=f"user-{i}")
    monitor.publish(store, "acme:docs")
    new_served = monitor.summary()["new"]["searches"]
    assert 3 <= new_served < 400  # a sticky 5% of 400 users, the same users every run
    clock.now -= 30  # the same traffic, but the step has not run its dwell yet
    assert m.auto_advance(gate) == (False, ["step has run 31s of its 60s"])
    clock.now += 30
    advanced, reasons = m.auto_advance(gate)
    assert advanced, reasons
    assert m.state().split().new == 25.0
    assert m.state().step_started_at == clock.now
    clock.now += 61
    strict = QualityGate(min_searches=3, min_overlap=1.01, min_shadow_compared=10)
    advanced, reasons = m.auto_advance(strict)
    assert not advanced
    assert "overlap@k" in reasons[0]
    m.rollback()
    assert m.auto_advance(gate) == (False, ["the rollback flag is set"])


def test_auto_advance_holds_a_candidate_slower_than_the_latency_gate_allows(
    router: Router, store: FileStateStore
) -> None:
    from vectorrouter.migration import QualityGate

    m, monitor, clock = gated_migration(router, store, new_arm_ms=8.0)
    for i in range(400):
        router.search("acme:docs", "rockets and orbits", k=5, routing_key=f"user-{i}")
    monitor.publish(store, "acme:docs")
    clock.now += 61
    gate = QualityGate(min_searches=3, min_overlap=0.05, min_shadow_compared=10, max_latency_ratio=1.5)
    advanced, reasons = m.auto_advance(gate)
    assert not advanced
    assert len(reasons) == 1
    assert reasons[0].startswith("p95 ")
    assert "exceeds 1.5x the old arm's" in reasons[0]
    assert m.state().split().new == 5.0
    relaxed = QualityGate(min_searches=3, min_overlap=0.05, min_shadow_compared=10, max_latency_ratio=5.0)
    assert m.auto_advance(relaxed) == (True, [])


def test_labelled_set_ndcg_is_measured_per_arm_and_kept_for_status(
    router: Router, store: FileStateStore, tmp_path
) -> None:
    texts = [d.text for d in DOCS]
    path = ProcrustesAdapter.fit(
        router.embeddings.embed(NEW.version, texts, "document"),
        router.embeddings.embed(OLD.version, texts, "document"),
    ).save(tmp_path / "a.npz")
    m = Migration(router, store, "acme:docs")
    m.start(NEW.version, adapter_path=str(path))
    queries = {"q1": "violins and cellos", "q2": "glaciers and ice", "q3": "unjudged"}
    qrels = {
        "q1": {d.id: 1 for d in DOCS if "violins" in d.text},
        "q2": {d.id: 1 for d in DOCS if "glaciers" in d.text},
    }
    scores = m.evaluate(queries, qrels, k=5)
    assert set(scores) == {"old", "new", "adapter"}
    assert all(v > 0.5 for v in scores.values()), scores  # every arm finds the topic's documents
    assert m.state().quality["ndcg"]["queries"] == 2


def test_a_lost_dual_write_shuts_the_parity_gate_until_the_backfill_repairs_it(
    router: Router, store: FileStateStore, resolver: MigrationResolver, backends: dict[int, SwitchableBackend]
) -> None:
    from vectorrouter import Record

    m = Migration(router, store, "acme:docs")
    m.start(NEW.version, schedule=Schedule(min_dwell_seconds=0))
    m.advance()
    m.advance()  # 25%
    users = [f"u{i}" for i in range(40)]
    on_new = [
        u for u in users if router.search("acme:docs", "ice", routing_key=u).namespace.endswith("hash-48")
    ]
    assert on_new
    backends[48].down = True
    router.ingest("acme:docs", [Record(id="d010", text="rewritten while the new store was down")])
    backends[48].down = False  # back up, but it holds the old text of d010
    assert not m.state().parity_passed
    assert "dual writes" in m.state().parity["reason"]  # type: ignore[index]
    assert {router.search("acme:docs", "ice", routing_key=u).namespace for u in on_new} == {
        "acme:docs:hash-32"
    }
    with pytest.raises(ConfigurationError, match="dual writes"):
        m.advance()
    report = m.start(NEW.version)  # the repair run
    assert report.parity is not None
    assert report.parity.passed
    assert {router.search("acme:docs", "ice", routing_key=u).namespace for u in on_new} == {
        "acme:docs:hash-48"
    }
    assert router.get("acme:docs:hash-48", ["d010"])[0].text == "rewritten while the new store was down"
    assert m.advance().split().new == 50.0
