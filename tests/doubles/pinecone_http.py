"""A faithful local double of Pinecone's data-plane REST API, for the official SDK to talk to.

Implements the endpoints the adapter uses, with the documented request and response shapes:
``POST /vectors/upsert``, ``POST /query``, ``GET /vectors/fetch``, ``POST /vectors/fetch_by_metadata``,
``POST /vectors/delete``, ``POST /describe_index_stats`` and ``GET /vectors/list``.

Semantics follow Pinecone's documentation: metadata values are strings, numbers (kept as 64-bit floats, so
integers come back as ``2003.0``), booleans or lists of strings; ``null`` is refused. Filters support
``$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or`` (no ``$not``); on a list field ``$eq``/``$in`` match when
some element matches and ``$ne``/``$nin`` when none does. Where the documentation is silent (does ``$ne`` match a
record that lacks the field?) the double takes the stricter reading — it does not — so the adapter must not
rely on it. Faults (429 with Retry-After, 503) are scripted with :meth:`fail_next`.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from tests.doubles.http import HTTPDouble, Reply, Seen
from tests.doubles.http import is_number as _num
from tests.doubles.http import same_value as _same

OPS = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"}


def bad(message: str) -> Reply:
    return Reply(400, {"code": 3, "message": message, "details": []})


def _field(md: dict[str, Any], field: str, op: str, arg: Any) -> bool:
    present = field in md
    values = md[field] if present and isinstance(md[field], list) else [md[field]] if present else []
    if op == "$exists":
        if not isinstance(arg, bool):
            raise bad("$exists takes a boolean")
        return present == arg
    if op in ("$eq", "$ne"):
        if not isinstance(arg, str | int | float | bool):
            raise bad(f"{op} takes a number, string or boolean")
        hit = any(_same(v, arg) for v in values)
        return present and (hit if op == "$eq" else not hit)
    if op in ("$in", "$nin"):
        if (
            not isinstance(arg, list)
            or not arg
            or any(isinstance(a, bool) or not isinstance(a, str | int | float) for a in arg)
        ):
            raise bad(f"{op} takes a non-empty array of strings or numbers")
        hit = any(_same(v, a) for v in values for a in arg)
        return present and (hit if op == "$in" else not hit)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if not _num(arg):
            raise bad(f"{op} takes a number")
        cmp = {"$gt": float.__gt__, "$gte": float.__ge__, "$lt": float.__lt__, "$lte": float.__le__}[op]
        return any(_num(v) and cmp(float(v), float(arg)) for v in values)
    raise bad(f"unsupported operator {op!r}; supported: {sorted(OPS)}, $and, $or")


def matches(md: dict[str, Any], flt: dict[str, Any]) -> bool:
    if not isinstance(flt, dict) or not flt:
        raise bad("filter must be a non-empty object")
    for key, cond in flt.items():
        if key in ("$and", "$or"):
            if not isinstance(cond, list) or not cond:
                raise bad(f"{key} takes a non-empty array")
            results = [matches(md, c) for c in cond]
            if not (all(results) if key == "$and" else any(results)):
                return False
        elif key.startswith("$"):
            raise bad(f"unsupported operator {key!r} at the top level")
        else:
            ops = cond if isinstance(cond, dict) else {"$eq": cond}
            if not all(_field(md, key, op, arg) for op, arg in ops.items()):
                return False
    return True


def _stored_metadata(vid: str, md: Any) -> dict[str, Any]:
    if md is None:
        return {}
    if not isinstance(md, dict):
        raise bad(f"metadata of {vid!r} must be an object")
    out: dict[str, Any] = {}
    for k, v in md.items():
        if v is None:
            raise bad(
                f"Metadata value for field {k!r} of vector {vid!r} is null; null values are not supported"
            )
        if isinstance(v, list):
            if not all(isinstance(x, str) for x in v):
                raise bad(f"Metadata list for field {k!r} of vector {vid!r} must contain only strings")
            out[k] = list(v)
        elif _num(v):
            out[k] = float(v)  # Pinecone keeps every number as a 64-bit float
        elif isinstance(v, str | bool):
            out[k] = v
        else:
            raise bad(f"Metadata value for field {k!r} of vector {vid!r} has an unsupported type")
    return out


class PineconeDouble(HTTPDouble):
    """An in-memory Pinecone index of one dimension and metric, served over HTTP on loopback."""

    def __init__(self, dimension: int, metric: str = "cosine", page: int = 100) -> None:
        self.dimension = dimension
        self.metric = metric
        self.page = page
        self.data: dict[str, dict[str, dict[str, Any]]] = {}
        super().__init__()
        self.host = self.url

    def reset(self) -> None:
        """Forget every record, request and scripted fault (one double can serve many tests)."""
        with self.lock:
            self.data.clear()
            self.requests.clear()
            self.faults.clear()
            self.down = False

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {
                "error": {"code": "RESOURCE_EXHAUSTED", "message": "Request rate limit exceeded"},
                "status": 429,
            }
        return {
            "error": {"code": "UNAVAILABLE", "message": "Service temporarily unavailable"},
            "status": status,
        }

    # -- routing ----------------------------------------------------------------------------------
    def route(self, seen: Seen) -> tuple[int, Any]:
        if not seen.headers.get("api-key"):
            raise Reply(
                401, {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}, "status": 401}
            )
        routes = {
            ("POST", "/vectors/upsert"): self.upsert,
            ("POST", "/query"): self.query,
            ("GET", "/vectors/fetch"): self.fetch,
            ("POST", "/vectors/fetch_by_metadata"): self.fetch_by_metadata,
            ("POST", "/vectors/delete"): self.delete,
            ("POST", "/describe_index_stats"): self.stats,
            ("GET", "/vectors/list"): self.list,
        }
        handler = routes.get((seen.method, seen.path))
        if handler is None:
            raise Reply(404, {"code": 5, "message": f"Not Found: {seen.method} {seen.path}", "details": []})
        return 200, handler(seen)

    @staticmethod
    def _ns(body: dict[str, Any] | None, query: dict[str, list[str]] | None = None) -> str:
        if body is not None:
            return str(body.get("namespace", ""))
        return (query or {}).get("namespace", [""])[0]

    def _vector_out(self, vid: str, rec: dict[str, Any], values: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": vid, "values": rec["values"] if values else []}
        if rec["metadata"]:
            out["metadata"] = rec["metadata"]
        return out

    # -- endpoints --------------------------------------------------------------------------------
    def upsert(self, seen: Seen) -> Any:
        body = seen.body
        vectors = body.get("vectors")
        if not isinstance(vectors, list) or not vectors:
            raise bad("vectors must be a non-empty array")
        staged = {}
        for v in vectors:
            vid = v.get("id")
            values = v.get("values")
            if not isinstance(vid, str) or not vid:
                raise bad("every vector needs a string id")
            if not isinstance(values, list) or len(values) != self.dimension:
                raise bad(
                    f"Vector dimension {len(values or [])} does not match the dimension of the index {self.dimension}"
                )
            staged[vid] = {
                "values": [float(x) for x in values],
                "metadata": _stored_metadata(vid, v.get("metadata")),
            }
        self.data.setdefault(self._ns(body), {}).update(staged)
        return {"upsertedCount": len(staged)}

    def _score(self, a: list[float], b: list[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        if self.metric == "dotproduct":
            return dot
        na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
        return dot / (na * nb) if na and nb else 0.0

    def query(self, seen: Seen) -> Any:
        body = seen.body
        top_k = body.get("topK")
        vector = body.get("vector")
        if not isinstance(top_k, int) or not 1 <= top_k <= 10_000:
            raise bad("topK must be an integer between 1 and 10000")
        if not isinstance(vector, list) or len(vector) != self.dimension:
            raise bad(
                f"Vector dimension {len(vector or [])} does not match the dimension of the index {self.dimension}"
            )
        flt = body.get("filter")
        ns = self._ns(body)
        pool = [
            (vid, r) for vid, r in self.data.get(ns, {}).items() if flt is None or matches(r["metadata"], flt)
        ]
        scored = sorted(((self._score(vector, r["values"]), vid, r) for vid, r in pool), key=lambda t: -t[0])
        out = []
        for score, vid, r in scored[:top_k]:
            m: dict[str, Any] = {
                "id": vid,
                "score": score,
                "values": r["values"] if body.get("includeValues") else [],
            }
            if body.get("includeMetadata") and r["metadata"]:
                m["metadata"] = r["metadata"]
            out.append(m)
        return {"matches": out, "namespace": ns, "usage": {"readUnits": 5}}

    def fetch(self, seen: Seen) -> Any:
        ids = seen.query.get("ids", [])
        if not ids:
            raise bad("ids must not be empty")
        ns = self._ns(None, seen.query)
        part = self.data.get(ns, {})
        return {
            "vectors": {i: self._vector_out(i, part[i]) for i in ids if i in part},
            "namespace": ns,
            "usage": {"readUnits": 1},
        }

    def _page(self, items: list[str], token: str | None, limit: int) -> tuple[list[str], str | None]:
        start = int(base64.b64decode(token).decode()) if token else 0
        end = start + limit
        nxt = base64.b64encode(str(end).encode()).decode() if end < len(items) else None
        return items[start:end], nxt

    def fetch_by_metadata(self, seen: Seen) -> Any:
        body = seen.body
        flt = body.get("filter")
        if not flt:
            raise bad("filter must not be empty")
        ns = self._ns(body)
        part = self.data.get(ns, {})
        ids = sorted(vid for vid, r in part.items() if matches(r["metadata"], flt))
        page, nxt = self._page(ids, body.get("paginationToken"), int(body.get("limit") or 100))
        out: dict[str, Any] = {
            "vectors": {i: self._vector_out(i, part[i]) for i in page},
            "namespace": ns,
            "usage": {"readUnits": 1},
        }
        if nxt:
            out["pagination"] = {"next": nxt}
        return out

    def delete(self, seen: Seen) -> Any:
        body = seen.body
        ns = self._ns(body)
        selectors = [k for k in ("ids", "deleteAll", "filter") if body.get(k)]
        if len(selectors) != 1:
            raise bad("exactly one of ids, deleteAll or filter is required")
        part = self.data.get(ns)
        if body.get("deleteAll"):
            if part is None:
                raise Reply(404, {"code": 5, "message": "Namespace not found", "details": []})
            del self.data[ns]
        elif body.get("ids"):
            for i in body["ids"]:
                (part or {}).pop(i, None)
        else:
            for vid in [v for v, r in (part or {}).items() if matches(r["metadata"], body["filter"])]:
                (part or {}).pop(vid)
        return {}

    def stats(self, seen: Seen) -> Any:
        namespaces = {ns: {"vectorCount": len(p)} for ns, p in self.data.items() if p}
        return {
            "namespaces": namespaces,
            "dimension": self.dimension,
            "indexFullness": 0.0,
            "totalVectorCount": sum(v["vectorCount"] for v in namespaces.values()),
            "metric": self.metric,
            "vectorType": "dense",
        }

    def list(self, seen: Seen) -> Any:
        q = seen.query
        ns = self._ns(None, q)
        prefix = q.get("prefix", [""])[0]
        ids = sorted(i for i in self.data.get(ns, {}) if i.startswith(prefix))
        limit = int(q.get("limit", [str(self.page)])[0])
        page, nxt = self._page(ids, q.get("paginationToken", [None])[0], limit)
        out: dict[str, Any] = {
            "vectors": [{"id": i} for i in page],
            "namespace": ns,
            "usage": {"readUnits": 1},
        }
        if nxt:
            out["pagination"] = {"next": nxt}
        return out
