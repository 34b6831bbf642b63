"""Bring a LangChain embedding model to the router, and build a router around one.

:class:`LangChainEmbedder` lets the router embed with a LangChain ``Embeddings`` object (the router then owns
the model like any other version: caches, width checks, namespaces). :func:`embedded_router` is what
``VectorRouterStore.from_texts`` uses when no router is given.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings
from vectorrouter import ModelSpec, Router
from vectorrouter.embeddings import Task
from vectorrouter.errors import ConfigurationError

__all__ = [
    "IDENTITY_ATTRIBUTES",
    "LangChainEmbedder",
    "default_vector_kind",
    "embedded_router",
    "model_identity",
]


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


_VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")  # a namespace part (vectorrouter.types)

#: Attributes in which LangChain ``Embeddings`` classes name their model (langchain-openai ``model`` and
#: ``deployment``, langchain-huggingface ``model_name``, Bedrock ``model_id``, HuggingFace Hub ``repo_id``…).
IDENTITY_ATTRIBUTES = (
    "model",
    "model_name",
    "model_id",
    "deployment",
    "repo_id",
    "model_path",
    "endpoint_name",
)


def model_identity(embedding: Embeddings) -> str:
    """What names ``embedding``'s model: its string-valued :data:`IDENTITY_ATTRIBUTES`, ``""`` when it has none.

    A wrapper holding its model in ``underlying_embeddings`` (``CacheBackedEmbeddings``) is named by that model.
    Only strings count: an attribute holding a loaded model object has no stable name to go by.

    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> model_identity(DeterministicFakeEmbedding(size=8))
    ''
    """
    parts = []
    for attr in IDENTITY_ATTRIBUTES:
        value = getattr(embedding, attr, None)
        if isinstance(value, str) and value:
            parts.append(f"{attr}={value}")
    if not parts:
        inner = getattr(embedding, "underlying_embeddings", None)
        if isinstance(inner, Embeddings) and inner is not embedding:
            return model_identity(inner)
    return ";".join(parts)


def _version_for(embedding: Embeddings, dimensions: int, identity: str) -> str:
    """``langchain-<Class>-<width>-<digest of the identity>`` (no digest without one), at most 64 characters."""
    suffix = f"-{dimensions}"
    if identity:
        suffix += "-" + hashlib.sha256(identity.encode()).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", type(embedding).__name__).strip("-") or "model"
    return f"langchain-{name[: 64 - len('langchain-') - len(suffix)]}{suffix}"


def embedded_router(
    embedding: Embeddings | None, path: str | Path | None = None, *, model_version: str | None = None
) -> Router:
    """An embedded router (no server) whose default model is ``embedding``, or the router's default model.

    The model's width is read from one probe embedding. Its version is named after the class, the width and a
    digest of the model's name (:func:`model_identity`), e.g. ``langchain-OpenAIEmbeddings-1536-3f1c2a9b``, so
    two different models never share a namespace version, an index or cached vectors. ``model_version=`` names
    the version yourself (required when the model has no name to go by and the router is kept under ``path``;
    in memory, nothing outlives the router, and such a model is named ``langchain-<Class>-<width>``).
    """
    kind = default_vector_kind()
    if model_version is not None and not (
        isinstance(model_version, str) and _VERSION_NAME.match(model_version)
    ):
        raise ConfigurationError(
            f"model_version {model_version!r} cannot name a namespace version",
            field="model_version",
            fix="use 1-64 characters from letters, digits, '_', '.', '-', starting with a letter or digit",
        )
    if embedding is None:
        if model_version is not None:
            raise ConfigurationError(
                "model_version names the version of a LangChain model, and no embedding was given",
                field="model_version",
                fix="pass embedding=<LangChain Embeddings>, or drop model_version to use the router's default model",
            )
        return Router.embedded(path, vector_kind=kind)
    dimensions = len(embedding.embed_query("dimension probe"))
    identity = model_identity(embedding)
    if model_version is None:
        if not identity and path is not None:
            legacy = _version_for(embedding, dimensions, "")
            raise ConfigurationError(
                f"{type(embedding).__name__} does not say which model it runs (none of "
                f"{', '.join(IDENTITY_ATTRIBUTES)} is a string), so the version of a router kept under {path} "
                "cannot tell two such models apart: they would share one index and one embedding cache",
                field="model_version",
                fix=f"pass model_version='<a name for this model>' (data written before under {legacy!r} "
                f"is reached with model_version={legacy!r}, if this is the model that wrote it)",
            )
        model_version = _version_for(embedding, dimensions, identity)
    spec = ModelSpec(version=model_version, provider="langchain", dimensions=dimensions, model=identity)
    return Router.embedded(path, model=spec, embedder=LangChainEmbedder(embedding), vector_kind=kind)
