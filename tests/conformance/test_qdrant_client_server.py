"""The server path of the qdrant backend, through the real qdrant-client over HTTP, against a local double.

A Qdrant server cannot run here, so this double answers the REST endpoints the backend uses with bodies
shaped like Qdrant 1.x's (``{"result": ..., "status": "ok", "time": ...}``, errors as
``{"status": {"error": ...}}``), records every request, and can be scripted to fail. It pins the request
bodies (collection schema, tenant index, the namespace condition ANDed into every filter) and the error
mapping end to end. It is a double, not Qdrant: semantics are covered by the local-mode conformance runs
and by ``-m live`` against a real server.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from qdrant_client import QdrantClient

from vectorrouter.backends import IndexSpec, make_vector_factory
from vectorrouter.backends.qdrant import QdrantBackend, QdrantOptions, map_qdrant_client_error
from vectorrouter.errors import (
    BackendUnavailable,
    CallerError,
    ConfigurationError,
    DimensionMismatch,
    RateLimited,
    Timeout,
    is_caller_error,
)
from vectorrouter.filters import Eq
from vectorrouter.types import Record

SPEC = IndexSpec.for_dimension(4)
NS = "acme:docs:v1"
Reply = tuple[int, Any, dict[str, str]]


def ok(result: Any) -> Reply:
    return 200, {"result": result, "status": "ok", "time": 0.0002}, {}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return status, {"status": {"error": message}, "time": 0.0001}, headers or {}


def collection_info(size: int = 4, distance: str = "Cosine") -> dict[str, Any]:
    return {
        "status": "green",
        "optimizer_status": "ok",
        "indexed_vectors_count": 0,
        "points_count": 0,
        "segments_count": 2,
        "config": {
            "params": {
                "vectors": {"size": size, "distance": distance},
                "shard_number": 1,
                "replication_factor": 1,
                "write_consistency_factor": 1,
                "on_disk_payload": True,
            },
            "hnsw_config": {
                "m": 16,
                "ef_construct": 128,
                "full_scan_threshold": 10000,
                "max_indexing_threads": 0,
            },
            "optimizer_config": {
                "deleted_threshold": 0.2,
                "vacuum_min_vector_number": 1000,
                "default_segment_number": 0,
                "indexing_threshold": 10000,
                "flush_interval_sec": 5,
            },
            "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
        },
        "payload_schema": {},
    }


class QdrantDouble:
    """A scripted stand-in for Qdrant's REST API on a free loopback port."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.exists = False
        self.info = collection_info()
        self.routes: list[tuple[str, re.Pattern[str], Callable[[Any], Reply]]] = []
        self.route("GET", r"/collections/[^/]+/exists", lambda _: ok({"exists": self.exists}))
        self.route("PUT", r"/collections/[^/]+", self._create)
        self.route(
            "PUT", r"/collections/[^/]+/index", lambda _: ok({"operation_id": 1, "status": "completed"})
        )
        self.route("GET", r"/collections/[^/]+", lambda _: ok(self.info))
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = self.path.split("?", 1)[0]
                double.requests.append((self.command, self.path, body))
                for method, pattern, handler in reversed(double.routes):
                    if method == self.command and pattern.fullmatch(path):
                        status, payload, headers = handler(body)
                        break
                else:
                    status, payload, headers = error(404, f"Not found: {self.command} {path}")
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (the timeout test)

            do_GET = do_PUT = do_POST = do_DELETE = _serve  # noqa: N815 - http.server dispatches by these names

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, method: str, pattern: str, handler: Callable[[Any], Reply]) -> None:
        """Later routes win, so a test can script one endpoint over the defaults."""
        self.routes.append((method, re.compile(pattern), handler))

    def _create(self, body: Any) -> Reply:
        self.exists = True
        return ok(True)

    def bodies(self, method: str, pattern: str) -> list[Any]:
        rx = re.compile(pattern)
        return [b for m, p, b in self.requests if m == method and rx.fullmatch(p.split("?", 1)[0])]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def double() -> Iterator[QdrantDouble]:
    d = QdrantDouble()
    yield d
    d.close()


