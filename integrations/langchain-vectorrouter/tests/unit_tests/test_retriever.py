"""VectorRouterRetriever: per-call options, tenants, and how each search was served."""

import asyncio
import dataclasses
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import FakeListLLM
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from vectorrouter import Attempt, InvalidRecord, Router, SearchResult

from langchain_vectorrouter import EVENT_NAME, VectorRouterRetriever, VectorRouterStore


class Events(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, UUID]] = []

    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.seen.append((name, data, run_id))


@pytest.fixture
def populated(router: Router) -> Router:
    for tenant in ("acme", "globex"):
        VectorRouterStore(router=router, namespace=f"{tenant}:kb").add_documents(
            [
                Document(page_content=f"{tenant} glaciers are rivers of ice", metadata={"lang": "en"}),
                Document(page_content=f"{tenant} la glace fond", metadata={"lang": "fr"}),
                Document(page_content=f"{tenant} violins have strings", metadata={"lang": "en"}),
            ],
            ids=[f"{tenant}-ice", f"{tenant}-glace", f"{tenant}-violin"],
        )
    return router


def test_each_document_carries_how_its_search_was_served(populated: Router) -> None:
    docs = VectorRouterRetriever(router=populated, namespace="acme:kb", k=2).invoke("glaciers ice")
    info = docs[0].metadata.pop("vectorrouter")
    assert docs[0] == Document(
        id="acme-ice", page_content="acme glaciers are rivers of ice", metadata={"lang": "en"}
    )
    assert info["rank"] == 1
    assert info["score"] > 0
    assert info["namespace"] == "acme:kb:hash-64"
    assert (info["mode"], info["served_by"], info["degraded"]) == ("hybrid", "numpy+tantivy", False)
    assert [(a["step"], a["outcome"]) for a in info["attempts"]] == [("numpy", "ok"), ("tantivy", "ok")]
    assert docs[1].metadata["vectorrouter"]["rank"] == 2


def test_the_ladder_verdict_reaches_documents_and_the_run_event(
    populated: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = populated.search

    def degraded_search(*args: Any, **kwargs: Any) -> SearchResult:
        result = real(*args, **kwargs)
        tried = (Attempt("primary", "error", 3.0, "connection refused"), Attempt("keyword", "ok", 1.0))
        return dataclasses.replace(result, served_by="tantivy", degraded=True, attempts=tried)

    monkeypatch.setattr(populated, "search", degraded_search)
    events = Events()
    retriever = VectorRouterRetriever(router=populated, namespace="acme:kb", k=1)
    doc = retriever.invoke("glaciers", config={"callbacks": [events]})[0]
    info = doc.metadata["vectorrouter"]
    assert (info["served_by"], info["degraded"]) == ("tantivy", True)
    assert info["attempts"][0] == {
        "step": "primary",
        "outcome": "error",
        "latency_ms": 3.0,
        "detail": "connection refused",
    }
    [(name, data, _)] = events.seen
    assert name == EVENT_NAME
    assert data["degraded"] is True
    assert data["attempts"] == info["attempts"]


def test_the_async_face_dispatches_the_same_event(populated: Router) -> None:
    events = Events()
    retriever = VectorRouterRetriever(router=populated, namespace="acme:kb", k=1)
    docs = asyncio.run(retriever.ainvoke("violins", config={"callbacks": [events]}))
    assert docs[0].id == "acme-violin"
    assert [name for name, _, _ in events.seen] == [EVENT_NAME]
    assert events.seen[0][1]["served_by"] == "numpy+tantivy"


def test_info_key_none_leaves_metadata_exactly_as_written(populated: Router) -> None:
    docs = VectorRouterRetriever(router=populated, namespace="acme:kb", k=1, info_key=None).invoke("violins")
    assert docs == [
        Document(id="acme-violin", page_content="acme violins have strings", metadata={"lang": "en"})
    ]


def test_a_document_already_holding_the_info_key_is_not_overwritten(router: Router) -> None:
    VectorRouterStore(router=router, namespace="acme:clash").add_texts(
        ["mine"], [{"vectorrouter": "user data"}], ids=["c"]
    )
    with pytest.raises(InvalidRecord, match="info_key"):
        VectorRouterRetriever(router=router, namespace="acme:clash").invoke("mine")
    docs = VectorRouterRetriever(router=router, namespace="acme:clash", info_key="_served").invoke("mine")
    assert docs[0].metadata["vectorrouter"] == "user data"
    assert docs[0].metadata["_served"]["rank"] == 1


def test_per_call_k_filter_mode_and_tenant_override_the_fields(populated: Router) -> None:
    retriever = VectorRouterRetriever(router=populated, namespace="acme:kb", k=3, filter={"lang": "en"})
    assert {d.id for d in retriever.invoke("ice")} == {"acme-ice", "acme-violin"}
    assert [d.id for d in retriever.invoke("glace", filter={"lang": "fr"}, k=1)] == ["acme-glace"]
    assert [d.id for d in retriever.invoke("glaciers", tenant="globex", k=1)] == ["globex-ice"]
    keyword = retriever.invoke("violins", mode="keyword", k=3)
    assert [d.id for d in keyword] == ["acme-violin"]
    assert keyword[0].metadata["vectorrouter"]["served_by"] == "tantivy"


def test_a_tenant_field_serves_one_tenant_from_a_shared_namespace_name(populated: Router) -> None:
    retriever = VectorRouterRetriever(router=populated, namespace="acme:kb:hash-64", tenant="globex", k=1)
    doc = retriever.invoke("violins")[0]
    assert doc.id == "globex-violin"
    assert doc.metadata["vectorrouter"]["namespace"] == "globex:kb:hash-64"


def test_unknown_invoke_options_raise(populated: Router) -> None:
    with pytest.raises(TypeError, match="top_k"):
        VectorRouterRetriever(router=populated, namespace="acme:kb").invoke("ice", top_k=2)


def test_an_empty_namespace_retrieves_nothing(router: Router) -> None:
    assert VectorRouterRetriever(router=router, namespace="nobody:here").invoke("anything") == []


def test_an_lcel_chain_answers_from_the_retrieved_context(populated: Router) -> None:
    retriever = VectorRouterRetriever(router=populated, namespace="acme:kb", k=1, info_key=None)
    seen: list[str] = []

    def remember(context: list[Document]) -> str:
        seen.extend(d.id or "" for d in context)
        return "\n".join(d.page_content for d in context)

    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")
    chain = (
        {"context": retriever | RunnableLambda(remember), "question": RunnablePassthrough()}
        | prompt
        | FakeListLLM(responses=["Violins have four strings."])
    )
    assert chain.invoke("how many strings do violins have?") == "Violins have four strings."
    assert seen == ["acme-violin"]


def test_the_event_is_built_only_when_a_handler_can_receive_it(
    populated: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    children: list[object] = []
    real = CallbackManagerForRetrieverRun.get_child

    def spy(self: CallbackManagerForRetrieverRun, tag: str | None = None) -> Any:
        children.append(self)
        return real(self, tag)

    monkeypatch.setattr(CallbackManagerForRetrieverRun, "get_child", spy)
    retriever = VectorRouterRetriever(router=populated, namespace="acme:kb", k=1)
    assert retriever.invoke("violins")[0].id == "acme-violin"
    assert children == []  # nobody listening: no child manager, no event
    events = Events()
    retriever.invoke("violins", config={"callbacks": [events]})
    assert len(children) == 1
    assert [name for name, _, _ in events.seen] == [EVENT_NAME]
