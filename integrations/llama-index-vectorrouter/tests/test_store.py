"""VectorRouterVectorStore inside LlamaIndex: indexes, query engines, both embedding paths, query modes."""

import asyncio

import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from vectorrouter import TEST_MODEL, ConfigurationError, DimensionMismatch, InvalidRecord, Router
from vectorrouter.embeddings import HashEmbedder

from llama_index.vector_stores.vectorrouter import VectorRouterEmbedding, VectorRouterVectorStore

TEXTS = {
    "ice": "glaciers are slow rivers of ice",
    "sheet": "ice sheets cover greenland and antarctica",
    "violin": "violins have four strings",
    "cream": "ice cream melts in the sun",
}


@pytest.fixture
def store(router: Router) -> VectorRouterVectorStore:
    s = VectorRouterVectorStore(router=router, namespace="li:docs")
    s.add(
        [
            TextNode(id_=i, text=t, metadata={"topic": "music" if i == "violin" else "ice"})
            for i, t in TEXTS.items()
        ]
    )
    return s


def test_text_path_the_router_embeds_nodes_and_queries_with_the_namespaces_model() -> None:
    embedder = HashEmbedder(TEST_MODEL.dimensions)
    with Router.embedded(None, model=TEST_MODEL, embedder=embedder, vector_kind="numpy") as router:
        store = VectorRouterVectorStore(router=router, namespace="li:text", mode="dense")
        store.add([TextNode(id_="v", text=TEXTS["violin"]), TextNode(id_="i", text=TEXTS["ice"])])
        assert embedder.calls == 1
        assert store.query(VectorStoreQuery(query_str="violins strings", similarity_top_k=1)).ids == ["v"]
        assert embedder.calls == 2


def test_vector_path_widths_are_checked_against_the_namespaces_model(store: VectorRouterVectorStore) -> None:
    with pytest.raises(DimensionMismatch, match="64"):
        store.add([TextNode(id_="bad", text="x", embedding=[0.1] * 3)])
    assert store.get_nodes(node_ids=["bad"]) == []
    with pytest.raises(DimensionMismatch):
        store.query(VectorStoreQuery(query_embedding=[0.1] * 3, similarity_top_k=1))
    empty = VectorRouterVectorStore(router=store.router, namespace="li:never-written")
    with pytest.raises(DimensionMismatch):
        empty.query(VectorStoreQuery(query_embedding=[0.1] * 3, similarity_top_k=1))


def test_index_from_the_store_answers_through_a_query_engine(store: VectorRouterVectorStore) -> None:
    embed = VectorRouterEmbedding(store.router, "li:docs")
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    engine = index.as_query_engine(llm=MockLLM(max_tokens=16), similarity_top_k=2)
    response = engine.query("what do violins have?")
    assert response.source_nodes[0].node.node_id == "violin"
    assert str(response)  # the mock LLM answered from the retrieved context
    filtered = index.as_retriever(
        similarity_top_k=4, filters=MetadataFilters(filters=[MetadataFilter(key="topic", value="music")])
    )
    assert [n.node.node_id for n in filtered.retrieve("ice")] == ["violin"]


def test_documents_inserted_through_the_index_are_embedded_by_the_router_model(router: Router) -> None:
    store = VectorRouterVectorStore(router=router, namespace="li:index")
    index = VectorStoreIndex.from_documents(
        [Document(text=TEXTS["ice"], doc_id="doc-ice"), Document(text=TEXTS["violin"], doc_id="doc-violin")],
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=VectorRouterEmbedding(router, "li:index"),
    )
    assert router.count("li:index") == 2
    engine = RetrieverQueryEngine.from_args(index.as_retriever(similarity_top_k=1), llm=MockLLM(max_tokens=8))
    assert engine.query("violins strings").source_nodes[0].node.ref_doc_id == "doc-violin"
    index.delete_ref_doc("doc-violin")
    assert router.count("li:index") == 1


