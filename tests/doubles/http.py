"""A tiny threaded HTTP server base for service doubles: records every request, injects scripted faults."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit


def is_number(v: Any) -> bool:
    """A JSON number (bools are not numbers to the services we double)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def same_value(a: Any, b: Any) -> bool:
    """Equality as the services apply it in metadata filters: 1 == 1.0, but True != 1 and "1" != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if is_number(a) and is_number(b):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


@dataclass
class Seen:
    """One request the double received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw: bytes = b""


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    #: Only requests whose path contains this are affected ("" = all).
    path: str = ""


class Reply(Exception):
    """Raised by a route to answer with a status and a JSON body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


class HTTPDouble:
    """Subclasses implement ``route(seen) -> (status, body)`` and ``base_headers``."""

    base_headers: ClassVar[dict[str, str]] = {"Content-Type": "application/json"}

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.faults: deque[Fault] = deque()
        self.down = False
        self.lock = threading.RLock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # one buffered write per response and no Nagle: otherwise delayed ACKs add ~40 ms per request
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body: Any = None
                if raw and not double.raw_body(parts.path):
                    body = json.loads(raw)
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    raw,
                )
                status, payload, headers = double.dispatch(seen)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in {**double.base_headers, **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_PUT(self) -> None:
                self._handle()

            def do_DELETE(self) -> None:
                self._handle()

            def do_HEAD(self) -> None:
                self._handle()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def raw_body(self, path: str) -> bool:
        """True for endpoints whose body is not one JSON document (NDJSON bulk)."""
        return False

    def fail_next(
        self, status: int, times: int = 1, *, retry_after: float | None = None, path: str = ""
    ) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        for _ in range(times):
            self.faults.append(Fault(status, headers, self.error_body(status), path))

    def error_body(self, status: int) -> Any:
        return {"error": {"code": str(status), "message": f"scripted {status}"}}

    def dispatch(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.requests.append(seen)
            for fault in list(self.faults):
                if fault.path in seen.path:
                    self.faults.remove(fault)
                    return fault.status, fault.body, fault.headers
            if self.down:
                return 503, self.error_body(503), {}
            try:
                status, body = self.route(seen)
                return status, body, {}
            except Reply as r:
                return r.status, r.body, r.headers

    def route(self, seen: Seen) -> tuple[int, Any]:  # pragma: no cover - subclasses override
        raise NotImplementedError

    def seen(self, path: str, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
