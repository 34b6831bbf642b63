"""VectorRouterRetriever for LlamaIndex: nodes, scores, tenants and how each search was served."""

import asyncio
import dataclasses
from typing import Any

import pytest
from llama_index.core.bridge.pydantic import Field
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, QueryBundle, TextNode
from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters
from vectorrouter import Attempt, DimensionMismatch, InvalidRecord, Router, SearchResult

from llama_index.retrievers.vectorrouter import VectorRouterRetriever, VectorRouterSearchEvent
from llama_index.vector_stores.vectorrouter import VectorRouterEmbedding, VectorRouterVectorStore


class Collect(BaseEventHandler):
    events: list[BaseEvent] = Field(default_factory=list)

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, VectorRouterSearchEvent):
            self.events.append(event)


@pytest.fixture
def collected() -> Any:
    handler = Collect()
    root = get_dispatcher()
    root.add_event_handler(handler)
    yield handler
    root.event_handlers.remove(handler)


@pytest.fixture
def populated(router: Router) -> Router:
    for tenant in ("acme", "globex"):
        VectorRouterVectorStore(router=router, namespace=f"{tenant}:kb").add(
            [
                TextNode(
                    id_=f"{tenant}-ice", text=f"{tenant} glaciers are rivers of ice", metadata={"lang": "en"}
                ),
                TextNode(id_=f"{tenant}-glace", text=f"{tenant} la glace fond", metadata={"lang": "fr"}),
                TextNode(
                    id_=f"{tenant}-violin", text=f"{tenant} violins have strings", metadata={"lang": "en"}
                ),
            ]
        )
    return router


def test_each_node_carries_how_the_search_was_served_out_of_the_llms_sight(
    populated: Router, collected: Any
) -> None:
    [hit] = VectorRouterRetriever(populated, "acme:kb", similarity_top_k=1).retrieve("violins")
    info = hit.node.metadata["vectorrouter"]
    assert hit.node.node_id == "acme-violin"
    assert (info["rank"], info["score"], info["served_by"], info["degraded"]) == (
        1,
        hit.score,
        "numpy+tantivy",
        False,
    )
    assert "vectorrouter" not in hit.node.get_content(metadata_mode=MetadataMode.LLM)
    assert "vectorrouter" not in hit.node.get_content(metadata_mode=MetadataMode.EMBED)
    assert [e.served_by for e in collected.events] == ["numpy+tantivy"]


def test_the_ladder_verdict_reaches_nodes_and_the_event(
    populated: Router, collected: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = populated.search

    def degraded(*args: Any, **kwargs: Any) -> SearchResult:
        tried = (Attempt("primary", "timeout", 250.0, "deadline"), Attempt("keyword", "ok", 2.0))
        return dataclasses.replace(real(*args, **kwargs), served_by="tantivy", degraded=True, attempts=tried)

    monkeypatch.setattr(populated, "search", degraded)
    hit = VectorRouterRetriever(populated, "acme:kb", similarity_top_k=1).retrieve("glaciers")[0]
    info = hit.node.metadata["vectorrouter"]
    assert (info["served_by"], info["degraded"]) == ("tantivy", True)
    assert info["attempts"][0] == {
        "step": "primary",
        "outcome": "timeout",
        "latency_ms": 250.0,
        "detail": "deadline",
    }
    [event] = collected.events
    assert event.degraded is True
    assert event.attempts == info["attempts"]


def test_filters_top_k_and_tenant(populated: Router) -> None:
    english = MetadataFilters(filters=[MetadataFilter(key="lang", value="en")])
    retriever = VectorRouterRetriever(populated, "acme:kb", similarity_top_k=3, filters=english)
    assert {n.node.node_id for n in retriever.retrieve("ice")} == {"acme-ice", "acme-violin"}
    retriever.tenant = "globex"
    retriever.similarity_top_k = 1
    assert [n.node.node_id for n in retriever.retrieve("glaciers")] == ["globex-ice"]


def test_info_key_none_leaves_metadata_exactly_as_written(populated: Router) -> None:
    [hit] = VectorRouterRetriever(populated, "acme:kb", similarity_top_k=1, info_key=None).retrieve("violins")
    assert hit.node.metadata == {"lang": "en"}


def test_a_node_already_holding_the_info_key_is_not_overwritten(router: Router) -> None:
    VectorRouterVectorStore(router=router, namespace="acme:clash").add(
        [TextNode(id_="c", text="mine", metadata={"vectorrouter": "user data"})]
    )
    with pytest.raises(InvalidRecord, match="info_key"):
        VectorRouterRetriever(router, "acme:clash").retrieve("mine")


def test_async_retrieval_and_a_query_engine_over_the_retriever(populated: Router) -> None:
    retriever = VectorRouterRetriever(populated, "acme:kb", similarity_top_k=1)
    nodes = asyncio.run(retriever.aretrieve("violins"))
    assert [n.node.node_id for n in nodes] == ["acme-violin"]
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(max_tokens=8))
    response = asyncio.run(engine.aquery("violins"))
    assert [n.node.node_id for n in response.source_nodes] == ["acme-violin"]


def test_a_framework_embed_model_hands_vectors_that_are_width_checked(populated: Router) -> None:
    embed = VectorRouterEmbedding(populated, "acme:kb")
    retriever = VectorRouterRetriever(
        populated, "acme:kb", similarity_top_k=1, embed_model=embed, mode="dense"
    )
    assert retriever.retrieve("violins have strings")[0].node.node_id == "acme-violin"
    with pytest.raises(DimensionMismatch):
        retriever.retrieve(QueryBundle(query_str="x", embedding=[0.5] * 3))


def test_the_event_is_built_only_when_a_handler_can_receive_it(
    populated: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_index.retrievers.vectorrouter.base as base

    built: list[dict[str, Any]] = []

    class Counting(VectorRouterSearchEvent):
        def __init__(self, **data: Any) -> None:
            built.append(data)
            super().__init__(**data)

    monkeypatch.setattr(base, "VectorRouterSearchEvent", Counting)
    retriever = VectorRouterRetriever(populated, "acme:kb", similarity_top_k=1)
    retriever.retrieve("violins")  # only the root's NullEventHandler is there
    assert built == []
    # a handler anywhere on the chain the event would travel counts, the root's as much as our own module's
    for owner in (get_dispatcher(), get_dispatcher(base.__name__)):
        handler = Collect()
        owner.add_event_handler(handler)
        try:
            retriever.retrieve("violins")
        finally:
            owner.event_handlers.remove(handler)
        assert [e.served_by for e in handler.events] == ["numpy+tantivy"]
    assert len(built) == 2
    # a dispatcher that does not propagate hides the handlers above it, as it does from Dispatcher.event
    handler = Collect()
    get_dispatcher().add_event_handler(handler)
    monkeypatch.setattr(get_dispatcher(base.__name__), "propagate", False)
    try:
        retriever.retrieve("violins")
    finally:
        get_dispatcher().event_handlers.remove(handler)
    assert handler.events == []
    assert len(built) == 2


def test_an_empty_namespace_retrieves_nothing(router: Router, collected: Any) -> None:
    assert VectorRouterRetriever(router, "nobody:here").retrieve("anything") == []
    assert collected.events == []
