"""A conformance suite for LlamaIndex vector stores that hold text (LlamaIndex ships none).

Shaped like Haystack's document-store base tests: one mixin per capability (count, write, delete, get, filter,
query, async), each needing only a ``vector_store`` fixture that yields an empty store, combined into
:class:`VectorStoreConformance`. Expected results are computed in plain Python from the fixture rows, never
through the store's own filter code, so a translation bug cannot hide behind itself.

Subclass it, override the fixture, and declare what the store cannot do::

    class TestMyStore(VectorStoreConformance):
        dimensions = 8
        unsupported_operators = (FilterOperator.TEXT_MATCH,)

        @pytest.fixture
        def vector_store(self):
            yield MyStore(...)

Vectors are the kit's own (a hashing embedder of ``dimensions`` width): the store is handed embeddings, so the
suite needs no model. Filter semantics are vectorrouter's (a list field matches ``==`` when an element does; a
missing field matches ``!=`` and ``nin``), which agree with LlamaIndex's in-memory store on scalar fields.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import pytest
from llama_index.core.schema import BaseNode, MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

__all__ = [
    "ROWS",
    "AsyncTests",
    "CountTests",
    "DeleteTests",
    "FilterTests",
    "GetTests",
    "QueryTests",
    "VectorStoreConformance",
    "WriteTests",
]

Meta = dict[str, Any]
#: id, text, source document (or None), metadata. Fields are missing, empty, listy or nested on purpose.
ROWS: list[tuple[str, str, str | None, Meta]] = [
    ("n0", "red apples grow on trees", "doc-a", {"name": "apple", "year": 2019, "price": 1.5, "tags": ["fruit", "red"]}),
    ("n1", "green pears are sweet", "doc-a", {"name": "pear", "year": 2020, "price": 2.0, "tags": ["fruit", "green"]}),
    ("n2", "carrots are orange roots", "doc-b", {"name": "carrot", "year": 2021, "price": 0.5, "tags": ["veg"]}),
    ("n3", "quasars are luminous galactic nuclei", "doc-b", {"name": "quasar", "year": 2022, "tags": []}),
    ("n4", "violins have four strings", None, {"name": "violin", "price": 120.0, "note": ""}),
    ("n5", "nested metadata survives the trip", None, {"name": "nested", "year": 2023, "author": {"n": "Ada", "r": [1]}}),
]  # fmt: skip


def _f(key: str, op: str, value: Any) -> MetadataFilter:
    return MetadataFilter(key=key, operator=FilterOperator(op), value=value)


def _has(meta: Meta, key: str) -> bool:
    return key in meta and meta[key] is not None


def _vals(meta: Meta, key: str) -> list[Any]:
    v = meta.get(key)
    return [] if v is None else list(v) if isinstance(v, list) else [v]


def _num(meta: Meta, key: str, test: Callable[[float], bool]) -> bool:
    return any(isinstance(v, int | float) and not isinstance(v, bool) and test(v) for v in _vals(meta, key))


#: name -> (filters, the rows' predicate it must select).
FILTER_CASES: dict[str, tuple[MetadataFilters, Callable[[Meta], bool]]] = {
    "eq_str": (MetadataFilters(filters=[_f("name", "==", "pear")]), lambda m: "pear" in _vals(m, "name")),
    "eq_int": (MetadataFilters(filters=[_f("year", "==", 2021)]), lambda m: 2021 in _vals(m, "year")),
    "eq_float": (MetadataFilters(filters=[_f("price", "==", 2.0)]), lambda m: 2.0 in _vals(m, "price")),
    "eq_list_element": (
        MetadataFilters(filters=[_f("tags", "==", "fruit")]),
        lambda m: "fruit" in _vals(m, "tags"),
    ),
    "ne": (MetadataFilters(filters=[_f("name", "!=", "pear")]), lambda m: "pear" not in _vals(m, "name")),
    "ne_missing_field": (
        MetadataFilters(filters=[_f("year", "!=", 2019)]),
        lambda m: 2019 not in _vals(m, "year"),
    ),
    "gt": (MetadataFilters(filters=[_f("year", ">", 2020)]), lambda m: _num(m, "year", lambda v: v > 2020)),
    "gte": (
        MetadataFilters(filters=[_f("year", ">=", 2020)]),
        lambda m: _num(m, "year", lambda v: v >= 2020),
    ),
    "lt": (MetadataFilters(filters=[_f("price", "<", 2.0)]), lambda m: _num(m, "price", lambda v: v < 2.0)),
    "lte": (
        MetadataFilters(filters=[_f("price", "<=", 2.0)]),
        lambda m: _num(m, "price", lambda v: v <= 2.0),
    ),
    "in": (
        MetadataFilters(filters=[_f("name", "in", ["apple", "violin", "nobody"])]),
        lambda m: bool({"apple", "violin", "nobody"} & set(_vals(m, "name"))),
    ),
    "nin": (
        MetadataFilters(filters=[_f("year", "nin", [2019, 2020])]),
        lambda m: not ({2019, 2020} & set(_vals(m, "year"))),
    ),
    "any": (
        MetadataFilters(filters=[_f("tags", "any", ["red", "veg"])]),
        lambda m: bool({"red", "veg"} & set(_vals(m, "tags"))),
    ),
    "all": (
        MetadataFilters(filters=[_f("tags", "all", ["fruit", "green"])]),
        lambda m: {"fruit", "green"} <= set(_vals(m, "tags")),
    ),
    "contains": (
        MetadataFilters(filters=[_f("tags", "contains", "veg")]),
        lambda m: "veg" in _vals(m, "tags"),
    ),
    "is_empty_missing_or_empty_list": (
        MetadataFilters(filters=[_f("tags", "is_empty", None)]),
        lambda m: not _vals(m, "tags"),
    ),
    "is_empty_empty_string": (
        MetadataFilters(filters=[_f("note", "is_empty", None)]),
        lambda m: m.get("note") in (None, ""),
    ),
    "and": (
        MetadataFilters(
            filters=[_f("year", ">=", 2020), _f("price", "<", 1.0)], condition=FilterCondition.AND
        ),
        lambda m: _num(m, "year", lambda v: v >= 2020) and _num(m, "price", lambda v: v < 1.0),
    ),
    "or": (
        MetadataFilters(
            filters=[_f("name", "==", "apple"), _f("price", ">", 100)], condition=FilterCondition.OR
        ),
        lambda m: "apple" in _vals(m, "name") or _num(m, "price", lambda v: v > 100),
    ),
    "not": (
        MetadataFilters(
            filters=[_f("name", "==", "apple"), _f("year", ">", 2021)], condition=FilterCondition.NOT
        ),
        lambda m: not ("apple" in _vals(m, "name") or _num(m, "year", lambda v: v > 2021)),
    ),
    "nested_and_of_or": (
        MetadataFilters(
            filters=[
                MetadataFilters(
                    filters=[_f("tags", "==", "fruit"), _f("tags", "==", "veg")], condition=FilterCondition.OR
                ),
                _f("year", "!=", 2020),
            ],
            condition=FilterCondition.AND,
        ),
        lambda m: bool({"fruit", "veg"} & set(_vals(m, "tags"))) and 2020 not in _vals(m, "year"),
    ),
    "nested_not_inside_or": (
        MetadataFilters(
            filters=[
                MetadataFilters(filters=[_f("year", "<", 2023)], condition=FilterCondition.NOT),
                _f("name", "==", "apple"),
            ],
            condition=FilterCondition.OR,
        ),
        lambda m: not _num(m, "year", lambda v: v < 2023) or "apple" in _vals(m, "name"),
    ),
}


def _leaves(filters: MetadataFilters) -> Iterator[MetadataFilter]:
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            yield from _leaves(f)
        else:
            yield f


def kit_embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for ``text``: hashed words, so shared words mean nearby vectors."""
    vec = [0.0] * dimensions
    for word in text.lower().split():
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vec[h % dimensions] += 1.0 if (h >> 63) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class _Kit:
    """Hooks a store's test class may override."""

    #: Width of the vectors the kit hands the store.
    dimensions: ClassVar[int] = 8
    #: Operators the store refuses (each must raise ``filter_error``; none may be silently ignored).
    unsupported_operators: ClassVar[tuple[FilterOperator, ...]] = ()
    filter_error: ClassVar[type[Exception]] = Exception

    @pytest.fixture
    def vector_store(self) -> Iterator[BasePydanticVectorStore]:
        raise NotImplementedError("override the vector_store fixture: yield an empty store")

    def count(self, store: BasePydanticVectorStore, filters: MetadataFilters | None = None) -> int:
        return len(store.get_nodes(filters=filters))

    def node(self, node_id: str, text: str, doc: str | None = None, metadata: Meta | None = None) -> TextNode:
        rels = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc)} if doc else {}
        return TextNode(
            id_=node_id,
            text=text,
            metadata=dict(metadata or {}),
            relationships=rels,
            embedding=kit_embedding(text, self.dimensions),
        )

    def rows(self) -> list[TextNode]:
        return [self.node(i, t, d, m) for i, t, d, m in ROWS]

    def query(self, text: str, k: int = 100, **kw: Any) -> VectorStoreQuery:
        return VectorStoreQuery(
            query_embedding=kit_embedding(text, self.dimensions), similarity_top_k=k, **kw
        )

    @staticmethod
    def ids(nodes: Sequence[BaseNode] | None) -> set[str]:
        return {n.node_id for n in nodes or []}


