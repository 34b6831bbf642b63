"""How metadata is indexed in tantivy, and the pure translation of the filter tree into tantivy queries.

tantivy's schema is fixed when an index is created, so metadata cannot get one typed field per key.
Instead every record carries *facts*: exact, type-tagged terms in one raw (untokenised) field.

- ``"<field>s<text>"`` for a string (``"<field>h<sha256>"`` when it is long), ``"<field>b1"`` / ``"b0"``
  for a boolean, and ``"<field>n<key>"`` for a number, where ``key`` is an order-preserving hex encoding
  that gives ``2`` and ``2.0`` the same key (the reference semantics compare numbers by value).
- ``"<field>e"`` when the value is present, not ``None`` and not an empty list (what ``Exists`` means).
- A list contributes one fact per element, so "some element equals" is a plain term match.
- ``<field>`` is ``f<len>:<name>`` (``g<sha256>`` for very long names), so no name can run into a value.

tantivy 0.27 has no range query over text terms, so a numeric range is answered from the term
dictionary: list the field's numeric facts (narrowed to the bounds' common prefix), keep those within the
bounds by plain string comparison (the encoding preserves order) and match any of them. That is exact,
including for list fields. Translation is :func:`translate_filter` (pure, filter → :data:`Plan`);
:func:`plan_to_query` turns a plan into a tantivy query against one searcher snapshot.

>>> from vectorrouter.filters import Eq, Range
>>> translate_filter(Eq("lang", "en"))
Terms(terms=('f4:langsen',))
>>> facts({"lang": "en", "tags": [], "n": None})
['f4:langsen', 'f4:lange']
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import tantivy

from vectorrouter.errors import InvalidRecord, UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, Filter, FilterValue, In, Ne, Nin, Not, Or, Range

__all__ = [
    "FACTS_FIELD",
    "AllOf",
    "AnyOf",
    "Everything",
    "NoneOf",
    "NumRange",
    "Plan",
    "Terms",
    "encode_number",
    "facts",
    "plan_to_query",
    "translate_filter",
]

#: The raw field holding every record's metadata facts.
FACTS_FIELD = "_vr_facts"
BACKEND = "tantivy"

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_LONG = 200  # bytes; longer strings and field names are indexed by digest (tantivy drops terms > 64 KiB)
_RESIDUE_BIAS = 0x8000


# -- facts ----------------------------------------------------------------------------------------
def _field(name: str) -> str:
    if len(name.encode("utf-8")) > _LONG:
        return "g" + hashlib.sha256(name.encode("utf-8")).hexdigest()
    return f"f{len(name)}:{name}"


def encode_number(value: int | float) -> str:
    """An order-preserving, fixed-width key: equal for equal numbers (``2 == 2.0``), ordered like them.

    The float64 bits come first (sign-flipped so they sort as unsigned); integers that float64 rounds
    carry their rounding residue (at most 512 for 64-bit integers) as a tie-breaker.

    >>> encode_number(2) == encode_number(2.0) and encode_number(-0.0) == encode_number(0)
    True
    >>> encode_number(-1.5) < encode_number(0) < encode_number(2**62 + 1) < encode_number(1e300)
    True
    """
    as_float = float(value) or 0.0  # -0.0 equals 0
    residue = value - int(as_float) if isinstance(value, int) else 0
    (bits,) = struct.unpack(">Q", struct.pack(">d", as_float))
    bits = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | 1 << 63
    return f"{bits:016x}{residue + _RESIDUE_BIAS:04x}"


def _value_term(field: str, value: FilterValue) -> str:
    prefix = _field(field)
    if isinstance(value, bool):
        return f"{prefix}b{int(value)}"
    if isinstance(value, int | float):
        return f"{prefix}n{encode_number(value)}"
    raw = value.encode("utf-8")
    if len(raw) > _LONG:
        return f"{prefix}h{hashlib.sha256(raw).hexdigest()}"
    return f"{prefix}s{value}"


def _beyond_64_bits(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and not _I64_MIN <= value <= _I64_MAX


def facts(metadata: Mapping[str, Any], *, record_id: str = "?") -> list[str]:
    """The fact terms indexed for one record's metadata (see the module docstring)."""
    out: list[str] = []
    for key, value in metadata.items():
        values = value if isinstance(value, list | tuple) else [] if value is None else [value]
        for v in values:
            if _beyond_64_bits(v):
                raise InvalidRecord(
                    f"record {record_id!r}: metadata[{key!r}] holds an integer outside 64 bits; "
                    "the tantivy store indexes 64-bit integers only (store it as a string)"
                )
            out.append(_value_term(key, v))
        if values:
            out.append(f"{_field(key)}e")
    return out


# -- the plan: a tantivy-free description of the query ---------------------------------------------
@dataclass(frozen=True, slots=True)
class Terms:
    """Records holding any of these facts."""

    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumRange:
    """Records with a numeric fact of ``prefix`` whose key lies within the bounds (``None`` = open)."""

    prefix: str
    lower: str | None = None
    lower_inclusive: bool = True
    upper: str | None = None
    upper_inclusive: bool = True

    def scan_prefix(self) -> str:
        """The longest prefix every key within the bounds shares (keeps the term scan short)."""
        if self.lower is None or self.upper is None:
            return self.prefix
        common = 0
        for a, b in zip(self.lower, self.upper, strict=True):
            if a != b:
                break
            common += 1
        return self.prefix + self.lower[:common]

    def admits(self, term: str) -> bool:
        if not term.startswith(self.prefix):
            return False
        key = term[len(self.prefix) :]
        if self.lower is not None and (key < self.lower or (key == self.lower and not self.lower_inclusive)):
            return False
        return not (
            self.upper is not None and (key > self.upper or (key == self.upper and not self.upper_inclusive))
        )


