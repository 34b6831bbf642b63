"""Bring a LangChain embedding model to the router, and build a router around one.

:class:`LangChainEmbedder` lets the router embed with a LangChain ``Embeddings`` object (the router then owns
the model like any other version: caches, width checks, namespaces). :func:`embedded_router` is what
``VectorRouterStore.from_texts`` uses when no router is given.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings
from vectorrouter import ModelSpec, Router
from vectorrouter.embeddings import Task

__all__ = ["LangChainEmbedder", "default_vector_kind", "embedded_router"]


class LangChainEmbedder:
    """A router :class:`~vectorrouter.embeddings.Embedder` backed by a LangChain ``Embeddings`` model.

    Queries go through ``embed_query`` and documents through ``embed_documents``, as LangChain intends.

    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> LangChainEmbedder(DeterministicFakeEmbedding(size=8)).embed(["hello"], "query").shape
    (1, 8)
    """

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        if task == "query":
            rows = [self.embeddings.embed_query(t) for t in texts]
        else:
            rows = self.embeddings.embed_documents(list(texts))
        return np.asarray(rows, dtype=np.float32)


def default_vector_kind() -> str:
    """The embedded vector engine: Qdrant Edge when this vectorrouter ships it, else exact numpy search."""
    return "qdrant-edge" if importlib.util.find_spec("vectorrouter.backends.qdrant_edge") else "numpy"


def _version_for(embedding: Embeddings, dimensions: int) -> str:
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", type(embedding).__name__).strip("-") or "model"
    return f"langchain-{name}-{dimensions}"[:64]


def embedded_router(embedding: Embeddings | None, path: str | Path | None = None) -> Router:
    """An embedded router (no server) whose default model is ``embedding``, or the router's default model.

    The model's width is read from one probe embedding, and its version is named after the class and width
    (``langchain-OpenAIEmbeddings-1536``), so two different models never share a namespace version.
    """
    kind = default_vector_kind()
    if embedding is None:
        return Router.embedded(path, vector_kind=kind)
    dimensions = len(embedding.embed_query("dimension probe"))
    spec = ModelSpec(version=_version_for(embedding, dimensions), provider="langchain", dimensions=dimensions)
    return Router.embedded(path, model=spec, embedder=LangChainEmbedder(embedding), vector_kind=kind)
