"""``VectorRouterRetriever``: a LlamaIndex retriever that also says how each search was served."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import NullEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import MetadataFilters, VectorStoreQuery

from llama_index.vector_stores.vectorrouter import QueryOutcome, VectorRouterVectorStore
from vectorrouter import Router
from vectorrouter.errors import InvalidRecord
from vectorrouter.types import SearchMode, SearchResult, parse_logical

__all__ = ["INFO_KEY", "VectorRouterRetriever", "VectorRouterSearchEvent", "search_info"]

#: The metadata key under which each retrieved node carries its search's serving information.
INFO_KEY = "vectorrouter"
dispatcher = get_dispatcher(__name__)


class VectorRouterSearchEvent(BaseEvent):
    """Dispatched after every retrieval: how the router served it (see :func:`search_info`)."""

    namespace: str
    mode: str
    served_by: str
    degraded: bool
    attempts: list[dict[str, Any]]
    latency_ms: float
    query_id: str | None = None

    @classmethod
    def class_name(cls) -> str:
        return "VectorRouterSearchEvent"


def _listened_to() -> bool:
    """Whether an event sent through ``dispatcher`` reaches a handler that does something with it: the
    chain ``Dispatcher.event`` walks, less the root's ``NullEventHandler``. The event (a pydantic model with
    a fresh uuid and timestamp) costs more to build than the rest of a retrieval's own bookkeeping, so it is
    built only for someone. Checked on every retrieval: handlers may be added at any time."""
    d: Any = dispatcher
    while d is not None:
        if any(type(h) is not NullEventHandler for h in d.event_handlers):
            return True
        d = d.parent if d.propagate else None
    return False


def search_info(result: SearchResult) -> dict[str, Any]:
    """How a search was served: the namespace, mode, which store answered, and what was tried first."""
    return result.serving_info()


class VectorRouterRetriever(BaseRetriever):
    """LlamaIndex retriever over a vectorrouter namespace, reporting the degradation ladder's verdict.

    Each node carries ``metadata["vectorrouter"]`` (rename with ``info_key``; ``None`` leaves metadata alone):
    ``score``, ``rank``, ``namespace``, ``mode``, ``served_by``, ``degraded``, ``attempts``, ``latency_ms``,
    ``query_id``. The key is excluded from what the LLM and the embedder see. Every retrieval also dispatches a
    :class:`VectorRouterSearchEvent` through LlamaIndex instrumentation.

    The router embeds the query with the namespace's model, unless a ``QueryBundle`` brings its own
    ``embedding`` or ``embed_model`` is given (then the vector's width is checked against the namespace).

    >>> from vectorrouter import Router, TEST_MODEL
    >>> from llama_index.core.query_engine import RetrieverQueryEngine
    >>> from llama_index.core.llms import MockLLM
    >>> router = Router.embedded(None, model=TEST_MODEL, vector_kind="numpy")
    >>> _ = router.ingest("acme:docs", [{"id": "edge", "text": "Qdrant Edge runs in process."},
    ...                                 {"id": "bm25", "text": "BM25 ranks by term rarity."}])
    >>> retriever = VectorRouterRetriever(router, "acme:docs", similarity_top_k=1)
    >>> hit = retriever.retrieve("which engine runs in process?")[0]
    >>> hit.node.node_id, hit.node.metadata["vectorrouter"]["served_by"]
    ('edge', 'numpy+tantivy')
    >>> engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(max_tokens=8))
    >>> [n.node.node_id for n in engine.query("which engine runs in process?").source_nodes]
    ['edge']
    >>> router.close()
    """

    def __init__(
        self,
        router: Router,
        namespace: str,
        *,
        similarity_top_k: int = 10,
        filters: MetadataFilters | None = None,
        mode: SearchMode | None = None,
        tenant: str | None = None,
        embed_model: BaseEmbedding | None = None,
        info_key: str | None = INFO_KEY,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ) -> None:
        self.router = router
        self.namespace = namespace
        self.similarity_top_k = similarity_top_k
        self.filters = filters
        self.mode: SearchMode | None = mode
        self.tenant = tenant
        self.embed_model = embed_model
        self.info_key = info_key
        self._stores: dict[str, VectorRouterVectorStore] = {}
        self._store()  # a bad router, namespace or mode fails here, not on the first query
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def _store(self) -> VectorRouterVectorStore:
        name = self.namespace
        if self.tenant is not None:
            _, feature, version = parse_logical(name)
            name = ":".join([self.tenant, feature] + ([version] if version else []))
        key = f"{name}|{self.mode}"
        store = self._stores.get(key)
        if store is None:
            store = self._stores[key] = VectorRouterVectorStore(self.router, name, mode=self.mode)
        return store

    def _query(self, bundle: QueryBundle, vector: list[float] | None) -> VectorStoreQuery:
        return VectorStoreQuery(
            query_str=bundle.query_str or None,
            query_embedding=vector,
            similarity_top_k=self.similarity_top_k,
            filters=self.filters,
        )

    def _nodes(self, out: QueryOutcome) -> list[NodeWithScore]:
        info = search_info(out.result) if out.result is not None else None
        scored = []
        for rank, (node, score) in enumerate(zip(out.nodes, out.similarities, strict=True), start=1):
            if self.info_key is not None and info is not None:
                if self.info_key in node.metadata:
                    raise InvalidRecord(
                        f"node {node.node_id!r} already has metadata[{self.info_key!r}]; "
                        "set info_key to another name (or None) so it is not overwritten"
                    )
                node.metadata[self.info_key] = {"score": score, "rank": rank, **info}
                # in place: the node was just built for this result, and assigning would re-validate it
                for hidden in (node.excluded_llm_metadata_keys, node.excluded_embed_metadata_keys):
                    if self.info_key not in hidden:
                        hidden.append(self.info_key)
            scored.append(NodeWithScore(node=node, score=score))
        if info is not None and _listened_to():
            dispatcher.event(VectorRouterSearchEvent(**info))
        return scored

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        vector = query_bundle.embedding
        if vector is None and self.embed_model is not None:
            vector = self.embed_model.get_query_embedding(query_bundle.query_str)
        store = self._store()
        return self._nodes(store._runner.run(store.query_plan(self._query(query_bundle, vector))))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        vector = query_bundle.embedding
        if vector is None and self.embed_model is not None:
            vector = await self.embed_model.aget_query_embedding(query_bundle.query_str)
        store = self._store()
        return self._nodes(await store._runner.arun(store.query_plan(self._query(query_bundle, vector))))
