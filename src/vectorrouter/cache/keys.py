"""Result-cache keys: one stable digest per (namespace, model version, normalized query, filter, k, mode).

Normalization makes queries that only differ in Unicode form, case or spacing share an entry: NFKC, then
casefold, then whitespace collapsed. Digests use SHA-256 (never Python's per-process salted ``hash()``), so every
process computes the same key.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from vectorrouter.filters import Filter

__all__ = ["normalize_query", "result_key"]

_SPACE = re.compile(r"\s+")


def normalize_query(text: str) -> str:
    """``"  Qdrant   EDGE\\u00a0"`` and ``"qdrant edge"`` normalize alike.

    >>> normalize_query("  Qdrant   EDGE\\u00a0")
    'qdrant edge'
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _vector_digest(vector: Sequence[float]) -> str:
    return hashlib.sha256(np.asarray(vector, dtype="<f4").tobytes()).hexdigest()


def result_key(
    *,
    namespace: str,
    model_version: str,
    query: str | None,
    vector: Sequence[float] | None,
    filter: Filter | None,
    k: int,
    mode: str,
) -> str:
    """The hex digest naming one cached answer.

    >>> a = result_key(namespace="t:f:v1", model_version="v1", query="Hello  World", vector=None,
    ...                filter=None, k=5, mode="dense")
    >>> a == result_key(namespace="t:f:v1", model_version="v1", query="hello world", vector=None,
    ...                 filter=None, k=5, mode="dense")
    True
    """
    parts = {
        "ns": namespace,
        "model": model_version,
        "q": normalize_query(query) if query is not None else None,
        "vec": _vector_digest(vector) if vector is not None else None,
        "filter": filter.canonical() if filter is not None else None,
        "k": k,
        "mode": mode,
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
