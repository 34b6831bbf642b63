"""LlamaIndex ``MetadataFilters`` translated into the core filter tree, every operator accounted for.

=========================  =============================================================================
LlamaIndex                  core tree (semantics: :mod:`vectorrouter.filters`)
=========================  =============================================================================
``==`` / ``!=``            ``Eq`` / ``Ne`` (a missing field matches ``!=``)
``>`` ``>=`` ``<`` ``<=``  ``Range`` on numbers; a string bound raises (the stores compare numbers only)
``in`` / ``nin``           ``In`` / ``Nin``
``any``                    ``In``: a list field holding at least one of the values
``all``                    ``And`` of ``Eq``: a list field holding every value
``contains``               ``Eq``: a list field holding the value
``is_empty``               missing, ``None``, ``[]`` or ``""``: ``Or(Not(Exists), Eq(""))``
``text_match`` (+ case-    raises :class:`~vectorrouter.errors.UnsupportedFilter`: substring matching
insensitive)               cannot run inside the stores, and dropping it would widen the result
``and`` / ``or``           ``And`` / ``Or``, nested ``MetadataFilters`` to any depth
``not``                    ``Not(Or(...))``: none of the filters match (LlamaIndex's meaning)
=========================  =============================================================================

>>> from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters
>>> to_filter(MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=">=")])).to_dict()
{'year': {'$gte': 2020}}
"""

from __future__ import annotations

import math
from typing import Any

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from llama_index.vector_stores.vectorrouter.nodes import INT64_RANGE as _INT64
from vectorrouter.errors import InvalidFilter, UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range

__all__ = ["to_filter"]

_NAME = "llama-index-vectorrouter"
_BOUNDS = {
    FilterOperator.GT: "gt",
    FilterOperator.GTE: "gte",
    FilterOperator.LT: "lt",
    FilterOperator.LTE: "lte",
}


def to_filter(filters: MetadataFilters | Filter | None) -> Filter | None:
    """The core filter for ``filters`` (``None`` when there is nothing to filter on)."""
    if filters is None or isinstance(filters, Filter):
        return filters
    if not isinstance(filters, MetadataFilters):
        raise InvalidFilter(f"filters must be MetadataFilters, got {type(filters).__name__}")
    return _group(filters, "filters")


def _group(group: MetadataFilters, where: str) -> Filter:
    kids = [
        _group(f, f"{where}.filters[{i}]")
        if isinstance(f, MetadataFilters)
        else _one(f, f"{where}.filters[{i}]")
        for i, f in enumerate(group.filters)
    ]
    condition = group.condition or FilterCondition.AND
    if condition == FilterCondition.NOT:
        return Not(Or(tuple(kids))) if kids else And(())
    if not kids:
        return And(())  # no condition at all: everything matches
    if len(kids) == 1:
        return kids[0]
    if condition == FilterCondition.AND:
        return And(tuple(kids))
    if condition == FilterCondition.OR:
        return Or(tuple(kids))
    raise UnsupportedFilter(_NAME, f"the condition {condition!r} at {where}")


def _values(f: MetadataFilter, where: str) -> list[Any]:
    if not isinstance(f.value, list) or not f.value:
        raise InvalidFilter(f"{where}: operator {f.operator.value!r} takes a non-empty list, got {f.value!r}")
    return [_stored_form(f.key, v, where) for v in f.value]


def _stored_form(key: str, value: Any, where: str) -> Any:
    """``value`` when a node's flat metadata can hold it; an int beyond 64 bits or a non-finite float is kept
    only inside the node's JSON, so no stored value can ever match a condition on it."""
    if (type(value) is int and not _INT64[0] <= value <= _INT64[1]) or (
        type(value) is float and not math.isfinite(value)
    ):
        raise UnsupportedFilter(
            _NAME, f"the value {value!r} on {key!r} at {where} (not held in filterable metadata)"
        )
    return value


def _one(f: MetadataFilter, where: str) -> Filter:
    op, key, value = f.operator, f.key, f.value
    if op == FilterOperator.IS_EMPTY:
        return Or((Not(Exists(key)), Eq(key, "")))
    if op in (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE):
        raise UnsupportedFilter(
            _NAME, f"the operator {op.value!r} on {key!r} at {where} (substring matching)"
        )
    if op in (FilterOperator.IN, FilterOperator.ANY):
        return In(key, tuple(_values(f, where)))
    if op == FilterOperator.NIN:
        return Nin(key, tuple(_values(f, where)))
    if op == FilterOperator.ALL:
        return And(tuple(Eq(key, v) for v in _values(f, where)))
    if value is not None and not isinstance(value, list):
        value = _stored_form(key, value, where)
    if value is None or isinstance(value, list):
        raise InvalidFilter(
            f"{where}: operator {op.value!r} on {key!r} compares with one value, got {value!r}"
            + ("; to find missing values use 'is_empty'" if value is None else "")
        )
    if op == FilterOperator.EQ:
        return Eq(key, value)
    if op == FilterOperator.NE:
        return Ne(key, value)
    if op == FilterOperator.CONTAINS:
        return Eq(key, value)
    if op in _BOUNDS:
        if isinstance(value, str):
            raise UnsupportedFilter(_NAME, f"{op.value!r} with the string {value!r} on {key!r} at {where}")
        return Range(key, **{_BOUNDS[op]: value})
    raise UnsupportedFilter(_NAME, f"the operator {op!r} on {key!r} at {where}")
