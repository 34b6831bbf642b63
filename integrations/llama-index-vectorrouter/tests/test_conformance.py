"""The LlamaIndex conformance kit, run on VectorRouterVectorStore: with the router's count, and through the
kit's own count (``get_nodes``), so both reads are checked against the same expectations."""

from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from llama_index.core.vector_stores.types import FilterOperator, MetadataFilters
from vectorrouter import ModelSpec, Router, UnsupportedFilter

from llama_index.vector_stores.vectorrouter import VectorRouterVectorStore
from llama_index.vector_stores.vectorrouter.testing import VectorStoreConformance

#: The width of the conformance kit's vectors; the namespace under test declares it.
KIT_8 = ModelSpec(version="kit-8", provider="hash", dimensions=8)


class TestVectorRouterConformance(VectorStoreConformance):
    dimensions = 8
    unsupported_operators: ClassVar[tuple[FilterOperator, ...]] = (
        FilterOperator.TEXT_MATCH,
        FilterOperator.TEXT_MATCH_INSENSITIVE,
    )
    filter_error = UnsupportedFilter

    @pytest.fixture
    def vector_store(self, make_router: Callable[..., Router]) -> Iterator[VectorRouterVectorStore]:  # type: ignore[override]
        return VectorRouterVectorStore(router=make_router(KIT_8), namespace="kit:conformance")

    def count(self, store: VectorRouterVectorStore, filters: MetadataFilters | None = None) -> int:  # type: ignore[override]
        return store.count(filters)


class TestVectorRouterConformanceListing(TestVectorRouterConformance):
    """The same suite counting by listing every node, as any LlamaIndex store can be counted."""

    def count(self, store: VectorRouterVectorStore, filters: MetadataFilters | None = None) -> int:  # type: ignore[override]
        return len(store.get_nodes(filters=filters))
