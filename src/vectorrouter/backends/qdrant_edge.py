"""Qdrant Edge (``qdrant-edge-py``): the embedded, in-process default vector store.

One Edge shard per :class:`~vectorrouter.backends.base.IndexSpec`; namespaces are partitions of it through
the ``_vr_ns`` payload key (see :mod:`._qdrant_payload`). Until HNSW is built, Qdrant searches the plain
segments exactly; the index is built in a child process (see :mod:`._edge_store`) once enough vectors
arrive, or on demand with :meth:`QdrantEdgeBackend.build_index`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, cast

import numpy as np
import qdrant_edge as qe

from vectorrouter.backends._edge_store import EdgeShardStore
from vectorrouter.backends._qdrant_filters import QdrantTarget, scoped_filter
from vectorrouter.backends._qdrant_payload import (
    NS_KEY,
    hits_from_owned_payloads,
    payload_for,
    point_id,
    record_from_payload,
    vector_rows,
)
from vectorrouter.backends.base import IndexSpec, check_vectors
from vectorrouter.errors import (
    BackendUnavailable,
    CallerError,
    ConfigurationError,
    DimensionMismatch,
    Timeout,
    VectorRouterError,
)
from vectorrouter.filters import Filter
from vectorrouter.types import Hit, Record, check_vector

__all__ = ["EdgeOptions", "QdrantEdgeBackend", "from_config", "map_qdrant_edge_error"]

NAME = "qdrant-edge"
_DIM_ERROR = re.compile(r"Vector dimension error: expected dim: (\d+), got (\d+)")
_CALLER_PREFIXES = (
    "Wrong input",
    "Validation failed",
    "Payload type does not match",
    "Not existing vector name",
)


def map_qdrant_edge_error(exc: BaseException) -> VectorRouterError:
    """The one place Qdrant Edge's exceptions become ours.

    The bindings raise plain ``Exception`` carrying the engine's ``OperationError`` text, and ``ValueError``
    / ``TypeError`` for arguments they cannot convert, so the mapping reads the message.
    """
    if isinstance(exc, VectorRouterError):
        return exc
    msg = str(exc)
    if m := _DIM_ERROR.search(msg):
        return DimensionMismatch(int(m.group(1)), int(m.group(2)), where=f"index ({NAME})")
    if "incompatible" in msg and "config" in msg:
        return ConfigurationError(
            f"{NAME}: the stored index was created differently: {msg}",
            field="vector_store.path",
            fix="open it with the dimension and metric it was created with, or point at a new directory",
        )
    if "WouldBlock" in msg:
        return ConfigurationError(
            f"{NAME}: the index directory is already open in another process or object: {msg}",
            field="vector_store.path",
            fix="close the other router first, or give each process its own path",
        )
    if msg.startswith("Timeout error"):
        return Timeout(msg, backend=NAME)
    if isinstance(exc, ValueError | TypeError | OverflowError) or msg.startswith(_CALLER_PREFIXES):
        return CallerError(f"{NAME} rejected the request: {msg}")
    return BackendUnavailable(msg or type(exc).__name__, backend=NAME)


def _edge_filter(must: list[Any] | None, should: list[Any] | None, must_not: list[Any] | None) -> Any:
    return qe.Filter(must=must, should=should, must_not=must_not)


def _edge_match(key: str, value: str | bool) -> Any:
    # The bindings read a Python bool as the integer 1 (bool subclasses int and Integer is tried first);
    # numpy's bool is not an int, so it reaches the Bool variant and matches stored booleans only.
    return qe.FieldCondition(
        key=key, match=qe.MatchValue(cast(Any, np.bool_(value)) if isinstance(value, bool) else value)
    )


def _edge_range(key: str, gt: float | None, gte: float | None, lt: float | None, lte: float | None) -> Any:
    return qe.FieldCondition(key=key, range=qe.RangeFloat(gt=gt, gte=gte, lt=lt, lte=lte))


EDGE_TARGET = QdrantTarget(
    name=NAME,
    filter=_edge_filter,
    match_value=_edge_match,
    match_any=lambda key, values: qe.FieldCondition(key=key, match=qe.MatchAny(values)),
    range=_edge_range,
    is_empty=lambda key: qe.IsEmptyCondition(key),
)


@dataclass(frozen=True, slots=True)
class EdgeOptions:
    """Tuning knobs, set from ``[vector_store.options]``.

    ``m``/``ef_construct`` shape the HNSW graph; ``hnsw_ef`` is the search-time beam width;
    ``indexing_threshold_kb`` is how much new vector data (KB) makes a segment worth an HNSW index — it is
    also when a background build starts (``auto_index``); ``full_scan_threshold_kb`` is below which
    filtered candidate sets are scored exactly instead of walking the graph; ``search_threads`` caps the
    engine's search pool (default: one per CPU).

    >>> EdgeOptions.parse({"m": 32, "hnsw_ef": 128}).hnsw_ef
    128
    >>> EdgeOptions.parse({"ef": 10})
    Traceback (most recent call last):
    vectorrouter.errors.ConfigurationError: vector_store.options.ef: unknown option 'ef' for the qdrant-edge store Fix: use one of: auto_index, ef_construct, full_scan_threshold_kb, hnsw_ef, indexing_threshold_kb, m, search_threads
    """

    m: int = 16
    ef_construct: int = 128
    hnsw_ef: int = 64
    indexing_threshold_kb: int = 20_000
    full_scan_threshold_kb: int = 10_000
    auto_index: bool = True
    search_threads: int | None = None

    @classmethod
    def parse(cls, options: dict[str, Any]) -> EdgeOptions:
        known = {f.name: f for f in fields(cls)}
        for key, value in options.items():
            if key not in known:
                raise ConfigurationError(
                    f"unknown option {key!r} for the {NAME} store",
                    field=f"vector_store.options.{key}",
                    fix=f"use one of: {', '.join(sorted(known))}",
                )
            want_bool = key == "auto_index"
            ok = (
                isinstance(value, bool)
                if want_bool
                else (isinstance(value, int) and not isinstance(value, bool) and value > 0)
            )
            if key == "search_threads" and value is None:
                ok = True
            if not ok:
                raise ConfigurationError(
                    f"option {key!r} is {value!r}",
                    field=f"vector_store.options.{key}",
                    fix="use true or false" if want_bool else "use a positive integer",
                )
        return cls(**options)


class QdrantEdgeBackend:
    """One Qdrant Edge shard, partitioned by namespace. ``path=None`` keeps it in a temporary directory.

    >>> from vectorrouter.backends.base import IndexSpec
    >>> from vectorrouter.types import Record
    >>> b = QdrantEdgeBackend(IndexSpec.for_dimension(2))
    >>> b.upsert("t:f:v", [Record(id="a", text="x", metadata={"lang": "en"}, vector=[1.0, 0.0])])
    >>> [h.id for h in b.search("t:f:v", [1.0, 0.1], k=1)]
    ['a']
    >>> b.count("t:f:v"), b.count("other:f:v")
    (1, 0)
    >>> b.close()
    """

    name = NAME

    def __init__(self, spec: IndexSpec, path: str | Path | None = None, options: EdgeOptions | None = None):
        self.spec = spec
        self.options = opts = options or EdgeOptions()
        distance = qe.Distance.Cosine if spec.metric == "cosine" else qe.Distance.Dot
        self._config = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=spec.dimension, distance=distance),
            hnsw_config=qe.HnswIndexConfig(
                m=opts.m, ef_construct=opts.ef_construct, full_scan_threshold=opts.full_scan_threshold_kb
            ),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=opts.indexing_threshold_kb),
            max_search_threads=opts.search_threads,
        )
        self._params = qe.SearchParams(hnsw_ef=opts.hnsw_ef)
        self._ns_filters: dict[str, Any] = {}
        vectors_per_threshold = math.ceil(opts.indexing_threshold_kb * 1024 / (spec.dimension * 4))
        self._store = EdgeShardStore(
            Path(path) if path is not None else None,
            self._open_shard,
            map_qdrant_edge_error,
            name=NAME,
            index_after=vectors_per_threshold if opts.auto_index else 0,
        )

    def _open_shard(self, path: Path, create: bool) -> Any:
        if not create:
            return qe.EdgeShard.load(str(path), self._config)
        shard = qe.EdgeShard.create(str(path), self._config)
        shard.update(qe.UpdateOperation.create_field_index(NS_KEY, qe.KeywordIndexParams(is_tenant=True)))
        return shard

    def _scoped(self, namespace: str, filter: Filter | None) -> Any:
        if filter is None:  # the common case on the search path: reuse the immutable engine filter
            cached = self._ns_filters.get(namespace)
            if cached is None:
                cached = self._ns_filters[namespace] = scoped_filter(
                    EDGE_TARGET, self._ns_condition(namespace), None
                )
            return cached
        return scoped_filter(EDGE_TARGET, self._ns_condition(namespace), filter)

    @staticmethod
    def _ns_condition(namespace: str) -> Any:
        return qe.FieldCondition(key=NS_KEY, match=qe.MatchValue(namespace))

    # -- writes -----------------------------------------------------------------------------------
    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if not records:
            return
        check_vectors(self.spec, records, backend=NAME)
        rows = vector_rows(records, backend=NAME)
        try:
            points = [
                qe.Point(point_id(namespace, r.id), row, payload_for(namespace, r))
                for r, row in zip(records, rows, strict=True)
            ]
            operation = qe.UpdateOperation.upsert_points(points)
        except Exception as exc:
            raise map_qdrant_edge_error(exc) from exc
        self._store.apply(operation, points=len(points))

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        pids = list(dict.fromkeys(point_id(namespace, i) for i in ids))
        if not pids:
            return 0
        with self._store.write_lock:
            with self._store.reader as shard:
                try:
                    found = shard.retrieve(pids, with_payload=[NS_KEY], with_vector=False)
                except Exception as exc:
                    raise map_qdrant_edge_error(exc) from exc
            existing = [p.id for p in found if (p.payload or {}).get(NS_KEY) == namespace]
            if existing:
                self._store.apply(qe.UpdateOperation.delete_points(existing))
            return len(existing)

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        scoped = self._scoped(namespace, filter)
        with self._store.write_lock:
            n = self._count(scoped)
            if n:
                self._store.apply(qe.UpdateOperation.delete_points_by_filter(scoped))
            return n

    # -- reads ------------------------------------------------------------------------------------
    def search(
        self, namespace: str, vector: Sequence[float], k: int, filter: Filter | None = None
    ) -> list[Hit]:
        if len(vector) != self.spec.dimension:
            raise DimensionMismatch(
                self.spec.dimension, len(vector), where=f"index {self.spec.name!r} ({NAME})"
            )
        if k <= 0:
            return []
        try:
            request = qe.QueryRequest(
                limit=k,
                query=qe.Query.Nearest(vector if isinstance(vector, list) else list(vector)),
                filter=self._scoped(namespace, filter),
                with_payload=True,
                params=self._params,
            )
            with self._store.reader as shard:
                points = shard.query(request)
        except Exception as exc:
            if isinstance(exc, TypeError):
                check_vector(vector, "query")  # the engine's words for "not a number" name no position
            raise map_qdrant_edge_error(exc) from exc
        return hits_from_owned_payloads(points)  # each point's .payload is a new dict, ours to consume

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        if not ids:
            return []
        pids = [point_id(namespace, i) for i in ids]
        try:
            with self._store.reader as shard:
                found = shard.retrieve(list(dict.fromkeys(pids)), with_payload=True, with_vector=with_vectors)
        except Exception as exc:
            raise map_qdrant_edge_error(exc) from exc
        by_pid = {str(p.id): p for p in found if (p.payload or {}).get(NS_KEY) == namespace}
        return [
            record_from_payload(by_pid[pid].payload, by_pid[pid].vector if with_vectors else None)
            for pid in pids
            if pid in by_pid
        ]

    def _count(self, scoped: Any) -> int:
        try:
            with self._store.reader as shard:
                return int(shard.count(qe.CountRequest(exact=True, filter=scoped)))
        except Exception as exc:
            raise map_qdrant_edge_error(exc) from exc

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        return self._count(self._scoped(namespace, filter))

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        scoped = self._scoped(namespace, filter)  # an inexpressible filter fails here, not mid-iteration
        return self._pages(scoped, batch_size, with_vectors)

    def _pages(self, scoped: Any, batch_size: int, with_vectors: bool) -> Iterator[list[Record]]:
        offset: Any = None
        while True:
            request = qe.ScrollRequest(
                offset=offset, limit=batch_size, filter=scoped, with_payload=True, with_vector=with_vectors
            )
            try:
                with self._store.reader as shard:
                    points, offset = shard.scroll(request)
            except Exception as exc:
                raise map_qdrant_edge_error(exc) from exc
            if points:
                yield [record_from_payload(p.payload, p.vector if with_vectors else None) for p in points]
            if offset is None:
                return

    # -- index and lifecycle ----------------------------------------------------------------------
    def build_index(self, *, wait: bool = True) -> None:
        """Build HNSW over everything written so far (in a child process); searches stay exact until then."""
        self._store.build_index(wait=wait)

    def wait_for_index(self, timeout: float | None = None) -> bool:
        """Wait for a background build (if one runs) to be swapped in; False if ``timeout`` passed first."""
        return self._store.wait_for_build(timeout)

    def index_status(self) -> dict[str, Any]:
        """Points, how many are HNSW-indexed, segment count, and whether a build is running."""
        try:
            with self._store.reader as shard:
                info = shard.info()
        except Exception as exc:
            raise map_qdrant_edge_error(exc) from exc
        return {
            "points": info.points_count,
            "indexed_vectors": info.indexed_vectors_count,
            "segments": info.segments_count,
            "building": self._store.building,
        }

    def flush(self) -> None:
        try:
            self._store.flush()
        except Exception as exc:
            raise map_qdrant_edge_error(exc) from exc

    def close(self) -> None:
        try:
            self._store.close()
        except Exception as exc:
            raise map_qdrant_edge_error(exc) from exc


def from_config(spec: IndexSpec, path: Path | None, options: dict[str, Any]) -> QdrantEdgeBackend:
    """Build from ``[vector_store] kind = "qdrant-edge"``; see :class:`EdgeOptions` for the options."""
    return QdrantEdgeBackend(spec, path, EdgeOptions.parse(dict(options)))
