"""Elasticsearch through its official client (``pip install 'vectorrouter[elasticsearch]'``): a keyword store
(BM25 over ``title`` and ``text`` with metadata filters) and, where the cluster has it, a dense kNN store.

Layout: one index holds every namespace (keyword: ``vr-keyword``; vectors: one per width and metric, named
like ``vr-384d-cosine``). A document is ``{ns, rid, key, text, title, md: {metadata}, vector?}`` with ``_id`` a
SHA-256 of namespace and record id, so writes are idempotent. Metadata strings are mapped ``keyword`` (exact
matching), numbers ``double`` and booleans ``boolean``; ``_source`` keeps the values exactly as written.

Filters are translated by :func:`to_es_query`, a pure function: every operator of the filter tree has an exact
Elasticsearch form (``term``, ``terms``, ``range``, ``exists``, ``bool``), and ``Ne``/``Nin``/``Not`` are
``must_not`` clauses, which match documents without the field as the reference semantics require.

kNN needs Elasticsearch 8.4+ for the top-level ``knn`` search; on older clusters, or with ``knn = "exact"``,
the backend scores every match with a ``script_score`` (exact, slower). The client's own retries are off
(``max_retries = 0``): the ladder's policies decide. The client's major version must match the cluster's.

>>> store = ElasticsearchKeywordBackend(url="http://127.0.0.1:9200")          # doctest: +SKIP
>>> store.search("acme:docs:v1", "wind turbines", k=5)                        # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

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
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range
from vectorrouter.types import Hit, Record

__all__ = [
    "ElasticsearchKeywordBackend",
    "ElasticsearchVectorBackend",
    "keyword_from_config",
    "map_es_error",
    "to_es_query",
    "vector_from_config",
]

log = logging.getLogger("vectorrouter.backends.elasticsearch")
NAME = "elasticsearch"
MD = "md"
BATCH = 500
IDS_PER_QUERY = 10_000


# -- errors ---------------------------------------------------------------------------------------
def map_es_error(exc: BaseException, *, op: str = "") -> VectorRouterError:
    """The one place the Elasticsearch client's exceptions become vectorrouter errors."""
    import elasticsearch as es

    where = f" during {op}" if op else ""
    if isinstance(exc, VectorRouterError):
        return exc
    if isinstance(exc, es.ConnectionTimeout):
        return Timeout(f"no answer{where}: {exc}", backend=NAME)
    if isinstance(exc, es.ApiError):
        status = exc.meta.status
        if status == 429:
            raw = exc.meta.headers.get("retry-after")
            try:
                after = float(raw) if raw is not None else None
            except ValueError:
                after = None
            return RateLimited(f"429 rejected{where}: {exc.message}", backend=NAME, retry_after=after)
        if status in (401, 403):
            return BackendUnavailable(
                f"{status} refused{where}: {exc.message} (check the credentials)", backend=NAME
            )
        if status == 400:
            cls = InvalidRecord if op in ("bulk", "upsert") else InvalidFilter
            return cls(f"Elasticsearch rejected the request{where}: {exc}")
        return BackendUnavailable(f"{status}{where}: {exc.message}", backend=NAME)
    if isinstance(exc, es.TransportError):  # connection refused, reset, TLS, serialization
        return BackendUnavailable(f"{type(exc).__name__}{where}: {exc}", backend=NAME)
    return BackendUnavailable(f"{type(exc).__name__}{where}: {exc}", backend=NAME)


# -- filters --------------------------------------------------------------------------------------
def to_es_query(f: Filter, prefix: str = f"{MD}.") -> dict[str, Any]:
    """Translate the filter tree into an Elasticsearch query clause (used in ``bool.filter``).

    >>> to_es_query(Eq("lang", "en") & ~Exists("draft"))
    {'bool': {'filter': [{'term': {'md.lang': 'en'}}, {'bool': {'must_not': [{'exists': {'field': 'md.draft'}}]}}]}}
    """
    if isinstance(f, Eq):
        return {"term": {prefix + f.field: f.value}}
    if isinstance(f, Ne):
        return {"bool": {"must_not": [{"term": {prefix + f.field: f.value}}]}}
    if isinstance(f, In):
        return {"terms": {prefix + f.field: list(f.values)}}
    if isinstance(f, Nin):
        return {"bool": {"must_not": [{"terms": {prefix + f.field: list(f.values)}}]}}
    if isinstance(f, Range):
        bounds = {k: getattr(f, k) for k in ("gt", "gte", "lt", "lte") if getattr(f, k) is not None}
        return {"range": {prefix + f.field: bounds}}
    if isinstance(f, Exists):
        return {"exists": {"field": prefix + f.field}}
    if isinstance(f, And):
        if not f.filters:
            return {"match_all": {}}
        return {"bool": {"filter": [to_es_query(c, prefix) for c in f.filters]}}
    if isinstance(f, Or):
        return {"bool": {"should": [to_es_query(c, prefix) for c in f.filters], "minimum_should_match": 1}}
    if isinstance(f, Not):
        return {"bool": {"must_not": [to_es_query(f.filter, prefix)]}}
    raise UnsupportedFilter(NAME, f"the filter node {type(f).__name__}")


