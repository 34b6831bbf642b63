"""Core value types: namespaces, records, hits, search requests and results.

Nothing here knows about a backend; every backend speaks these types at its boundary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np

from vectorrouter.errors import InvalidNamespace, InvalidRecord

if TYPE_CHECKING:
    from vectorrouter.filters import Filter

__all__ = [
    "RESERVED_PREFIX",
    "Attempt",
    "Hit",
    "MetaValue",
    "Namespace",
    "Record",
    "SearchMode",
    "SearchRequest",
    "SearchResult",
    "check_encodable",
    "check_vector",
    "check_vectors",
    "id_text",
    "validate_metadata",
]

SearchMode = Literal["dense", "keyword", "hybrid"]
Scalar: TypeAlias = str | int | float | bool
MetaValue: TypeAlias = Scalar | list[str] | list[int] | list[float] | None

#: Metadata keys starting with this prefix belong to vectorrouter's own bookkeeping in the stores.
RESERVED_PREFIX = "_vr_"

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_PART_NAMES = ("tenant", "feature", "model_version")


def _check_part(name: str, value: str) -> str:
    if not isinstance(value, str) or not _PART.match(value):
        raise InvalidNamespace(
            f"namespace {name} {value!r} is invalid: use 1-64 characters from letters, digits, '_', '.', '-', "
            "starting with a letter or digit (':' separates the parts and cannot appear inside one)"
        )
    return value


@dataclass(frozen=True, slots=True, order=True)
class Namespace:
    """A versioned namespace: ``tenant:feature:model_version``.

    >>> ns = Namespace.parse("acme:support:minilm-l6")
    >>> ns.tenant, ns.feature, ns.model_version
    ('acme', 'support', 'minilm-l6')
    >>> str(ns)
    'acme:support:minilm-l6'
    >>> ns.logical
    'acme:support'
    """

    tenant: str
    feature: str
    model_version: str
    # the string form is asked for several times per search; build it once
    _text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in _PART_NAMES:
            _check_part(name, getattr(self, name))
        object.__setattr__(self, "_text", f"{self.tenant}:{self.feature}:{self.model_version}")

    @classmethod
    def parse(cls, text: str) -> Namespace:
        """Parse the stable string form ``tenant:feature:model_version``."""
        if not isinstance(text, str):
            raise InvalidNamespace(
                f"namespace must be a string like 'tenant:feature:model_version', got {text!r}"
            )
        parts = text.split(":")
        if len(parts) != 3:
            raise InvalidNamespace(
                f"namespace {text!r} must have three parts 'tenant:feature:model_version'"
                f" (got {len(parts)}); a two-part 'tenant:feature' is resolved to its active version by the router"
            )
        return cls(*parts)

    @property
    def logical(self) -> str:
        """The version-free name ``tenant:feature`` that migrations move between versions."""
        return f"{self.tenant}:{self.feature}"

    def with_version(self, model_version: str) -> Namespace:
        return Namespace(self.tenant, self.feature, model_version)

    def __str__(self) -> str:
        return self._text


def parse_logical(text: str) -> tuple[str, str, str | None]:
    """Split ``tenant:feature`` or ``tenant:feature:version`` into its parts (version may be ``None``)."""
    if not isinstance(text, str):
        raise InvalidNamespace(f"namespace must be a string like 'tenant:feature', got {text!r}")
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise InvalidNamespace(
            f"namespace {text!r} must be 'tenant:feature' or 'tenant:feature:model_version'"
        )
    tenant = _check_part("tenant", parts[0])
    feature = _check_part("feature", parts[1])
    version = _check_part("model_version", parts[2]) if len(parts) == 3 else None
    return tenant, feature, version


def _check_value(key: str, value: Any) -> MetaValue:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRecord(f"metadata[{key!r}] is {value}; only finite numbers can be stored")
        return value
    if isinstance(value, list | tuple):
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            raise InvalidRecord(
                f"metadata[{key!r}] is a list holding something other than strings or numbers; "
                "store lists of str/int/float only (serialise richer values to a JSON string)"
            )
        return list(value)
    raise InvalidRecord(
        f"metadata[{key!r}] has type {type(value).__name__}; metadata values must be str, int, float, bool, "
        "None or a list of str/int/float (flatten nested objects to keys like 'author.name')"
    )


def validate_metadata(metadata: Mapping[str, Any] | None) -> dict[str, MetaValue]:
    """Return a plain dict of validated metadata, or raise :class:`InvalidRecord` naming the key."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidRecord(f"metadata must be a mapping of str to values, got {type(metadata).__name__}")
    out: dict[str, MetaValue] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidRecord(f"metadata key {key!r} must be a non-empty string")
        if key.startswith(RESERVED_PREFIX):
            raise InvalidRecord(
                f"metadata key {key!r} starts with the reserved prefix {RESERVED_PREFIX!r}; rename it"
            )
        out[key] = _check_value(key, value)
    return out


