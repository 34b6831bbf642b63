"""Qdrant server (or qdrant-client's local mode) through the official ``qdrant-client``: the ``qdrant`` extra.

One collection per :class:`~vectorrouter.backends.base.IndexSpec` (named after it, with an optional
prefix), namespaces as partitions through the ``_vr_ns`` payload key with a tenant keyword index: the same
point layout as the embedded Qdrant Edge store, and the same filter translation.

In production give ``url`` (and ``api_key``); with no ``url`` the client's local mode is used, in memory or
under the store path, which is what the test suite runs against.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import UnexpectedResponse

from vectorrouter.backends._qdrant_client_errors import NAME, map_qdrant_client_error
from vectorrouter.backends._qdrant_filters import QdrantTarget, scoped_filter
from vectorrouter.backends._qdrant_payload import (
    NS_KEY,
    hit_from_payload,
    payload_for,
    point_id,
    record_from_payload,
    vector_rows,
)
from vectorrouter.backends.base import IndexSpec, check_vectors
from vectorrouter.errors import BackendUnavailable, ConfigurationError, DimensionMismatch
from vectorrouter.filters import Filter
from vectorrouter.types import Hit, Record

__all__ = ["QdrantBackend", "QdrantOptions", "from_config", "map_qdrant_client_error"]

CLIENT_TARGET = QdrantTarget(
    name=NAME,
    filter=lambda must, should, must_not: qm.Filter(must=must, should=should, must_not=must_not),
    match_value=lambda key, value: qm.FieldCondition(key=key, match=qm.MatchValue(value=value)),
    match_any=lambda key, values: qm.FieldCondition(key=key, match=qm.MatchAny(any=values)),
    range=lambda key, gt, gte, lt, lte: qm.FieldCondition(
        key=key, range=qm.Range(gt=gt, gte=gte, lt=lt, lte=lte)
    ),
    is_empty=lambda key: qm.IsEmptyCondition(is_empty=qm.PayloadField(key=key)),
)


@dataclass(frozen=True, slots=True)
class QdrantOptions:
    """``[vector_store.options]`` for ``kind = "qdrant"``.

    ``url``/``api_key``/``prefer_grpc``/``timeout`` reach a server (``check_compatibility`` lets the client
    compare its version with the server's); ``location = ":memory:"`` forces the
    in-memory local mode (otherwise local mode persists under the store path); ``collection_prefix`` keeps
    several deployments apart on one cluster; ``m``/``ef_construct`` apply when a collection is created and
    ``hnsw_ef`` to every search.

    >>> QdrantOptions.parse({"url": "https://qdrant.example:6333", "collection_prefix": "prod-"}).collection_prefix
    'prod-'
    """

    url: str | None = None
    api_key: str | None = None
    location: str | None = None
    prefer_grpc: bool = False
    timeout: int | None = None
    check_compatibility: bool = True
    collection_prefix: str = ""
    m: int = 16
    ef_construct: int = 128
    hnsw_ef: int = 64

    @classmethod
    def parse(cls, options: dict[str, Any]) -> QdrantOptions:
        known = {f.name for f in fields(cls)}
        for key in options:
            if key not in known:
                raise ConfigurationError(
                    f"unknown option {key!r} for the {NAME} store",
                    field=f"vector_store.options.{key}",
                    fix=f"use one of: {', '.join(sorted(known))}",
                )
        if options.get("location") not in (None, ":memory:"):
            raise ConfigurationError(
                f"location {options['location']!r} is not supported",
                field="vector_store.options.location",
                fix="use ':memory:', or set vector_store.path for on-disk local mode, or url for a server",
            )
        for key in ("m", "ef_construct", "hnsw_ef", "timeout"):
            value = options.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise ConfigurationError(
                    f"option {key!r} is {value!r}",
                    field=f"vector_store.options.{key}",
                    fix="use a positive integer",
                )
        return cls(**options)


class QdrantBackend:
    """One Qdrant collection, partitioned by namespace.

    >>> from qdrant_client import QdrantClient
    >>> from vectorrouter.backends.base import IndexSpec
    >>> from vectorrouter.types import Record
    >>> b = QdrantBackend(IndexSpec.for_dimension(2), QdrantClient(location=":memory:"), local=True)
    >>> b.upsert("t:f:v", [Record(id="a", text="x", vector=[1.0, 0.0])])
    >>> [h.id for h in b.search("t:f:v", [1.0, 0.1], k=1)]
    ['a']
    >>> b.close()

    ``local`` marks qdrant-client's local mode: it ignores payload indexes (so none is created) and is not
    thread-safe (so calls are serialised).
    """

    name = NAME

    def __init__(
        self,
        spec: IndexSpec,
        client: QdrantClient,
        *,
        local: bool,
        collection: str | None = None,
        options: QdrantOptions | None = None,
    ) -> None:
        self.spec = spec
        self.client = client
        self.options = opts = options or QdrantOptions()
        self.collection = collection or f"{opts.collection_prefix}{spec.name}"
        self._local = local
        self._lock: AbstractContextManager[Any] = threading.RLock() if local else nullcontext()
        # local mode is exact and warns about search params, so it gets none
        self._params = None if local else qm.SearchParams(hnsw_ef=opts.hnsw_ef)
        self._closed = False
        with self._calling():
            self._ensure_collection()

    def _calling(self) -> AbstractContextManager[Any]:
        if self._closed:
            raise BackendUnavailable("the backend is closed", backend=NAME)
        return self._lock

    def _ensure_collection(self) -> None:
        distance = qm.Distance.COSINE if self.spec.metric == "cosine" else qm.Distance.DOT
        try:
            if not self.client.collection_exists(self.collection):
                try:
                    self.client.create_collection(
                        self.collection,
                        vectors_config=qm.VectorParams(size=self.spec.dimension, distance=distance),
                        hnsw_config=qm.HnswConfigDiff(
                            m=self.options.m, ef_construct=self.options.ef_construct
                        ),
                    )
                except UnexpectedResponse as exc:
                    if exc.status_code != 409:  # another process created it first: fine
                        raise
                if not self._local:
                    self.client.create_payload_index(
                        self.collection,
                        NS_KEY,
                        field_schema=qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True),
                        wait=True,
                    )
            params = self.client.get_collection(self.collection).config.params.vectors
        except Exception as exc:
            raise map_qdrant_client_error(exc) from exc
        if not isinstance(params, qm.VectorParams) or (params.size, params.distance) != (
            self.spec.dimension,
            distance,
        ):
            raise ConfigurationError(
                f"collection {self.collection!r} holds vectors {params!r}, not {self.spec.dimension}-d {distance}",
                field="vector_store.options.collection_prefix",
                fix="use a prefix (or cluster) whose collections were created for these models",
            )

    def _scoped(self, namespace: str, filter: Filter | None) -> Any:
        ns = qm.FieldCondition(key=NS_KEY, match=qm.MatchValue(value=namespace))
        return scoped_filter(CLIENT_TARGET, ns, filter)

    # -- writes -----------------------------------------------------------------------------------
    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if not records:
            return
        check_vectors(self.spec, records, backend=NAME)
        rows = vector_rows(records, backend=NAME)
        points = [
            qm.PointStruct(id=point_id(namespace, r.id), vector=row, payload=payload_for(namespace, r))
            for r, row in zip(records, rows, strict=True)
        ]
        with self._calling():
            try:
                self.client.upsert(self.collection, points=points, wait=True)
            except Exception as exc:
                raise map_qdrant_client_error(exc) from exc

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        pids = list(dict.fromkeys(point_id(namespace, i) for i in ids))
        if not pids:
            return 0
        with self._calling():
            try:
                found = self.client.retrieve(self.collection, pids, with_payload=[NS_KEY], with_vectors=False)
                existing = [p.id for p in found if (p.payload or {}).get(NS_KEY) == namespace]
                if existing:
                    self.client.delete(self.collection, qm.PointIdsList(points=existing), wait=True)
            except Exception as exc:
                raise map_qdrant_client_error(exc) from exc
        return len(existing)

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        scoped = self._scoped(namespace, filter)
        with self._calling():
            try:
                n = self.client.count(self.collection, count_filter=scoped, exact=True).count
                if n:
                    self.client.delete(self.collection, qm.FilterSelector(filter=scoped), wait=True)
            except Exception as exc:
                raise map_qdrant_client_error(exc) from exc
        return n

    # -- reads ------------------------------------------------------------------------------------
    def search(
        self, namespace: str, vector: Sequence[float], k: int, filter: Filter | None = None
    ) -> list[Hit]:
        if len(vector) != self.spec.dimension:
            raise DimensionMismatch(self.spec.dimension, len(vector), where=f"collection {self.collection!r}")
        if k <= 0:
            return []
        scoped = self._scoped(namespace, filter)
        with self._calling():
            try:
                points = self.client.query_points(
                    self.collection,
                    query=list(vector),
                    query_filter=scoped,
                    search_params=self._params,
                    limit=k,
                    with_payload=True,
                ).points
            except Exception as exc:
                raise map_qdrant_client_error(exc) from exc
        return [hit_from_payload(p.payload or {}, p.score) for p in points]

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        if not ids:
            return []
        pids = [point_id(namespace, i) for i in ids]
        with self._calling():
            try:
                found = self.client.retrieve(
                    self.collection, list(dict.fromkeys(pids)), with_payload=True, with_vectors=with_vectors
                )
            except Exception as exc:
                raise map_qdrant_client_error(exc) from exc
        by_pid = {str(p.id): p for p in found if (p.payload or {}).get(NS_KEY) == namespace}
        return [
            record_from_payload(by_pid[pid].payload or {}, by_pid[pid].vector if with_vectors else None)  # type: ignore[arg-type]
            for pid in pids
            if pid in by_pid
        ]

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        scoped = self._scoped(namespace, filter)
        with self._calling():
            try:
                return self.client.count(self.collection, count_filter=scoped, exact=True).count
            except Exception as exc:
                raise map_qdrant_client_error(exc) from exc

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
            with self._calling():
                try:
                    points, offset = self.client.scroll(
                        self.collection,
                        scroll_filter=scoped,
                        limit=batch_size,
                        offset=offset,
                        with_payload=True,
                        with_vectors=with_vectors,
                    )
                except Exception as exc:
                    raise map_qdrant_client_error(exc) from exc
            if points:
                yield [
                    record_from_payload(p.payload or {}, p.vector if with_vectors else None)  # type: ignore[arg-type]
                    for p in points
                ]
            if offset is None:
                return

    def close(self) -> None:
        if self._closed:
            return
        with self._lock:
            self._closed = True
            try:
                self.client.close()
            except Exception as exc:
                raise map_qdrant_client_error(exc) from exc


def from_config(spec: IndexSpec, path: Path | None, options: dict[str, Any]) -> QdrantBackend:
    """Build from ``[vector_store] kind = "qdrant"``: a server when ``url`` is set, else local mode."""
    opts = QdrantOptions.parse(dict(options))
    if opts.url:
        client = QdrantClient(
            url=opts.url,
            api_key=opts.api_key,
            prefer_grpc=opts.prefer_grpc,
            timeout=opts.timeout,
            check_compatibility=opts.check_compatibility,
        )
        return QdrantBackend(spec, client, local=False, options=opts)
    if opts.location == ":memory:" or path is None:
        return QdrantBackend(spec, QdrantClient(location=":memory:"), local=True, options=opts)
    path.mkdir(parents=True, exist_ok=True)
    return QdrantBackend(spec, QdrantClient(path=str(path)), local=True, options=opts)
