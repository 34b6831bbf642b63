"""The one filter tree every backend translates.

Build filters from the node classes or from a Mongo-style dict::

    >>> from vectorrouter.filters import Eq, Range, Filter
    >>> f = Eq("lang", "en") & Range("year", gte=2020)
    >>> f == Filter.from_dict({"lang": "en", "year": {"$gte": 2020}})
    True
    >>> f.matches({"lang": "en", "year": 2021})
    True

Semantics (the reference every backend's translation must agree with, checked by the conformance kit):

- ``Eq(f, v)``: the field equals ``v``; on a list field, some element equals ``v``. Booleans never equal numbers.
- ``Ne(f, v)`` is exactly ``Not(Eq(f, v))``: records without the field match.
- ``In(f, vs)``: ``Eq(f, v)`` for some ``v`` in ``vs``. ``Nin(f, vs)`` is ``Not(In(f, vs))``.
- ``Range(f, gt=, gte=, lt=, lte=)``: a numeric field (or some element of a list field) within the bounds;
  records without the field, or with a non-numeric value, do not match.
- ``Exists(f)``: the field is present, not ``None`` and not an empty list.
- ``And``, ``Or``, ``Not``: boolean combinations. ``And()`` of nothing matches everything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from vectorrouter.errors import InvalidFilter, UnsupportedFilter
from vectorrouter.types import RESERVED_PREFIX

__all__ = [
    "EXACT_FLOAT_LIMIT",
    "OPERATORS",
    "And",
    "Eq",
    "Exists",
    "Filter",
    "FilterValue",
    "In",
    "Ne",
    "Nin",
    "Not",
    "Or",
    "Range",
    "and_all",
    "field_filters",
    "float_exact",
]

FilterValue: TypeAlias = str | int | float | bool

#: The field operators of the dict form (``{"year": {"$gte": 2020}}``).
OPERATORS = ("$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists")
_COMBINATORS = ("$and", "$or", "$not")


def _check_field(field: Any) -> str:
    if not isinstance(field, str) or not field:
        raise InvalidFilter(f"filter field must be a non-empty string, got {field!r}")
    if field.startswith(RESERVED_PREFIX):
        raise InvalidFilter(f"filter field {field!r} uses the reserved prefix {RESERVED_PREFIX!r}")
    return field


def _check_value(field: str, value: Any) -> FilterValue:
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise InvalidFilter(
        f"filter on {field!r}: value {value!r} has type {type(value).__name__}; "
        "compare against str, int, float or bool"
    )


def _check_number(field: str, name: str, value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidFilter(f"filter on {field!r}: range bound {name}={value!r} must be a finite number")
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps booleans apart from numbers (Python thinks ``True == 1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and a == b


def _values(metadata: Mapping[str, Any], field: str) -> list[Any]:
    v = metadata.get(field)
    if v is None:
        return []
    if isinstance(v, list | tuple):
        return list(v)
    return [v]


class Filter:
    """Base of every filter node. Combine with ``&``, ``|`` and ``~``."""

    op: ClassVar[str]
    __slots__ = ()

    def matches(self, metadata: Mapping[str, Any]) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def fields(self) -> set[str]:
        """Every metadata field this filter reads."""
        out: set[str] = set()
        for node in self.walk():
            f = getattr(node, "field", None)
            if f is not None:
                out.add(f)
        return out

    def walk(self) -> Iterable[Filter]:
        yield self

    def canonical(self) -> str:
        """A stable string form, equal for equal filters (used in cache keys and logs)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def __and__(self, other: Filter) -> Filter:
        return And((self, other))

    def __or__(self, other: Filter) -> Filter:
        return Or((self, other))

    def __invert__(self) -> Filter:
        return Not(self)

    @staticmethod
    def from_dict(spec: Mapping[str, Any] | Filter | None) -> Filter | None:
        """Parse a Mongo-style filter dict (the syntax LangChain and Pinecone use).

        ``{"field": value}`` means equality; ``{"field": {"$gte": 1, "$lt": 5}}`` combines operators;
        ``$and``/``$or`` take lists and ``$not`` takes one filter. Several keys at one level are ANDed.
        """
        if spec is None or isinstance(spec, Filter):
            return spec
        return _parse(spec, "filter")


