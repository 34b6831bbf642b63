"""Erasure at scale: one user with 10,000 chunks across 3 namespaces and 2 model versions.

Runs on the default SQLite compliance database and on PostgreSQL. The time is printed, never asserted.
"""

import time

import pytest

from vectorrouter import Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.compliance import Compliance, Database, Keyring, MetadataAllowlist, NamespacePolicy
from vectorrouter.compliance.testing import MemoryKeyword
from vectorrouter.embeddings import EmbeddingService, ModelSpec

CHUNKS = 10_000
NAMESPACES = ["acme:docs:h32", "acme:chat:h32", "acme:docs:h64", "globex:kb:h32", "globex:kb:h64"]
# 3 logical namespaces (acme:docs, acme:chat, globex:kb) over 2 model versions (h32, h64): 5 versioned ones


def _erase_10k(database: Database, capsys: pytest.CaptureFixture[str], label: str) -> None:
    keyword = MemoryKeyword()
    router = Router(
        embeddings=EmbeddingService([ModelSpec("h32", "hash", 32), ModelSpec("h64", "hash", 64)]),
        vector_factory=NumpyBackend,
        keyword=keyword,
        default_model="h32",
        batch_size=500,
    )
    compliance = Compliance(
        keyring=Keyring({"k1": b"scale-test-secret-of-32-bytes-or-more"}),
        allowlist=MetadataAllowlist({"*": NamespacePolicy({"part"})}),
        database=database,
    ).attach(router)
    per_ns = CHUNKS // len(NAMESPACES)
    started = time.perf_counter()
    for ns in NAMESPACES:
        router.ingest(
            ns,
            [
                {
                    "id": f"{ns}/doc-{i // 20}#{i % 20}",
                    "text": f"chunk {i} of alice's file",
                    "metadata": {"user_id": "alice", "part": i % 20},
                }
                for i in range(per_ns)
            ]
            + [
                {"id": f"{ns}/bob-{i}", "text": f"bob chunk {i}", "metadata": {"user_id": "bob"}}
                for i in range(50)
            ],
        )
    ingest_s = time.perf_counter() - started
    assert sum(router.count(ns, {"user_id": "alice"}) for ns in NAMESPACES) == CHUNKS

    started = time.perf_counter()
    report = router.forget("alice")
    forget_s = time.perf_counter() - started

    assert report.ok, report.summary()
    places = {p.place: p for p in report.places}
    # the same per_ns texts in every namespace, cached once per model version (h32 and h64)
    assert places["embedding-cache"].deleted == 2 * per_ns
    # vector + keyword records, vault rows + the user, embedding-cache entries
    assert report.deleted == 2 * CHUNKS + CHUNKS + 1 + 2 * per_ns
    for ns in NAMESPACES:
        assert router.count(ns, {"user_id": "alice"}) == 0
        assert keyword.count(ns) == 50
        assert router.count(ns, {"user_id": "bob"}) == 50
    assert compliance.audit.verify().ok
    with capsys.disabled():
        print(
            f"\n[{label}] ingest of {CHUNKS + 250} chunks: {ingest_s:.1f}s; "
            f"forget of {CHUNKS} chunks in {len(NAMESPACES)} namespaces: {forget_s:.2f}s "
            f"({len(report.places)} places, verified)"
        )
    compliance.close()
    router.close()


def test_forget_of_10k_chunks_across_namespaces_and_versions_verifies_on_sqlite(
    tmp_path: "pytest.TempPathFactory", capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database.connect(f"sqlite:///{tmp_path}/compliance.sqlite")  # type: ignore[operator]
    _erase_10k(db, capsys, "sqlite")


def test_forget_of_10k_chunks_across_namespaces_and_versions_verifies_on_postgres(
    pg_database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _erase_10k(pg_database, capsys, "postgresql")
