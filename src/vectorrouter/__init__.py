"""vectorrouter: one router over versioned namespaces, tiers, fallbacks and compliance for RAG retrieval.

>>> from vectorrouter import Router
>>> router = Router.embedded()                  # doctest: +SKIP
>>> router.ingest("acme:docs", ["some text"])   # doctest: +SKIP
>>> router.search("acme:docs", "text").hits     # doctest: +SKIP
"""

from vectorrouter.backends.base import IndexSpec, KeywordBackend, VectorBackend
from vectorrouter.config import RouterConfig, load_config
from vectorrouter.embeddings import DEFAULT_MODEL, TEST_MODEL, EmbeddingService, ModelSpec
from vectorrouter.errors import (
    BackendError,
    BackendUnavailable,
    CallerError,
    CircuitOpen,
    ConfigurationError,
    DimensionMismatch,
    InvalidFilter,
    InvalidNamespace,
    InvalidRecord,
    NamespaceNotFound,
    RateLimited,
    Timeout,
    UnsupportedFilter,
    VectorRouterError,
)
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range
from vectorrouter.hooks import IngestContext, IngestHook
from vectorrouter.router import IngestReport, Router
from vectorrouter.types import Attempt, Hit, Namespace, Record, SearchRequest, SearchResult

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "TEST_MODEL",
    "And",
    "Attempt",
    "BackendError",
    "BackendUnavailable",
    "CallerError",
    "CircuitOpen",
    "ConfigurationError",
    "DimensionMismatch",
    "EmbeddingService",
    "Eq",
    "Exists",
    "Filter",
    "Hit",
    "In",
    "IndexSpec",
    "IngestContext",
    "IngestHook",
    "IngestReport",
    "InvalidFilter",
    "InvalidNamespace",
    "InvalidRecord",
    "KeywordBackend",
    "ModelSpec",
    "Namespace",
    "NamespaceNotFound",
    "Ne",
    "Nin",
    "Not",
    "Or",
    "Range",
    "RateLimited",
    "Record",
    "Router",
    "RouterConfig",
    "SearchRequest",
    "SearchResult",
    "Timeout",
    "UnsupportedFilter",
    "VectorBackend",
    "VectorRouterError",
    "__version__",
    "load_config",
]
