"""Qdrant Edge: the conformance kit (in memory, on disk, after an HNSW build) plus what is particular to it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vectorrouter.backends import IndexSpec, make_vector_factory
from vectorrouter.backends.qdrant_edge import EdgeOptions, QdrantEdgeBackend, map_qdrant_edge_error
from vectorrouter.errors import (
    BackendUnavailable,
    CallerError,
    ConfigurationError,
    DimensionMismatch,
    InvalidRecord,
    Timeout,
    UnsupportedFilter,
)
from vectorrouter.filters import Eq, Range
from vectorrouter.testing import VectorBackendConformance, conformance_records
from vectorrouter.types import Record

NS = "acme:docs:v1"
SPEC = IndexSpec.for_dimension(16)
#: Tiny thresholds so a real HNSW index is built over a few hundred 16-d vectors.
TINY_INDEX = {"indexing_threshold_kb": 1, "full_scan_threshold_kb": 1, "hnsw_ef": 128}


class TestQdrantEdgeInMemory(VectorBackendConformance):
    @pytest.fixture
    def backend(self) -> Iterator[QdrantEdgeBackend]:
        b = QdrantEdgeBackend(IndexSpec.for_dimension(self.dimension))
        yield b
        b.close()


class TestQdrantEdgePersistent(VectorBackendConformance):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[QdrantEdgeBackend]:
        self.path = tmp_path / "idx"
        b = QdrantEdgeBackend(IndexSpec.for_dimension(self.dimension), self.path)
        yield b
        b.close()

    def reopen(self, backend: QdrantEdgeBackend) -> QdrantEdgeBackend:
        backend.close()
        return QdrantEdgeBackend(IndexSpec.for_dimension(self.dimension), self.path)


class TestQdrantEdgeAfterIndexBuild(VectorBackendConformance):
    """The same contract once an HNSW build has been swapped in (and survives a reopen).

    Filtered candidate sets this small are scored exactly by Qdrant's planner (full-scan threshold), as
    they would be in production; the graph path itself is exercised by the background-build tests below.
    """

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[QdrantEdgeBackend]:
        self.path = tmp_path / "idx"
        b = QdrantEdgeBackend(
            IndexSpec.for_dimension(self.dimension),
            self.path,
            EdgeOptions(auto_index=False, indexing_threshold_kb=1),
        )
        yield b
        b.close()

    @pytest.fixture
    def loaded(self, backend: QdrantEdgeBackend, records: list[Record]) -> QdrantEdgeBackend:
        backend.upsert("tenant-a:docs:v1", records)
        backend.upsert("tenant-b:docs:v1", records[:5])
        backend.build_index()
        assert backend.index_status()["indexed_vectors"] > 0
        return backend

    def reopen(self, backend: QdrantEdgeBackend) -> QdrantEdgeBackend:
        backend.close()
        return QdrantEdgeBackend(IndexSpec.for_dimension(self.dimension), self.path)


def _records(n: int, seed: int = 0, prefix: str = "r") -> list[Record]:
    vecs = np.random.default_rng(seed).normal(size=(n, 16)).astype(np.float32)
    return [
        Record(id=f"{prefix}{i}", text=f"t{i}", metadata={"i": i}, vector=vecs[i].tolist()) for i in range(n)
    ]


@pytest.fixture
def edge() -> Iterator[QdrantEdgeBackend]:
    b = QdrantEdgeBackend(SPEC)
    yield b
    b.close()


def test_dot_metric_scores_are_raw_dot_products_best_first() -> None:
    b = QdrantEdgeBackend(IndexSpec.for_dimension(3, "dot"))
    try:
        b.upsert(NS, [Record(id="long", vector=[4.0, 0, 0]), Record(id="aligned", vector=[1.0, 1.0, 0])])
        hits = b.search(NS, [1.0, 0.5, 0], k=2)
        assert [h.id for h in hits] == ["long", "aligned"]
        assert [h.score for h in hits] == pytest.approx([4.0, 1.5])
    finally:
        b.close()


def test_in_memory_backend_removes_its_temporary_directory_on_close() -> None:
    b = QdrantEdgeBackend(SPEC)
    root = b._store._root
    b.upsert(NS, _records(3))
    assert root.exists()
    b.close()
    assert not root.exists()


def test_closed_backend_raises_backend_unavailable(edge: QdrantEdgeBackend) -> None:
    edge.close()
    with pytest.raises(BackendUnavailable, match="closed"):
        edge.search(NS, [0.1] * 16, k=1)
    with pytest.raises(BackendUnavailable, match="closed"):
        edge.upsert(NS, _records(1))


def test_writes_during_a_background_build_are_kept_after_the_swap(tmp_path: Path) -> None:
    b = QdrantEdgeBackend(SPEC, tmp_path / "idx", EdgeOptions(auto_index=False, **TINY_INDEX))
    try:
        b.upsert(NS, _records(300))
        b.build_index(wait=False)
        b.upsert(NS, _records(50, seed=1, prefix="late"))  # journaled while the child builds
        assert b.delete(NS, ["r0", "r1"]) == 2
        assert b.delete_by_filter(NS, Range("i", gte=290)) == 10 + 0  # r290..r299 (late* have i < 50)
        assert b.wait_for_index(timeout=120)
        status = b.index_status()
        assert status["indexed_vectors"] >= 288
        assert not status["building"]
        assert b.count(NS) == 300 - 2 - 10 + 50
        assert b.get(NS, ["r0", "late7", "r295"]) == b.get(NS, ["late7"])
        target = _records(50, seed=1, prefix="late")[7]
        assert b.search(NS, list(target.vector or []), k=1)[0].id == "late7"
    finally:
        b.close()
    again = QdrantEdgeBackend(SPEC, tmp_path / "idx")
    try:
        assert again.count(NS) == 338
        assert again.index_status()["indexed_vectors"] >= 288
        shard_dirs = [p.name for p in (tmp_path / "idx").iterdir() if p.is_dir()]
        assert len(shard_dirs) == 1, shard_dirs
        assert shard_dirs[0].startswith("shard-")
    finally:
        again.close()


def test_a_build_copies_the_live_shard_without_the_wal_segment_being_allocated(tmp_path: Path) -> None:
    # the engine renames wal/tmp-open-<n> to open-<n> on its own thread, so the copy may list a tmp- file that
    # is gone by the time it is copied (a dangling link fails the copy the same way, every time)
    b = QdrantEdgeBackend(SPEC, tmp_path / "idx", EdgeOptions(auto_index=False, **TINY_INDEX))
    try:
        b.upsert(NS, _records(300))
        [wal] = list((tmp_path / "idx").glob("shard-*/wal"))
        (wal / "tmp-open-99").symlink_to(tmp_path / "gone")
        b.build_index(wait=True)
        assert b.index_status()["indexed_vectors"] >= 290
        assert b.count(NS) == 300
        [live_wal] = list((tmp_path / "idx").glob("shard-*/wal"))
        assert not (live_wal / "tmp-open-99").is_symlink()
    finally:
        b.close()


def test_enough_writes_start_a_background_build_by_themselves() -> None:
    b = QdrantEdgeBackend(SPEC, None, EdgeOptions(indexing_threshold_kb=8, full_scan_threshold_kb=1))
    try:
        b.upsert(NS, _records(100))  # 100 * 16 * 4 B = 6.4 KB: below the threshold
        assert not b.index_status()["building"]
        b.upsert(NS, _records(40, seed=2, prefix="more"))  # crosses 8 KB
        assert b.wait_for_index(timeout=120)
        assert b.index_status()["indexed_vectors"] > 0
        assert b.count(NS) == 140
    finally:
        b.close()


def test_leftovers_of_an_interrupted_build_are_swept_on_open(tmp_path: Path) -> None:
    b = QdrantEdgeBackend(SPEC, tmp_path / "idx")
    b.upsert(NS, _records(5))
    b.close()
    (tmp_path / "idx" / "build-000001" / "segments").mkdir(parents=True)
    again = QdrantEdgeBackend(SPEC, tmp_path / "idx")
    try:
        assert again.count(NS) == 5
        assert not (tmp_path / "idx" / "build-000001").exists()
    finally:
        again.close()


def test_concurrent_searches_and_writes_lose_nothing(edge: QdrantEdgeBackend) -> None:
    edge.upsert(NS, _records(200))
    errors: list[BaseException] = []
    query = _records(1)[0].vector

    def writer(k: int) -> None:
        try:
            for j in range(20):
                edge.upsert(NS, _records(5, seed=100 + k * 20 + j, prefix=f"w{k}-{j}-"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(50):
                assert len(edge.search(NS, list(query or []), k=5)) == 5
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert edge.count(NS) == 200 + 3 * 20 * 5


def test_reopening_with_another_dimension_is_a_configuration_error(tmp_path: Path) -> None:
    QdrantEdgeBackend(SPEC, tmp_path / "idx").close()
    with pytest.raises(ConfigurationError, match="vector size"):
        QdrantEdgeBackend(IndexSpec(name=SPEC.name, dimension=32), tmp_path / "idx")


def test_opening_one_directory_twice_is_a_configuration_error(tmp_path: Path) -> None:
    first = QdrantEdgeBackend(SPEC, tmp_path / "idx")
    try:
        with pytest.raises(ConfigurationError, match="already open"):
            QdrantEdgeBackend(SPEC, tmp_path / "idx")
    finally:
        first.close()


def test_integers_beyond_64_bits_are_refused_and_nothing_is_written(edge: QdrantEdgeBackend) -> None:
    (good,) = _records(1)
    bad = Record(id="big", text="t", metadata={"n": 2**64}, vector=good.vector)
    with pytest.raises(InvalidRecord, match="64-bit"):
        edge.upsert(NS, [good, bad])
    assert edge.count(NS) == 0


def test_non_finite_vectors_are_refused(edge: QdrantEdgeBackend) -> None:
    with pytest.raises(InvalidRecord, match="NaN"):
        edge.upsert(NS, [Record(id="nan", vector=[float("nan")] + [0.0] * 15)])
    assert edge.count(NS) == 0


def test_field_names_with_dots_are_flat_keys_not_paths(edge: QdrantEdgeBackend) -> None:
    recs = _records(2)
    edge.upsert(NS, [Record(id=r.id, metadata={"author.name": r.id}, vector=r.vector) for r in recs])
    assert edge.count(NS, Eq("author.name", "r1")) == 1


def test_inexpressible_filters_raise_on_every_verb(edge: QdrantEdgeBackend) -> None:
    edge.upsert(NS, _records(2))
    bad = Eq('say "hi"', "x")
    for call in (
        lambda: edge.count(NS, bad),
        lambda: edge.search(NS, [0.1] * 16, k=1, filter=bad),
        lambda: edge.scroll(NS, bad),
        lambda: edge.delete_by_filter(NS, bad),
    ):
        with pytest.raises(UnsupportedFilter):
            call()
    assert edge.count(NS) == 2


@pytest.mark.parametrize(
    ("options", "field"),
    [({"m": 16, "ef": 10}, "vector_store.options.ef"), ({"m": "16"}, "vector_store.options.m"),
     ({"auto_index": 1}, "vector_store.options.auto_index"), ({"hnsw_ef": 0}, "vector_store.options.hnsw_ef")],
)  # fmt: skip
def test_bad_options_name_the_option(tmp_path: Path, options: dict[str, Any], field: str) -> None:
    factory = make_vector_factory("qdrant-edge", tmp_path, options)
    with pytest.raises(ConfigurationError) as info:
        factory(SPEC)
    assert info.value.field == field


def test_registry_builds_a_persistent_index_per_spec(tmp_path: Path) -> None:
    factory = make_vector_factory("qdrant-edge", tmp_path, {"hnsw_ef": 32, "m": 8})
    b = factory(SPEC)
    try:
        assert isinstance(b, QdrantEdgeBackend)
        assert b.options.hnsw_ef == 32
        assert b.options.m == 8
        b.upsert(NS, conformance_records())
    finally:
        b.close()
    assert (tmp_path / SPEC.name / "CURRENT").exists()


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (Exception("Vector dimension error: expected dim: 16, got 3"), DimensionMismatch),
        (
            Exception("Service runtime error: config is incompatible with existing segments: x"),
            ConfigurationError,
        ),
        (Exception("Service runtime error: failed to open WAL: Kind(WouldBlock)"), ConfigurationError),
        (Exception("Timeout error: search took too long"), Timeout),
        (ValueError("invalid JSON path x"), CallerError),
        (TypeError("failed to extract enum"), CallerError),
        (Exception("Wrong input: bad"), CallerError),
        (Exception("Service runtime error: disk full"), BackendUnavailable),
        (Exception("Out of memory, free: 0"), BackendUnavailable),
    ],
)
def test_engine_errors_map_into_our_tree(exc: BaseException, expected: type[Exception]) -> None:
    mapped = map_qdrant_edge_error(exc)
    assert type(mapped) is expected
    if expected is DimensionMismatch:
        assert (mapped.expected, mapped.got) == (16, 3)  # type: ignore[attr-defined]


def test_our_own_errors_pass_through_the_mapping_unchanged() -> None:
    err = InvalidRecord("x")
    assert map_qdrant_edge_error(err) is err


def _router(path: Path | None) -> Any:
    from vectorrouter import Router
    from vectorrouter.embeddings import TEST_MODEL, EmbeddingService
    from vectorrouter.routing import Catalog

    return Router(
        embeddings=EmbeddingService([TEST_MODEL]),
        vector_factory=make_vector_factory("qdrant-edge", path / "vectors" if path else None),
        catalog=Catalog(path / "catalog.sqlite" if path else None),
        default_model=TEST_MODEL.version,
    )


def test_router_over_edge_keeps_tenants_apart_in_one_shared_index(tmp_path: Path) -> None:
    router = _router(tmp_path)
    try:
        router.ingest(
            "acme:docs", [{"id": "a1", "text": "qdrant edge runs in process", "metadata": {"lang": "en"}}]
        )
        router.ingest(
            "globex:docs", [{"id": "g1", "text": "qdrant edge runs in process", "metadata": {"lang": "en"}}]
        )
        assert len(router.indexes.open_indexes()) == 1, "both tenants share the 64-d index"
        hits = router.search("acme:docs", "edge in process", k=5, mode="dense", filter={"lang": "en"}).hits
        assert [h.id for h in hits] == ["a1"]
        assert router.delete("acme:docs", ["a1"]) == 1
        assert router.count("globex:docs") == 1
    finally:
        router.close()
    again = _router(tmp_path)
    try:
        assert [h.id for h in again.search("globex:docs", "edge", k=3, mode="dense").hits] == ["g1"]
        assert again.count("acme:docs") == 0
    finally:
        again.close()
