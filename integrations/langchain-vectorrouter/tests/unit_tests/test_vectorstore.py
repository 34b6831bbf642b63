"""VectorRouterStore beyond the standard suite: the two embedding paths, MMR, relevance, deletes, from_texts."""

import asyncio
from collections.abc import Callable

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from vectorrouter import TEST_MODEL, ConfigurationError, DimensionMismatch, InvalidRecord, ModelSpec, Router
from vectorrouter.embeddings import HashEmbedder
from vectorrouter.types import Hit

from langchain_vectorrouter import VectorRouterStore
from langchain_vectorrouter.vectorstores import _doc

MakeRouter = Callable[..., Router]


FAKE_6 = ModelSpec(version="fake-6", provider="hash", dimensions=6)


class CountingEmbeddings(DeterministicFakeEmbedding):
    """The fake model, counting how often LangChain-side embedding is asked for."""

    queries: int = 0
    documents: int = 0

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return super().embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += 1
        return super().embed_documents(texts)


def test_text_path_lets_the_router_embed_with_the_namespaces_model() -> None:
    embedder = HashEmbedder(TEST_MODEL.dimensions)
    with Router.embedded(None, model=TEST_MODEL, embedder=embedder, vector_kind="numpy") as router:
        store = VectorRouterStore(router=router, namespace="emb:text")
        store.add_texts(["glaciers are rivers of ice"], ids=["g"])
        assert embedder.calls == 1
        assert store.similarity_search("rivers of ice", k=1, mode="dense")[0].id == "g"
        assert embedder.calls == 2


def test_vector_path_embeds_with_the_langchain_model_and_the_router_never_does(
    make_router: MakeRouter,
) -> None:
    router = make_router(FAKE_6)
    model = CountingEmbeddings(size=6)
    store = VectorRouterStore(router=router, namespace="emb:vectors", embedding=model)
    store.add_texts(["foo", "bar"], ids=["f", "b"])
    assert store.similarity_search("bar", k=1)[0].id == "b"
    assert (model.documents, model.queries) == (1, 1)
    stored = router.get("emb:vectors", ["b"], with_vectors=True)[0].vector
    assert stored is not None
    expected = np.asarray(model.embed_query("bar"))
    # the cosine index stores unit vectors: the same direction is the same vector
    assert list(stored) == pytest.approx(list(expected / np.linalg.norm(expected)), rel=1e-4, abs=1e-5)


def test_keyword_mode_does_not_embed_the_query(make_router: MakeRouter) -> None:
    router = make_router(FAKE_6)
    model = CountingEmbeddings(size=6)
    store = VectorRouterStore(router=router, namespace="emb:kw", embedding=model, mode="keyword")
    store.add_texts(["foo bar"], ids=["fb"])
    assert store.similarity_search("foo", k=1)[0].id == "fb"
    assert model.queries == 0


def test_a_langchain_model_of_the_wrong_width_is_refused_before_anything_is_written(router: Router) -> None:
    store = VectorRouterStore(
        router=router, namespace="emb:wrong", embedding=DeterministicFakeEmbedding(size=6)
    )
    with pytest.raises(DimensionMismatch, match="64"):
        store.add_texts(["foo"], ids=["f"])
    assert router.namespaces() == []


def test_a_query_vector_of_the_wrong_width_raises_even_on_an_empty_namespace(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="emb:empty")
    with pytest.raises(DimensionMismatch):
        store.similarity_search_by_vector([0.1] * 5, k=1)
    store.add_texts(["foo"], ids=["f"])
    with pytest.raises(DimensionMismatch):
        store.similarity_search_by_vector([0.1] * 5, k=1)
    with pytest.raises(DimensionMismatch):
        store.max_marginal_relevance_search_by_vector([0.1] * 5, k=1)


def test_search_by_vector_uses_the_dense_index(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="emb:byvec")
    store.add_texts(["glaciers are rivers of ice", "violins have strings"], ids=["g", "v"])
    vector = router.embeddings.embed(TEST_MODEL.version, ["violins have strings"], "query")[0].tolist()
    assert [d.id for d in store.similarity_search_by_vector(vector, k=1)] == ["v"]
    assert [d.id for d in asyncio.run(store.asimilarity_search_by_vector(vector, k=1))] == ["v"]


