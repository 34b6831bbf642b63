import doctest

import llama_index.retrievers.vectorrouter as retrievers
import llama_index.vector_stores.vectorrouter as vector_stores
from llama_index.retrievers.vectorrouter import base as retriever_base
from llama_index.vector_stores.vectorrouter import base, embeddings, filters


def test_public_names_are_pinned_and_sorted() -> None:
    assert vector_stores.__all__ == [
        "QueryOutcome",
        "VectorRouterEmbedding",
        "VectorRouterVectorStore",
        "__version__",
        "to_filter",
    ]
    assert retrievers.__all__ == [
        "INFO_KEY",
        "VectorRouterRetriever",
        "VectorRouterSearchEvent",
        "__version__",
        "search_info",
    ]
    for module in (vector_stores, retrievers):
        assert sorted(module.__all__) == module.__all__
        assert all(hasattr(module, name) for name in module.__all__)


def test_both_are_namespace_portions_of_llama_index() -> None:
    import llama_index

    assert getattr(llama_index, "__file__", None) is None  # a namespace package, shared with llama-index-core


def test_docstring_examples_run() -> None:
    for module in (vector_stores, base, embeddings, filters, retriever_base):
        result = doctest.testmod(module)
        assert result.attempted > 0, module.__name__
        assert result.failed == 0, module.__name__
