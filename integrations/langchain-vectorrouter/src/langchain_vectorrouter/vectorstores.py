"""``VectorRouterStore``: a LangChain ``VectorStore`` over one namespace of a vectorrouter ``Router``."""

from __future__ import annotations

import numbers
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance
from vectorrouter import Router
from vectorrouter.errors import ConfigurationError, InvalidRecord
from vectorrouter.filters import And, Filter
from vectorrouter.plans import id_list
from vectorrouter.types import Hit, Record, SearchMode, SearchResult

from langchain_vectorrouter._filters import to_filter
from langchain_vectorrouter._metadata import decode, encode
from langchain_vectorrouter._ops import (
    Delete,
    EmbedDocuments,
    EmbedQuery,
    Get,
    Ingest,
    Plan,
    Runner,
    Search,
    write_target,
)
from langchain_vectorrouter.embeddings import embedded_router

__all__ = ["VectorRouterStore"]

_MODES = (None, "dense", "keyword", "hybrid")
Scored = list[tuple[Document, float]]


_validate_document = Document.__pydantic_validator__.validate_python
_new_document = Document.__new__


def _doc(hit: Hit | Record) -> Document:
    """The document for a stored hit or record: the same object ``Document(...)`` builds, validated straight
    into a new instance as pydantic's ``BaseModel.__init__`` does. ``Document.__init__`` and
    ``Serializable.__init__`` only pass their arguments up to it, and on every search they were 60% of a
    document's cost (tests/unit_tests/test_vectorstore.py compares the two)."""
    doc = _new_document(Document)
    _validate_document(
        {"id": hit.id, "page_content": hit.text, "metadata": decode(hit.metadata)}, self_instance=doc
    )
    return doc


def _options(kwargs: Mapping[str, Any], allowed: Iterable[str], method: str) -> None:
    unknown = set(kwargs) - set(allowed)
    if unknown:  # an ignored typo such as ``filters=`` would silently widen the search
        raise TypeError(f"{method}() got unexpected keyword arguments {sorted(unknown)}")