def test_mmr_prefers_a_diverse_second_result_over_a_near_duplicate(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="emb:mmr", mode="dense")
    store.add_texts(
        ["sea ice forms in winter", "sea ice forms in winter months", "penguins live on sea ice shelves"],
        ids=["a", "a-dup", "other"],
    )
    plain = [d.id for d in store.similarity_search("sea ice forms in winter", k=2)]
    assert plain == ["a", "a-dup"]
    diverse = store.max_marginal_relevance_search("sea ice forms in winter", k=2, fetch_k=3, lambda_mult=0.3)
    assert [d.id for d in diverse] == ["a", "other"]
    again = asyncio.run(
        store.amax_marginal_relevance_search("sea ice forms in winter", k=2, fetch_k=3, lambda_mult=0.3)
    )
    assert [d.id for d in again] == ["a", "other"]


def test_relevance_scores_are_dense_cosine_mapped_into_zero_one(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="emb:relevance")
    store.add_texts(["exact words here", "something else entirely"], ids=["x", "y"])
    scored = store.similarity_search_with_relevance_scores("exact words here", k=2)
    assert scored[0][0].id == "x"
    assert scored[0][1] == pytest.approx(1.0, abs=1e-5)
    assert all(0.0 <= s <= 1.0 for _, s in scored)


def test_relevance_scores_refuse_a_dot_product_model(make_router: MakeRouter) -> None:
    dot = TEST_MODEL.__class__(version="hash-dot", provider="hash", dimensions=16, metric="dot")
    router = make_router(dot)
    store = VectorRouterStore(router=router, namespace="emb:dot")
    store.add_texts(["a"], ids=["a"])
    with pytest.raises(ConfigurationError, match="cosine"):
        store.similarity_search_with_relevance_scores("a", k=1)


def test_delete_without_ids_empties_the_namespace_and_keeps_it_usable(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="del:all")
    store.add_texts(["one", "two"], ids=["1", "2"])
    assert store.delete() is True
    assert store.similarity_search("one", k=5) == []
    store.add_texts(["three"], ids=["3"])
    assert [d.id for d in store.similarity_search("three", k=5)] == ["3"]


def test_ids_must_be_a_list_and_match_the_texts(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="ids:check")
    with pytest.raises(InvalidRecord, match="2 ids for 1 texts"):
        store.add_texts(["one"], ids=["1", "2"])
    with pytest.raises(InvalidRecord, match="one string"):
        store.delete("1")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match=r"not one string; wrap it in a list: \[text\]"):
        store.add_texts("one text")
    assert router.catalog.active_version("ids:check") is None, "nothing was written"
    store.add_texts(["apple pie", "the letter a"], ids=["apple", "a"])
    with pytest.raises(InvalidRecord, match=r"not one string; wrap it in a list: \[id\]"):
        store.get_by_ids("apple")  # would look up "a", "p", "p", "l", "e"
    with pytest.raises(InvalidRecord, match="wrap it in a list"):
        asyncio.run(store.aget_by_ids("apple"))
    with pytest.raises(InvalidRecord, match="wrap it in a list"):
        store.delete("apple")  # type: ignore[arg-type]
    assert sorted(d.id or "" for d in store.get_by_ids(["apple", "a"])) == ["a", "apple"]


def test_get_by_ids_keeps_the_asked_order_and_skips_unknown_ids(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="ids:order")
    store.add_documents([Document(page_content=t, id=t) for t in ("a", "b", "c")])
    assert [d.id for d in store.get_by_ids(["c", "nope", "a"])] == ["c", "a"]


def test_documents_read_back_are_the_documents_langchain_itself_builds(router: Router) -> None:
    # results are validated straight into new Document instances, past Document.__init__: same objects
    store = VectorRouterStore(router=router, namespace="docs:built")
    metadata = [{"year": 2021, "tags": ["ice"]}, {"nested": {"a": [1, {"b": None}]}}, {}]
    store.add_texts(["glacier ice", "river water", "salt"], metadatas=metadata, ids=["g", "r", "s"])
    for doc in store.get_by_ids(["g", "r", "s"]) + store.similarity_search("ice", k=3):
        theirs = Document(id=doc.id, page_content=doc.page_content, metadata=doc.metadata)
        assert type(doc) is Document
        assert doc == theirs
        assert doc.model_dump() == theirs.model_dump()
        assert doc.model_fields_set == theirs.model_fields_set
    assert {d.id: d.metadata for d in store.get_by_ids(["g", "r", "s"])} == dict(
        zip("grs", metadata, strict=True)
    )
    # the field types are still enforced
    with pytest.raises(ValueError, match="page_content"):
        _doc(Hit("x", 1.0, None, {}))  # type: ignore[arg-type]


