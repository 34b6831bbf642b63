"""LlamaIndex retriever for vectorrouter: nodes plus how each search was served."""

from llama_index.retrievers.vectorrouter.base import (
    INFO_KEY,
    VectorRouterRetriever,
    VectorRouterSearchEvent,
    search_info,
)

__version__ = "0.1.0"

__all__ = ["INFO_KEY", "VectorRouterRetriever", "VectorRouterSearchEvent", "__version__", "search_info"]
