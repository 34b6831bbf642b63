"""How qdrant-client's failures (REST, gRPC and local mode) become vectorrouter errors: one function,
:func:`map_qdrant_client_error`, used by every call of :mod:`vectorrouter.backends.qdrant`."""

from __future__ import annotations

import json
import re
from typing import Any

import grpc  # type: ignore[import-untyped]
import httpx
from pydantic import ValidationError
from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from vectorrouter.errors import (
    BackendUnavailable,
    CallerError,
    ConfigurationError,
    DimensionMismatch,
    RateLimited,
    Timeout,
    VectorRouterError,
)

__all__ = ["NAME", "map_qdrant_client_error"]

NAME = "qdrant"
_DIM_ERROR = re.compile(r"expected dim: (\d+), got (\d+)")


def _detail(content: bytes) -> str:
    """The server's own error text (``{"status": {"error": ...}}``), else the raw body."""
    try:
        body = json.loads(content)
        return str(body["status"]["error"])
    except (ValueError, KeyError, TypeError):
        return content.decode("utf-8", "replace")[:300]


def _retry_after(headers: Any) -> float | None:
    try:
        return float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


def _caller_error(msg: str) -> VectorRouterError:
    if m := _DIM_ERROR.search(msg):
        return DimensionMismatch(int(m.group(1)), int(m.group(2)), where=f"collection ({NAME})")
    return CallerError(f"{NAME} rejected the request: {msg}")


def _auth_error(msg: str) -> ConfigurationError:
    return ConfigurationError(
        f"{NAME} refused the credentials: {msg}",
        field="vector_store.options.api_key",
        fix="set the API key of this cluster (or remove it for an unsecured server)",
    )


def _from_status(status: int | None, msg: str, headers: Any) -> VectorRouterError:
    if status == 429:
        return RateLimited(msg, backend=NAME, retry_after=_retry_after(headers))
    if status in (408, 504):
        return Timeout(msg, backend=NAME)
    if status in (401, 403):
        return _auth_error(msg)
    if status is None or status >= 500:
        return BackendUnavailable(f"HTTP {status}: {msg}", backend=NAME)
    return _caller_error(f"HTTP {status}: {msg}")


def _from_grpc(exc: grpc.RpcError) -> VectorRouterError:
    code, msg = exc.code(), exc.details() or str(exc)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Timeout(msg, backend=NAME)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return RateLimited(msg, backend=NAME)
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return _auth_error(msg)
    caller = (
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
    )
    if code in caller:
        return _caller_error(msg)
    return BackendUnavailable(f"gRPC {code.name}: {msg}", backend=NAME)


def map_qdrant_client_error(exc: BaseException) -> VectorRouterError:
    """The one place qdrant-client's exceptions (REST, gRPC and local mode) become ours.

    429 → :class:`RateLimited` (with ``Retry-After``), 408/504 and client timeouts → :class:`Timeout`,
    401/403 → :class:`ConfigurationError` (the API key), other 4xx → caller errors (a dimension message →
    :class:`DimensionMismatch`), 5xx and connection failures → :class:`BackendUnavailable`.
    """
    if isinstance(exc, VectorRouterError):
        return exc
    if isinstance(exc, ResourceExhaustedResponse):
        return RateLimited(str(exc), backend=NAME, retry_after=float(exc.retry_after_s))
    if isinstance(exc, UnexpectedResponse):
        return _from_status(exc.status_code, _detail(exc.content), exc.headers)
    if isinstance(exc, ResponseHandlingException):
        source = exc.source
        if isinstance(source, httpx.TimeoutException):
            return Timeout(f"no answer in time: {source!r}", backend=NAME)
        if isinstance(source, ValidationError):
            return BackendUnavailable(f"unreadable response: {source}", backend=NAME)
        return BackendUnavailable(f"cannot reach the server: {source!r}", backend=NAME)
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"no answer in time: {exc!r}", backend=NAME)
    if isinstance(exc, httpx.TransportError | ConnectionError):
        return BackendUnavailable(f"cannot reach the server: {exc!r}", backend=NAME)
    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        return _from_grpc(exc)
    if isinstance(
        exc, ValueError | TypeError
    ):  # local mode and model validation (pydantic's is a ValueError)
        return _caller_error(str(exc))
    return BackendUnavailable(f"{type(exc).__name__}: {exc}", backend=NAME)