class CountTests(_Kit):
    def test_an_empty_store_counts_zero(self, vector_store: BasePydanticVectorStore) -> None:
        assert self.count(vector_store) == 0

    def test_count_counts_every_written_node(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        assert self.count(vector_store) == len(ROWS)

    def test_count_with_filters_counts_the_matches(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        filters, pred = FILTER_CASES["gte"]
        assert self.count(vector_store, filters) == sum(pred(m) for *_, m in ROWS)


class WriteTests(_Kit):
    def test_add_returns_the_node_ids_in_order(self, vector_store: BasePydanticVectorStore) -> None:
        assert vector_store.add(self.rows()) == [r[0] for r in ROWS]

    def test_written_nodes_read_back_exactly(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        got = {n.node_id: n for n in vector_store.get_nodes(node_ids=[r[0] for r in ROWS])}
        assert set(got) == {r[0] for r in ROWS}
        for node_id, text, doc, meta in ROWS:
            node = got[node_id]
            assert node.get_content(metadata_mode=MetadataMode.NONE) == text
            assert node.metadata == meta  # nested values included
            assert node.ref_doc_id == doc

    def test_writing_an_existing_id_replaces_the_node(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        vector_store.add([self.node("n0", "rewritten text", "doc-a", {"name": "apple", "v": 2})])
        assert self.count(vector_store) == len(ROWS)
        [node] = vector_store.get_nodes(node_ids=["n0"])
        assert (node.get_content(metadata_mode=MetadataMode.NONE), node.metadata) == (
            "rewritten text",
            {"name": "apple", "v": 2},
        )

    def test_adding_nothing_writes_nothing(self, vector_store: BasePydanticVectorStore) -> None:
        assert vector_store.add([]) == []
        assert self.count(vector_store) == 0


class DeleteTests(_Kit):
    def test_delete_removes_every_node_of_that_source_document_only(
        self, vector_store: BasePydanticVectorStore
    ) -> None:
        vector_store.add(self.rows())
        vector_store.delete("doc-a")
        assert self.ids(vector_store.get_nodes(filters=None)) == {r[0] for r in ROWS if r[2] != "doc-a"}

    def test_deleting_unknown_things_is_a_no_op(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.delete("doc-never")  # on an empty store too
        vector_store.add(self.rows())
        vector_store.delete("doc-never")
        vector_store.delete_nodes(node_ids=["nope"])
        assert self.count(vector_store) == len(ROWS)

    def test_delete_nodes_by_ids(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        vector_store.delete_nodes(node_ids=["n1", "n4"])
        assert self.ids(vector_store.get_nodes()) == {"n0", "n2", "n3", "n5"}

    def test_delete_nodes_by_filters(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        filters, pred = FILTER_CASES["lt"]
        vector_store.delete_nodes(filters=filters)
        assert self.ids(vector_store.get_nodes()) == {i for i, _, _, m in ROWS if not pred(m)}

    def test_delete_nodes_by_ids_and_filters_removes_only_ids_that_match(
        self, vector_store: BasePydanticVectorStore
    ) -> None:
        vector_store.add(self.rows())
        vector_store.delete_nodes(node_ids=["n0", "n1", "n4"], filters=FILTER_CASES["eq_list_element"][0])
        assert self.ids(vector_store.get_nodes()) == {"n2", "n3", "n4", "n5"}

    def test_clear_empties_the_store_and_it_stays_usable(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        vector_store.clear()
        assert self.count(vector_store) == 0
        vector_store.add([self.node("again", "written after clear")])
        assert self.ids(vector_store.get_nodes()) == {"again"}


class GetTests(_Kit):
    def test_get_nodes_by_ids_keeps_known_ids_only(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        assert self.ids(vector_store.get_nodes(node_ids=["n2", "missing", "n0"])) == {"n0", "n2"}

    def test_get_nodes_with_ids_and_filters_keeps_the_matching_ids(
        self, vector_store: BasePydanticVectorStore
    ) -> None:
        vector_store.add(self.rows())
        got = vector_store.get_nodes(node_ids=["n0", "n2", "n4"], filters=FILTER_CASES["gt"][0])
        assert self.ids(got) == {"n2"}

    def test_an_empty_store_gets_nothing(self, vector_store: BasePydanticVectorStore) -> None:
        assert vector_store.get_nodes(node_ids=["n0"]) == []
        assert vector_store.get_nodes(filters=FILTER_CASES["eq_str"][0]) == []


class FilterTests(_Kit):
    @pytest.mark.parametrize("case", sorted(FILTER_CASES))
    def test_filters_select_exactly_the_matching_nodes(
        self, vector_store: BasePydanticVectorStore, case: str
    ) -> None:
        filters, pred = FILTER_CASES[case]
        expected = {i for i, _, _, m in ROWS if pred(m)}
        vector_store.add(self.rows())
        assert self.ids(vector_store.get_nodes(filters=filters)) == expected, "get_nodes"
        assert self.ids(vector_store.query(self.query("anything", filters=filters)).nodes) == expected, (
            "query"
        )

    def test_every_operator_is_either_checked_or_refused(self, vector_store: BasePydanticVectorStore) -> None:
        checked = {f.operator for filters, _ in FILTER_CASES.values() for f in _leaves(filters)}
        vector_store.add(self.rows())
        for operator in FilterOperator:
            if operator in checked and operator not in self.unsupported_operators:
                continue
            assert operator in self.unsupported_operators, (
                f"{operator.value!r} is neither checked nor refused"
            )
            filters = MetadataFilters(filters=[_f("name", operator.value, "apple")])
            with pytest.raises(self.filter_error):  # refused loudly, never ignored
                vector_store.query(self.query("apple", filters=filters))
            with pytest.raises(self.filter_error):
                vector_store.get_nodes(filters=filters)


class QueryTests(_Kit):
    def test_query_ranks_the_nearest_node_first(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        result = vector_store.query(self.query("carrots are orange roots", k=3))
        assert next(n.node_id for n in result.nodes or []) == "n2"
        sims = result.similarities or []
        assert len(sims) == 3
        assert sims == sorted(sims, reverse=True)

    def test_query_returns_at_most_similarity_top_k(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        assert len(vector_store.query(self.query("apples", k=2)).nodes or []) == 2

    def test_query_with_doc_ids_searches_those_documents_only(
        self, vector_store: BasePydanticVectorStore
    ) -> None:
        vector_store.add(self.rows())
        result = vector_store.query(self.query("apples", doc_ids=["doc-b"]))
        assert self.ids(result.nodes) == {"n2", "n3"}

    def test_query_with_node_ids_ranks_among_those_nodes(self, vector_store: BasePydanticVectorStore) -> None:
        vector_store.add(self.rows())
        result = vector_store.query(self.query("carrots are orange roots", node_ids=["n0", "n2", "n4"]))
        assert next(n.node_id for n in result.nodes or []) == "n2"
        assert self.ids(result.nodes) == {"n0", "n2", "n4"}

    def test_an_empty_store_finds_nothing(self, vector_store: BasePydanticVectorStore) -> None:
        assert not vector_store.query(self.query("anything")).nodes


class AsyncTests(_Kit):
    def test_async_faces_agree_with_sync(self, vector_store: BasePydanticVectorStore) -> None:
        async def scenario() -> None:
            assert await vector_store.async_add(self.rows()) == [r[0] for r in ROWS]
            assert self.ids(await vector_store.aget_nodes(node_ids=["n0", "n1"])) == {"n0", "n1"}
            filters, pred = FILTER_CASES["nested_and_of_or"]
            expected = {i for i, _, _, m in ROWS if pred(m)}
            assert self.ids(await vector_store.aget_nodes(filters=filters)) == expected
            assert self.ids((await vector_store.aquery(self.query("x", filters=filters))).nodes) == expected
            await vector_store.adelete("doc-a")
            await vector_store.adelete_nodes(node_ids=["n4"])
            assert self.ids(await vector_store.aget_nodes()) == {"n2", "n3", "n5"}
            await vector_store.aclear()
            assert await vector_store.aget_nodes() == []

        asyncio.run(scenario())


class VectorStoreConformance(
    CountTests, WriteTests, DeleteTests, GetTests, FilterTests, QueryTests, AsyncTests
):
    """Every capability test above; subclass and provide the ``vector_store`` fixture."""