@dataclass(frozen=True, slots=True)
class Everything:
    """Every record (of the namespace the caller scopes to)."""


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class NoneOf:
    """Records not matching ``part`` (records without the field included, as ``Ne``/``Nin`` require)."""

    part: Plan


Plan: TypeAlias = Terms | NumRange | Everything | AllOf | AnyOf | NoneOf


def _exact(f: Filter, field: str, value: FilterValue) -> str:
    if _beyond_64_bits(value):
        raise UnsupportedFilter(BACKEND, f"{f.op} on {field!r} with the integer {value}, beyond 64 bits")
    return _value_term(field, value)


def _range(f: Range) -> NumRange:
    def key(name: str) -> str | None:
        bound = getattr(f, name)
        if bound is None:
            return None
        if _beyond_64_bits(bound):
            raise UnsupportedFilter(BACKEND, f"a range on {f.field!r} with {name}={bound}, beyond 64 bits")
        return encode_number(bound)

    lower, lower_inc = _tighter([(key("gt"), False), (key("gte"), True)], lowest=False)
    upper, upper_inc = _tighter([(key("lt"), False), (key("lte"), True)], lowest=True)
    return NumRange(f"{_field(f.field)}n", lower, lower_inc, upper, upper_inc)


def _tighter(bounds: list[tuple[str | None, bool]], *, lowest: bool) -> tuple[str | None, bool]:
    """The tightest of several bounds: the highest lower bound or the lowest upper bound.

    On equal keys the exclusive bound is the tighter one.
    """
    present = [(k, inc) for k, inc in bounds if k is not None]
    if not present:
        return None, True
    if lowest:
        return min(present, key=lambda b: (b[0], b[1]))
    return max(present, key=lambda b: (b[0], not b[1]))


def translate_filter(flt: Filter) -> Plan:
    """Translate the filter tree into a :data:`Plan`; raise :class:`UnsupportedFilter` for anything else."""
    if isinstance(flt, Eq | Ne):
        match = Terms((_exact(flt, flt.field, flt.value),))
        return match if isinstance(flt, Eq) else NoneOf(match)
    if isinstance(flt, In | Nin):
        anyof = Terms(tuple(dict.fromkeys(_exact(flt, flt.field, v) for v in flt.values)))
        return anyof if isinstance(flt, In) else NoneOf(anyof)
    if isinstance(flt, Range):
        return _range(flt)
    if isinstance(flt, Exists):
        return Terms((f"{_field(flt.field)}e",))
    if isinstance(flt, And):
        return AllOf(tuple(translate_filter(f) for f in flt.filters)) if flt.filters else Everything()
    if isinstance(flt, Or):
        return AnyOf(tuple(translate_filter(f) for f in flt.filters))
    if isinstance(flt, Not):
        return NoneOf(translate_filter(flt.filter))
    raise UnsupportedFilter(BACKEND, f"the filter node {type(flt).__name__} ({flt.op!r})")


# -- plan → tantivy query ---------------------------------------------------------------------------
TermLister = Callable[[str], Iterable[str]]


def _any_term(schema: tantivy.Schema, terms: Sequence[str]) -> tantivy.Query:
    if not terms:
        return tantivy.Query.empty_query()
    if len(terms) == 1:
        return tantivy.Query.term_query(schema, FACTS_FIELD, terms[0], index_option="basic")
    return tantivy.Query.term_set_query(schema, FACTS_FIELD, list(terms))


def plan_to_query(plan: Plan, schema: tantivy.Schema, list_terms: TermLister) -> tantivy.Query:
    """A tantivy query matching exactly what ``plan`` describes.

    ``list_terms(prefix)`` returns the fact terms starting with ``prefix`` in the searcher snapshot the
    query will run on (ranges are expanded from it).
    """
    occur = tantivy.Occur
    if isinstance(plan, Terms):
        return _any_term(schema, plan.terms)
    if isinstance(plan, NumRange):
        return _any_term(schema, [t for t in list_terms(plan.scan_prefix()) if plan.admits(t)])
    if isinstance(plan, Everything):
        return tantivy.Query.all_query()
    if isinstance(plan, AllOf):
        parts = [(occur.Must, plan_to_query(p, schema, list_terms)) for p in plan.parts]
        return tantivy.Query.boolean_query(parts)
    if isinstance(plan, AnyOf):
        parts = [(occur.Should, plan_to_query(p, schema, list_terms)) for p in plan.parts]
        return tantivy.Query.boolean_query(parts)
    # a boolean query of only MustNot clauses matches nothing in tantivy, so subtract from everything
    inner = plan_to_query(plan.part, schema, list_terms)
    return tantivy.Query.boolean_query([(occur.Must, tantivy.Query.all_query()), (occur.MustNot, inner)])
