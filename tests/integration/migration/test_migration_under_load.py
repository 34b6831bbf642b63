"""A whole migration while searches and ingests keep running: nothing fails, nothing unverified is served."""

import random
import threading
import time
from pathlib import Path

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.embeddings import LsaEmbedder
from vectorrouter.migration import (
    Backfill,
    FileStateStore,
    Migration,
    MigrationResolver,
    QualityMonitor,
    Schedule,
)

TOPICS = ["apples pears orchards", "rockets orbits launch", "violins cellos music", "glaciers ice melt"]
DOCS = [Record(id=f"d{i}", text=f"note {i} on {TOPICS[i % 4]} detail{i % 9}") for i in range(400)]


def test_migration_under_continuous_search_load(tmp_path: Path) -> None:
    lsa_path = LsaEmbedder.fit([d.text for d in DOCS], dimensions=12, seed=0).save(tmp_path / "lsa-12.npz")
    old = ModelSpec("hash-64", "hash", 64)
    new = ModelSpec("lsa-12", "lsa", 12, options={"path": str(lsa_path)})
    router = Router(
        embeddings=EmbeddingService([old, new]), vector_factory=NumpyBackend, default_model="hash-64"
    )
    router.ingest("acme:docs", DOCS)
    store = FileStateStore(tmp_path / "migrations")
    monitor = QualityMonitor(k=5)
    router.resolver = MigrationResolver(store, monitor=monitor)

    log: list[tuple[float, float, str]] = []  # (search start, search end, namespace that served it)
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            started = time.monotonic()
            try:
                result = router.search(
                    "acme:docs", rng.choice(TOPICS), k=5, routing_key=f"user-{rng.randrange(500)}"
                )
                log.append((started, time.monotonic(), result.namespace))
            except BaseException as exc:
                errors.append(exc)

    def writer() -> None:
        for i in range(40):  # all of them, even after the searchers stop: the final parity counts them
            router.ingest("acme:docs", [Record(id=f"late{i}", text=f"late note {i} on {TOPICS[i % 4]}")])
            time.sleep(0.005)

    threads = [threading.Thread(target=searcher, args=(s,)) for s in range(3)] + [
        threading.Thread(target=writer)
    ]
    for t in threads:
        t.start()
    try:
        m = Migration(router, store, "acme:docs")
        report = m.start("lsa-12", schedule=Schedule(min_dwell_seconds=0), batch_size=50)
        assert report.parity is not None
        assert report.parity.passed, report.parity
        first_new_allowed = time.monotonic()
        for _ in range(4):
            m.advance()
            time.sleep(0.05)
        before_rollback = len(log)
        m.rollback()
        flipped = time.monotonic()
        time.sleep(0.1)
        lifting = time.monotonic()
        m.rollback(on=False)
        time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)

    assert errors == []
    served_new = [t for t, _, ns in log if ns == "acme:docs:lsa-12"]
    assert served_new, "the new version served part of the traffic once rolled out"
    assert min(served_new) >= first_new_allowed  # nothing reached it before parity passed
    during = [ns for start, end, ns in log[before_rollback:] if flipped <= start and end < lifting]
    assert during
    assert set(during) == {"acme:docs:hash-64"}

    # the writer's late documents reached the new version too (dual writes), so parity still holds
    final = Migration(router, store, "acme:docs")
    recheck = Backfill(router, store, final.state()).check_parity()
    assert recheck.passed, recheck
    assert recheck.source_count == len(DOCS) + 40
    monitor.publish(store, "acme:docs", process="test")
    status = final.status()
    assert status["state"].phase == "rolling_out"
    assert status["quality"]["new"]["searches"] == len(served_new)
    final.finish()
    assert router.search("acme:docs", "rockets").namespace == "acme:docs:lsa-12"
    router.close()
