"""``VectorRouterVectorStore``: a LlamaIndex vector store over one namespace of a vectorrouter ``Router``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.indices.query.embedding_utils import get_top_k_mmr_embeddings
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)

from llama_index.vector_stores.vectorrouter.filters import to_filter
from llama_index.vector_stores.vectorrouter.nodes import REF_DOC_KEY, to_node, to_record
from vectorrouter import Router
from vectorrouter.errors import ConfigurationError, InvalidRecord
from vectorrouter.filters import And, Filter, In, and_all
from vectorrouter.plans import (
    Count,
    Delete,
    EmbedQuery,
    Get,
    Ingest,
    Plan,
    Runner,
    Scroll,
    Search,
    check_width,
    id_list,
    write_target,
)
from vectorrouter.types import Hit, Record, SearchMode, SearchResult

__all__ = ["QueryOutcome", "VectorRouterVectorStore"]

_MODES = (None, "dense", "keyword", "hybrid")
#: LlamaIndex query modes and what the router runs for them (``None``: the store's own mode).
_QUERY_MODES: dict[VectorStoreQueryMode, str | None] = {
    VectorStoreQueryMode.DEFAULT: None,
    VectorStoreQueryMode.HYBRID: "hybrid",
    VectorStoreQueryMode.TEXT_SEARCH: "keyword",
    VectorStoreQueryMode.SPARSE: "keyword",
    VectorStoreQueryMode.MMR: "mmr",
}
_MMR_PREFETCH = 4  # candidates per wanted result, as LlamaIndex's own in-memory store fetches


@dataclass(frozen=True, slots=True)
class QueryOutcome:
    """A query's nodes and scores, plus the router's account of how it was served (``None``: nothing to search)."""

    nodes: list[BaseNode] = field(default_factory=list)
    similarities: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    result: SearchResult | None = None


def _unknown(kwargs: dict[str, Any], method: str) -> None:
    if kwargs:  # an ignored option would change results silently
        raise TypeError(f"{method}() got unexpected keyword arguments {sorted(kwargs)}")


def _node(hit: Hit | Record) -> BaseNode:
    return to_node(hit.id, hit.text, hit.metadata)


class VectorRouterVectorStore(BasePydanticVectorStore):
    """LlamaIndex vector store over a vectorrouter namespace (``tenant:feature``, optionally ``:version``).

    It stores text (``stores_text=True``), so ``VectorStoreIndex.from_vector_store`` needs no docstore, and
    nodes come back whole: id, text, metadata (nested too), relationships. Every ``MetadataFilters`` operator
    and AND/OR/NOT nesting is translated; ``text_match`` raises (see ``filters``).

    Embeddings, two ways:

    - the framework hands vectors: ``add`` of nodes with ``embedding`` set, or ``query`` with
      ``query_embedding``; the router checks each width against the namespace's model version
      (``DimensionMismatch``). ``is_embedding_query=True`` makes ``VectorIndexRetriever`` embed queries with
      the index's ``embed_model`` before calling ``query``.
    - the framework hands text: nodes without ``embedding`` and queries with only ``query_str`` are embedded by
      the router with the namespace's active model. This is the default for queries
      (``is_embedding_query=False``); give the index ``VectorRouterEmbedding`` so that the nodes it embeds
      itself use that same model.

    >>> from vectorrouter import Router, TEST_MODEL
    >>> from llama_index.core import VectorStoreIndex
    >>> from llama_index.core.schema import TextNode
    >>> from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters
    >>> from llama_index.vector_stores.vectorrouter import VectorRouterEmbedding, VectorRouterVectorStore
    >>> router = Router.embedded(None, model=TEST_MODEL, vector_kind="numpy")
    >>> store = VectorRouterVectorStore(router=router, namespace="acme:docs")
    >>> store.add([TextNode(id_="edge", text="Qdrant Edge runs in process.", metadata={"year": 2025}),
    ...            TextNode(id_="bm25", text="BM25 ranks by term rarity.", metadata={"year": 2021})])
    ['edge', 'bm25']
    >>> index = VectorStoreIndex.from_vector_store(store, embed_model=VectorRouterEmbedding(router, "acme:docs"))
    >>> recent = MetadataFilters(filters=[MetadataFilter(key="year", operator=">=", value=2024)])
    >>> [n.node.node_id for n in index.as_retriever(similarity_top_k=2, filters=recent).retrieve("engine")]
    ['edge']
    >>> router.close()
    """

    stores_text: bool = True
    flat_metadata: bool = False
    is_embedding_query: bool = False
    namespace: str
    mode: SearchMode | None = None
    _router: Router = PrivateAttr()
    _runner: Runner = PrivateAttr()

    def __init__(
        self,
        router: Router,
        namespace: str,
        *,
        mode: SearchMode | None = None,
        is_embedding_query: bool = False,
        **kwargs: Any,
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
        write_target(router, namespace)  # a bad namespace fails here, not on the first write
        super().__init__(namespace=namespace, mode=mode, is_embedding_query=is_embedding_query, **kwargs)
        self._router = router
        self._runner = Runner(router)

    @classmethod
    def class_name(cls) -> str:
        return "VectorRouterVectorStore"

    @property
    def client(self) -> Router:
        return self._router

    @property
    def router(self) -> Router:
        return self._router

    # -- writes -----------------------------------------------------------------------------------
    def _add_plan(self, nodes: Sequence[BaseNode], kwargs: dict[str, Any]) -> Plan[list[str]]:
        _unknown(kwargs, "add")
        if isinstance(nodes, BaseNode):
            raise InvalidRecord(
                f"nodes must be a list of nodes, not one {type(nodes).__name__}; wrap it in a list: [node]"
            )
        for i, n in enumerate(nodes):
            if not isinstance(n, BaseNode):
                raise InvalidRecord(f"nodes[{i}] is a {type(n).__name__}, not a LlamaIndex node (BaseNode)")
        records = [to_record(n) for n in nodes]  # everything validates before the first write
        if records:
            yield Ingest(self.namespace, records)
        return [r.id for r in records]

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Write ``nodes`` (replacing same-id nodes); their ids, in order."""
        return self._runner.run(self._add_plan(nodes, kwargs))

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        return await self._runner.arun(self._add_plan(nodes, kwargs))

    def _delete_ref_plan(self, ref_doc_id: str, kwargs: dict[str, Any]) -> Plan[None]:
        _unknown(kwargs, "delete")
        yield Delete(self.namespace, None, In(REF_DOC_KEY, (ref_doc_id,)))

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every node of source document ``ref_doc_id``."""
        self._runner.run(self._delete_ref_plan(ref_doc_id, delete_kwargs))

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        await self._runner.arun(self._delete_ref_plan(ref_doc_id, delete_kwargs))

    def _matching(self, records: Sequence[Record], flt: Filter | None) -> list[Record]:
        """``records`` passing ``flt`` by the core's reference semantics, on their stored form."""
        if flt is None:
            return list(records)
        ns = write_target(self._router, self.namespace)
        stored = self._router.id_codec.stored_filter(ns, flt)
        return [r for r in records if stored is None or stored.matches(r.metadata)]

    def _delete_nodes_plan(
        self, node_ids: list[str] | None, filters: MetadataFilters | None, kwargs: dict[str, Any]
    ) -> Plan[None]:
        _unknown(kwargs, "delete_nodes")
        flt = to_filter(filters)
        if node_ids is None:
            # like LlamaIndex's own stores: no ids means every node (matching ``filters`` when given)
            yield Delete(self.namespace, None, flt or And(()))
        elif ids := id_list(node_ids, "node_ids"):
            if flt is not None:
                ids = [r.id for r in self._matching((yield Get(self.namespace, ids)), flt)]
            if ids:
                yield Delete(self.namespace, ids)

    def delete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **delete_kwargs: Any
    ) -> None:
        """Delete nodes by id, by filter, or both (ids that also match); neither deletes every node."""
        self._runner.run(self._delete_nodes_plan(node_ids, filters, delete_kwargs))

    async def adelete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **delete_kwargs: Any
    ) -> None:
        await self._runner.arun(self._delete_nodes_plan(node_ids, filters, delete_kwargs))

    def _clear_plan(self) -> Plan[None]:
        yield Delete(self.namespace, None, And(()))

    def clear(self) -> None:
        """Delete every node of the namespace (it stays registered, at the same model version)."""
        self._runner.run(self._clear_plan())

    async def aclear(self) -> None:
        await self._runner.arun(self._clear_plan())

    # -- reads ------------------------------------------------------------------------------------
    def _get_plan(self, node_ids: list[str] | None, filters: MetadataFilters | None) -> Plan[list[BaseNode]]:
        flt = to_filter(filters)
        if node_ids is None:
            records = yield Scroll(self.namespace, flt)
        else:
            records = self._matching((yield Get(self.namespace, id_list(node_ids, "node_ids"))), flt)
        return [_node(r) for r in records]

    def get_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        """Nodes by id (in that order, unknown ids left out), by filter, or both; neither lists every node."""
        return self._runner.run(self._get_plan(node_ids, filters))

    async def aget_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        return await self._runner.arun(self._get_plan(node_ids, filters))

    def _count_plan(self, filters: MetadataFilters | None) -> Plan[int]:
        n: int = yield Count(self.namespace, to_filter(filters))
        return n

    def count(self, filters: MetadataFilters | None = None) -> int:
        """How many nodes the namespace holds (matching ``filters``)."""
        return self._runner.run(self._count_plan(filters))

    async def acount(self, filters: MetadataFilters | None = None) -> int:
        return await self._runner.arun(self._count_plan(filters))

    # -- query ------------------------------------------------------------------------------------
    def query_plan(self, query: VectorStoreQuery) -> Plan[QueryOutcome]:
        """The plan ``query`` and the retriever run; its outcome keeps the router's ``SearchResult``."""
        mode = self._mode(query.mode)
        if query.alpha is not None:
            raise NotImplementedError(
                "alpha weighting is not supported: the router fuses dense and keyword results by reciprocal rank"
            )
        doc_ids = In(REF_DOC_KEY, tuple(query.doc_ids)) if query.doc_ids else None
        flt = and_all(to_filter(query.filters), doc_ids)
        k = query.similarity_top_k
        if mode == "hybrid" and query.hybrid_top_k:
            k = query.hybrid_top_k
        text = query.query_str or None
        vector = query.query_embedding
        # an empty node_ids means no restriction: VectorStoreIndex.as_retriever passes [] for stores holding text
        node_ids = query.node_ids or None
        if node_ids is not None or mode == "mmr":
            if vector is None:
                if text is None:
                    raise InvalidRecord("the query needs query_str or query_embedding")
                vector = yield EmbedQuery(self.namespace, text)
            check_width(self._router, self.namespace, vector)
            if node_ids is not None:
                return (yield from self._among_plan(node_ids, vector, k, flt))
            return (yield from self._mmr_plan(text, vector, k, flt, query.mmr_threshold))
        result = yield Search(self.namespace, text, vector, k, mode, flt)  # type: ignore[arg-type]
        if result is None:
            return QueryOutcome()
        return QueryOutcome(
            nodes=[_node(h) for h in result.hits],
            similarities=[h.score for h in result.hits],
            ids=result.ids,
            result=result,
        )

    def _mode(self, mode: VectorStoreQueryMode) -> str | None:
        if mode not in _QUERY_MODES:
            raise NotImplementedError(
                f"query mode {mode.value!r} is not supported; use default, hybrid, text_search, sparse or mmr"
            )
        return _QUERY_MODES[mode] or self.mode

    def _among_plan(
        self, node_ids: Sequence[str], vector: Sequence[float], k: int, flt: Filter | None
    ) -> Plan[QueryOutcome]:
        """Exact cosine ranking restricted to ``node_ids`` (the stores filter on metadata, not on ids)."""
        records = self._matching((yield Get(self.namespace, list(node_ids), with_vectors=True)), flt)
        records = [r for r in records if r.vector is not None]
        if not records:
            return QueryOutcome()
        q = np.asarray(vector, dtype=np.float32)
        m = np.asarray([r.vector for r in records], dtype=np.float32)
        scores = m @ q / np.maximum(np.linalg.norm(m, axis=1) * np.linalg.norm(q), 1e-12)
        order = np.argsort(-scores, kind="stable")[:k]
        return QueryOutcome(
            nodes=[_node(records[i]) for i in order],
            similarities=[float(scores[i]) for i in order],
            ids=[records[i].id for i in order],
        )

    def _mmr_plan(
        self, text: str | None, vector: Sequence[float], k: int, flt: Filter | None, threshold: float | None
    ) -> Plan[QueryOutcome]:
        result = yield Search(self.namespace, text, vector, k * _MMR_PREFETCH, self.mode, flt)
        if result is None or not result.hits:
            return QueryOutcome(result=result)
        records = yield Get(self.namespace, result.ids, with_vectors=True)
        vectors = {r.id: list(r.vector) for r in records if r.vector is not None}
        hits = {h.id: h for h in result.hits if h.id in vectors}
        ids = list(hits)
        scores, picked = get_top_k_mmr_embeddings(
            list(vector),
            [vectors[i] for i in ids],
            similarity_top_k=k,
            embedding_ids=ids,
            mmr_threshold=threshold,
        )
        return QueryOutcome(
            nodes=[_node(hits[i]) for i in picked],
            similarities=[float(s) for s in scores],
            ids=list(picked),
            result=result,
        )

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Nodes for ``query`` best first, with the served mode's scores (higher is better)."""
        _unknown(kwargs, "query")
        out = self._runner.run(self.query_plan(query))
        return VectorStoreQueryResult(nodes=out.nodes, similarities=out.similarities, ids=out.ids)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        _unknown(kwargs, "aquery")
        out = await self._runner.arun(self.query_plan(query))
        return VectorStoreQueryResult(nodes=out.nodes, similarities=out.similarities, ids=out.ids)
