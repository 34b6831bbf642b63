"""Local HTTP doubles of the hosted embedding APIs (OpenAI, Cohere v2, Voyage, Vertex AI ``:predict``).

Each double is a real threaded HTTP server on loopback that checks what a real endpoint checks (route,
bearer token, required fields, batch limit), answers with the provider's response shape (vectors from a
deterministic hashing embedder, billed tokens by a word count), records every request, and can be scripted
to fail: ``double.fail_next(429, retry_after=2)`` makes the next call answer like the provider's own 429.

    with ProviderDouble("cohere") as api:
        spec = ModelSpec(..., provider="cohere", options={"base_url": api.url, "api_key": api.key})
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vectorrouter.embeddings.hashing import HashEmbedder

__all__ = ["ERROR_BODIES", "ProviderDouble", "Recorded"]

_WORD = re.compile(r"\w+|[^\w\s]")

#: Error bodies as each provider sends them, by (provider, kind).
ERROR_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("openai", "rate"): {
        "error": {
            "message": "Rate limit reached for text-embedding-3-small on requests per min (RPM): Limit 3000. "
            "Please try again in 20ms.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    },
    ("openai", "quota"): {
        "error": {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    },
    ("openai", "bad"): {
        "error": {
            "message": "'$.input' is invalid. Please check the API reference.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    },
    ("openai", "server"): {
        "error": {"message": "The server had an error while processing your request.", "type": "server_error"}
    },
    ("cohere", "rate"): {
        "message": "You are past the per minute request limit, please wait and try again later."
    },
    ("cohere", "quota"): {
        "message": "You are using a Trial key, which is limited to 1000 API calls / month. You can continue to "
        "use the Trial key for free or upgrade to a Production key with higher rate limits."
    },
    ("cohere", "bad"): {"message": "invalid request: list of texts must not be empty"},
    ("cohere", "server"): {"message": "internal server error, this has been reported to our developers"},
    ("voyage", "rate"): {"detail": "You have exceeded the rate limit. Please try again after a short wait."},
    ("voyage", "quota"): {
        "detail": "Payment required: please add a payment method to your billing settings."
    },
    ("voyage", "bad"): {"detail": "Request to model 'voyage-3' failed. The example at index 0 is empty."},
    ("voyage", "server"): {"detail": "Internal server error"},
    ("vertex", "rate"): {
        "error": {
            "code": 429,
            "message": "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model "
            "with base model: text-embedding-005. Please submit a quota increase request.",
            "status": "RESOURCE_EXHAUSTED",
        }
    },
    ("vertex", "bad"): {
        "error": {"code": 400, "message": "Invalid JSON payload received.", "status": "INVALID_ARGUMENT"}
    },
    ("vertex", "server"): {
        "error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}
    },
}
ERROR_BODIES[("vertex", "quota")] = ERROR_BODIES[("vertex", "rate")]

_LIMITS = {"openai": 2048, "cohere": 96, "voyage": 1000, "vertex": 250}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class _Failure:
    status: int
    kind: str
    headers: dict[str, str] = field(default_factory=dict)


def count_tokens(text: str) -> int:
    """The double's billing rule (not our estimator, on purpose: reconciliation must cope with a difference)."""
    return max(1, len(_WORD.findall(text)))


