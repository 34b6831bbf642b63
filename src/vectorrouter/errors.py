"""The one error tree of vectorrouter.

Every adapter maps its client library's native exceptions into this tree at exactly one place (a
``map_*_error`` function beside the adapter), so policies, the degradation ladder and callers only ever
catch these types::

    VectorRouterError
    ├── ConfigurationError          the configuration is wrong; names the field and the fix
    ├── CallerError                 the request is wrong: never rescued by falling back to another store
    │   ├── InvalidNamespace        a namespace string or part does not validate
    │   ├── NamespaceNotFound       searching/reading a namespace nobody wrote
    │   ├── InvalidRecord           a record (id, text, metadata) does not validate
    │   ├── InvalidFilter           a filter is malformed (bad operator, bad value type)
    │   │   └── UnsupportedFilter   a filter the chosen backend cannot express (raised, never dropped)
    │   ├── DimensionMismatch       a vector's width differs from the index's; names both numbers
    │   └── ResidencyViolation      no store allowed for the data's region is left; never served elsewhere
    ├── IntegrityError              stored compliance data fails verification (vault seal, audit chain)
    └── BackendError                the store (or provider) failed: the ladder may move to the next step
        ├── BackendUnavailable      connection refused, server down, 5xx
        ├── Timeout                 the call did not finish in time
        ├── RateLimited             429 / quota; carries ``retry_after`` seconds when the server said so
        │   └── QuotaExhausted      the quota itself is spent (billing, daily cap): retry later or dead-letter
        └── CircuitOpen             a breaker refuses calls to a step until its cooldown ends

``is_caller_error(exc)`` is the single place that decides which failures stop the ladder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vectorrouter.types import Attempt

__all__ = [
    "BackendError",
    "BackendUnavailable",
    "CallerError",
    "CircuitOpen",
    "ConfigurationError",
    "DimensionMismatch",
    "IntegrityError",
    "InvalidFilter",
    "InvalidNamespace",
    "InvalidRecord",
    "NamespaceNotFound",
    "QuotaExhausted",
    "RateLimited",
    "ResidencyViolation",
    "Timeout",
    "UnsupportedFilter",
    "VectorRouterError",
    "is_caller_error",
]


class VectorRouterError(Exception):
    """Root of every error vectorrouter raises on purpose."""


class ConfigurationError(VectorRouterError):
    """The configuration is invalid. The message names the field and how to fix it."""

    def __init__(self, message: str, *, field: str | None = None, fix: str | None = None) -> None:
        self.field = field
        self.fix = fix
        parts = [message]
        if field:
            parts.insert(0, f"{field}:")
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))


class CallerError(VectorRouterError):
    """The request itself is wrong. Retrying it elsewhere cannot help, so the ladder never does."""


class InvalidNamespace(CallerError):
    """A namespace (``tenant:feature:model_version``) or one of its parts does not validate."""


class NamespaceNotFound(CallerError):
    """The namespace was never written (or was deleted)."""

    def __init__(self, namespace: str, known: list[str] | None = None) -> None:
        self.namespace = namespace
        hint = ""
        if known:
            shown = ", ".join(sorted(known)[:8])
            hint = f" Known namespaces: {shown}{'…' if len(known) > 8 else ''}."
        super().__init__(
            f"namespace {namespace!r} does not exist.{hint} Ingest into it first, or check the spelling."
        )


class InvalidRecord(CallerError):
    """A record's id, text, vector or metadata does not validate."""


class InvalidFilter(CallerError):
    """A filter is malformed: an unknown operator or a value of the wrong type."""


class UnsupportedFilter(InvalidFilter):
    """The backend cannot express this filter. Raised rather than dropping the condition."""

    def __init__(self, backend: str, what: str) -> None:
        self.backend = backend
        super().__init__(
            f"{backend} cannot express {what}; refusing to drop the condition. "
            "Rewrite the filter with supported operators or search another store."
        )


class DimensionMismatch(CallerError):
    """A vector's width does not match the index or model it is meant for."""

    def __init__(self, expected: int, got: int, *, where: str = "") -> None:
        self.expected = expected
        self.got = got
        place = f" for {where}" if where else ""
        super().__init__(
            f"vector has {got} dimensions but {expected} are expected{place}. "
            f"Embed with the model version whose dimensions are {expected}, "
            "or write to the namespace of the model that produced this vector."
        )


class ResidencyViolation(CallerError):
    """Data tagged with a region would be written to, or read from, a store outside that region.

    Raised instead of falling back to a non-compliant store: leaving the region is never a degradation.
    ``attempts`` lists what the permitted steps did when the refusal came from a search or read.
    """

    def __init__(self, message: str, *, region: str | None = None, attempts: Sequence[Attempt] = ()) -> None:
        self.region = region
        self.attempts = tuple(attempts)
        super().__init__(message)


class IntegrityError(VectorRouterError):
    """Stored compliance data failed verification: a vault row that does not decrypt, a broken audit chain."""


class BackendError(VectorRouterError):
    """A store or provider failed. Policies may retry it and the ladder may fall past it."""

    def __init__(self, message: str, *, backend: str = "") -> None:
        self.backend = backend
        super().__init__(f"{backend}: {message}" if backend else message)


class BackendUnavailable(BackendError):
    """The backend cannot be reached or answered with a server error."""


class Timeout(BackendError):
    """The call did not finish within its deadline."""


class RateLimited(BackendError):
    """The backend refused the call for quota reasons (HTTP 429 and friends)."""

    def __init__(self, message: str, *, backend: str = "", retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, backend=backend)


class QuotaExhausted(RateLimited):
    """The provider's quota is used up (billing limit, daily or monthly cap), not just paced.

    Retrying within seconds cannot help, so retry policies give up at once; the ingest path retries the
    work later (``retry_after`` when known) or dead-letters it. Never signalled by returning ``None``.
    """


class CircuitOpen(BackendError):
    """A circuit breaker is open: the step is skipped without being called."""


def is_caller_error(exc: BaseException) -> bool:
    """True when ``exc`` is the caller's fault: such errors are raised at once, never fallen back from."""
    return isinstance(exc, CallerError | ConfigurationError)
