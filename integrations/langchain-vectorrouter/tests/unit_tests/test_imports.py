import langchain_vectorrouter

EXPECTED_ALL = [
    "BLOB_KEY",
    "EVENT_NAME",
    "INFO_KEY",
    "LangChainEmbedder",
    "VectorRouterRetriever",
    "VectorRouterStore",
    "__version__",
    "embedded_router",
    "search_info",
    "to_filter",
]


def test_public_names_are_pinned_and_sorted() -> None:
    assert langchain_vectorrouter.__all__ == EXPECTED_ALL
    assert sorted(EXPECTED_ALL) == EXPECTED_ALL
    for name in EXPECTED_ALL:
        assert hasattr(langchain_vectorrouter, name)


def test_module_doctests_pass() -> None:
    import doctest

    from langchain_vectorrouter import _filters, _metadata, embeddings

    for module in (langchain_vectorrouter, _filters, _metadata, embeddings):
        result = doctest.testmod(module)
        assert result.attempted > 0, module.__name__
        assert result.failed == 0, module.__name__
