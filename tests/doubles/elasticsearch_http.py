"""A local double of the Elasticsearch REST endpoints the adapter uses, for the official client to talk to.

Endpoints: ``GET /`` (cluster info), ``HEAD``/``PUT /{index}``, ``POST /_bulk`` (NDJSON), ``POST /{index}/_search``
(``query``, ``knn``, ``size``, ``sort``, ``search_after``, ``_source``), ``_count``, ``_delete_by_query`` and ``_mget``.
Every response carries ``X-Elastic-Product: Elasticsearch``, which the client checks.

The query DSL subset is evaluated with Elasticsearch's semantics: ``bool`` (``must``/``filter``/``should``/
``must_not``, ``minimum_should_match``), ``term``, ``terms``, ``range``, ``exists`` (``null`` and ``[]`` count as
absent), ``match_all``, ``combined_fields`` scored by BM25 (k1 = 1.2, b = 0.75) over the listed fields taken as
one, ``knn`` (scores ``(1 + cosine) / 2``) and ``script_score`` with ``cosineSimilarity``/``dotProduct``. Dynamic
mapping is tracked per field so a value of another type is refused per item, as Elasticsearch does. The text
analyzer approximates ``english``: lowercase, word tokens, its stop words, and plural ``s`` stripping (the real
one applies the Porter stemmer).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from tests.doubles.http import HTTPDouble, Reply, Seen
from tests.doubles.http import is_number as _num
from tests.doubles.http import same_value as _same

STOP = set(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)
_WORD = re.compile(r"\w+")


def analyze(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower()):
        if w in STOP:
            continue
        if w.endswith("ies") and len(w) > 4:
            w = w[:-3] + "i"
        elif w.endswith("s") and not w.endswith("ss") and len(w) > 3:
            w = w[:-1]
        out.append(w)
    return out


def es_error(status: int, kind: str, reason: str) -> Reply:
    cause = {"type": kind, "reason": reason}
    return Reply(status, {"error": {"root_cause": [cause], **cause}, "status": status})


def flatten(source: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in source.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _values(doc: dict[str, Any], field: str) -> list[Any]:
    v = doc.get(field)
    if v is None:
        return []
    return [x for x in v if x is not None] if isinstance(v, list) else [v]


class Index:
    def __init__(self, mappings: dict[str, Any]) -> None:
        self.mappings = mappings
        self.docs: dict[str, dict[str, Any]] = {}
        self.types: dict[str, str] = {}
        vec = mappings.get("properties", {}).get("vector")
        self.dims = vec["dims"] if vec else None


class ElasticsearchDouble(HTTPDouble):
    base_headers: ClassVar[dict[str, str]] = {
        "Content-Type": "application/vnd.elasticsearch+json;compatible-with=9",
        "X-Elastic-Product": "Elasticsearch",
    }

    def __init__(self, version: str = "9.1.0") -> None:
        self.version = version
        self.indices: dict[str, Index] = {}
        super().__init__()

    def raw_body(self, path: str) -> bool:
        return path.endswith("/_bulk")

    def error_body(self, status: int) -> Any:
        kind = "es_rejected_execution_exception" if status == 429 else "unavailable_shards_exception"
        cause = {"type": kind, "reason": f"scripted {status}"}
        return {"error": {"root_cause": [cause], **cause}, "status": status}

    def reset(self) -> None:
        with self.lock:
            self.indices.clear()
            self.requests.clear()
            self.faults.clear()
            self.down = False

    # -- routing ----------------------------------------------------------------------------------
    def route(self, seen: Seen) -> tuple[int, Any]:
        parts = [p for p in seen.path.split("/") if p]
        if not parts:
            return 200, {
                "name": "double",
                "cluster_name": "vectorrouter-tests",
                "version": {"number": self.version, "build_flavor": "default", "lucene_version": "10.2.0"},
                "tagline": "You Know, for Search",
            }
        if parts == ["_bulk"]:
            return 200, self.bulk(seen)
        name = parts[0]
        if len(parts) == 1:
            if seen.method == "HEAD":
                return (200 if name in self.indices else 404), None
            if seen.method == "PUT":
                if name in self.indices:
                    raise es_error(400, "resource_already_exists_exception", f"index [{name}] already exists")
                self.indices[name] = Index((seen.body or {}).get("mappings", {}))
                return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
        index = self.indices.get(name)
        if index is None:
            raise es_error(404, "index_not_found_exception", f"no such index [{name}]")
        action = parts[1] if len(parts) > 1 else ""
        handlers = {
            "_search": self.search,
            "_count": self.count,
            "_delete_by_query": self.delete_by_query,
            "_mget": self.mget,
        }
        if action not in handlers:
            raise es_error(400, "illegal_argument_exception", f"unsupported endpoint {seen.path}")
        return 200, handlers[action](index, name, seen)

    # -- writes -----------------------------------------------------------------------------------
    def _check_types(self, index: Index, flat: dict[str, Any]) -> str | None:
        for field, value in flat.items():
            vals = value if isinstance(value, list) else [value]
            for v in vals:
                if v is None:
                    continue
                kind = (
                    "boolean"
                    if isinstance(v, bool)
                    else "double"
                    if _num(v)
                    else "keyword"
                    if isinstance(v, str)
                    else "object"
                )
                if field == "vector" or field in ("text", "title"):
                    continue
                seen = index.types.setdefault(field, kind)
                if seen != kind:
                    return f"failed to parse field [{field}] of type [{seen}]: got a {kind}"
        return None

    def bulk(self, seen: Seen) -> Any:
        lines = [json.loads(line) for line in seen.raw.decode().splitlines() if line.strip()]
        items = []
        errors = False
        allowed = {"ns", "rid", "key", "text", "title", "md", "vector"}
        for action, doc in zip(lines[::2], lines[1::2], strict=True):
            meta = action["index"]
            index = self.indices.get(meta["_index"])
            status, error = 201, None
            if index is None:
                status, error = (
                    404,
                    {"type": "index_not_found_exception", "reason": f"no such index [{meta['_index']}]"},
                )
            elif set(doc) - allowed:
                status, error = (
                    400,
                    {
                        "type": "strict_dynamic_mapping_exception",
                        "reason": f"unknown fields {sorted(set(doc) - allowed)}",
                    },
                )
            elif index.dims is not None and len(doc.get("vector") or []) != index.dims:
                status, error = (
                    400,
                    {
                        "type": "document_parsing_exception",
                        "reason": f"vector has {len(doc.get('vector') or [])} dims, mapping has {index.dims}",
                    },
                )
            else:
                problem = self._check_types(index, flatten(doc))
                if problem:
                    status, error = 400, {"type": "document_parsing_exception", "reason": problem}
            if error is None:
                assert index is not None
                if meta["_id"] in index.docs:
                    status = 200
                index.docs[meta["_id"]] = doc
                items.append(
                    {
                        "index": {
                            "_index": meta["_index"],
                            "_id": meta["_id"],
                            "result": "created" if status == 201 else "updated",
                            "status": status,
                        }
                    }
                )
            else:
                errors = True
                items.append(
                    {
                        "index": {
                            "_index": meta["_index"],
                            "_id": meta["_id"],
                            "status": status,
                            "error": error,
                        }
                    }
                )
        return {"took": 1, "errors": errors, "items": items}

    # -- query evaluation -------------------------------------------------------------------------
    def _matches(self, q: dict[str, Any], doc: dict[str, Any]) -> bool:
        ((kind, body),) = q.items()
        if kind == "match_all":
            return True
        if kind == "term":
            ((field, value),) = body.items()
            value = value["value"] if isinstance(value, dict) else value
            return any(_same(v, value) for v in _values(doc, field))
        if kind == "terms":
            ((field, values),) = body.items()
            return any(_same(v, w) for v in _values(doc, field) for w in values)
        if kind == "range":
            ((field, bounds),) = body.items()
            ops = {"gt": float.__gt__, "gte": float.__ge__, "lt": float.__lt__, "lte": float.__le__}
            return any(
                _num(v) and all(ops[o](float(v), float(b)) for o, b in bounds.items())
                for v in _values(doc, field)
            )
        if kind == "exists":
            return bool(_values(doc, body["field"]))
        if kind == "bool":
            must = body.get("must", []) + body.get("filter", [])
            should = body.get("should", [])
            need = body.get("minimum_should_match", 0 if must else 1 if should else 0)
            return (
                all(self._matches(c, doc) for c in must)
                and not any(self._matches(c, doc) for c in body.get("must_not", []))
                and sum(self._matches(c, doc) for c in should) >= need
            )
        if kind == "combined_fields":
            return bool(set(analyze(body["query"])) & set(self._tokens(doc, body["fields"])))
        if kind == "script_score":
            return self._matches(body["query"], doc)
        raise es_error(400, "parsing_exception", f"unknown query [{kind}]")

    @staticmethod
    def _tokens(doc: dict[str, Any], fields: Iterable[str]) -> list[str]:
        out: list[str] = []
        for f in fields:
            for v in _values(doc, f):
                out.extend(analyze(str(v)))
        return out

    def _bm25(self, index: Index, body: dict[str, Any], doc: dict[str, Any]) -> float:
        fields = body["fields"]
        terms = analyze(body["query"])
        all_docs = [flatten(d) for d in index.docs.values()]
        lengths = [len(self._tokens(d, fields)) for d in all_docs]
        avg = sum(lengths) / len(lengths) if lengths else 1.0
        toks = self._tokens(doc, fields)
        score = 0.0
        for t in set(terms):
            df = sum(t in self._tokens(d, fields) for d in all_docs)
            tf = toks.count(t)
            if not tf:
                continue
            idf = math.log(1 + (len(all_docs) - df + 0.5) / (df + 0.5))
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(toks) / avg))
        return score

    def _score(self, index: Index, q: dict[str, Any], doc: dict[str, Any]) -> float:
        ((kind, body),) = q.items()
        if kind == "combined_fields":
            return self._bm25(index, body, doc)
        if kind == "bool":
            return sum(
                self._score(index, c, doc)
                for c in body.get("must", []) + body.get("should", [])
                if self._matches(c, doc)
            )
        if kind == "script_score":
            q_vec, vec = body["script"]["params"]["q"], doc.get("vector") or []
            dot = sum(a * b for a, b in zip(q_vec, vec, strict=True))
            if "cosineSimilarity" in body["script"]["source"]:
                return self._cos(q_vec, vec) + 1.0
            return 1 / (1 - dot) if dot < 0 else dot + 1
        return 0.0 if kind in ("term", "terms", "range", "exists") else 1.0

    @staticmethod
    def _cos(a: list[float], b: list[float]) -> float:
        na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
        return sum(x * y for x, y in zip(a, b, strict=True)) / (na * nb) if na and nb else 0.0

    @staticmethod
    def _source(doc: dict[str, Any], includes: Any) -> dict[str, Any]:
        if includes is None or includes is True:
            return doc
        keep = includes.split(",") if isinstance(includes, str) else list(includes)
        return {k: v for k, v in doc.items() if k in keep}

    def _hit(
        self, name: str, _id: str, doc: dict[str, Any], score: float | None, includes: Any
    ) -> dict[str, Any]:
        return {"_index": name, "_id": _id, "_score": score, "_source": self._source(doc, includes)}

    def search(self, index: Index, name: str, seen: Seen) -> Any:
        body = seen.body or {}
        size = body.get("size", 10)
        includes = body.get("_source")
        if "knn" in body:
            knn = body["knn"]
            if index.dims is None:
                raise es_error(400, "illegal_argument_exception", "field [vector] is not a dense_vector")
            pool = [
                (i, d)
                for i, d in index.docs.items()
                if self._matches(knn.get("filter", {"match_all": {}}), flatten(d))
            ]
            scored = sorted(((1 + self._cos(knn["query_vector"], d["vector"])) / 2, i, d) for i, d in pool)[
                ::-1
            ]
            top = sorted(scored, key=lambda t: -t[0])[: min(knn["k"], size)]
            hits = [self._hit(name, i, d, s, includes) for s, i, d in top]
        else:
            query = body.get("query", {"match_all": {}})
            rows = [(i, d, flatten(d)) for i, d in index.docs.items()]
            matched = [(i, d, f) for i, d, f in rows if self._matches(query, f)]
            if "sort" in body:
                ((field, _order),) = body["sort"][0].items()
                matched.sort(key=lambda r: r[2][field])
                if "search_after" in body:
                    matched = [r for r in matched if r[2][field] > body["search_after"][0]]
                hits = [
                    {**self._hit(name, i, d, None, includes), "sort": [f[field]]}
                    for i, d, f in matched[:size]
                ]
            else:
                scored = sorted(
                    ((self._score(index, query, f), i, d) for i, d, f in matched), key=lambda t: -t[0]
                )
                hits = [self._hit(name, i, d, s, includes) for s, i, d in scored[:size]]
        return {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": len(hits), "relation": "eq"},
                "max_score": max((h["_score"] or 0 for h in hits), default=None),
                "hits": hits,
            },
        }

    def count(self, index: Index, name: str, seen: Seen) -> Any:
        query = (seen.body or {}).get("query", {"match_all": {}})
        n = sum(self._matches(query, flatten(d)) for d in index.docs.values())
        return {"count": n, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}

    def delete_by_query(self, index: Index, name: str, seen: Seen) -> Any:
        query = seen.body["query"]
        doomed = [i for i, d in index.docs.items() if self._matches(query, flatten(d))]
        for i in doomed:
            del index.docs[i]
        return {
            "took": 1, "timed_out": False, "total": len(doomed), "deleted": len(doomed), "batches": 1,
            "version_conflicts": 0, "noops": 0, "retries": {"bulk": 0, "search": 0}, "failures": [],
        }  # fmt: skip

    def mget(self, index: Index, name: str, seen: Seen) -> Any:
        includes = seen.query.get("_source", [None])[0]
        docs = []
        for i in seen.body["ids"]:
            doc = index.docs.get(i)
            if doc is None:
                docs.append({"_index": name, "_id": i, "found": False})
            else:
                docs.append(
                    {
                        "_index": name,
                        "_id": i,
                        "_version": 1,
                        "found": True,
                        "_source": self._source(doc, includes),
                    }
                )
        return {"docs": docs}