def doc_id(namespace: str, rid: str) -> str:
    return hashlib.sha256(f"{namespace}\x1f{rid}".encode()).hexdigest()[:40]


def _mappings(vector: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "ns": {"type": "keyword"},
        "rid": {"type": "keyword"},
        "key": {"type": "keyword"},
        "text": {"type": "text", "analyzer": "english"},
        "title": {"type": "text", "analyzer": "english"},
        MD: {"type": "object", "dynamic": True},
    }
    if vector is not None:
        props["vector"] = vector
    return {
        "dynamic": "strict",
        "dynamic_templates": [
            {
                "md_strings": {
                    "path_match": f"{MD}.*",
                    "match_mapping_type": "string",
                    "mapping": {"type": "keyword"},
                }
            },
            {
                "md_longs": {
                    "path_match": f"{MD}.*",
                    "match_mapping_type": "long",
                    "mapping": {"type": "double"},
                }
            },
            {
                "md_doubles": {
                    "path_match": f"{MD}.*",
                    "match_mapping_type": "double",
                    "mapping": {"type": "double"},
                }
            },
        ],
        "properties": props,
    }


class _ElasticsearchStore:
    """What the keyword and vector stores share: the client, the index, writes, reads and scrolling."""

    name = NAME

    def __init__(
        self,
        *,
        index: str,
        mappings: dict[str, Any],
        client: Any = None,
        url: str | None = None,
        api_key: str | None = None,
        request_timeout: float = 10.0,
        refresh: Literal["wait_for", "true", "false"] = "wait_for",
    ) -> None:
        self.index = index
        self.refresh = refresh
        self._owns_client = client is None
        if client is None:
            from elasticsearch import Elasticsearch

            address = url or os.environ.get("ELASTICSEARCH_URL")
            if not address:
                raise ConfigurationError(
                    "no Elasticsearch URL",
                    field="options.url",
                    fix="set url or the ELASTICSEARCH_URL variable",
                )
            client = Elasticsearch(
                address,
                api_key=api_key or os.environ.get("ELASTICSEARCH_API_KEY") or None,
                request_timeout=request_timeout,
                max_retries=0,  # the ladder's retry policy decides, with the server's Retry-After
                retry_on_status=(),
                retry_on_timeout=False,
            )
        self.client = client
        self._closed = False
        try:
            self._ensure_index(mappings)
        except BaseException:
            self.close()
            raise

    def _call(self, op: str, fn: Any) -> Any:
        try:
            return fn()
        except Exception as exc:
            raise map_es_error(exc, op=op) from exc

    def _ensure_index(self, mappings: dict[str, Any]) -> None:
        import elasticsearch as es

        if self._call("exists", lambda: bool(self.client.indices.exists(index=self.index))):
            return
        try:
            self.client.indices.create(index=self.index, mappings=mappings)
        except es.BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":  # another process created it first
                raise map_es_error(exc, op="create index") from exc
        except Exception as exc:
            raise map_es_error(exc, op="create index") from exc

    def _scope(self, namespace: str, filter: Filter | None, *extra: dict[str, Any]) -> dict[str, Any]:
        clauses = [{"term": {"ns": namespace}}, *extra]
        if filter is not None:
            clauses.append(to_es_query(filter))
        return {"bool": {"filter": clauses}}

    def check_filter(self, filter: Filter) -> None:
        to_es_query(filter)

    def _doc(self, namespace: str, rec: Record) -> dict[str, Any]:
        title = rec.metadata.get("title")
        doc: dict[str, Any] = {
            "ns": namespace,
            "rid": rec.id,
            "key": doc_id(namespace, rec.id),
            "text": rec.text,
            MD: dict(rec.metadata),
        }
        if isinstance(title, str):
            doc["title"] = title
        return doc

    def _bulk(self, operations: list[dict[str, Any]]) -> None:
        res = self._call("bulk", lambda: self.client.bulk(operations=operations, refresh=self.refresh))
        if not res.get("errors"):
            return
        failed = [
            next(iter(item.values())) for item in res["items"] if next(iter(item.values())).get("error")
        ]
        statuses = {f.get("status") for f in failed}
        first = failed[0].get("error", {})
        detail = f"{len(failed)} of {len(res['items'])} writes failed, first: {first.get('type')}: {first.get('reason')}"
        if statuses <= {429}:
            raise RateLimited(detail, backend=NAME)
        if any(s is not None and s >= 500 for s in statuses) or 429 in statuses:
            raise BackendUnavailable(detail, backend=NAME)
        raise InvalidRecord(
            f"Elasticsearch refused records: {detail} (the others were written; fix and re-run)"
        )

    def _write(self, namespace: str, records: Sequence[Record], docs: list[dict[str, Any]]) -> None:
        ops: list[dict[str, Any]] = []
        for rec, doc in zip(records, docs, strict=True):
            ops.append({"index": {"_index": self.index, "_id": doc_id(namespace, rec.id)}})
            ops.append(doc)
        for start in range(0, len(ops), 2 * BATCH):
            self._bulk(ops[start : start + 2 * BATCH])

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if records:
            self._write(namespace, records, [self._doc(namespace, r) for r in records])

    def _record(self, source: dict[str, Any], with_vectors: bool) -> Record:
        vector = source.get("vector") if with_vectors else None
        return Record(
            id=source["rid"], text=source.get("text", ""), metadata=source.get(MD) or {}, vector=vector
        )

    def _fields(self, with_vectors: bool) -> list[str]:
        return ["rid", "text", MD, "vector"] if with_vectors else ["rid", "text", MD]

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        wanted = list(ids)
        if not wanted:
            return []
        res = self._call(
            "mget",
            lambda: self.client.mget(
                index=self.index,
                ids=[doc_id(namespace, i) for i in wanted],
                source=self._fields(with_vectors),
            ),
        )
        found = {
            d["_source"]["rid"]: self._record(d["_source"], with_vectors)
            for d in res["docs"]
            if d.get("found")
        }
        return [found[i] for i in wanted if i in found]

    def _delete_where(self, query: dict[str, Any]) -> int:
        res = self._call(
            "delete_by_query",
            lambda: self.client.delete_by_query(
                index=self.index, query=query, refresh=True, conflicts="proceed"
            ),
        )
        return int(res.get("deleted", 0))

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        wanted = list(ids)
        deleted = 0
        for start in range(0, len(wanted), IDS_PER_QUERY):
            batch = wanted[start : start + IDS_PER_QUERY]
            deleted += self._delete_where(self._scope(namespace, None, {"terms": {"rid": batch}}))
        return deleted

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        return self._delete_where(self._scope(namespace, filter))

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        res = self._call(
            "count", lambda: self.client.count(index=self.index, query=self._scope(namespace, filter))
        )
        return int(res["count"])

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        after: list[Any] | None = None
        query = self._scope(namespace, filter)
        while True:
            kwargs: dict[str, Any] = {"search_after": after} if after is not None else {}
            res = self._call(
                "scroll",
                lambda kw=kwargs: self.client.search(
                    index=self.index,
                    query=query,
                    size=batch_size,
                    sort=[{"key": "asc"}],
                    source=self._fields(with_vectors),
                    **kw,
                ),
            )
            hits = res["hits"]["hits"]
            if not hits:
                return
            yield [self._record(h["_source"], with_vectors) for h in hits]
            if len(hits) < batch_size:
                return
            after = hits[-1]["sort"]

    def _hits(self, res: Any, score: Any = float) -> list[Hit]:
        return [
            Hit(
                id=h["_source"]["rid"],
                score=score(h["_score"]),
                text=h["_source"].get("text", ""),
                metadata=h["_source"].get(MD) or {},
            )
            for h in res["hits"]["hits"]
        ]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owns_client:
                self.client.close()