@dataclass(frozen=True, slots=True)
class Eq(Filter):
    field: str
    value: FilterValue
    op: ClassVar[str] = "eq"

    def __post_init__(self) -> None:
        _check_field(self.field)
        _check_value(self.field, self.value)

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return any(_same(v, self.value) for v in _values(metadata, self.field))

    def to_dict(self) -> dict[str, Any]:
        return {self.field: {"$eq": self.value}}


@dataclass(frozen=True, slots=True)
class Ne(Filter):
    field: str
    value: FilterValue
    op: ClassVar[str] = "ne"

    def __post_init__(self) -> None:
        _check_field(self.field)
        _check_value(self.field, self.value)

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return not any(_same(v, self.value) for v in _values(metadata, self.field))

    def to_dict(self) -> dict[str, Any]:
        return {self.field: {"$ne": self.value}}


def _check_values(field: str, values: Any) -> tuple[FilterValue, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidFilter(f"filter on {field!r}: $in/$nin takes a list of values, got {values!r}")
    out = tuple(_check_value(field, v) for v in values)
    if not out:
        raise InvalidFilter(f"filter on {field!r}: $in/$nin needs at least one value")
    return out


@dataclass(frozen=True, slots=True)
class In(Filter):
    field: str
    values: tuple[FilterValue, ...]
    op: ClassVar[str] = "in"

    def __post_init__(self) -> None:
        _check_field(self.field)
        object.__setattr__(self, "values", _check_values(self.field, self.values))

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        vals = _values(metadata, self.field)
        return any(_same(v, w) for v in vals for w in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {self.field: {"$in": list(self.values)}}


@dataclass(frozen=True, slots=True)
class Nin(Filter):
    field: str
    values: tuple[FilterValue, ...]
    op: ClassVar[str] = "nin"

    def __post_init__(self) -> None:
        _check_field(self.field)
        object.__setattr__(self, "values", _check_values(self.field, self.values))

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        vals = _values(metadata, self.field)
        return not any(_same(v, w) for v in vals for w in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {self.field: {"$nin": list(self.values)}}


@dataclass(frozen=True, slots=True)
class Range(Filter):
    field: str
    gt: float | int | None = None
    gte: float | int | None = None
    lt: float | int | None = None
    lte: float | int | None = None
    op: ClassVar[str] = "range"

    def __post_init__(self) -> None:
        _check_field(self.field)
        for name in ("gt", "gte", "lt", "lte"):
            _check_number(self.field, name, getattr(self, name))
        if self.gt is None and self.gte is None and self.lt is None and self.lte is None:
            raise InvalidFilter(f"filter on {self.field!r}: a range needs at least one of gt, gte, lt, lte")

    def _ok(self, v: Any) -> bool:
        if not _is_number(v):
            return False
        return not (
            (self.gt is not None and not v > self.gt)
            or (self.gte is not None and not v >= self.gte)
            or (self.lt is not None and not v < self.lt)
            or (self.lte is not None and not v <= self.lte)
        )

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return any(self._ok(v) for v in _values(metadata, self.field))

    def to_dict(self) -> dict[str, Any]:
        ops = {f"${k}": getattr(self, k) for k in ("gt", "gte", "lt", "lte") if getattr(self, k) is not None}
        return {self.field: ops}


@dataclass(frozen=True, slots=True)
class Exists(Filter):
    field: str
    op: ClassVar[str] = "exists"

    def __post_init__(self) -> None:
        _check_field(self.field)

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return bool(_values(metadata, self.field))

    def to_dict(self) -> dict[str, Any]:
        return {self.field: {"$exists": True}}


def _check_children(name: str, children: Any) -> tuple[Filter, ...]:
    kids = tuple(children)
    for c in kids:
        if not isinstance(c, Filter):
            raise InvalidFilter(f"{name} takes filter nodes, got {c!r}")
    return kids


@dataclass(frozen=True, slots=True)
class And(Filter):
    filters: tuple[Filter, ...]
    op: ClassVar[str] = "and"

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _check_children("And", self.filters))

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return all(f.matches(metadata) for f in self.filters)

    def to_dict(self) -> dict[str, Any]:
        return {"$and": [f.to_dict() for f in self.filters]}

    def walk(self) -> Iterable[Filter]:
        yield self
        for f in self.filters:
            yield from f.walk()


@dataclass(frozen=True, slots=True)
class Or(Filter):
    filters: tuple[Filter, ...]
    op: ClassVar[str] = "or"

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _check_children("Or", self.filters))
        if not self.filters:
            raise InvalidFilter("Or needs at least one filter")

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return any(f.matches(metadata) for f in self.filters)

    def to_dict(self) -> dict[str, Any]:
        return {"$or": [f.to_dict() for f in self.filters]}

    def walk(self) -> Iterable[Filter]:
        yield self
        for f in self.filters:
            yield from f.walk()


@dataclass(frozen=True, slots=True)
class Not(Filter):
    filter: Filter
    op: ClassVar[str] = "not"

    def __post_init__(self) -> None:
        _check_children("Not", (self.filter,))

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        return not self.filter.matches(metadata)

    def to_dict(self) -> dict[str, Any]:
        return {"$not": self.filter.to_dict()}

    def walk(self) -> Iterable[Filter]:
        yield self
        yield from self.filter.walk()


def and_all(*filters: Filter | None) -> Filter | None:
    """AND the given filters together, skipping ``None``; ``None`` when nothing is left."""
    kept = [f for f in filters if f is not None]
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    return And(tuple(kept))


#: A store that keeps numbers as 64-bit floats matches integers exactly only below this magnitude.
EXACT_FLOAT_LIMIT = 2**53


def float_exact(backend: str, field: str, value: FilterValue) -> FilterValue:
    """``value``, or :class:`UnsupportedFilter` when ``backend`` (which keeps numbers as 64-bit floats) could
    not match it exactly: a condition on 2**53 + 1 would also match 2**53.

    >>> float_exact("pinecone", "n", 2**53 + 1)
    Traceback (most recent call last):
    vectorrouter.errors.UnsupportedFilter: pinecone cannot express the number 9007199254740993 in a filter on 'n' (exact only within ±2**53); refusing to drop the condition. Rewrite the filter with supported operators or search another store.
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= EXACT_FLOAT_LIMIT:
        raise UnsupportedFilter(
            backend, f"the number {value!r} in a filter on {field!r} (exact only within ±2**53)"
        )
    return value


def field_filters(field: str, ops: Mapping[str, Any], where: str) -> list[Filter]:
    """The nodes of one field's operator dict (``{"$gte": 2020, "$lt": 2024}`` → one ``Range``), for a dialect
    that extends the dict form with operators of its own; ``where`` names the dict holding ``field``."""
    out: list[Filter] = []
    bounds: dict[str, Any] = {}
    for op, value in ops.items():
        if op == "$eq":
            out.append(Eq(field, value))
        elif op == "$ne":
            out.append(Ne(field, value))
        elif op == "$in":
            out.append(In(field, value))
        elif op == "$nin":
            out.append(Nin(field, value))
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            bounds[op[1:]] = value
        elif op == "$exists":
            if not isinstance(value, bool):
                raise InvalidFilter(f"{where}.{field}: $exists takes true or false, got {value!r}")
            out.append(Exists(field) if value else Not(Exists(field)))
        else:
            raise InvalidFilter(
                f"{where}.{field}: unknown operator {op!r}; supported operators are {', '.join(OPERATORS)}"
            )
    if bounds:
        out.append(Range(field, **bounds))
    if not out:
        raise InvalidFilter(f"{where}.{field}: an operator dict needs at least one operator")
    return out


def _parse(spec: Any, where: str) -> Filter:
    if not isinstance(spec, Mapping):
        raise InvalidFilter(f"{where} must be a dict (or a Filter node), got {type(spec).__name__}")
    parts: list[Filter] = []
    for key, value in spec.items():
        if not isinstance(key, str):
            raise InvalidFilter(f"{where}: key {key!r} must be a string")
        if key in ("$and", "$or"):
            if not isinstance(value, Sequence) or isinstance(value, str) or not value:
                raise InvalidFilter(f"{where}.{key} takes a non-empty list of filters")
            kids = tuple(_parse(v, f"{where}.{key}[{i}]") for i, v in enumerate(value))
            parts.append(And(kids) if key == "$and" else Or(kids))
        elif key == "$not":
            parts.append(Not(_parse(value, f"{where}.$not")))
        elif key.startswith("$"):
            raise InvalidFilter(
                f"{where}: unknown combinator {key!r}; use {', '.join(_COMBINATORS)} or a field name"
            )
        elif isinstance(value, Mapping):
            parts.extend(field_filters(key, value, where))
        else:
            parts.append(Eq(_check_field(key), value))
    if not parts:
        return And(())
    return parts[0] if len(parts) == 1 else And(tuple(parts))
