"""``VectorRouterRetriever``: a LangChain retriever that also says how each search was served."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr
from vectorrouter import Router
from vectorrouter.errors import InvalidRecord
from vectorrouter.filters import Filter
from vectorrouter.types import SearchMode, SearchResult, parse_logical

from langchain_vectorrouter._ops import Plan
from langchain_vectorrouter.vectorstores import VectorRouterStore, _doc, _options

__all__ = ["EVENT_NAME", "INFO_KEY", "VectorRouterRetriever", "search_info"]

#: The metadata key under which each retrieved document carries its search's serving information.
INFO_KEY = "vectorrouter"
#: The name of the custom callback event every retrieval dispatches with the same information.
EVENT_NAME = "vectorrouter_search"


def search_info(result: SearchResult) -> dict[str, Any]:
    """How a search was served: the namespace, mode, which store answered, and what was tried first."""
    return result.serving_info()


class VectorRouterRetriever(BaseRetriever):
    """LangChain retriever over a vectorrouter namespace, reporting the degradation ladder's verdict.

    Every document it returns carries ``metadata["vectorrouter"]`` (rename with ``info_key``, or ``None`` to
    leave metadata untouched): ``score``, ``rank``, ``namespace``, ``mode``, ``served_by``, ``degraded``,
    ``attempts``, ``latency_ms`` and ``query_id``. The same dict, without the per-document fields, is
    dispatched as the custom callback event ``"vectorrouter_search"`` of the retriever run, so tracers and
    ``astream_events`` see it even when metadata is left alone.

    Per call, ``invoke(query, k=, filter=, mode=, namespace=, tenant=)`` override the fields below.
    Embeddings follow :class:`VectorRouterStore`: the router embeds the query unless ``embedding`` is given.

    Setup:
        ```bash
        pip install vectorrouter langchain-vectorrouter
        ```

    Key init args:
        router: the ``vectorrouter.Router``.
        namespace: ``"tenant:feature"`` (or with ``:version``).
        tenant: optional; replaces the namespace's tenant part (one retriever, many tenants).
        k: documents per query (default 4).
        filter: a LangChain dict filter applied to every query.
        mode: ``"dense"``, ``"keyword"``, ``"hybrid"`` or ``None`` (the router's choice).

    Instantiate:
        ```python
        from vectorrouter import Router, TEST_MODEL
        from langchain_vectorrouter import VectorRouterRetriever

        router = Router.embedded(None, model=TEST_MODEL, vector_kind="numpy")
        router.ingest("acme:docs", [
            {"id": "edge", "text": "Qdrant Edge runs in process.", "metadata": {"lang": "en"}},
            {"id": "bm25", "text": "BM25 ranks by term rarity.", "metadata": {"lang": "en"}},
        ])
        router.ingest("globex:docs", [{"id": "g1", "text": "Globex runs its own engine in process."}])
        retriever = VectorRouterRetriever(router=router, namespace="acme:docs", k=2)
        ```

    Search with filter:
        ```python
        docs = retriever.invoke("term rarity", filter={"lang": "en"}, k=1)
        assert docs[0].id == "bm25"
        info = docs[0].metadata["vectorrouter"]
        print(info["served_by"], info["degraded"], info["attempts"])
        ```

    Use as retriever:
        ```python
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_core.language_models import FakeListLLM

        prompt = ChatPromptTemplate.from_template("Context: {context}\\nQuestion: {question}")
        chain = {"context": retriever, "question": lambda q: q} | prompt | FakeListLLM(responses=["in process"])
        assert chain.invoke("which engine runs in process?") == "in process"
        assert retriever.invoke("engine", tenant="globex")[0].id == "g1"
        router.close()
        ```
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    router: Router
    namespace: str
    tenant: str | None = None
    k: int = 4
    filter: dict[str, Any] | Filter | None = None
    mode: SearchMode | None = None
    embedding: Embeddings | None = None
    info_key: str | None = Field(default=INFO_KEY)
    _store: VectorRouterStore = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._store = VectorRouterStore(self.router, self.namespace, embedding=self.embedding, mode=self.mode)

    def _namespace(self, namespace: str | None, tenant: str | None) -> str:
        name = namespace or self.namespace
        tenant = tenant or self.tenant
        if tenant is None:
            return name
        _, feature, version = parse_logical(name)
        return ":".join([tenant, feature] + ([version] if version else []))

    def _plan(self, query: str, kwargs: Mapping[str, Any]) -> Plan[tuple[list[Document], dict[str, Any]]]:
        _options(kwargs, ("k", "filter", "mode", "namespace", "tenant"), "invoke")
        result = yield from self._store.search_plan(
            query,
            kwargs.get("k", self.k),
            filter=kwargs.get("filter", self.filter),
            mode=kwargs.get("mode", self.mode),
            namespace=self._namespace(kwargs.get("namespace"), kwargs.get("tenant")),
        )
        if result is None:
            return [], {}
        info = search_info(result)
        docs = []
        for rank, hit in enumerate(result.hits, start=1):
            doc = _doc(hit)
            if self.info_key is not None:
                if self.info_key in doc.metadata:
                    raise InvalidRecord(
                        f"document {hit.id!r} already has metadata[{self.info_key!r}]; "
                        "set info_key to another name (or None) so it is not overwritten"
                    )
                doc.metadata[self.info_key] = {"score": hit.score, "rank": rank, **info}
            docs.append(doc)
        return docs, info

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        docs, info = self._store._runner.run(self._plan(query, kwargs))
        # attached to this retriever run, as dispatch_custom_event would from inside a runnable; the child
        # manager holds exactly the inheritable handlers, so with none there is no one to tell
        if info and run_manager.inheritable_handlers:
            run_manager.get_child().on_custom_event(EVENT_NAME, info, run_id=run_manager.run_id)
        return docs

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        docs, info = await self._store._runner.arun(self._plan(query, kwargs))
        if info and run_manager.inheritable_handlers:
            await run_manager.get_child().on_custom_event(EVENT_NAME, info, run_id=run_manager.run_id)
        return docs