def test_is_embedding_query_lets_the_index_embed_queries_itself(
    router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = VectorRouterVectorStore(router=router, namespace="li:embq", is_embedding_query=True, mode="dense")
    store.add([TextNode(id_=i, text=t) for i, t in TEXTS.items()])
    seen: list[VectorStoreQuery] = []
    real = VectorRouterVectorStore.query

    def spy(self: VectorRouterVectorStore, query: VectorStoreQuery, **kwargs: object) -> object:
        seen.append(query)
        return real(self, query)

    monkeypatch.setattr(VectorRouterVectorStore, "query", spy)
    index = VectorStoreIndex.from_vector_store(store, embed_model=VectorRouterEmbedding(router, "li:embq"))
    assert index.as_retriever(similarity_top_k=1).retrieve("violins four strings")[0].node.node_id == "violin"
    assert seen[0].query_embedding is not None
    assert len(seen[0].query_embedding) == TEST_MODEL.dimensions


def test_records_written_outside_llamaindex_read_back_as_text_nodes(router: Router) -> None:
    router.ingest("li:core", [{"id": "c1", "text": "written by the CLI", "metadata": {"lang": "en"}}])
    store = VectorRouterVectorStore(router=router, namespace="li:core")
    [node] = store.get_nodes(node_ids=["c1"])
    assert (node.node_id, node.get_content(), node.metadata) == ("c1", "written by the CLI", {"lang": "en"})


@pytest.mark.parametrize(
    ("mode", "served_by"),
    [
        (VectorStoreQueryMode.TEXT_SEARCH, "tantivy"),
        (VectorStoreQueryMode.SPARSE, "tantivy"),
        (VectorStoreQueryMode.HYBRID, "numpy+tantivy"),
        (VectorStoreQueryMode.DEFAULT, "numpy+tantivy"),
    ],
)
def test_query_modes_map_to_router_modes(
    store: VectorRouterVectorStore, mode: VectorStoreQueryMode, served_by: str
) -> None:
    out = store._runner.run(
        store.query_plan(VectorStoreQuery(query_str="violins", similarity_top_k=1, mode=mode))
    )
    assert out.ids == ["violin"]
    assert out.result is not None
    assert out.result.served_by == served_by


def test_mmr_mode_trades_a_near_duplicate_for_diversity(router: Router) -> None:
    store = VectorRouterVectorStore(router=router, namespace="li:mmr", mode="dense")
    store.add(
        [
            TextNode(id_="a", text="sea ice forms in winter"),
            TextNode(id_="a-dup", text="sea ice forms in winter months"),
            TextNode(id_="other", text="penguins live on sea ice shelves"),
        ]
    )
    plain = store.query(VectorStoreQuery(query_str="sea ice forms in winter", similarity_top_k=2))
    assert plain.ids == ["a", "a-dup"]
    mmr = VectorStoreQuery(
        query_str="sea ice forms in winter",
        similarity_top_k=2,
        mode=VectorStoreQueryMode.MMR,
        mmr_threshold=0.3,
    )
    assert store.query(mmr).ids == ["a", "other"]
    assert asyncio.run(store.aquery(mmr)).ids == ["a", "other"]


def test_hybrid_top_k_sets_the_size_of_a_hybrid_result(store: VectorRouterVectorStore) -> None:
    query = VectorStoreQuery(
        query_str="ice", similarity_top_k=1, hybrid_top_k=3, mode=VectorStoreQueryMode.HYBRID
    )
    assert len(store.query(query).ids or []) == 3


@pytest.mark.parametrize(
    "query",
    [
        VectorStoreQuery(query_str="x", mode=VectorStoreQueryMode.SVM),
        VectorStoreQuery(query_str="x", mode=VectorStoreQueryMode.SEMANTIC_HYBRID),
        VectorStoreQuery(query_str="x", mode=VectorStoreQueryMode.HYBRID, alpha=0.5),
    ],
)
def test_what_the_router_cannot_honour_raises(
    store: VectorRouterVectorStore, query: VectorStoreQuery
) -> None:
    with pytest.raises(NotImplementedError):
        store.query(query)


def test_unknown_keyword_arguments_raise(store: VectorRouterVectorStore) -> None:
    with pytest.raises(TypeError, match="filter"):
        store.query(VectorStoreQuery(query_str="x"), filter={"topic": "ice"})
    with pytest.raises(TypeError):
        store.add([], upsert=False)


def test_a_query_with_neither_text_nor_vector_is_refused(store: VectorRouterVectorStore) -> None:
    with pytest.raises(InvalidRecord):
        store.query(VectorStoreQuery(similarity_top_k=1))


def test_bad_constructor_arguments_name_the_field(router: Router) -> None:
    with pytest.raises(ConfigurationError, match="router"):
        VectorRouterVectorStore(router=None, namespace="a:b")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="mode"):
        VectorRouterVectorStore(router=router, namespace="a:b", mode="fuzzy")  # type: ignore[arg-type]


def test_add_refuses_a_bare_node_and_anything_that_is_not_a_node(router: Router) -> None:
    s = VectorRouterVectorStore(router=router, namespace="li:bare")
    with pytest.raises(InvalidRecord, match=r"not one TextNode; wrap it in a list: \[node\]"):
        s.add(TextNode(id_="n1", text="hello"))  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match=r"nodes\[1\] is a str, not a LlamaIndex node"):
        s.add([TextNode(id_="n1", text="hello"), "hello"])  # type: ignore[list-item]
    with pytest.raises(InvalidRecord, match="wrap it in a list"):
        asyncio.run(s.async_add(TextNode(id_="n1", text="hello")))  # type: ignore[arg-type]
    assert router.catalog.active_version("li:bare") is None, "nothing was written"