def id_text(value: object) -> str | None:
    """An id as stored: a string as it is, an integer (not a bool) as its digits; ``None`` for anything else,
    which callers refuse naming where it came from.

    >>> id_text("a"), id_text(7), id_text(True), id_text(None)
    ('a', '7', None, None)
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def check_encodable(text: str, where: str) -> None:
    """Raise :class:`InvalidRecord` if ``text`` cannot be written as UTF-8 (a lone surrogate, as a file read with
    ``errors="surrogateescape"`` leaves): stores, hashes and tokenizers would all fail on it further in.

    >>> check_encodable("caf\\udce9", "query")
    Traceback (most recent call last):
    vectorrouter.errors.InvalidRecord: query: '\\udce9' at position 3 is not a Unicode character (a lone surrogate); decode the source with errors="replace" or fix its encoding
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRecord(
            f"{where}: {text[exc.start]!r} at position {exc.start} is not a Unicode character (a lone "
            'surrogate); decode the source with errors="replace" or fix its encoding'
        ) from None


def check_vector(vector: Sequence[float], where: str) -> None:
    """Raise :class:`InvalidRecord` naming ``where`` unless ``vector`` is a flat sequence of finite numbers.

    A NaN or an infinity would be stored (and poison every distance to it) or, in a query, come back as no
    hits or NaN scores; a string or None would fail deep in a store's client.

    >>> check_vector([0.5, float("nan")], "query")
    Traceback (most recent call last):
    vectorrouter.errors.InvalidRecord: query: vector[1] is nan; a vector must hold finite numbers (no NaN or infinity)
    """
    try:
        arr = np.asarray(vector)
    except ValueError:  # ragged: numpy refuses to build the array
        raise InvalidRecord(f"{where}: the vector must be a flat list of numbers") from None
    if arr.dtype.kind not in "fiu":
        bad = next(
            (x for x in vector if isinstance(x, bool) or not isinstance(x, int | float | np.number)), None
        )
        raise InvalidRecord(f"{where}: the vector must hold numbers only, found {bad!r}")
    if arr.ndim != 1:
        raise InvalidRecord(f"{where}: the vector must be a flat list of numbers, got shape {arr.shape}")
    finite = np.isfinite(arr)
    if not finite.all():
        i = int(np.argmin(finite))
        raise InvalidRecord(
            f"{where}: vector[{i}] is {arr[i]}; a vector must hold finite numbers (no NaN or infinity)"
        )


_CHECK_CHUNK = 4096