def open_backend(double: QdrantDouble, **options: Any) -> QdrantBackend:
    # the client's version probe runs in a thread that could outlive the double: off in these tests
    b = make_vector_factory("qdrant", None, {"url": double.url, "check_compatibility": False, **options})(
        SPEC
    )
    assert isinstance(b, QdrantBackend)
    return b


def test_first_open_creates_the_collection_and_a_tenant_index_on_the_namespace_key(
    double: QdrantDouble,
) -> None:
    b = open_backend(double, collection_prefix="prod-", m=32)
    b.close()
    (create,) = double.bodies("PUT", r"/collections/prod-vr-4d-cosine")
    assert create["vectors"] == {"size": 4, "distance": "Cosine"}
    assert create["hnsw_config"] == {"m": 32, "ef_construct": 128}
    (index,) = double.bodies("PUT", r"/collections/prod-vr-4d-cosine/index")
    assert index == {"field_name": "_vr_ns", "field_schema": {"type": "keyword", "is_tenant": True}}


def test_an_existing_collection_is_reused_not_recreated(double: QdrantDouble) -> None:
    double.exists = True
    open_backend(double).close()
    assert double.bodies("PUT", r"/collections/vr-4d-cosine") == []


def test_a_collection_created_concurrently_elsewhere_is_fine(double: QdrantDouble) -> None:
    double.route(
        "PUT",
        r"/collections/[^/]+",
        lambda _: error(409, "Wrong input: Collection `vr-4d-cosine` already exists!"),
    )
    open_backend(double).close()
    assert len(double.bodies("PUT", r"/collections/vr-4d-cosine/index")) == 1


def test_an_existing_collection_of_another_width_is_a_configuration_error(double: QdrantDouble) -> None:
    double.exists = True
    double.info = collection_info(size=8)
    with pytest.raises(ConfigurationError, match="collection_prefix"):
        open_backend(double)


def test_search_sends_the_namespace_condition_anded_with_the_filter(double: QdrantDouble) -> None:
    hit = {
        "id": "5f0c2b1e-0000-4000-8000-000000000000",
        "version": 3,
        "score": 0.91,
        "payload": {"_vr_ns": NS, "_vr_id": "doc-1", "_vr_text": "hello", "color": "red"},
    }
    double.route("POST", r"/collections/[^/]+/points/query", lambda _: ok({"points": [hit]}))
    b = open_backend(double, hnsw_ef=96)
    try:
        hits = b.search(NS, [0.1, 0.2, 0.3, 0.4], k=3, filter=Eq("color", "red"))
    finally:
        b.close()
    assert [(h.id, h.score, h.text, dict(h.metadata)) for h in hits] == [
        ("doc-1", 0.91, "hello", {"color": "red"})
    ]
    (body,) = double.bodies("POST", r"/collections/vr-4d-cosine/points/query")
    assert body["query"]["nearest"] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert body["filter"] == {
        "must": [{"key": "_vr_ns", "match": {"value": NS}}, {"key": '"color"', "match": {"value": "red"}}]
    }
    assert body["params"] == {"hnsw_ef": 96}
    assert body["limit"] == 3
    assert body["with_payload"] is True


def test_upsert_sends_deterministic_point_ids_and_the_payload_layout(double: QdrantDouble) -> None:
    double.route(
        "PUT", r"/collections/[^/]+/points", lambda _: ok({"operation_id": 7, "status": "completed"})
    )
    b = open_backend(double)
    try:
        b.upsert(NS, [Record(id="doc-1", text="hello", metadata={"n": 1}, vector=[1.0, 0, 0, 0])])
        b.upsert(NS, [Record(id="doc-1", text="hello", metadata={"n": 1}, vector=[1.0, 0, 0, 0])])
    finally:
        b.close()
    first, second = double.bodies("PUT", r"/collections/vr-4d-cosine/points")
    assert first == second
    (point,) = first["points"]
    assert point["payload"] == {"n": 1, "_vr_ns": NS, "_vr_id": "doc-1", "_vr_text": "hello"}
    assert [m for m, p, _ in double.requests if p.startswith("/collections/vr-4d-cosine/points?")] == [
        "PUT",
        "PUT",
    ]
    assert all("wait=true" in p for m, p, _ in double.requests if m == "PUT" and "/points" in p)