def test_from_texts_builds_an_embedded_router_named_after_the_langchain_model() -> None:
    model = DeterministicFakeEmbedding(size=12)
    store = VectorRouterStore.from_texts(["foo", "bar"], model, [{"n": 1}, {"n": 2}], ids=["f", "b"])
    assert store.router.default_model == "langchain-DeterministicFakeEmbedding-12"
    assert store.similarity_search("foo", k=1) == [Document(id="f", page_content="foo", metadata={"n": 1})]
    store.router.close()


def test_afrom_texts_uses_a_given_router_and_namespace(router: Router) -> None:
    store = asyncio.run(VectorRouterStore.afrom_texts(["foo"], None, router=router, namespace="acme:notes"))
    assert router.count("acme:notes") == 1
    assert store.namespace == "acme:notes"


def test_bad_constructor_arguments_name_the_field(make_router: MakeRouter) -> None:
    with pytest.raises(ConfigurationError, match="router"):
        VectorRouterStore(router="not a router", namespace="a:b")  # type: ignore[arg-type]
    router = make_router()
    with pytest.raises(ConfigurationError, match="mode"):
        VectorRouterStore(router=router, namespace="a:b", mode="fuzzy")  # type: ignore[arg-type]


def test_relevance_scores_refuse_a_mode_that_has_no_cosine_score(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="emb:relevance-mode")
    store.add_texts(["exact words here", "something else entirely"], ids=["x", "y"])
    for mode in ("keyword", "hybrid"):
        with pytest.raises(InvalidRecord, match=f"similarity_search_with_score\\(query, mode='{mode}'\\)"):
            store.similarity_search_with_relevance_scores("exact words here", k=1, mode=mode)
        with pytest.raises(InvalidRecord, match="dense cosine"):
            asyncio.run(store.asimilarity_search_with_relevance_scores("exact words here", k=1, mode=mode))
    dense = store.similarity_search_with_relevance_scores("exact words here", k=1, mode="dense")
    assert [d.id for d, _ in dense] == ["x"]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"k": 0}, "k"),
        ({"k": -2}, "k"),
        ({"k": 1.5}, "k"),
        ({"fetch_k": 0}, "fetch_k"),
        ({"fetch_k": True}, "fetch_k"),
        ({"lambda_mult": 1.5}, "lambda_mult"),
        ({"lambda_mult": -0.1}, "lambda_mult"),
        ({"lambda_mult": float("nan")}, "lambda_mult"),
        ({"lambda_mult": "0.5"}, "lambda_mult"),
    ],
)
def test_mmr_refuses_parameters_out_of_range_naming_them(
    router: Router, options: dict[str, object], named: str
) -> None:
    store = VectorRouterStore(router=router, namespace="emb:mmr-check")
    store.add_texts(["sea ice", "pack ice"], ids=["a", "b"])
    vector = router.embeddings.embed(TEST_MODEL.version, ["sea ice"], "query")[0].tolist()
    calls = [
        lambda: store.max_marginal_relevance_search("sea ice", **options),  # type: ignore[arg-type]
        lambda: store.max_marginal_relevance_search_by_vector(vector, **options),  # type: ignore[arg-type]
        lambda: asyncio.run(store.amax_marginal_relevance_search("sea ice", **options)),  # type: ignore[arg-type]
        lambda: store.as_retriever(search_type="mmr", search_kwargs=options).invoke("sea ice"),
    ]
    for call in calls:
        with pytest.raises(InvalidRecord, match=f"^{named} must be"):
            call()
    assert [d.id for d in store.max_marginal_relevance_search("sea ice", k=1, fetch_k=1, lambda_mult=1)] == [
        "a"
    ]