class ElasticsearchKeywordBackend(_ElasticsearchStore):
    """BM25 over ``title`` and ``text`` (the ``english`` analyzer: lowercased, stemmed, stop words dropped),
    scored as one combined field, with metadata filters."""

    def __init__(self, *, index: str = "vr-keyword", **kw: Any) -> None:
        super().__init__(index=index, mappings=_mappings(), **kw)

    def search(self, namespace: str, query: str, k: int, filter: Filter | None = None) -> list[Hit]:
        if not query.strip() or k <= 0:
            return []
        match = {"combined_fields": {"query": query, "fields": ["title", "text"], "operator": "or"}}
        res = self._call(
            "search",
            lambda: self.client.search(
                index=self.index,
                query={"bool": {"must": [match], "filter": self._scope(namespace, filter)["bool"]["filter"]}},
                size=k,
                source=self._fields(False),
            ),
        )
        return self._hits(res)


def _from_knn_score(metric: str, score: float) -> float:
    """Elasticsearch keeps kNN scores positive; undo that so hits carry the cosine / dot product."""
    if metric == "cosine":
        return 2.0 * score - 1.0
    return score - 1.0 if score >= 1.0 else 1.0 - 1.0 / score


class ElasticsearchVectorBackend(_ElasticsearchStore):
    """Dense kNN over a ``dense_vector`` field, one index per width and metric.

    ``knn="approximate"`` uses the HNSW ``knn`` search (8.4+) with ``num_candidates`` of at least ten times k;
    ``knn="exact"`` (or an older cluster) scores every filtered match with a ``script_score``.
    """

    def __init__(
        self,
        spec: IndexSpec,
        *,
        index_prefix: str = "",
        knn: Literal["approximate", "exact"] = "approximate",
        **kw: Any,
    ) -> None:
        self.spec = spec
        similarity = "cosine" if spec.metric == "cosine" else "max_inner_product"
        vector = {"type": "dense_vector", "dims": spec.dimension, "index": True, "similarity": similarity}
        super().__init__(index=f"{index_prefix}{spec.name}", mappings=_mappings(vector), **kw)
        self.knn = knn
        if knn == "approximate" and not self._has_knn():
            log.info("Elasticsearch before 8.4 has no kNN search: scoring exactly with script_score")
            self.knn = "exact"

    def _has_knn(self) -> bool:
        info = self._call("info", self.client.info)
        number = str(info["version"]["number"]).split(".")
        return (int(number[0]), int(number[1])) >= (8, 4)

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if not records:
            return
        check_vectors(self.spec, records, backend=self.name)
        docs = []
        for r in records:
            doc = self._doc(namespace, r)
            doc["vector"] = [float(x) for x in (r.vector if r.vector is not None else ())]
            docs.append(doc)
        self._write(namespace, records, docs)

    def search(
        self, namespace: str, vector: Sequence[float], k: int, filter: Filter | None = None
    ) -> list[Hit]:
        if len(vector) != self.spec.dimension:
            raise DimensionMismatch(
                self.spec.dimension, len(vector), where=f"index {self.spec.name!r} (elasticsearch)"
            )
        if k <= 0:
            return []
        q = [float(x) for x in vector]
        scope = self._scope(namespace, filter)
        if self.knn == "approximate":
            knn = {
                "field": "vector",
                "query_vector": q,
                "k": k,
                "num_candidates": min(10_000, max(100, 10 * k)),
                "filter": scope,
            }
            res = self._call(
                "knn",
                lambda: self.client.search(index=self.index, knn=knn, size=k, source=self._fields(False)),
            )
            return self._hits(res, lambda s: _from_knn_score(self.spec.metric, s))
        if self.spec.metric == "cosine":
            source, undo = "cosineSimilarity(params.q, 'vector') + 1.0", (lambda s: s - 1.0)
        else:
            source = "double d = dotProduct(params.q, 'vector'); return d < 0 ? 1 / (1 - d) : d + 1;"
            undo = lambda s: _from_knn_score("dot", s)  # noqa: E731
        script = {"script_score": {"query": scope, "script": {"source": source, "params": {"q": q}}}}
        res = self._call(
            "exact knn",
            lambda: self.client.search(index=self.index, query=script, size=k, source=self._fields(False)),
        )
        return self._hits(res, undo)