@pytest.mark.parametrize(
    ("reply", "expected", "check"),
    [
        (error(429, "Too many requests", {"Retry-After": "7"}), RateLimited, lambda e: e.retry_after == 7.0),
        (error(429, "Too many requests"), RateLimited, lambda e: e.retry_after is None),
        (error(503, "Service Unavailable: shard is being recovered"), BackendUnavailable, None),
        (error(500, "Service internal error: boom"), BackendUnavailable, None),
        (error(504, "Gateway Timeout"), Timeout, None),
        (
            error(400, "Wrong input: Vector dimension error: expected dim: 4, got 3"),
            DimensionMismatch,
            lambda e: (e.expected, e.got) == (4, 3),
        ),
        (error(400, 'Bad request: Index required but not found for "color"'), CallerError, is_caller_error),
        (error(404, "Not found: Collection `vr-4d-cosine` doesn't exist!"), CallerError, is_caller_error),
        (error(401, "Must provide an API key"), ConfigurationError, is_caller_error),
        (error(403, "Forbidden"), ConfigurationError, None),
    ],
)
def test_http_failures_map_into_our_error_tree(
    double: QdrantDouble, reply: Reply, expected: type[Exception], check: Callable[[Any], bool] | None
) -> None:
    double.route("POST", r"/collections/[^/]+/points/query", lambda _: reply)
    b = open_backend(double)
    try:
        with pytest.raises(expected) as info:
            b.search(NS, [0.1, 0.2, 0.3, 0.4], k=3)
    finally:
        b.close()
    assert type(info.value) is expected
    if check is not None:
        assert check(info.value)


def test_a_server_that_does_not_answer_in_time_is_a_timeout(double: QdrantDouble) -> None:
    def slow(_: Any) -> Reply:
        time.sleep(2.5)
        return ok({"points": []})

    double.route("POST", r"/collections/[^/]+/points/query", slow)
    b = open_backend(double, timeout=1)
    try:
        with pytest.raises(Timeout):
            b.search(NS, [0.1, 0.2, 0.3, 0.4], k=3)
    finally:
        b.close()


def test_an_unreachable_server_is_backend_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        client = QdrantClient(url=f"http://127.0.0.1:{port}", check_compatibility=False)
        with pytest.raises(BackendUnavailable, match="cannot reach"):
            QdrantBackend(SPEC, client, local=False)


class _FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return f"{self._code.name} from the double"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.UNAVAILABLE, BackendUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, Timeout),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, RateLimited),
        (grpc.StatusCode.INVALID_ARGUMENT, CallerError),
        (grpc.StatusCode.UNAUTHENTICATED, ConfigurationError),
        (grpc.StatusCode.INTERNAL, BackendUnavailable),
    ],
)
def test_grpc_status_codes_map_into_our_error_tree(code: grpc.StatusCode, expected: type[Exception]) -> None:
    assert type(map_qdrant_client_error(_FakeRpcError(code))) is expected


def test_local_mode_value_errors_are_caller_errors() -> None:
    assert type(map_qdrant_client_error(ValueError("Collection x not found"))) is CallerError


@pytest.mark.parametrize(
    ("options", "field"),
    [({"urll": "http://x"}, "vector_store.options.urll"), ({"location": "/tmp/x"}, "vector_store.options.location"),
     ({"hnsw_ef": -1}, "vector_store.options.hnsw_ef")],
)  # fmt: skip
def test_bad_options_name_the_option(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        QdrantOptions.parse(options)
    assert info.value.field == field
