"""LangChain's own standard suites, sync and async, in both embedding modes.

``TestRouterEmbeds``: the store hands text and the router embeds with the namespace's model.
``TestFrameworkEmbeds``: the store embeds with langchain-tests' ``DeterministicFakeEmbedding`` and hands the
router vectors, which the router checks against the namespace's 6-dimensional model version.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import RetrieversIntegrationTests, VectorStoreIntegrationTests
from vectorrouter import TEST_MODEL, ModelSpec, Router

from langchain_vectorrouter import VectorRouterRetriever, VectorRouterStore

#: The width of langchain-tests' DeterministicFakeEmbedding; the namespace fed its vectors declares it.
FAKE_6 = ModelSpec(version="fake-6", provider="hash", dimensions=6)


def make_router(model: ModelSpec = TEST_MODEL) -> Router:
    return Router.embedded(None, model=model, vector_kind="numpy")


class TestRouterEmbeds(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Iterator[VectorStore]:  # type: ignore[override]
        router = make_router()
        try:
            yield VectorRouterStore(router=router, namespace="standard:router-embeds")
        finally:
            router.close()


class TestFrameworkEmbeds(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Iterator[VectorStore]:  # type: ignore[override]
        router = make_router(FAKE_6)
        try:
            yield VectorRouterStore(
                router=router, namespace="standard:framework-embeds", embedding=self.get_embeddings()
            )
        finally:
            router.close()


_CORPUS = [
    Document(id=f"d{i}", page_content=text, metadata={"n": i})
    for i, text in enumerate(
        [
            "glaciers are slow rivers of ice",
            "ice sheets cover greenland and antarctica",
            "sea ice forms when ocean water freezes",
            "violins have four strings",
            "ice cream melts in the sun",
        ]
    )
]
_ROUTERS: list[Router] = []


def _populated_router() -> Router:
    if not _ROUTERS:
        router = make_router()
        VectorRouterStore(router=router, namespace="standard:retriever").add_documents(_CORPUS)
        _ROUTERS.append(router)
    return _ROUTERS[0]


@pytest.fixture(scope="module", autouse=True)
def _close_routers() -> Iterator[None]:
    yield
    while _ROUTERS:
        _ROUTERS.pop().close()


class TestRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[VectorRouterRetriever]:
        return VectorRouterRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"router": _populated_router(), "namespace": "standard:retriever"}

    @property
    def retriever_query_example(self) -> str:
        return "ice"
