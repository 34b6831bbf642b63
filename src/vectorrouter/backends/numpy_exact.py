"""Exact brute-force vector search in numpy: the recall reference and the zero-dependency fallback.

Filters are evaluated with the reference semantics of :mod:`vectorrouter.filters`, so this backend is
what every other backend's results are compared against. Optional persistence writes one ``.npz`` per
index on :meth:`NumpyBackend.flush` / :meth:`NumpyBackend.close`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vectorrouter.backends.base import IndexSpec, check_vectors
from vectorrouter.errors import DimensionMismatch
from vectorrouter.filters import Filter
from vectorrouter.types import Hit, MetaValue, Record, check_vector

__all__ = ["NumpyBackend"]


class _Partition:
    """The records of one namespace: a growable float32 matrix plus parallel id/text/metadata lists."""

    __slots__ = ("ids", "matrix", "metas", "rows", "size", "texts")

    def __init__(self, dimension: int) -> None:
        self.matrix = np.zeros((16, dimension), dtype=np.float32)
        self.size = 0
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.metas: list[dict[str, MetaValue]] = []
        self.rows: dict[str, int] = {}

    def put(self, rec: Record, vec: np.ndarray) -> None:
        row = self.rows.get(rec.id)
        if row is None:
            if self.size == len(self.matrix):
                grown = np.zeros((len(self.matrix) * 2, self.matrix.shape[1]), dtype=np.float32)
                grown[: self.size] = self.matrix[: self.size]
                self.matrix = grown
            row = self.size
            self.size += 1
            self.rows[rec.id] = row
            self.ids.append(rec.id)
            self.texts.append(rec.text)
            self.metas.append(dict(rec.metadata))
        else:
            self.texts[row] = rec.text
            self.metas[row] = dict(rec.metadata)
        self.matrix[row] = vec

    def remove(self, id_: str) -> bool:
        row = self.rows.pop(id_, None)
        if row is None:
            return False
        last = self.size - 1
        if row != last:  # swap the last row into the hole
            self.matrix[row] = self.matrix[last]
            self.ids[row] = self.ids[last]
            self.texts[row] = self.texts[last]
            self.metas[row] = self.metas[last]
            self.rows[self.ids[row]] = row
        self.ids.pop()
        self.texts.pop()
        self.metas.pop()
        self.size = last
        return True

    def record(self, row: int, with_vectors: bool) -> Record:
        vec = self.matrix[row].tolist() if with_vectors else None
        return Record(id=self.ids[row], text=self.texts[row], metadata=self.metas[row], vector=vec)

    def matching_rows(self, filter: Filter | None) -> np.ndarray:
        if filter is None:
            return np.arange(self.size)
        return np.fromiter((i for i in range(self.size) if filter.matches(self.metas[i])), dtype=np.int64)


class NumpyBackend:
    """Exact cosine/dot search over in-memory matrices, one partition per namespace.

    >>> from vectorrouter.backends.base import IndexSpec
    >>> from vectorrouter.types import Record
    >>> b = NumpyBackend(IndexSpec.for_dimension(2))
    >>> b.upsert("t:f:v", [Record(id="a", text="x", vector=[1.0, 0.0])])
    >>> [h.id for h in b.search("t:f:v", [1.0, 0.1], k=1)]
    ['a']
    """

    name = "numpy"

    def __init__(self, spec: IndexSpec, path: str | Path | None = None) -> None:
        self.spec = spec
        self._path = Path(path) if path is not None else None
        self._parts: dict[str, _Partition] = {}
        self._lock = threading.RLock()
        if self._path is not None and (self._path / "index.json").exists():
            self._load()

    # -- writes -----------------------------------------------------------------------------------
    def _normalise(self, vectors: np.ndarray) -> np.ndarray:
        if self.spec.metric != "cosine":
            return vectors
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms  # type: ignore[no-any-return]

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if not records:
            return
        check_vectors(self.spec, records, backend=self.name)
        vecs = self._normalise(np.asarray([r.vector for r in records], dtype=np.float32))
        with self._lock:
            part = self._parts.setdefault(namespace, _Partition(self.spec.dimension))
            for rec, vec in zip(records, vecs, strict=True):
                part.put(rec, vec)

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        with self._lock:
            part = self._parts.get(namespace)
            if part is None:
                return 0
            return sum(part.remove(i) for i in ids)

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        with self._lock:
            part = self._parts.get(namespace)
            if part is None:
                return 0
            if filter is None:
                n = part.size
                del self._parts[namespace]
                return n
            doomed = [part.ids[i] for i in part.matching_rows(filter)]
            return sum(part.remove(i) for i in doomed)

    # -- reads ------------------------------------------------------------------------------------
    def search(
        self, namespace: str, vector: Sequence[float], k: int, filter: Filter | None = None
    ) -> list[Hit]:
        if len(vector) != self.spec.dimension:
            raise DimensionMismatch(self.spec.dimension, len(vector), where=f"index {self.spec.name!r}")
        with self._lock:
            part = self._parts.get(namespace)
            if part is None or part.size == 0 or k <= 0:
                return []
            try:
                raw = np.asarray([vector], dtype=np.float32)
            except (TypeError, ValueError):
                check_vector(vector, "query")  # names what is not a number
                raise
            if not np.isfinite(raw).all():
                check_vector(vector, "query")  # names the NaN or infinity
            q = self._normalise(raw)[0]
            if filter is None:
                scores = part.matrix[: part.size] @ q
                rows = np.arange(part.size)
            else:
                rows = part.matching_rows(filter)
                if len(rows) == 0:
                    return []
                scores = part.matrix[rows] @ q
            take = min(k, len(rows))
            top = np.argpartition(-scores, take - 1)[:take] if take < len(rows) else np.arange(len(rows))
            top = top[np.lexsort((top, -scores[top]))]  # by score, ties by insertion order
            return [
                Hit(
                    id=part.ids[int(rows[i])],
                    score=float(scores[i]),
                    text=part.texts[int(rows[i])],
                    metadata=part.metas[int(rows[i])],
                )
                for i in top
            ]

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        with self._lock:
            part = self._parts.get(namespace)
            if part is None:
                return []
            return [part.record(part.rows[i], with_vectors) for i in ids if i in part.rows]

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        with self._lock:
            part = self._parts.get(namespace)
            if part is None:
                return 0
            return part.size if filter is None else len(part.matching_rows(filter))

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        with self._lock:
            part = self._parts.get(namespace)
            records = [part.record(int(i), with_vectors) for i in part.matching_rows(filter)] if part else []
        for start in range(0, len(records), batch_size):
            yield records[start : start + batch_size]

    # -- persistence ------------------------------------------------------------------------------
    def flush(self) -> None:
        if self._path is None:
            return
        with self._lock:
            self._path.mkdir(parents=True, exist_ok=True)
            meta: dict[str, Any] = {
                "spec": [self.spec.name, self.spec.dimension, self.spec.metric],
                "parts": {},
            }
            arrays: dict[str, np.ndarray] = {}
            for i, (ns, part) in enumerate(self._parts.items()):
                meta["parts"][ns] = {
                    "key": f"p{i}",
                    "ids": part.ids,
                    "texts": part.texts,
                    "metas": part.metas,
                }
                arrays[f"p{i}"] = part.matrix[: part.size]
            tmp = self._path / "vectors.tmp.npz"
            np.savez(tmp, **arrays)  # type: ignore[arg-type]
            tmp.replace(self._path / "vectors.npz")
            tmp_json = self._path / "index.json.tmp"
            tmp_json.write_text(json.dumps(meta))
            tmp_json.replace(self._path / "index.json")

    def _load(self) -> None:
        assert self._path is not None
        meta = json.loads((self._path / "index.json").read_text())
        _name, dim, _metric = meta["spec"]
        if dim != self.spec.dimension:
            raise DimensionMismatch(dim, self.spec.dimension, where=f"stored index at {self._path}")
        with np.load(self._path / "vectors.npz") as arrays:
            for ns, p in meta["parts"].items():
                part = _Partition(self.spec.dimension)
                mat = arrays[p["key"]]
                for row, (id_, text, md) in enumerate(zip(p["ids"], p["texts"], p["metas"], strict=True)):
                    part.put(Record(id=id_, text=text, metadata=md), mat[row])
                self._parts[ns] = part

    def close(self) -> None:
        self.flush()


def from_config(spec: IndexSpec, path: Path | None, options: dict[str, Any]) -> NumpyBackend:
    """Build from ``[vector_store] kind = "numpy"`` (no options)."""
    if options:
        from vectorrouter.errors import ConfigurationError

        raise ConfigurationError(
            f"the numpy store takes no options, got {sorted(options)}",
            field="vector_store.options",
            fix="remove the options",
        )
    return NumpyBackend(spec, path)
