"""Embedding models: versions, providers, the layered cache and the service the router embeds through."""

from vectorrouter.embeddings.base import (
    Embedded,
    Embedder,
    Lifecycle,
    ModelSpec,
    Task,
    TaskSpec,
    UsageReporting,
    create_embedder,
    provider_names,
    register_provider,
)
from vectorrouter.embeddings.cache import (
    CacheKey,
    GuardedLayer,
    LayeredCache,
    MemoryLayer,
    Residue,
    cache_key,
    normalize_text,
)
from vectorrouter.embeddings.costs import CostLedger, Usage
from vectorrouter.embeddings.hashing import HashEmbedder
from vectorrouter.embeddings.lsa import LsaEmbedder
from vectorrouter.embeddings.minilm import MiniLMEmbedder
from vectorrouter.embeddings.providers import PROVIDERS, lazy_factory
from vectorrouter.embeddings.providers.wrappers import LangChainEmbedder, LlamaIndexEmbedder, wrap_embedder
from vectorrouter.embeddings.quota import QuotaLimiter
from vectorrouter.embeddings.service import DEFAULT_MODEL, TEST_MODEL, EmbeddingService, RetiringModelWarning
from vectorrouter.embeddings.tokens import estimate_tokens
from vectorrouter.embeddings.wordllama import WordLlamaEmbedder

register_provider("hash", HashEmbedder.from_spec)
register_provider("minilm", MiniLMEmbedder.from_spec)
for _name, _target in PROVIDERS.items():
    register_provider(_name, lazy_factory(_name, _target))
register_provider("lsa", LsaEmbedder.from_spec)
register_provider("wordllama", WordLlamaEmbedder.from_spec)

__all__ = [
    "DEFAULT_MODEL",
    "TEST_MODEL",
    "CacheKey",
    "CostLedger",
    "Embedded",
    "Embedder",
    "EmbeddingService",
    "GuardedLayer",
    "HashEmbedder",
    "LangChainEmbedder",
    "LayeredCache",
    "Lifecycle",
    "LlamaIndexEmbedder",
    "LsaEmbedder",
    "MemoryLayer",
    "MiniLMEmbedder",
    "ModelSpec",
    "QuotaLimiter",
    "Residue",
    "RetiringModelWarning",
    "Task",
    "TaskSpec",
    "Usage",
    "UsageReporting",
    "WordLlamaEmbedder",
    "cache_key",
    "create_embedder",
    "estimate_tokens",
    "normalize_text",
    "provider_names",
    "register_provider",
    "wrap_embedder",
]
