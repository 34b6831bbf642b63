"""What the HTTP providers share: one httpx client per embedder, JSON posting, Retry-After parsing, and the
status-code classification each provider's ``map_*_error`` builds on.

Plain HTTP rather than four vendor SDKs: each SDK retries on its own (which would fight our quota pacing and
double-count 429s), pulls in its own dependency tree, and hides the billed-token figures we reconcile against.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from vectorrouter.embeddings.base import Embedded, ModelSpec, Task
from vectorrouter.errors import (
    BackendUnavailable,
    ConfigurationError,
    InvalidRecord,
    QuotaExhausted,
    RateLimited,
    Timeout,
    VectorRouterError,
)

__all__ = ["HttpEmbedder", "classify_http_failure", "parse_retry_after"]

Failure = Any  # httpx.HTTPError | httpx.Response (httpx is imported lazily)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI) or ``Retry-After`` (seconds or an HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _body(response: Any) -> tuple[dict[str, Any], str]:
    """The error body as JSON (empty dict if it is not JSON) and a one-line message from it."""
    try:
        data = response.json()
    except (json.JSONDecodeError, ValueError):
        return {}, (response.text or "")[:300]
    if not isinstance(data, dict):
        return {}, str(data)[:300]
    err = data.get("error")
    if isinstance(err, dict):
        message = err.get("message") or json.dumps(err)
    else:
        message = data.get("message") or data.get("detail") or err or json.dumps(data)
    return data, str(message)[:300]


def classify_http_failure(
    failure: Failure,
    *,
    backend: str,
    version: str = "",
    quota_spent: Callable[[int, dict[str, Any], str], bool] = lambda status, body, msg: False,
) -> VectorRouterError:
    """Map a transport error or an error response into the error tree (providers add their quota rule)."""
    import httpx

    if isinstance(failure, httpx.TimeoutException):
        return Timeout(f"no answer in time ({type(failure).__name__})", backend=backend)
    if isinstance(failure, httpx.HTTPError):
        return BackendUnavailable(f"request failed: {failure}", backend=backend)
    status = int(failure.status_code)
    body, message = _body(failure)
    where = f"models.{version}" if version else "models.*"
    if status == 429 or status == 402:
        wait = parse_retry_after(failure.headers)
        if status == 402 or quota_spent(status, body, message):
            return QuotaExhausted(f"quota exhausted ({status}): {message}", backend=backend, retry_after=wait)
        return RateLimited(f"rate limited (429): {message}", backend=backend, retry_after=wait)
    if status in (401, 403):
        return ConfigurationError(
            f"{backend} refused the credentials ({status}): {message}",
            field=f"{where}.options.api_key",
            fix="set a valid key in the options or the provider's environment variable",
        )
    if status == 404:
        return ConfigurationError(
            f"{backend} does not know this model or endpoint (404): {message}",
            field=f"{where}.model",
            fix="check the model name and options.base_url",
        )
    if status in (408, 504):
        return Timeout(f"timed out ({status}): {message}", backend=backend)
    if 400 <= status < 500:
        return InvalidRecord(f"{backend} rejected the texts ({status}): {message}")
    return BackendUnavailable(f"server error ({status}): {message}", backend=backend)


class HttpEmbedder:
    """Base for JSON-over-HTTP providers. Subclasses give the request, the response parser and the mapper."""

    provider = ""
    default_base_url = ""
    api_key_env: Sequence[str] = ()
    #: Most texts per request when the model declaration does not say.
    max_batch = 96
    #: The provider's input type per task, when it has one.
    input_types: ClassVar[Mapping[str, str | None]] = {"query": None, "document": None}

    def __init__(self, spec: ModelSpec, *, client: Any = None) -> None:
        import httpx

        self.spec = spec
        opts = spec.options
        self.base_url = str(opts.get("base_url") or self.default_base_url).rstrip("/")
        self.timeout = float(opts.get("timeout", 30.0))
        if spec.max_batch:
            self.max_batch = spec.max_batch
        self.client = client or httpx.Client(timeout=self.timeout)

    def api_key(self) -> str:
        """The key from ``options.api_key`` or the provider's environment variables."""
        opts = self.spec.options
        if opts.get("api_key"):
            return str(opts["api_key"])
        names = [str(opts["api_key_env"])] if opts.get("api_key_env") else list(self.api_key_env)
        for name in names:
            if os.environ.get(name):
                return os.environ[name]
        raise ConfigurationError(
            f"no API key for {self.provider} model {self.spec.version!r}",
            field=f"models.{self.spec.version}.options.api_key",
            fix=f"export {' or '.join(names)} or set options.api_key_env to the variable holding it",
        )

    def input_type(self, task: Task) -> str | None:
        return self.spec.task(task).input_type or self.input_types.get(task)

    # -- to implement -----------------------------------------------------------------------------
    def url(self) -> str:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key()}"}

    def body(self, texts: Sequence[str], task: Task) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, data: Any, n: int) -> Embedded:
        raise NotImplementedError

    def map_error(self, failure: Failure) -> VectorRouterError:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------------
    def embed_with_usage(self, texts: Sequence[str], task: Task) -> Embedded:
        import httpx

        try:
            response = self.client.post(self.url(), json=self.body(list(texts), task), headers=self.headers())
        except httpx.HTTPError as exc:
            raise self.map_error(exc) from exc
        if response.status_code >= 400:
            raise self.map_error(response)
        try:
            return self.parse(response.json(), len(texts))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BackendUnavailable(
                f"unexpected response shape ({type(exc).__name__}: {exc})", backend=self.provider
            ) from exc

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        return self.embed_with_usage(texts, task).vectors

    def close(self) -> None:
        self.client.close()


def rows_by_index(items: Sequence[Mapping[str, Any]], n: int, field: str = "embedding") -> np.ndarray:
    """OpenAI-style ``data`` rows (``index`` + vector) in input order; a missing row is an error."""
    ordered = sorted(items, key=lambda d: int(d["index"]))
    if len(ordered) != n or [int(d["index"]) for d in ordered] != list(range(n)):
        raise ValueError(f"expected {n} embeddings indexed 0..{n - 1}, got {len(ordered)}")
    return np.asarray([d[field] for d in ordered], dtype=np.float32)
