"""The two small protocols every store implements, and the physical-index description they share.

A *vector backend* is one physical index of one fixed dimension, partitioned by namespace: several
namespaces whose models have the same width share it (the multitenancy layout Qdrant and Pinecone
recommend). A *keyword backend* holds the same records' text for BM25 search, also partitioned by
namespace. Every method takes the namespace explicitly, so no call can forget its tenant.

Backends translate the :mod:`vectorrouter.filters` tree themselves in a pure function and raise
:class:`~vectorrouter.errors.UnsupportedFilter` for anything they cannot express. They map their client
library's exceptions into :mod:`vectorrouter.errors` in one ``map_*_error`` function.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from vectorrouter.errors import ConfigurationError, DimensionMismatch, InvalidRecord
from vectorrouter.filters import Filter
from vectorrouter.types import Hit, Record

__all__ = [
    "IndexSpec",
    "KeywordBackend",
    "Metric",
    "StoreBackend",
    "VectorBackend",
    "check_vectors",
]

Metric = Literal["cosine", "dot"]


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A physical vector index: its name, width and similarity metric.

    >>> IndexSpec.for_dimension(384).name
    'vr-384d-cosine'
    """

    name: str
    dimension: int
    metric: Metric = "cosine"

    def __post_init__(self) -> None:
        if not isinstance(self.dimension, int) or isinstance(self.dimension, bool) or self.dimension <= 0:
            raise ConfigurationError(
                f"index dimension must be a positive integer, got {self.dimension!r}",
                field="dimensions",
                fix="declare the model's output width, e.g. dimensions = 384",
            )
        if self.metric not in ("cosine", "dot"):
            raise ConfigurationError(
                f"unknown metric {self.metric!r}", field="metric", fix="use 'cosine' or 'dot'"
            )

    @classmethod
    def for_dimension(cls, dimension: int, metric: Metric = "cosine") -> IndexSpec:
        """The shared index every model of this width and metric is routed to."""
        return cls(name=f"vr-{dimension}d-{metric}", dimension=dimension, metric=metric)


@runtime_checkable
class StoreBackend(Protocol):
    """Verbs shared by vector and keyword backends."""

    #: Short store name used in results, logs and errors (``"qdrant-edge"``, ``"tantivy"``…).
    name: str

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        """Insert or replace records by id inside ``namespace`` (idempotent)."""

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        """Records with these ids, in the order asked; missing ids are left out."""

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        """Delete by id; returns how many existed."""

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        """Delete what matches (everything in the namespace when ``filter`` is None); returns how many."""

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        """Exact number of records in ``namespace`` matching ``filter``."""

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        """Every record of ``namespace`` (matching ``filter``) in batches, for backfills and audits."""

    def close(self) -> None:
        """Flush and release resources. Safe to call twice."""


@runtime_checkable
class VectorBackend(StoreBackend, Protocol):
    """One physical index of fixed dimension, partitioned by namespace."""

    spec: IndexSpec

    def search(
        self, namespace: str, vector: Sequence[float], k: int, filter: Filter | None = None
    ) -> list[Hit]:
        """The ``k`` nearest records by the index metric, best first (higher score is better)."""


@runtime_checkable
class KeywordBackend(StoreBackend, Protocol):
    """A BM25 (or similar) text index partitioned by namespace."""

    def search(self, namespace: str, query: str, k: int, filter: Filter | None = None) -> list[Hit]:
        """The ``k`` best-matching records for ``query``, best first."""


def check_vectors(spec: IndexSpec, records: Sequence[Record], *, backend: str) -> None:
    """Raise before anything is written if a record lacks a vector or has the wrong width."""
    for r in records:
        if r.vector is None:
            raise InvalidRecord(f"record {r.id!r} has no vector; {backend} stores embedded records only")
        if len(r.vector) != spec.dimension:
            raise DimensionMismatch(spec.dimension, len(r.vector), where=f"index {spec.name!r} ({backend})")