def _check_mmr(k: Any, fetch_k: Any, lambda_mult: Any) -> None:
    for name, value in (("k", k), ("fetch_k", fetch_k)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise InvalidRecord(f"{name} must be a positive integer, got {value!r}")
    if (
        isinstance(lambda_mult, bool)
        or not isinstance(lambda_mult, numbers.Real)
        or not 0.0 <= float(lambda_mult) <= 1.0
    ):
        raise InvalidRecord(
            f"lambda_mult must be a number in [0, 1] (0: most diverse, 1: most relevant), got {lambda_mult!r}"
        )


def _router_for(
    router: Router | None, embedding: Embeddings | None, path: str | Path | None, model_version: str | None
) -> Router:
    if router is None:
        return embedded_router(embedding, path, model_version=model_version)
    if model_version is not None:
        raise ConfigurationError(
            "model_version names the model of the router from_texts builds, and router= was given",
            field="model_version",
            fix="drop model_version (the namespace's version is the given router's), or drop router=",
        )
    return router


class VectorRouterStore(VectorStore):
    """LangChain vector store over one vectorrouter namespace (``tenant:feature``, optionally ``:version``).

    The router decides where records live and how searches are served (dense, keyword or hybrid, with its
    fallbacks); this class only translates. Ids and metadata come back exactly as given: metadata the core
    cannot store flat (nested dicts, lists of mixed types…) is kept in one JSON field and merged back on read,
    and it is not filterable (see ``langchain_vectorrouter._metadata``).

    Embeddings, two ways:

    - ``embedding=None`` (the default): texts go to the router, which embeds them with the namespace's active
      model version, for documents and queries alike.
    - ``embedding=<LangChain Embeddings>``: this store embeds with it and hands the router vectors; the router
      checks each vector's width against the namespace's model version and raises ``DimensionMismatch``.
    - ``similarity_search_by_vector`` and ``max_marginal_relevance_search_by_vector`` always hand vectors.

    Setup:
        Install the core and this package (``make install`` does both from the repository).

        ```bash
        pip install vectorrouter langchain-vectorrouter
        ```

    Key init args:
        router: the ``vectorrouter.Router`` to read and write through.
        namespace: ``"tenant:feature"`` (its active model version) or ``"tenant:feature:version"``.
        embedding: optional LangChain ``Embeddings``; ``None`` lets the router embed.
        mode: ``"dense"``, ``"keyword"``, ``"hybrid"`` or ``None`` (the router's choice: hybrid when it has a
            keyword store).

    Instantiate:
        ```python
        from vectorrouter import Router, TEST_MODEL
        from langchain_vectorrouter import VectorRouterStore

        router = Router.embedded(None, model=TEST_MODEL, vector_kind="numpy")  # in memory, test embedder
        vector_store = VectorRouterStore(router=router, namespace="acme:docs")
        ```

    Add Documents:
        ```python
        from langchain_core.documents import Document

        docs = [
            Document(page_content="Qdrant Edge runs in process.", metadata={"lang": "en", "year": 2025}),
            Document(page_content="BM25 ranks by term rarity.", metadata={"lang": "en", "year": 2021}),
            Document(page_content="Le BM25 classe par rareté.", metadata={"lang": "fr", "year": 2021}),
        ]
        ids = vector_store.add_documents(docs, ids=["edge", "bm25", "bm25-fr"])
        ```

    Delete Documents:
        ```python
        vector_store.delete(ids=["bm25-fr"])
        ```

    Search:
        ```python
        results = vector_store.similarity_search("which engine runs in process?", k=1)
        assert results[0].id == "edge"
        ```

    Search with filter:
        ```python
        results = vector_store.similarity_search(
            "ranking", k=2, filter={"lang": "en", "year": {"$lt": 2024}}
        )
        assert [d.id for d in results] == ["bm25"]
        ```

    Search with score:
        ```python
        for doc, score in vector_store.similarity_search_with_score("term rarity", k=1):
            print(f"{score:.3f} {doc.id} {doc.metadata}")
        ```

    Async:
        ```python
        import asyncio

        async def main() -> None:
            await vector_store.aadd_documents([Document(page_content="async too", id="a1")])
            hits = await vector_store.asimilarity_search("async", k=1, mode="keyword")
            assert hits[0].id == "a1"

        asyncio.run(main())
        ```

    Use as retriever:
        ```python
        retriever = vector_store.as_retriever(search_type="mmr", search_kwargs={"k": 1, "fetch_k": 3})
        assert retriever.invoke("in process")[0].id == "edge"
        router.close()
        ```

    ``VectorRouterRetriever`` is the retriever that also reports how each search was served.
    """

    def __init__(
        self,
        router: Router,
        namespace: str,
        *,
        embedding: Embeddings | None = None,
        mode: SearchMode | None = None,
        batch_size: int | None = None,
    ) -> None:
        if not isinstance(router, Router):
            raise ConfigurationError(
                f"router must be a vectorrouter.Router, got {type(router).__name__}",
                field="router",
                fix="pass Router.embedded(...) or Router.from_config(...)",
            )
        if mode not in _MODES:
            raise ConfigurationError(
                f"unknown mode {mode!r}", field="mode", fix="use 'dense', 'keyword', 'hybrid' or None"
            )
        write_target(router, namespace)  # validates the namespace string now, not on the first write
        self.router = router
        self.namespace = namespace
        self.mode: SearchMode | None = mode
        self.batch_size = batch_size
        self._embedding = embedding
        self._runner = Runner(router, embedding)

    @property
    def embeddings(self) -> Embeddings | None:
        return self._embedding

    # -- writes -----------------------------------------------------------------------------------
    def _add_plan(
        self,
        texts: Iterable[str],
        metadatas: Sequence[Mapping[str, Any] | None] | None,
        ids: Sequence[str | None] | None,
    ) -> Plan[list[str]]:
        if isinstance(texts, str):
            raise InvalidRecord("texts must be a list of strings, not one string; wrap it in a list: [text]")
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise InvalidRecord(f"got {len(metadatas)} metadatas for {len(texts)} texts; pass one per text")
        if ids is not None and len(ids) != len(texts):
            raise InvalidRecord(f"got {len(ids)} ids for {len(texts)} texts; pass one per text")
        own_ids = [i if i is not None else str(uuid.uuid4()) for i in (ids or [None] * len(texts))]
        metas = metadatas or [None] * len(texts)
        # every record validates before anything is embedded or written
        records = [
            Record(id=i, text=t, metadata=encode(m)) for i, t, m in zip(own_ids, texts, metas, strict=True)
        ]
        if not records:
            return []
        if self._embedding is not None:
            vectors = yield EmbedDocuments(texts)
            records = [r.with_vector(v) for r, v in zip(records, vectors, strict=True)]
        yield Ingest(self.namespace, records, self.batch_size)
        return own_ids

    def _texts_plan(
        self, texts: Iterable[str], metadatas: list[dict[str, Any]] | None, kwargs: dict[str, Any]
    ) -> Plan[list[str]]:
        _options(kwargs, ("ids",), "add_texts")
        return self._add_plan(texts, metadatas, kwargs.get("ids"))

    def _documents_plan(self, documents: list[Document], kwargs: dict[str, Any]) -> Plan[list[str]]:
        _options(kwargs, ("ids",), "add_documents")
        ids = kwargs.get("ids")
        if ids is None and any(d.id for d in documents):
            ids = [d.id or None for d in documents]
        return self._add_plan([d.page_content for d in documents], [d.metadata for d in documents], ids)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Write ``texts`` (ids default to fresh UUIDs); an existing id is replaced, never duplicated."""
        return self._runner.run(self._texts_plan(texts, metadatas, {**kwargs, "ids": ids}))

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        return await self._runner.arun(self._texts_plan(texts, metadatas, {**kwargs, "ids": ids}))

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Write ``documents``; ``ids=`` wins over ``Document.id``, which wins over a fresh UUID."""
        return self._runner.run(self._documents_plan(documents, kwargs))

    async def aadd_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        return await self._runner.arun(self._documents_plan(documents, kwargs))

    def _delete_plan(self, ids: list[str] | None, kwargs: dict[str, Any]) -> Plan[bool]:
        _options(kwargs, ("filter",), "delete")
        if ids is not None:
            if ids := id_list(ids):
                yield Delete(self.namespace, ids)
            return True
        # LangChain's contract: no ids means everything (narrowed by ``filter=`` when given)
        yield Delete(self.namespace, None, to_filter(kwargs.get("filter")) or And(()))
        return True

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete by ids, or by ``filter=`` (a dict), or everything in the namespace when neither is given."""
        return self._runner.run(self._delete_plan(ids, kwargs))

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        return await self._runner.arun(self._delete_plan(ids, kwargs))

    def _get_plan(self, ids: Sequence[str]) -> Plan[list[Document]]:
        records = yield Get(self.namespace, id_list(ids))
        return [_doc(r) for r in records]

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Documents by id in the order asked; unknown ids are left out."""
        return self._runner.run(self._get_plan(ids))

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return await self._runner.arun(self._get_plan(ids))

    # -- search -----------------------------------------------------------------------------------
    def search_plan(
        self,
        query: str | None,
        k: int,
        *,
        vector: Sequence[float] | None = None,
        filter: Mapping[str, Any] | Filter | None = None,
        mode: SearchMode | None = None,
        namespace: str | None = None,
    ) -> Plan[SearchResult | None]:
        """The search every similarity method and the retriever run (``None``: the namespace is empty)."""
        ns = namespace or self.namespace
        chosen = mode if mode is not None else self.mode
        if chosen not in _MODES:
            raise InvalidRecord(f"mode must be 'dense', 'keyword' or 'hybrid', got {chosen!r}")
        flt = to_filter(filter)
        if vector is None and query is not None and self._embedding is not None and chosen != "keyword":
            vector = yield EmbedQuery(ns, query)
        result: SearchResult | None = yield Search(ns, query, vector, k, chosen, flt)
        return result

    def _scored_plan(self, query: str | None, k: int, kwargs: dict[str, Any], **fixed: Any) -> Plan[Scored]:
        _options(kwargs, ("filter", "mode"), "similarity_search")
        result = yield from self.search_plan(query, k, **{**kwargs, **fixed})
        return [(_doc(h), h.score) for h in result.hits] if result else []

    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> Scored:
        """Documents and scores, best first. Scores are the served mode's: cosine similarity for dense,
        BM25 for keyword, reciprocal-rank-fusion for hybrid (higher is better in each)."""
        return self._runner.run(self._scored_plan(query, k, kwargs))

    async def asimilarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> Scored:
        return await self._runner.arun(self._scored_plan(query, k, kwargs))

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        """The ``k`` best documents for ``query``; ``filter=`` (dict) and ``mode=`` narrow the search."""
        return [d for d, _ in self.similarity_search_with_score(query, k, **kwargs)]

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [d for d, _ in await self.asimilarity_search_with_score(query, k, **kwargs)]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        """Dense search with a precomputed vector (its width is checked against the namespace's model)."""
        plan = self._scored_plan(None, k, kwargs, vector=embedding, mode="dense")
        return [d for d, _ in self._runner.run(plan)]

    async def asimilarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        plan = self._scored_plan(None, k, kwargs, vector=embedding, mode="dense")
        return [d for d, _ in await self._runner.arun(plan)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        spec = self.router.embeddings.spec(write_target(self.router, self.namespace).model_version)
        if spec.metric != "cosine":
            raise ConfigurationError(
                f"relevance scores in [0, 1] need a cosine model; {spec.version} uses {spec.metric!r}",
                field=f"models.{spec.version}.metric",
                fix="use similarity_search_with_score, whose scores are the store's own",
            )
        return lambda s: min(1.0, max(0.0, (1.0 + s) / 2.0))

    def _relevance_fn(self, kwargs: Mapping[str, Any]) -> Callable[[float], float]:
        """Relevance scores are dense cosine mapped into [0, 1], whatever the store's ``mode``; a call asking
        for another mode is refused rather than quietly answered from the dense index."""
        mode = kwargs.get("mode")
        if mode not in (None, "dense"):
            raise InvalidRecord(
                f"relevance scores in [0, 1] are dense cosine similarities; mode={mode!r} has none (BM25 and "
                "reciprocal-rank scores are unbounded): drop mode, or call "
                f"similarity_search_with_score(query, mode={mode!r}) for that mode's own scores"
            )
        return self._select_relevance_score_fn()

    def _similarity_search_with_relevance_scores(self, query: str, k: int = 4, **kwargs: Any) -> Scored:
        fn = self._relevance_fn(kwargs)  # cosine similarity only means something in dense mode
        return [(d, fn(s)) for d, s in self._runner.run(self._scored_plan(query, k, kwargs, mode="dense"))]

    async def _asimilarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> Scored:
        fn = self._relevance_fn(kwargs)
        scored = await self._runner.arun(self._scored_plan(query, k, kwargs, mode="dense"))
        return [(d, fn(s)) for d, s in scored]

    def _mmr_plan(
        self,
        query: str | None,
        vector: Sequence[float] | None,
        k: int,
        fetch_k: int,
        lambda_mult: float,
        kwargs: dict[str, Any],
    ) -> Plan[list[Document]]:
        _options(kwargs, ("filter", "mode"), "max_marginal_relevance_search")
        _check_mmr(k, fetch_k, lambda_mult)  # before embedding: the search would otherwise answer [] for k=0
        if vector is None:
            vector = yield EmbedQuery(self.namespace, query or "")
        else:
            kwargs = {**kwargs, "mode": "dense"}
        result = yield from self.search_plan(query, max(k, fetch_k), vector=vector, **kwargs)
        if not result or not result.hits:
            return []
        records = yield Get(self.namespace, result.ids, with_vectors=True)
        vectors = {r.id: r.vector for r in records if r.vector is not None}
        hits = [h for h in result.hits if h.id in vectors]  # a record deleted meanwhile drops out
        picks = maximal_marginal_relevance(
            np.asarray(vector, dtype=np.float32),
            [list(vectors[h.id]) for h in hits],
            lambda_mult=lambda_mult,
            k=k,
        )
        return [_doc(hits[i]) for i in picks]

    def max_marginal_relevance_search(
        self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        """``fetch_k`` candidates from the store's mode (at least ``k``), re-ranked for diversity by their stored
        vectors; ``lambda_mult`` in [0, 1] weighs relevance (1) against diversity (0)."""
        return self._runner.run(self._mmr_plan(query, None, k, fetch_k, lambda_mult, kwargs))

    async def amax_marginal_relevance_search(
        self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        return await self._runner.arun(self._mmr_plan(query, None, k, fetch_k, lambda_mult, kwargs))

    def max_marginal_relevance_search_by_vector(
        self, embedding: list[float], k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        return self._runner.run(self._mmr_plan(None, embedding, k, fetch_k, lambda_mult, kwargs))

    async def amax_marginal_relevance_search_by_vector(
        self, embedding: list[float], k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        return await self._runner.arun(self._mmr_plan(None, embedding, k, fetch_k, lambda_mult, kwargs))

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        router: Router | None = None,
        namespace: str = "default:langchain",
        path: str | Path | None = None,
        model_version: str | None = None,
        **kwargs: Any,
    ) -> Self:
        """A store holding ``texts``. Without ``router``, an embedded one is built (in memory, or under
        ``path``) whose model is ``embedding`` (or the router's default model when ``embedding`` is None),
        its version named after the model (or ``model_version``; see :func:`embedded_router`)."""
        router = _router_for(router, embedding, path, model_version)
        store = cls(router, namespace, embedding=embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        router: Router | None = None,
        namespace: str = "default:langchain",
        path: str | Path | None = None,
        model_version: str | None = None,
        **kwargs: Any,
    ) -> Self:
        router = _router_for(router, embedding, path, model_version)
        store = cls(router, namespace, embedding=embedding, **kwargs)
        await store.aadd_texts(texts, metadatas, ids=ids)
        return store
