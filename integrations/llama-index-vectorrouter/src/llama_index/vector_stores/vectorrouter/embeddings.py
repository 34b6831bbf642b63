"""``VectorRouterEmbedding``: the namespace's model, lent to LlamaIndex as its ``embed_model``.

``VectorStoreIndex`` embeds nodes itself before calling ``add``. Giving it this embedding keeps the router in
charge of the model: the vectors come from the namespace's active model version, through the router's
embedding service (its caches and checks), exactly as if the router had embedded the text.
"""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import PrivateAttr

from vectorrouter import Router
from vectorrouter.embeddings import Task
from vectorrouter.plans import write_target

__all__ = ["VectorRouterEmbedding"]


class VectorRouterEmbedding(BaseEmbedding):
    """LlamaIndex embedding model that embeds with a router namespace's active model version.

    >>> from vectorrouter import Router, TEST_MODEL
    >>> router = Router.embedded(None, model=TEST_MODEL, vector_kind="numpy")
    >>> model = VectorRouterEmbedding(router, "acme:docs")
    >>> model.model_name, len(model.get_query_embedding("hello"))
    ('hash-64', 64)
    >>> router.close()
    """

    namespace: str
    _router: Router = PrivateAttr()

    def __init__(self, router: Router, namespace: str, **kwargs: Any) -> None:
        version = write_target(router, namespace).model_version
        super().__init__(namespace=namespace, model_name=version, **kwargs)
        self._router = router

    @classmethod
    def class_name(cls) -> str:
        return "VectorRouterEmbedding"

    def _embed(self, texts: list[str], task: Task) -> list[list[float]]:
        # resolved per call: a migration may have moved the namespace to another model version
        version = write_target(self._router, self.namespace).model_version
        return [[float(x) for x in row] for row in self._router.embeddings.embed(version, texts, task)]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([query], "query")[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([text], "document")[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts, "document")

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)
