"""Pinecone through its official SDK (``pip install 'vectorrouter[pinecone]'``).

One Pinecone index per vectorrouter index (width + metric); vectorrouter namespaces are Pinecone namespaces.
Metadata keeps its exact shape across Pinecone's limits: the text and the keys Pinecone cannot hold (``None``,
empty lists) travel in reserved ``_vr_*`` keys, and integers are restored as integers (Pinecone stores every
number as a 64-bit float). Lists of numbers cannot be stored in Pinecone and are refused before any write.

Filters are translated by :func:`to_pinecone_filter`, a pure function. Pinecone has no ``$not``: negations are
pushed down (De Morgan, ``$ne``/``$nin``/``$exists: false``), and a negated range, which Pinecone cannot express
exactly, raises :class:`~vectorrouter.errors.UnsupportedFilter`. ``$ne``/``$nin`` are written as
"not equal, or missing" so records without the field match whatever Pinecone does with absent keys.

``count``/``scroll``/``delete_by_filter`` with a filter page through ``fetch_by_metadata`` (Pinecone has no
filtered count); deletes then go by id, so the returned count is exactly what was deleted. Pinecone's SDK
retries 408/429/5xx on its own REST transport (up to three times, honouring Retry-After); a ladder step's
timeout bounds the whole call, and a Pinecone step gets no ladder retry by default (``retries = 0``).

>>> from vectorrouter.backends.base import IndexSpec
>>> store = PineconeBackend(IndexSpec.for_dimension(384), host="https://docs-abc.svc.pinecone.io")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from vectorrouter.backends.base import IndexSpec, check_vectors
from vectorrouter.errors import (
    BackendUnavailable,
    ConfigurationError,
    DimensionMismatch,
    InvalidFilter,
    InvalidRecord,
    RateLimited,
    Timeout,
    UnsupportedFilter,
    VectorRouterError,
)
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range, float_exact
from vectorrouter.types import RESERVED_PREFIX, Hit, MetaValue, Record

__all__ = ["PineconeBackend", "from_config", "map_pinecone_error", "to_pinecone_filter"]

NAME = "pinecone"
TEXT, NULLS, EMPTY, INTS = (f"{RESERVED_PREFIX}{k}" for k in ("text", "nulls", "empty", "ints"))
#: Pinecone's limits: metadata per record, ids per fetch request (URL length), vectors per upsert request.
MAX_METADATA_BYTES = 40_960
FETCH_BATCH = 100
UPSERT_BATCH = 100
DELETE_BATCH = 1000
PAGE = 100
_SAFE_INTEGER = 2**53
_ID_SAFE = "".join(chr(c) for c in range(33, 127) if chr(c) != "%")


# -- errors ---------------------------------------------------------------------------------------
def map_pinecone_error(exc: BaseException, *, op: str = "") -> VectorRouterError:
    """The one place the Pinecone SDK's exceptions become vectorrouter errors."""
    import pinecone.errors as pe

    where = f" during {op}" if op else ""
    if isinstance(exc, VectorRouterError):
        return exc
    if isinstance(exc, pe.RateLimitError):
        return RateLimited(
            f"429 rate limited{where}: {exc.message}", backend=NAME, retry_after=exc.retry_after
        )
    if isinstance(exc, pe.PineconeTimeoutError):
        return Timeout(f"no answer{where}: {exc}", backend=NAME)
    if isinstance(exc, pe.UnauthorizedError | pe.ForbiddenError | pe.PaymentRequiredError):
        # a key or quota problem on this store must not stop a fallback from answering: report it as an outage
        return BackendUnavailable(
            f"{exc.status_code} refused{where}: {exc.message} (check PINECONE_API_KEY and the project's quota)",
            backend=NAME,
        )
    if isinstance(exc, pe.PayloadTooLargeError):
        return InvalidRecord(f"Pinecone refused the request as too large{where}: {exc.message}")
    if isinstance(exc, pe.ApiError):
        if exc.status_code == 400:
            cls = InvalidRecord if op == "upsert" else InvalidFilter
            return cls(f"Pinecone rejected the request{where}: {exc.message}")
        return BackendUnavailable(f"{exc.status_code}{where}: {exc.message}", backend=NAME)
    if isinstance(exc, pe.PineconeValueError | pe.PineconeTypeError):
        return InvalidRecord(f"Pinecone client refused the request{where}: {exc}")
    return BackendUnavailable(f"{type(exc).__name__}{where}: {exc}", backend=NAME)


