"""A deterministic, dependency-free embedder for tests: hashed bag of words and word bigrams.

Stable across processes and machines (it uses BLAKE2b, never Python's salted ``hash()``), so stored
vectors can be recomputed anywhere. Similar texts get similar vectors, which keeps router tests meaningful.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence

import numpy as np

from vectorrouter.embeddings.base import ModelSpec, Task

__all__ = ["HashEmbedder"]

_TOKEN = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """Feature-hashing embedder.

    >>> e = HashEmbedder(32)
    >>> v = e.embed(["red apples", "red apples"], "document")
    >>> v.shape, bool((v[0] == v[1]).all())
    ((2, 32), True)
    """

    def __init__(self, dimensions: int = 64) -> None:
        self.dimensions = dimensions
        self.calls = 0

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> HashEmbedder:
        return cls(spec.dimensions)

    def _slot(self, feature: str) -> tuple[int, float]:
        h = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        n = int.from_bytes(h, "little")
        return n % self.dimensions, 1.0 if (n >> 63) & 1 else -1.0

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            toks = _TOKEN.findall(text.lower())
            feats = toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]
            if not feats:
                feats = ["<empty>"]
            for f in feats:
                i, sign = self._slot(f)
                out[row, i] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out