def check_vectors(records: Sequence[Record], where: str) -> None:
    """:func:`check_vector` for every record that carries a vector, naming the first bad one; one array
    check per 4,096 records when all are fine (the common case)."""
    with_vectors = [r for r in records if r.vector is not None]
    for start in range(0, len(with_vectors), _CHECK_CHUNK):  # a bounded copy, however large the ingest
        chunk = with_vectors[start : start + _CHECK_CHUNK]
        try:
            arr = np.asarray([r.vector for r in chunk])
            fine = arr.dtype.kind in "fiu" and arr.ndim == 2 and bool(np.isfinite(arr).all())
        except ValueError:
            fine = False
        if not fine:
            for r in chunk:
                check_vector(r.vector, f"record {r.id!r} in {where}")  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Record:
    """One unit of retrievable content: an id, its text, flat metadata and (once embedded) a vector.

    >>> Record(id="doc-1", text="hello", metadata={"lang": "en"}).id
    'doc-1'
    """

    id: str
    text: str = ""
    metadata: Mapping[str, MetaValue] = field(default_factory=dict)
    vector: Sequence[float] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InvalidRecord(f"record id must be a non-empty string, got {self.id!r}")
        if len(self.id) > 512:
            raise InvalidRecord(f"record id {self.id[:40]!r}… is {len(self.id)} characters; the limit is 512")
        if not isinstance(self.text, str):
            raise InvalidRecord(f"record {self.id!r}: text must be a string, got {type(self.text).__name__}")
        check_encodable(self.id, f"record {self.id!r}: id")
        check_encodable(self.text, f"record {self.id!r}: text")
        object.__setattr__(self, "metadata", validate_metadata(self.metadata))

    def with_vector(self, vector: Sequence[float]) -> Record:
        return Record(id=self.id, text=self.text, metadata=self.metadata, vector=vector)


@dataclass(slots=True)
class Hit:
    """One search result. ``score`` is higher-is-better within one result list.

    Not frozen, unlike :class:`Record`: thousands are built per second on the search path and a frozen
    dataclass costs several times more to construct. Treat hits as values all the same.
    """

    id: str
    score: float
    text: str = ""
    metadata: Mapping[str, MetaValue] = field(default_factory=dict)
    vector: Sequence[float] | None = None


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What a caller asks of the router (or a ladder step) in one search."""

    namespace: str
    query: str | None = None
    vector: Sequence[float] | None = None
    k: int = 10
    mode: SearchMode = "hybrid"
    filter: Filter | None = None
    #: Sticky key for percentage rollouts (a user or session id); never stored.
    routing_key: str | None = None


@dataclass(slots=True)
class Attempt:
    """One try at one step of the search path, as reported on the result.

    Not frozen, like :class:`Hit` and :class:`SearchResult`: one is built on every search, and a frozen
    dataclass costs three times as much to construct. Treat attempts as values all the same.
    """

    step: str
    outcome: Literal["ok", "error", "timeout", "rate_limited", "skipped", "empty"]
    latency_ms: float = 0.0
    detail: str = ""


@dataclass(slots=True)
class SearchResult:
    """Hits plus how they were served: which namespace and store answered and what was tried first."""

    hits: list[Hit]
    namespace: str
    mode: SearchMode
    served_by: str
    #: True when a step other than the mode's first choice answered (a fallback, the cache, the other kind).
    degraded: bool = False
    attempts: tuple[Attempt, ...] = ()
    latency_ms: float = 0.0
    query_id: str | None = None
    #: True when the answer is a cached one past its fresh lifetime (served because the stores were down).
    stale: bool = False

    def __len__(self) -> int:
        return len(self.hits)

    @property
    def skipped(self) -> tuple[Attempt, ...]:
        """The attempts that did not answer (skipped, failed, timed out, rate limited), with their reasons."""
        return tuple(a for a in self.attempts if a.outcome not in ("ok", "empty"))

    @property
    def ids(self) -> list[str]:
        return [h.id for h in self.hits]

    def serving_info(self) -> dict[str, Any]:
        """How the search was served, as plain data for logs, traces and framework metadata."""
        return {
            "namespace": self.namespace,
            "mode": self.mode,
            "served_by": self.served_by,
            "degraded": self.degraded,
            "attempts": [
                {"step": a.step, "outcome": a.outcome, "latency_ms": a.latency_ms, "detail": a.detail}
                for a in self.attempts
            ],
            "latency_ms": self.latency_ms,
            "query_id": self.query_id,
        }
