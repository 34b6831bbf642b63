"""LlamaIndex vector store for vectorrouter: swap it in where ``QdrantVectorStore`` was.

>>> from vectorrouter import Router, TEST_MODEL
>>> from llama_index.core.schema import TextNode
>>> from llama_index.core.vector_stores.types import VectorStoreQuery
>>> router = Router.embedded(None, model=TEST_MODEL, vector_kind="numpy")
>>> store = VectorRouterVectorStore(router=router, namespace="acme:docs")
>>> store.add([TextNode(id_="edge", text="Qdrant Edge runs in process.")])
['edge']
>>> store.query(VectorStoreQuery(query_str="in process", similarity_top_k=1)).ids
['edge']
>>> router.close()
"""

from llama_index.vector_stores.vectorrouter.base import QueryOutcome, VectorRouterVectorStore
from llama_index.vector_stores.vectorrouter.embeddings import VectorRouterEmbedding
from llama_index.vector_stores.vectorrouter.filters import to_filter

__version__ = "0.1.0"

__all__ = ["QueryOutcome", "VectorRouterEmbedding", "VectorRouterVectorStore", "__version__", "to_filter"]