def test_one_node_id_passed_as_a_string_is_refused(router: Router) -> None:
    s = VectorRouterVectorStore(router=router, namespace="li:ids")
    s.add([TextNode(id_="apple", text="apple pie"), TextNode(id_="a", text="the letter a")])
    with pytest.raises(InvalidRecord, match=r"node_ids must be a list of strings, not one string"):
        s.get_nodes(node_ids="apple")  # type: ignore[arg-type]  # would look up "a", "p", "p", "l", "e"
    with pytest.raises(InvalidRecord, match=r"node_ids must be a list of strings, not one string"):
        s.delete_nodes(node_ids="apple")  # type: ignore[arg-type]  # would delete node "a"
    with pytest.raises(InvalidRecord, match="wrap it in a list"):
        asyncio.run(s.adelete_nodes(node_ids="apple"))  # type: ignore[arg-type]
    assert sorted(n.node_id for n in s.get_nodes(node_ids=["apple", "a"])) == ["a", "apple"]


def test_count_follows_writes_and_deletes(store: VectorRouterVectorStore) -> None:
    assert store.count() == 4
    assert store.count(MetadataFilters(filters=[MetadataFilter(key="topic", value="ice")])) == 3
    store.delete_nodes(node_ids=["cream"])
    assert asyncio.run(store.acount()) == 3


def test_a_namespace_pinned_to_a_version_writes_there_and_an_undeclared_one_is_refused(
    router: Router,
) -> None:
    VectorRouterVectorStore(router=router, namespace="li:pinned:hash-64").add(
        [TextNode(id_="x", text="pinned")]
    )
    assert [str(i.namespace) for i in router.namespaces()] == ["li:pinned:hash-64"]
    store = VectorRouterVectorStore(router=router, namespace="li:pinned:no-such-model")
    with pytest.raises(ConfigurationError, match="no-such-model"):
        store.add([TextNode(id_="y", text="nowhere to go")])


def test_stored_nodes_read_back_exactly_as_llamaindexs_own_reader_reads_them() -> None:
    # to_node parses TextNode JSON with pydantic directly (the fast path); it must rebuild what
    # metadata_dict_to_node rebuilds, field for field, for every node kind and every part of a node
    from llama_index.core.schema import Document, ImageNode, IndexNode, NodeRelationship, RelatedNodeInfo
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

    from llama_index.vector_stores.vectorrouter.nodes import to_node

    source = RelatedNodeInfo(node_id="doc-1", metadata={"page": 3}, hash="h")
    nodes = [
        TextNode(
            id_="t1",
            text="glaciers are slow rivers",
            metadata={"year": 2021, "tags": ["ice", "water"], "nested": {"a": {"b": 1}}},
            excluded_llm_metadata_keys=["year"],
            excluded_embed_metadata_keys=["tags"],
            metadata_template="{key}=>{value}",
            text_template="{metadata_str}|{content}",
            relationships={
                NodeRelationship.SOURCE: source,
                NodeRelationship.NEXT: RelatedNodeInfo(node_id="t2"),
            },
            start_char_idx=4,
            end_char_idx=29,
        ),
        TextNode(id_="t2", text="no metadata at all"),
        Document(id_="d1", text="a whole document", metadata={"lang": "en"}),
        IndexNode(id_="i1", text="points elsewhere", index_id="other-index"),
        ImageNode(id_="m1", text="a caption", image_url="https://example.com/x.png"),
    ]
    for node in nodes:
        stored = node_to_metadata_dict(node, remove_text=True, flat_metadata=False)
        text = node.get_content()
        ours = to_node(node.node_id, text, stored)
        theirs = metadata_dict_to_node(dict(stored), text=text)
        assert type(ours) is type(theirs), node.node_id
        assert ours.model_dump() == theirs.model_dump(), node.node_id
        assert ours == theirs, node.node_id
        assert ours.model_fields_set == theirs.model_fields_set, node.node_id
        assert ours.hash == theirs.hash, node.node_id
        assert ours.get_content(metadata_mode="llm") == theirs.get_content(metadata_mode="llm")
    # content another writer stored without a text field still reads back with the text set
    bare = TextNode.model_validate({"id_": "b1"}).model_dump_json(exclude={"text"})
    ours = to_node("b1", "from the store", {"_node_content": bare, "_node_type": "TextNode"})
    theirs = metadata_dict_to_node({"_node_content": bare, "_node_type": "TextNode"}, text="from the store")
    assert ours == theirs
    assert ours.text == "from the store"
    assert ours.model_fields_set == theirs.model_fields_set
    # the fast path leaves a normal node: later assignments are still validated
    with pytest.raises(ValueError, match="text"):
        ours.text = 3  # type: ignore[assignment]
    # the stored content is never mutated by reading it
    stored = node_to_metadata_dict(nodes[0], remove_text=True, flat_metadata=False)
    before = dict(stored)
    to_node("t1", "x", stored).metadata["year"] = 1999
    assert stored == before
