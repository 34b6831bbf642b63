"""Stores behind two small protocols, and the registry that builds them from configuration by ``kind``.

Adapters whose client library is optional are imported only when their kind is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vectorrouter.backends.base import (
    IndexSpec,
    KeywordBackend,
    Metric,
    StoreBackend,
    VectorBackend,
    check_vectors,
)
from vectorrouter.backends.numpy_exact import NumpyBackend
from vectorrouter.errors import ConfigurationError

__all__ = [
    "IndexSpec",
    "KeywordBackend",
    "Metric",
    "NumpyBackend",
    "StoreBackend",
    "VectorBackend",
    "check_vectors",
    "keyword_kinds",
    "make_keyword_backend",
    "make_vector_factory",
    "register_keyword_kind",
    "register_vector_kind",
    "vector_kinds",
]

#: kind -> "module:callable". The callable takes ``(spec, path, options)`` for vector kinds and
#: ``(path, options)`` for keyword kinds.
_VECTOR_KINDS: dict[str, str] = {
    "numpy": "vectorrouter.backends.numpy_exact:from_config",
    "qdrant-edge": "vectorrouter.backends.qdrant_edge:from_config",
    "qdrant": "vectorrouter.backends.qdrant:from_config",
    "pinecone": "vectorrouter.backends.pinecone:from_config",
    "elasticsearch": "vectorrouter.backends.elasticsearch:vector_from_config",
}
_KEYWORD_KINDS: dict[str, str] = {
    "tantivy": "vectorrouter.backends.tantivy_keyword:from_config",
    "elasticsearch": "vectorrouter.backends.elasticsearch:keyword_from_config",
}


def register_vector_kind(kind: str, target: str) -> None:
    """Make ``kind`` usable in ``[vector_store]``; ``target`` is ``"module:callable"``."""
    _VECTOR_KINDS[kind] = target


def register_keyword_kind(kind: str, target: str) -> None:
    _KEYWORD_KINDS[kind] = target


def vector_kinds() -> list[str]:
    return sorted(_VECTOR_KINDS)


def keyword_kinds() -> list[str]:
    return sorted(_KEYWORD_KINDS)


def _resolve(table: dict[str, str], kind: str, field: str) -> Callable[..., Any]:
    target = table.get(kind)
    if target is None:
        raise ConfigurationError(
            f"unknown store kind {kind!r}", field=field, fix=f"use one of: {', '.join(sorted(table))}"
        )
    module, _, attr = target.partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        if (exc.name or "").startswith("vectorrouter"):
            raise
        raise ConfigurationError(
            f"store kind {kind!r} needs a package that is not installed ({exc.name})",
            field=field,
            fix=f"pip install 'vectorrouter[{kind.split('-')[0]}]'",
        ) from exc
    return getattr(mod, attr)  # type: ignore[no-any-return]


def make_vector_factory(
    kind: str, path: str | Path | None, options: dict[str, Any] | None = None
) -> Callable[[IndexSpec], VectorBackend]:
    """A factory opening one physical index of ``kind`` per :class:`IndexSpec` (under ``path`` if persistent)."""
    build = _resolve(_VECTOR_KINDS, kind, "vector_store.kind")
    opts = dict(options or {})

    def factory(spec: IndexSpec) -> VectorBackend:
        sub = Path(path) / spec.name if path is not None else None
        return build(spec, sub, opts)  # type: ignore[no-any-return]

    factory.name = kind  # type: ignore[attr-defined]  # how results and health name this store
    return factory


def make_keyword_backend(
    kind: str, path: str | Path | None, options: dict[str, Any] | None = None
) -> KeywordBackend:
    build = _resolve(_KEYWORD_KINDS, kind, "keyword_store.kind")
    return build(Path(path) if path is not None else None, dict(options or {}))  # type: ignore[no-any-return]
