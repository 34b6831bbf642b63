"""Any LangChain ``Embeddings`` or LlamaIndex ``BaseEmbedding`` object, wrapped as-is.

Both are used through their public methods (duck-typed, so neither library is imported here): LangChain's
``embed_documents`` / ``embed_query``, LlamaIndex's ``get_text_embedding_batch`` / ``get_query_embedding``.
Whatever the wrapped object raises is mapped in :func:`map_foreign_error`, so the policies see only
vectorrouter errors: an HTTP status or a ``retry_after`` found on the exception (or its ``response``) is
honoured, and an exception with neither is treated as a provider failure.

>>> class Fake:                                      # stands in for e.g. langchain_openai.OpenAIEmbeddings
...     def embed_documents(self, texts): return [[1.0, 0.0] for _ in texts]
...     def embed_query(self, text): return [0.0, 1.0]
>>> LangChainEmbedder(Fake()).embed(["a", "b"], "query").tolist()
[[0.0, 1.0], [0.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from vectorrouter.embeddings.base import Embedder, Task
from vectorrouter.embeddings.providers._http import parse_retry_after
from vectorrouter.errors import (
    BackendUnavailable,
    ConfigurationError,
    InvalidRecord,
    RateLimited,
    Timeout,
    VectorRouterError,
)

__all__ = ["LangChainEmbedder", "LlamaIndexEmbedder", "map_foreign_error", "wrap_embedder"]

T = TypeVar("T")


def _status(exc: BaseException) -> int | None:
    for holder in (exc, getattr(exc, "response", None)):
        for attr in ("status_code", "http_status", "status"):
            value = getattr(holder, attr, None)
            if isinstance(value, int):
                return value
    return None


def map_foreign_error(exc: BaseException, *, backend: str) -> VectorRouterError:
    """The one place a wrapped framework object's exceptions become vectorrouter errors."""
    if isinstance(exc, VectorRouterError):
        return exc
    name = type(exc).__name__
    status = _status(exc)
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    wait = getattr(exc, "retry_after", None)
    if wait is None and headers:
        wait = parse_retry_after({str(k).lower(): str(v) for k, v in dict(headers).items()})
    if status == 429 or "RateLimit" in name:
        return RateLimited(f"{name}: {exc}", backend=backend, retry_after=wait)
    if status in (401, 403) or "Authentication" in name or "PermissionDenied" in name:
        return ConfigurationError(
            f"{backend} refused the credentials: {name}: {exc}", field="models.*.options"
        )
    if isinstance(exc, TimeoutError) or "Timeout" in name or status in (408, 504):
        return Timeout(f"{name}: {exc}", backend=backend)
    if status is not None and 400 <= status < 500:
        return InvalidRecord(f"{backend} rejected the texts ({status}): {exc}")
    return BackendUnavailable(f"{name}: {exc}", backend=backend)


def _bind(fn: Callable[[str], Any], text: str) -> Callable[[], Any]:
    return lambda: fn(text)


class _Wrapped:
    backend = "wrapped"

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def _guard(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except Exception as exc:
            raise map_foreign_error(exc, backend=self.backend) from exc

    def close(self) -> None:
        close = getattr(self.obj, "close", None)
        if callable(close):
            close()


class LangChainEmbedder(_Wrapped):
    """Wrap a ``langchain_core.embeddings.Embeddings``: documents in one call, queries one by one (so a
    model's query instruction is applied)."""

    backend = "langchain"

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        if task == "document":
            rows = self._guard(lambda: self.obj.embed_documents(list(texts)))
        else:
            rows = [self._guard(_bind(self.obj.embed_query, t)) for t in texts]
        return np.asarray(rows, dtype=np.float32)


class LlamaIndexEmbedder(_Wrapped):
    """Wrap a ``llama_index.core.base.embeddings.base.BaseEmbedding``: documents through
    ``get_text_embedding_batch``, queries through ``get_query_embedding`` (its query instruction)."""

    backend = "llama-index"

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        if task == "document":
            rows = self._guard(lambda: self.obj.get_text_embedding_batch(list(texts)))
        else:
            rows = [self._guard(_bind(self.obj.get_query_embedding, t)) for t in texts]
        return np.asarray(rows, dtype=np.float32)


def wrap_embedder(obj: Any) -> Embedder:
    """An :class:`Embedder` for ``obj``: ours as-is, LangChain and LlamaIndex objects wrapped."""
    if hasattr(obj, "get_text_embedding_batch") and hasattr(obj, "get_query_embedding"):
        return LlamaIndexEmbedder(obj)
    if hasattr(obj, "embed_documents") and hasattr(obj, "embed_query"):
        return LangChainEmbedder(obj)
    if isinstance(obj, Embedder):
        return obj
    raise ConfigurationError(
        f"{type(obj).__name__} is not an embedder",
        fix="pass an object with embed(texts, task), a LangChain Embeddings or a LlamaIndex BaseEmbedding",
    )