_COMMON = {"url", "api_key_env", "request_timeout", "refresh"}


def _client_options(options: dict[str, Any], extra: set[str]) -> dict[str, Any]:
    unknown = set(options) - _COMMON - extra
    if unknown:
        raise ConfigurationError(
            f"unknown Elasticsearch options {sorted(unknown)}",
            field="options",
            fix=f"use {', '.join(sorted(_COMMON | extra))}",
        )
    out = {k: v for k, v in options.items() if k in _COMMON - {"api_key_env"} | extra}
    env = options.get("api_key_env")
    if env:
        out["api_key"] = os.environ.get(str(env))
    return out


def keyword_from_config(path: Path | None, options: dict[str, Any]) -> ElasticsearchKeywordBackend:
    """Build from ``kind = "elasticsearch"`` as a keyword store. Options: ``url`` (default ``ELASTICSEARCH_URL``),
    ``index``, ``api_key_env``, ``request_timeout``, ``refresh``."""
    return ElasticsearchKeywordBackend(**_client_options(options, {"index"}))


def vector_from_config(
    spec: IndexSpec, path: Path | None, options: dict[str, Any]
) -> ElasticsearchVectorBackend:
    """Build from ``kind = "elasticsearch"`` as a vector store. Options as the keyword store's, plus
    ``index_prefix`` and ``knn`` (``approximate`` or ``exact``)."""
    return ElasticsearchVectorBackend(spec, **_client_options(options, {"index_prefix", "knn"}))