class ProviderDouble:
    """A loopback server speaking one provider's embedding API."""

    def __init__(self, provider: str, *, dimensions: int = 16, key: str = "test-key") -> None:
        if provider not in _LIMITS:
            raise ValueError(f"no double for {provider!r}")
        self.provider = provider
        self.dimensions = dimensions
        self.key = key
        self.requests: list[Recorded] = []
        self.failures: deque[_Failure] = deque()
        self.embedder = HashEmbedder(dimensions)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
        kind: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` and the provider's error body for it."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        if retry_after_ms is not None:
            headers["retry-after-ms"] = str(retry_after_ms)
        chosen = kind or {429: "rate", 402: "quota", 400: "bad"}.get(status, "server")
        with self._lock:
            for _ in range(times):
                self.failures.append(_Failure(status, chosen, headers))

    @property
    def texts_embedded(self) -> int:
        return sum(len(self.inputs(r)) for r in self.requests if r.body.get("_answered"))

    def inputs(self, rec: Recorded) -> list[str]:
        body = rec.body
        if self.provider in ("openai", "voyage"):
            value = body.get("input")
            return [value] if isinstance(value, str) else list(value or [])
        if self.provider == "cohere":
            return list(body.get("texts") or [])
        return [i.get("content", "") for i in body.get("instances") or []]

    # -- server ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start the double first"
        host, port = self._server.server_address[:2]
        base = f"http://{host}:{port}"
        return f"{base}/v1" if self.provider in ("openai", "voyage") else base

    def __enter__(self) -> ProviderDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                rec = Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with double._lock:
                    double.requests.append(rec)
                status, headers, payload = double._answer(rec)
                if status == 200:
                    rec.body["_answered"] = True
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the API -------------------------------------------------------------------------------------
    def _error(
        self, status: int, kind: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        return status, headers or {}, ERROR_BODIES[(self.provider, kind)]

    def _answer(self, rec: Recorded) -> tuple[int, dict[str, str], Any]:
        expected = {
            "openai": "/v1/embeddings",
            "voyage": "/v1/embeddings",
            "cohere": "/v2/embed",
        }.get(self.provider)
        if expected is not None and rec.path != expected:
            return 404, {}, {"error": {"message": f"unknown path {rec.path}"}}
        if self.provider == "vertex" and not re.fullmatch(
            r"/v1/projects/[^/]+/locations/[^/]+/publishers/google/models/[^/:]+:predict", rec.path
        ):
            return (
                404,
                {},
                {"error": {"code": 404, "message": f"unknown path {rec.path}", "status": "NOT_FOUND"}},
            )
        if rec.headers.get("authorization") != f"Bearer {self.key}":
            return 401, {}, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
        with self._lock:
            failure = self.failures.popleft() if self.failures else None
        if failure is not None:
            return self._error(failure.status, failure.kind, failure.headers)
        texts = self.inputs(rec)
        if (
            not texts
            or any(not isinstance(t, str) or not t for t in texts)
            or len(texts) > _LIMITS[self.provider]
        ):
            return self._error(400, "bad")
        if self.provider == "cohere" and not rec.body.get("input_type"):  # v2 requires it for v3+ models
            return self._error(400, "bad")
        vectors = self.embedder.embed(texts, "document").tolist()
        tokens = [count_tokens(t) for t in texts]
        model = rec.body.get("model", "")
        if self.provider == "openai":
            return (
                200,
                {},
                {
                    "object": "list",
                    "data": [
                        {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
                    ],
                    "model": model,
                    "usage": {"prompt_tokens": sum(tokens), "total_tokens": sum(tokens)},
                },
            )
        if self.provider == "voyage":
            return (
                200,
                {},
                {
                    "object": "list",
                    "data": [
                        {"object": "embedding", "embedding": v, "index": i} for i, v in enumerate(vectors)
                    ],
                    "model": model,
                    "usage": {"total_tokens": sum(tokens)},
                },
            )
        if self.provider == "cohere":
            return (
                200,
                {},
                {
                    "id": "5807ee2e-0cda-445a-9ec8-864c60a06606",
                    "embeddings": {"float": vectors},
                    "texts": texts,
                    "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": sum(tokens)}},
                    "response_type": "embeddings_by_type",
                },
            )
        return (
            200,
            {},
            {
                "predictions": [
                    {"embeddings": {"statistics": {"truncated": False, "token_count": n}, "values": v}}
                    for v, n in zip(vectors, tokens, strict=True)
                ],
                "metadata": {"billableCharacterCount": sum(len(t) for t in texts)},
            },
        )