# -- filters --------------------------------------------------------------------------------------
def _missing(field: str) -> dict[str, Any]:
    return {field: {"$exists": False}}


def _or(*parts: dict[str, Any]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$or": list(parts)}


def _and(*parts: dict[str, Any]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$and": list(parts)}


def to_pinecone_filter(f: Filter) -> dict[str, Any]:
    """Translate the filter tree into Pinecone's metadata filter language, or raise ``UnsupportedFilter``.

    >>> to_pinecone_filter(Eq("lang", "en") & Range("year", gte=2020))
    {'$and': [{'lang': {'$eq': 'en'}}, {'year': {'$gte': 2020}}]}
    >>> to_pinecone_filter(Not(Eq("lang", "en")))
    {'$or': [{'lang': {'$ne': 'en'}}, {'lang': {'$exists': False}}]}
    """
    if isinstance(f, Eq):
        return {f.field: {"$eq": float_exact(NAME, f.field, f.value)}}
    if isinstance(f, Ne):
        return _or({f.field: {"$ne": float_exact(NAME, f.field, f.value)}}, _missing(f.field))
    if isinstance(f, In | Nin | Range):
        for v in f.values if isinstance(f, In | Nin) else (f.gt, f.gte, f.lt, f.lte):
            if v is not None:
                float_exact(NAME, f.field, v)  # Pinecone keeps numbers as 64-bit floats
    if isinstance(f, In):
        if any(isinstance(v, bool) for v in f.values):  # $in takes strings and numbers only
            return _or(*(to_pinecone_filter(Eq(f.field, v)) for v in f.values))
        return {f.field: {"$in": list(f.values)}}
    if isinstance(f, Nin):
        if any(isinstance(v, bool) for v in f.values):
            return _and(*(to_pinecone_filter(Ne(f.field, v)) for v in f.values))
        return _or({f.field: {"$nin": list(f.values)}}, _missing(f.field))
    if isinstance(f, Range):
        ops = {f"${k}": getattr(f, k) for k in ("gt", "gte", "lt", "lte") if getattr(f, k) is not None}
        return {f.field: ops}
    if isinstance(f, Exists):
        return {f.field: {"$exists": True}}
    if isinstance(f, And):
        if not f.filters:
            raise UnsupportedFilter(NAME, "an empty AND nested in another condition (pass no filter instead)")
        return _and(*(to_pinecone_filter(c) for c in f.filters))
    if isinstance(f, Or):
        return _or(*(to_pinecone_filter(c) for c in f.filters))
    if isinstance(f, Not):
        return _negate(f.filter)
    raise UnsupportedFilter(NAME, f"the filter node {type(f).__name__}")


def _negate(f: Filter) -> dict[str, Any]:
    """``Not(f)`` without ``$not``: Pinecone's language has none."""
    if isinstance(f, Eq):
        return to_pinecone_filter(Ne(f.field, f.value))
    if isinstance(f, Ne):
        return to_pinecone_filter(Eq(f.field, f.value))
    if isinstance(f, In):
        return to_pinecone_filter(Nin(f.field, f.values))
    if isinstance(f, Nin):
        return to_pinecone_filter(In(f.field, f.values))
    if isinstance(f, Exists):
        return _missing(f.field)
    if isinstance(f, Not):
        return to_pinecone_filter(f.filter)
    if isinstance(f, And) and f.filters:
        return _or(*(_negate(c) for c in f.filters))
    if isinstance(f, Or):
        return _and(*(_negate(c) for c in f.filters))
    if isinstance(f, Range):
        raise UnsupportedFilter(
            NAME, f"a negated range on {f.field!r} (Pinecone cannot match values that are not numbers)"
        )
    raise UnsupportedFilter(NAME, f"the negation of {type(f).__name__}")


# -- records --------------------------------------------------------------------------------------
def encode_id(id_: str) -> str:
    """Pinecone ids are ASCII: percent-encode anything else (and ``%`` itself) reversibly."""
    out = id_ if id_.isascii() and "%" not in id_ else quote(id_, safe=_ID_SAFE)
    if len(out) > 512:
        raise InvalidRecord(
            f"record id {id_[:40]!r}… is {len(out)} characters once made ASCII; Pinecone allows 512"
        )
    return out


def decode_id(id_: str) -> str:
    return unquote(id_) if "%" in id_ else id_


def to_metadata(rec: Record) -> dict[str, Any]:
    """Pinecone metadata for ``rec`` (raises ``InvalidRecord`` for what Pinecone cannot hold)."""
    md: dict[str, Any] = {TEXT: rec.text}
    nulls, empty, ints = [], [], []
    for key, value in rec.metadata.items():
        if value is None:
            nulls.append(key)
        elif isinstance(value, list):
            if not value:
                empty.append(key)
            elif all(isinstance(v, str) for v in value):
                md[key] = value
            else:
                raise InvalidRecord(
                    f"record {rec.id!r}: metadata[{key!r}] is a list of numbers; Pinecone stores lists of strings "
                    "only (store the numbers as strings, or one number per key)"
                )
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > _SAFE_INTEGER:
                raise InvalidRecord(
                    f"record {rec.id!r}: metadata[{key!r}] = {value} exceeds 2**53 (Pinecone keeps floats)"
                )
            ints.append(key)
            md[key] = value
        else:
            md[key] = value
    for key, names in ((NULLS, nulls), (EMPTY, empty), (INTS, ints)):
        if names:
            md[key] = names
    size = len(json.dumps(md, ensure_ascii=False).encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise InvalidRecord(
            f"record {rec.id!r}: text plus metadata take {size} bytes; Pinecone allows {MAX_METADATA_BYTES} per record "
            "(chunk the text smaller)"
        )
    return md


def from_metadata(raw: Mapping[str, Any] | None) -> tuple[str, dict[str, MetaValue]]:
    md = dict(raw or {})
    text = str(md.pop(TEXT, ""))
    nulls, empty, ints = md.pop(NULLS, []), md.pop(EMPTY, []), md.pop(INTS, [])
    for key in ints:
        if isinstance(md.get(key), float) and math.isfinite(md[key]):
            md[key] = int(md[key])
    md.update({k: None for k in nulls})
    md.update({k: [] for k in empty})
    return text, md


# -- the backend ----------------------------------------------------------------------------------
class PineconeBackend:
    """One Pinecone index (its data-plane ``host``) serving one :class:`IndexSpec`.

    Pass ``index`` (an SDK ``Index``) to reuse a client, or ``host`` and ``api_key`` (default: the
    ``PINECONE_API_KEY`` variable) to make one.
    """

    name = NAME

    def __init__(
        self,
        spec: IndexSpec,
        *,
        host: str | None = None,
        api_key: str | None = None,
        index: Any = None,
        timeout: float = 10.0,
        check_index: bool = True,
    ) -> None:
        self.spec = spec
        if index is None:
            if not host:
                raise ConfigurationError(
                    f"no Pinecone host for index {spec.name!r}",
                    field="options.host",
                    fix="set host (the index's data-plane URL) or hosts = { <index name> = <url> }",
                )
            key = api_key or os.environ.get("PINECONE_API_KEY")
            if not key:
                raise ConfigurationError(
                    "no Pinecone API key",
                    field="options.api_key",
                    fix="set the PINECONE_API_KEY environment variable",
                )
            from pinecone import Index

            index = self._call("connect", lambda: Index(host=host, api_key=key, timeout=timeout))
            self._owns_index = True
        else:
            self._owns_index = False  # a client passed in belongs to the caller, who closes it
        self.index = index
        self._closed = False
        if check_index:
            try:
                self._check_index()
            except BaseException:
                self.close()  # do not leak the client (and its sockets) of a store that failed to open
                raise

    def _call(self, op: str, fn: Any) -> Any:
        try:
            return fn()
        except Exception as exc:
            raise map_pinecone_error(exc, op=op) from exc

    def _check_index(self) -> None:
        stats = self._call("describe_index_stats", self.index.describe_index_stats)
        if stats.dimension is not None and stats.dimension != self.spec.dimension:
            raise DimensionMismatch(
                stats.dimension, self.spec.dimension, where=f"Pinecone index at {self.index.host}"
            )
        metric = {"cosine": "cosine", "dot": "dotproduct"}[self.spec.metric]
        if stats.metric is not None and stats.metric != metric:
            raise ConfigurationError(
                f"the Pinecone index uses metric {stats.metric!r} but {self.spec.name!r} needs {metric!r}",
                field="options.host",
                fix="point this index width at a Pinecone index created with the same metric",
            )

    # -- writes -----------------------------------------------------------------------------------
    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if not records:
            return
        check_vectors(self.spec, records, backend=self.name)
        vectors = [  # everything is converted (and refused) before the first request
            {
                "id": encode_id(r.id),
                "values": [float(x) for x in (r.vector if r.vector is not None else ())],
                "metadata": to_metadata(r),
            }
            for r in records
        ]
        for start in range(0, len(vectors), UPSERT_BATCH):
            batch = vectors[start : start + UPSERT_BATCH]
            self._call("upsert", lambda b=batch: self.index.upsert(vectors=b, namespace=namespace))

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        present = [r.id for r in self.get(namespace, list(ids))]
        for start in range(0, len(present), DELETE_BATCH):
            batch = [encode_id(i) for i in present[start : start + DELETE_BATCH]]
            self._call("delete", lambda b=batch: self.index.delete(ids=b, namespace=namespace))
        return len(present)

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        if filter is None:
            n = self.count(namespace)
            if n:
                self._call("delete", lambda: self.index.delete(delete_all=True, namespace=namespace))
            return n
        ids = [r.id for batch in self.scroll(namespace, filter, batch_size=DELETE_BATCH) for r in batch]
        return self.delete(namespace, ids) if ids else 0

    # -- reads ------------------------------------------------------------------------------------
    def check_filter(self, filter: Filter) -> None:
        """Raise ``UnsupportedFilter`` now if Pinecone cannot express ``filter`` (the ladder asks up front)."""
        if not (isinstance(filter, And) and not filter.filters):
            to_pinecone_filter(filter)

    @staticmethod
    def _filter(filter: Filter | None) -> dict[str, Any] | None:
        if filter is None or (isinstance(filter, And) and not filter.filters):
            return None
        return to_pinecone_filter(filter)

    def search(
        self, namespace: str, vector: Sequence[float], k: int, filter: Filter | None = None
    ) -> list[Hit]:
        if len(vector) != self.spec.dimension:
            raise DimensionMismatch(
                self.spec.dimension, len(vector), where=f"index {self.spec.name!r} (pinecone)"
            )
        if k <= 0:
            return []
        flt = self._filter(filter)
        res = self._call(
            "query",
            lambda: self.index.query(
                top_k=min(k, 10_000),
                vector=[float(x) for x in vector],
                namespace=namespace,
                filter=flt,
                include_metadata=True,
            ),
        )
        hits = []
        for m in res.matches:
            text, md = from_metadata(m.metadata)
            hits.append(Hit(id=decode_id(m.id), score=float(m.score), text=text, metadata=md))
        return hits

    def _records(self, vectors: Mapping[str, Any], with_vectors: bool) -> dict[str, Record]:
        out = {}
        for vid, vec in vectors.items():
            text, md = from_metadata(vec.metadata)
            rid = decode_id(vid)
            out[rid] = Record(
                id=rid, text=text, metadata=md, vector=list(vec.values) if with_vectors else None
            )
        return out

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        wanted = list(ids)
        found: dict[str, Record] = {}
        for start in range(0, len(wanted), FETCH_BATCH):
            batch = [encode_id(i) for i in wanted[start : start + FETCH_BATCH]]
            res = self._call("fetch", lambda b=batch: self.index.fetch(ids=b, namespace=namespace))
            found.update(self._records(res.vectors, with_vectors))
        return [found[i] for i in wanted if i in found]

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        flt = self._filter(filter)
        if flt is None:
            stats = self._call("describe_index_stats", self.index.describe_index_stats)
            summary = stats.namespaces.get(namespace)
            return int(summary.vector_count) if summary is not None else 0
        return sum(len(batch) for batch in self._by_metadata(namespace, flt, PAGE * 10, False))

    def _by_metadata(
        self, namespace: str, flt: dict[str, Any], batch_size: int, with_vectors: bool
    ) -> Iterator[list[Record]]:
        token = None
        while True:
            res = self._call(
                "fetch_by_metadata",
                lambda t=token: self.index.fetch_by_metadata(
                    filter=flt, namespace=namespace, limit=min(batch_size, 10_000), pagination_token=t
                ),
            )
            records = list(self._records(res.vectors, with_vectors).values())
            if records:
                yield records
            token = res.pagination.next if res.pagination is not None else None
            if not token:
                return

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        flt = self._filter(filter)
        if flt is not None:
            yield from self._by_metadata(namespace, flt, batch_size, with_vectors)
            return
        token = None
        while True:
            page = self._call(
                "list",
                lambda t=token: self.index.list_paginated(
                    namespace=namespace, limit=PAGE, pagination_token=t
                ),
            )
            ids = [decode_id(v.id) for v in page.vectors if v.id is not None]
            for start in range(0, len(ids), batch_size):
                batch = self.get(namespace, ids[start : start + batch_size], with_vectors=with_vectors)
                if batch:
                    yield batch
            token = page.pagination.next if page.pagination is not None else None
            if not token:
                return

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            close = getattr(self.index, "close", None)
            if close is not None and self._owns_index:
                close()


def from_config(spec: IndexSpec, path: Path | None, options: dict[str, Any]) -> PineconeBackend:
    """Build from ``kind = "pinecone"``. Options: ``host`` (one index) or ``hosts`` (index name → host),
    ``api_key_env`` (default ``PINECONE_API_KEY``), ``timeout`` (seconds)."""
    known = {"host", "hosts", "api_key_env", "timeout"}
    unknown = set(options) - known
    if unknown:
        raise ConfigurationError(
            f"unknown Pinecone options {sorted(unknown)}",
            field="options",
            fix=f"use {', '.join(sorted(known))}",
        )
    hosts = options.get("hosts") or {}
    host = hosts.get(spec.name) or options.get("host")
    if not host:
        raise ConfigurationError(
            f"no Pinecone host for index {spec.name!r}",
            field="options.hosts",
            fix=f'add hosts = {{ "{spec.name}" = "https://<index>.svc.pinecone.io" }}',
        )
    key = os.environ.get(str(options.get("api_key_env", "PINECONE_API_KEY")))
    return PineconeBackend(spec, host=host, api_key=key, timeout=float(options.get("timeout", 10.0)))
