"""Embedding models as configuration: a registry of versions, each with provider, width, tasks, price, lifecycle.

A *model version* is the key that appears as the last part of a namespace (``acme:docs:minilm-l6``).
Nothing about a model is hard-coded in the router: its width comes from the registry and is checked against
the first real embedding; its batch limit, price and quota come from the same declaration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from vectorrouter.backends.base import IndexSpec, Metric
from vectorrouter.errors import ConfigurationError, DimensionMismatch

__all__ = [
    "Embedded",
    "Embedder",
    "Lifecycle",
    "ModelSpec",
    "Task",
    "TaskSpec",
    "UsageReporting",
    "provider_names",
    "register_provider",
]

Task = Literal["query", "document"]
TASKS: tuple[Task, ...] = ("query", "document")
Lifecycle = Literal["testing", "current", "retiring"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into a float32 matrix of shape ``(len(texts), dimensions)``."""

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class Embedded:
    """A provider's answer with the tokens it billed (``None`` when the provider does not say)."""

    vectors: np.ndarray
    tokens: int | None = None


@runtime_checkable
class UsageReporting(Protocol):
    """An embedder that also reports billed tokens: remote providers implement it so costs and the
    tokens/min limiter use the provider's own count instead of our estimate."""

    def embed_with_usage(self, texts: Sequence[str], task: Task) -> Embedded: ...


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """How one task type is sent: a text prefix (``"query: "`` for E5, ``"search_query: "`` for Nomic) and/or
    the provider's input type (Cohere ``search_query``, Voyage ``query``, Vertex ``RETRIEVAL_QUERY``).
    ``input_type=None`` means the provider's own default for the task."""

    prefix: str = ""
    input_type: str | None = None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model version as declared in configuration.

    >>> spec = ModelSpec(version="test-64", provider="hash", dimensions=64, price_per_million=0.02)
    >>> spec.index_spec().name, spec.cost(2_000_000)
    ('vr-64d-cosine', 0.04)
    """

    version: str
    provider: str
    dimensions: int
    model: str = ""
    metric: Metric = "cosine"
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Per-task prefixes / provider input types (keys ``query`` and ``document``).
    tasks: Mapping[str, TaskSpec] = field(default_factory=dict)
    #: Most texts the provider accepts in one request (None: the provider's documented default).
    max_batch: int | None = None
    #: Price in the account's currency per million input tokens (0 for local models).
    price_per_million: float = 0.0
    lifecycle: Lifecycle = "current"
    #: The date a ``retiring`` model stops being served; using it warns until then and after.
    retire_on: dt.date | None = None
    #: The provider quota this version is paced to (None: unlimited).
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None

    def __post_init__(self) -> None:
        where = f"models.{self.version}"
        if (
            isinstance(self.dimensions, bool)
            or not isinstance(self.dimensions, int | np.integer)
            or self.dimensions <= 0
        ):
            raise ConfigurationError(
                f"dimensions must be a positive integer, got {self.dimensions!r}",
                field=f"{where}.dimensions",
                fix="declare the width of the model's vectors, e.g. dimensions = 384",
            )
        if self.lifecycle not in ("testing", "current", "retiring"):
            raise ConfigurationError(
                f"unknown lifecycle {self.lifecycle!r}",
                field=f"{where}.lifecycle",
                fix="use 'testing', 'current' or 'retiring'",
            )
        if self.lifecycle == "retiring" and self.retire_on is None:
            raise ConfigurationError(
                "a retiring model needs the date it stops being served",
                field=f"{where}.retire_on",
                fix='add retire_on = "YYYY-MM-DD"',
            )
        if self.max_batch is not None and self.max_batch < 1:
            raise ConfigurationError(
                f"max_batch must be at least 1, got {self.max_batch}", field=f"{where}.max_batch"
            )
        if self.price_per_million < 0:
            raise ConfigurationError("price cannot be negative", field=f"{where}.price_per_million")
        for name, value in (
            ("requests_per_minute", self.requests_per_minute),
            ("tokens_per_minute", self.tokens_per_minute),
        ):
            if value is not None and value <= 0:
                raise ConfigurationError(
                    f"must be positive, got {value}", field=f"{where}.{name}", fix="remove it for no limit"
                )
        unknown = set(self.tasks) - set(TASKS)
        if unknown:
            raise ConfigurationError(
                f"unknown task types {sorted(unknown)}",
                field=f"{where}.tasks",
                fix="declare only [tasks.query] and [tasks.document]",
            )

    def index_spec(self) -> IndexSpec:
        """The physical index this version's vectors live in: chosen by width and metric alone."""
        return IndexSpec.for_dimension(self.dimensions, self.metric)

    def task(self, task: Task) -> TaskSpec:
        return self.tasks.get(task) or TaskSpec()

    def cost(self, tokens: int) -> float:
        """Money for ``tokens`` input tokens at this version's price."""
        return round(tokens * self.price_per_million / 1_000_000, 10)

    def fingerprint(self, task: Task) -> str:
        """Everything that changes the vector a text gets for ``task``: the cache key is built on it, so a new
        version, model, width, prefix or input type can never be answered with a stale vector."""
        t = self.task(task)
        return "|".join(
            (
                self.version,
                self.provider,
                self.model,
                str(self.dimensions),
                task,
                t.prefix,
                t.input_type or "",
            )
        )

    def check(self, vectors: np.ndarray, n: int) -> np.ndarray:
        """Verify a provider's output against the declared width; return it as float32."""
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != n:
            raise ConfigurationError(
                f"model {self.version!r} returned an array of shape {arr.shape} for {n} texts",
                field=f"models.{self.version}.provider",
                fix="check the provider returns one vector per input text",
            )
        if arr.shape[1] != self.dimensions:
            raise DimensionMismatch(
                self.dimensions,
                int(arr.shape[1]),
                where=(
                    f"model version {self.version!r}: it is declared with dimensions = {self.dimensions} "
                    f"but its provider returned {arr.shape[1]}-d vectors (fix models.{self.version}.dimensions)"
                ),
            )
        finite = np.isfinite(arr).all(axis=1)
        if not finite.all():
            row = int(np.argmin(finite))
            raise ConfigurationError(
                f"model {self.version!r} returned a vector holding NaN or infinity for text {row} of {n}; "
                "nothing was cached or stored",
                field=f"models.{self.version}.provider",
                fix="check the provider (a half-precision model can overflow on long inputs)",
            )
        return arr


ProviderFactory = Callable[[ModelSpec], Embedder]
_PROVIDERS: dict[str, ProviderFactory] = {}


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Make ``provider = "<name>"`` usable in model declarations."""
    _PROVIDERS[name] = factory


def provider_names() -> list[str]:
    return sorted(_PROVIDERS)


def create_embedder(spec: ModelSpec) -> Embedder:
    try:
        factory = _PROVIDERS[spec.provider]
    except KeyError:
        raise ConfigurationError(
            f"unknown embedding provider {spec.provider!r}",
            field=f"models.{spec.version}.provider",
            fix=f"use one of: {', '.join(provider_names())}",
        ) from None
    return factory(spec)
