"""LangChain integration for vectorrouter: swap it in where ``QdrantVectorStore`` was, one import and one constructor.

>>> from vectorrouter import Router, TEST_MODEL
>>> from langchain_vectorrouter import VectorRouterStore
>>> router = Router.embedded(None, model=TEST_MODEL, vector_kind="numpy")
>>> store = VectorRouterStore(router=router, namespace="acme:docs")
>>> store.add_texts(["Qdrant Edge runs in process."], ids=["edge"])
['edge']
>>> store.similarity_search("in process", k=1)[0].id
'edge'
>>> router.close()
"""

from langchain_vectorrouter._filters import to_filter
from langchain_vectorrouter._metadata import BLOB_KEY
from langchain_vectorrouter.embeddings import LangChainEmbedder, embedded_router
from langchain_vectorrouter.retrievers import EVENT_NAME, INFO_KEY, VectorRouterRetriever, search_info
from langchain_vectorrouter.vectorstores import VectorRouterStore

__version__ = "0.1.0"

__all__ = [
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
