"""The contract every vector and keyword backend passes (see :mod:`vectorrouter.testing`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

from vectorrouter.errors import DimensionMismatch, InvalidRecord, UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range
from vectorrouter.types import Record

__all__ = ["FILTER_CASES", "KeywordBackendConformance", "VectorBackendConformance", "conformance_records"]

NS = "tenant-a:docs:v1"
OTHER_NS = "tenant-b:docs:v1"
COLORS = ("red", "green", "blue")
WORDS = (
    "apple", "river", "quantum", "violin", "glacier", "harbor", "lantern", "meadow", "nebula", "orchid",
    "pepper", "saffron", "thunder", "tulip", "walnut", "zephyr", "basalt", "cobalt", "dune", "ember",
)  # fmt: skip


def conformance_records(n: int = 40, dimension: int | None = 16, seed: int = 7) -> list[Record]:
    """A deterministic dataset with every metadata type the filter tree can touch.

    Every text contains the word ``common`` (so a keyword query for it matches all records) and one rare
    word of its own (``uniqueN``), so keyword ranking can be checked exactly.
    """
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, dimension)).astype(np.float32) if dimension else None
    out = []
    for i in range(n):
        md: dict[str, Any] = {
            "color": COLORS[i % 3],
            "year": 2000 + i % 10,
            "score": round(i * 0.25, 2),
            "tags": [WORDS[i % 20], WORDS[(i * 7) % 20]],
            "flag": i % 2 == 0,
        }
        if i % 4 == 0:
            md["maybe"] = f"m{i}"
        if i % 5 == 0:
            md["nullable"] = None
        text = f"common document number {i} about {WORDS[i % 20]} and {WORDS[(i * 3) % 20]} unique{i}"
        out.append(
            Record(
                id=f"doc-{i}", text=text, metadata=md, vector=vecs[i].tolist() if vecs is not None else None
            )
        )
    return out


#: (name, filter) pairs covering every operator, on scalar and list fields, and nested combinations.
FILTER_CASES: list[tuple[str, Filter]] = [
    ("eq_str", Eq("color", "red")),
    ("eq_int", Eq("year", 2003)),
    ("eq_bool", Eq("flag", True)),
    ("eq_list_element", Eq("tags", "quantum")),
    ("eq_float", Eq("score", 2.5)),
    ("ne_str", Ne("color", "red")),
    ("ne_missing_field_matches", Ne("maybe", "m4")),
    ("in_str", In("color", ("red", "blue"))),
    ("in_int", In("year", (2001, 2005, 2009))),
    ("in_list_field", In("tags", ("apple", "zephyr"))),
    ("nin_str", Nin("color", ("red", "green"))),
    ("nin_int", Nin("year", (2000, 2001))),
    ("range_int_gte_lt", Range("year", gte=2003, lt=2007)),
    ("range_float_gt", Range("score", gt=5.0)),
    ("range_lte", Range("score", lte=1.0)),
    ("exists", Exists("maybe")),
    ("exists_null_is_absent", Exists("nullable")),
    ("not_exists", Not(Exists("maybe"))),
    ("and", And((Eq("color", "green"), Range("year", gte=2005)))),
    ("or", Or((Eq("color", "blue"), Eq("year", 2000)))),
    ("not", Not(Eq("color", "green"))),
    ("nested", Or((And((Eq("color", "red"), Not(Eq("flag", True)))), In("year", (2008,))))),
]


#: The operator a case exercises beyond plain equality, to match ``unsupported_filters`` against.
def _ops(f: Filter) -> set[str]:
    return {node.op for node in f.walk()}


class _StoreConformance:
    """Verbs both protocols share. Subclasses provide the ``backend`` fixture."""

    #: Operators (``Filter.op`` names) this backend refuses with UnsupportedFilter.
    unsupported_filters: ClassVar[frozenset[str]] = frozenset()
    dimension: ClassVar[int] = 16
    records_dimension: ClassVar[int | None] = 16

    @pytest.fixture
    def backend(self) -> Iterator[Any]:  # pragma: no cover - subclasses override
        raise NotImplementedError("subclass the conformance kit and provide a `backend` fixture")

    def reopen(self, backend: Any) -> Any:
        """Close ``backend`` and open the same store again. Override to prove persistence."""
        pytest.skip(f"{type(self).__name__} does not declare persistence (override `reopen`)")

    @pytest.fixture
    def records(self) -> list[Record]:
        return conformance_records(dimension=self.records_dimension)

    @pytest.fixture
    def loaded(self, backend: Any, records: list[Record]) -> Any:
        backend.upsert(NS, records)
        backend.upsert(OTHER_NS, records[:5])
        return backend

    def supported(self, f: Filter) -> bool:
        return not (_ops(f) & self.unsupported_filters)

    # -- the contract ------------------------------------------------------------------------------
    def test_get_returns_text_and_metadata_exactly_as_written(
        self, loaded: Any, records: list[Record]
    ) -> None:
        got = loaded.get(NS, [r.id for r in records])
        assert [g.id for g in got] == [r.id for r in records]
        for g, r in zip(got, records, strict=True):
            assert g.text == r.text
            assert dict(g.metadata) == dict(r.metadata)

    def test_get_keeps_requested_order_and_skips_missing_ids(self, loaded: Any) -> None:
        got = loaded.get(NS, ["doc-3", "nope", "doc-1"])
        assert [g.id for g in got] == ["doc-3", "doc-1"]

    def test_upsert_same_id_replaces_instead_of_duplicating(self, loaded: Any, records: list[Record]) -> None:
        changed = Record(
            id="doc-2", text="common replaced text", metadata={"color": "violet"}, vector=records[2].vector
        )
        loaded.upsert(NS, [changed])
        assert loaded.count(NS) == len(records)
        (got,) = loaded.get(NS, ["doc-2"])
        assert got.text == "common replaced text"
        assert dict(got.metadata) == {"color": "violet"}

    def test_namespaces_are_isolated(self, loaded: Any) -> None:
        assert loaded.count(OTHER_NS) == 5
        assert loaded.get(OTHER_NS, ["doc-10"]) == []
        assert loaded.count("tenant-c:docs:v1") == 0

    def test_delete_by_ids_counts_existing_and_removes_them(self, loaded: Any, records: list[Record]) -> None:
        assert loaded.delete(NS, ["doc-1", "doc-2", "missing"]) == 2
        assert loaded.count(NS) == len(records) - 2
        assert loaded.get(NS, ["doc-1", "doc-2"]) == []
        assert loaded.count(OTHER_NS) == 5, "deleting in one namespace must not touch another"

    def test_delete_by_filter_removes_exactly_the_matches(self, loaded: Any, records: list[Record]) -> None:
        f = Eq("color", "red")
        expected = sum(f.matches(r.metadata) for r in records)
        assert loaded.delete_by_filter(NS, f) == expected
        assert loaded.count(NS) == len(records) - expected
        assert loaded.count(NS, f) == 0
        assert loaded.count(OTHER_NS, f) == sum(f.matches(r.metadata) for r in records[:5])

    def test_delete_whole_namespace_leaves_others(self, loaded: Any, records: list[Record]) -> None:
        assert loaded.delete_by_filter(NS, None) == len(records)
        assert loaded.count(NS) == 0
        assert loaded.count(OTHER_NS) == 5

    @pytest.mark.parametrize(("case", "flt"), FILTER_CASES, ids=[c for c, _ in FILTER_CASES])
    def test_count_with_filter_agrees_with_reference_semantics(
        self, loaded: Any, records: list[Record], case: str, flt: Filter
    ) -> None:
        if not self.supported(flt):
            with pytest.raises(UnsupportedFilter):
                loaded.count(NS, flt)
            return
        assert loaded.count(NS, flt) == sum(flt.matches(r.metadata) for r in records), case

    def test_scroll_yields_every_record_once(self, loaded: Any, records: list[Record]) -> None:
        seen = [r.id for batch in loaded.scroll(NS, batch_size=7) for r in batch]
        assert sorted(seen) == sorted(r.id for r in records)
        red = [r.id for batch in loaded.scroll(NS, Eq("color", "red"), batch_size=4) for r in batch]
        assert sorted(red) == sorted(r.id for r in records if r.metadata["color"] == "red")

    def test_invalid_metadata_is_rejected_before_reaching_the_store(self) -> None:
        with pytest.raises(InvalidRecord, match="nested"):
            Record(id="x", text="t", metadata={"nested": {"a": 1}})  # type: ignore[dict-item]

    def test_data_survives_reopen(self, loaded: Any, records: list[Record]) -> None:
        again = self.reopen(loaded)
        try:
            assert again.count(NS) == len(records)
            (got,) = again.get(NS, ["doc-5"])
            assert got.text == records[5].text
            assert dict(got.metadata) == dict(records[5].metadata)
        finally:
            again.close()

    def test_close_twice_is_harmless(self, backend: Any) -> None:
        backend.close()
        backend.close()


class VectorBackendConformance(_StoreConformance):
    """The vector backend contract. ``backend`` yields an empty index of ``self.dimension`` dimensions."""

    def _reference(
        self, records: list[Record], q: np.ndarray, k: int, flt: Filter | None = None
    ) -> list[str]:
        pool = [r for r in records if flt is None or flt.matches(r.metadata)]
        if not pool:
            return []
        mat = np.asarray([r.vector for r in pool], dtype=np.float32)
        mat /= np.linalg.norm(mat, axis=1, keepdims=True)
        scores = mat @ (q / np.linalg.norm(q))
        order = np.argsort(-scores, kind="stable")[:k]
        return [pool[i].id for i in order]

    def test_search_returns_exact_nearest_neighbours_best_first(
        self, loaded: Any, records: list[Record]
    ) -> None:
        rng = np.random.default_rng(11)
        for _ in range(5):
            q = rng.normal(size=self.dimension).astype(np.float32)
            hits = loaded.search(NS, q.tolist(), k=5)
            assert [h.id for h in hits] == self._reference(records, q, 5)
            scores = [h.score for h in hits]
            assert scores == sorted(scores, reverse=True)

    def test_search_hits_carry_text_and_metadata(self, loaded: Any, records: list[Record]) -> None:
        target = records[9]
        (hit,) = loaded.search(NS, list(target.vector or []), k=1)
        assert hit.id == target.id
        assert hit.text == target.text
        assert dict(hit.metadata) == dict(target.metadata)
        assert hit.score == pytest.approx(1.0, abs=1e-3)

    def test_search_in_another_namespace_never_sees_these_records(
        self, loaded: Any, records: list[Record]
    ) -> None:
        hits = loaded.search(OTHER_NS, list(records[30].vector or []), k=50)
        assert {h.id for h in hits} == {r.id for r in records[:5]}
        assert loaded.search("tenant-c:docs:v1", list(records[0].vector or []), k=3) == []

    @pytest.mark.parametrize(("case", "flt"), FILTER_CASES, ids=[c for c, _ in FILTER_CASES])
    def test_search_with_filter_returns_only_and_all_matches(
        self, loaded: Any, records: list[Record], case: str, flt: Filter
    ) -> None:
        q = np.asarray(records[0].vector, dtype=np.float32)
        if not self.supported(flt):
            with pytest.raises(UnsupportedFilter):
                loaded.search(NS, q.tolist(), k=5, filter=flt)
            return
        expected = {r.id for r in records if flt.matches(r.metadata)}
        hits = loaded.search(NS, q.tolist(), k=len(records), filter=flt)
        assert {h.id for h in hits} == expected, case
        top3 = loaded.search(NS, q.tolist(), k=3, filter=flt)
        assert [h.id for h in top3] == self._reference(records, q, 3, flt), case

    def test_search_with_wrong_dimension_names_both_numbers(self, loaded: Any) -> None:
        with pytest.raises(DimensionMismatch, match=rf"{self.dimension + 3}.*{self.dimension}"):
            loaded.search(NS, [0.1] * (self.dimension + 3), k=3)

    def test_upsert_with_wrong_dimension_writes_nothing(self, backend: Any, records: list[Record]) -> None:
        bad = [*records[:3], Record(id="wide", text="t", vector=[0.5] * (self.dimension * 2))]
        with pytest.raises(DimensionMismatch):
            backend.upsert(NS, bad)
        assert backend.count(NS) == 0

    def test_get_can_return_vectors(self, loaded: Any, records: list[Record]) -> None:
        (got,) = loaded.get(NS, ["doc-4"], with_vectors=True)
        assert got.vector is not None
        v = np.asarray(got.vector)
        ref = np.asarray(records[4].vector)
        cos = float(v @ ref / (np.linalg.norm(v) * np.linalg.norm(ref)))
        assert cos == pytest.approx(1.0, abs=1e-4)


class KeywordBackendConformance(_StoreConformance):
    """The keyword backend contract. ``backend`` yields an empty keyword index."""

    records_dimension: ClassVar[int | None] = None

    def test_rare_term_ranks_its_document_first(self, loaded: Any) -> None:
        hits = loaded.search(NS, "unique17", k=3)
        assert hits, "a term that occurs in one document must find it"
        assert hits[0].id == "doc-17"
        assert hits[0].text.endswith("unique17")

    def test_scores_are_best_first(self, loaded: Any) -> None:
        hits = loaded.search(NS, "quantum violin common", k=10)
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert len(hits) == 10

    def test_search_in_another_namespace_never_sees_these_records(self, loaded: Any) -> None:
        assert {h.id for h in loaded.search(OTHER_NS, "common", k=50)} == {f"doc-{i}" for i in range(5)}
        assert loaded.search(OTHER_NS, "unique17", k=5) == []

    @pytest.mark.parametrize(("case", "flt"), FILTER_CASES, ids=[c for c, _ in FILTER_CASES])
    def test_search_with_filter_returns_only_and_all_matches(
        self, loaded: Any, records: list[Record], case: str, flt: Filter
    ) -> None:
        if not self.supported(flt):
            with pytest.raises(UnsupportedFilter):
                loaded.search(NS, "common", k=5, filter=flt)
            return
        hits = loaded.search(NS, "common", k=len(records), filter=flt)
        assert {h.id for h in hits} == {r.id for r in records if flt.matches(r.metadata)}, case

    @pytest.mark.parametrize(
        "query", ['"unbalanced quote', "colon: field:value", "(paren", "AND OR NOT", "a+b -c ~d ^2 *", "\\"]
    )
    def test_query_syntax_characters_are_plain_text_not_errors(self, loaded: Any, query: str) -> None:
        hits = loaded.search(NS, query, k=5)
        assert isinstance(hits, list)

    def test_empty_query_returns_nothing(self, loaded: Any) -> None:
        assert loaded.search(NS, "", k=5) == []
        assert loaded.search(NS, "   ", k=5) == []

    def test_matching_is_case_insensitive_and_stemmed(self, loaded: Any, records: list[Record]) -> None:
        # every text says "document"; only lowercasing plus English stemming lets "DOCUMENTS" find them
        assert {h.id for h in loaded.search(NS, "DOCUMENTS", k=len(records))} == {r.id for r in records}
