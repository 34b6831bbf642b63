"""LangChain's dict filters, translated into the core filter tree.

LangChain has no single filter language; the Mongo-style dialect most of its vector stores accept (Chroma,
Pinecone, PGVector, MongoDB Atlas) is the one translated here::

    {"lang": "en"}                                  equality (several keys are ANDed)
    {"year": {"$gte": 2020, "$lt": 2024}}           $eq $ne $gt $gte $lt $lte $in $nin $exists
    {"year": {"$between": [2020, 2023]}}            inclusive range (PGVector's spelling)
    {"tags": {"$all": ["a", "b"]}}                  a list field holding every value
    {"$and": [...]}, {"$or": [...]}, {"$nor": [...]}, {"$not": {...}}

Anything else raises :class:`~vectorrouter.errors.UnsupportedFilter` naming the operator: ``$like``, ``$ilike``,
``$regex``, ``$text``, ``$contains`` and callables cannot be run inside the stores, and dropping them would return
documents the caller meant to exclude. A core :class:`~vectorrouter.filters.Filter` node is accepted as it is.

Metadata the core cannot store flat is kept JSON-encoded (``langchain_vectorrouter._metadata``), so:

- a filter on the encoding's own keys (``_lc_json``, ``_lc_json_keys``) raises :class:`UnsupportedFilter`:
  they hold this package's encoding, not a caller's value, and nothing a caller means can be asked of them;
- ``$exists`` sees encoded keys too: ``Exists(k)`` becomes ``Or(Exists(k), Eq("_lc_json_keys", k))``
  (documents written before that list existed are seen only through their flat keys);
- value operators (``$eq $ne $in $nin $gt…$lte $between $all``) compare flat values only: a document whose
  value under the key is encoded (a nested dict, a mixed list, an int beyond 64 bits…) is treated as not
  holding the key, exactly as a document without it (so ``$ne`` and ``$nin`` match it, ``$eq`` does not).

>>> to_filter({"lang": "en", "year": {"$between": [2020, 2023]}}).to_dict()
{'$and': [{'lang': {'$eq': 'en'}}, {'year': {'$gte': 2020, '$lte': 2023}}]}
>>> to_filter({"author": {"$exists": True}}).to_dict()
{'$or': [{'author': {'$exists': True}}, {'_lc_json_keys': {'$eq': 'author'}}]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vectorrouter.errors import InvalidFilter, UnsupportedFilter
from vectorrouter.filters import OPERATORS, And, Eq, Exists, Filter, Not, Or, Range, field_filters

from langchain_vectorrouter._metadata import ENCODING_KEYS, KEYS_KEY

__all__ = ["FIELD_OPERATORS", "LOGICAL_OPERATORS", "to_filter"]

FIELD_OPERATORS = (*OPERATORS, "$between", "$all")
LOGICAL_OPERATORS = ("$and", "$or", "$nor", "$not")
_NAME = "langchain-vectorrouter"


def to_filter(spec: Mapping[str, Any] | Filter | None) -> Filter | None:
    """Translate a LangChain filter (a dict, a core ``Filter`` or ``None``) into the core tree."""
    if spec is None or isinstance(spec, Filter):
        return spec
    if callable(spec):
        raise UnsupportedFilter(_NAME, "a callable filter (it would have to run on every stored document)")
    return _parse(spec, "filter")


def _children(value: Any, where: str) -> list[Filter]:
    if isinstance(value, Mapping) or not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidFilter(f"{where} takes a non-empty list of filters")
    return [_parse(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _parse(spec: Any, where: str) -> Filter:
    if not isinstance(spec, Mapping):
        raise InvalidFilter(f"{where} must be a dict, got {type(spec).__name__}")
    parts: list[Filter] = []
    for key, value in spec.items():
        if not isinstance(key, str):
            raise InvalidFilter(f"{where}: key {key!r} must be a string")
        if key == "$and":
            parts.append(And(tuple(_children(value, f"{where}.$and"))))
        elif key == "$or":
            parts.append(Or(tuple(_children(value, f"{where}.$or"))))
        elif key == "$nor":
            parts.append(Not(Or(tuple(_children(value, f"{where}.$nor")))))
        elif key == "$not":
            parts.append(Not(_parse(value, f"{where}.$not")))
        elif key.startswith("$"):
            raise UnsupportedFilter(
                _NAME, f"the logical operator {key!r} at {where} (supported: {', '.join(LOGICAL_OPERATORS)})"
            )
        elif key in ENCODING_KEYS:
            raise UnsupportedFilter(
                _NAME,
                f"a condition on {key!r} at {where}: it holds this package's JSON encoding of the metadata the "
                "core cannot store flat, not a value of yours; filter on flat keys (a key of yours with this "
                "name is stored inside the encoding and cannot be filtered on)",
            )
        elif isinstance(value, Mapping):
            parts.extend(_field(key, value, where))
        else:
            parts.append(Eq(key, value))
    if not parts:
        raise InvalidFilter(f"{where} is empty; pass None for no filter")
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _field(field: str, ops: Mapping[str, Any], where: str) -> list[Filter]:
    """The core's operators through the core's parser, then this dialect's own ($between, $all)."""
    core = {op: value for op, value in ops.items() if op in OPERATORS}
    out = [_seen_encoded(f) for f in field_filters(field, core, where)] if core else []
    at = f"{where}.{field}"
    for op, value in ops.items():
        if op in core:
            continue
        if op == "$between":
            if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
                raise InvalidFilter(f"{at}.$between takes [low, high], got {value!r}")
            out.append(Range(field, gte=value[0], lte=value[1]))
        elif op == "$all":
            if isinstance(value, str) or not isinstance(value, Sequence) or not value:
                raise InvalidFilter(f"{at}.$all takes a non-empty list of values, got {value!r}")
            out.append(And(tuple(Eq(field, v) for v in value)))
        else:
            raise UnsupportedFilter(
                _NAME, f"the operator {op!r} at {at} (supported: {', '.join(FIELD_OPERATORS)})"
            )
    if not out:
        raise InvalidFilter(f"{at} needs at least one operator")
    return out


def _exists(field: str) -> Filter:
    """Present flat, or listed among the keys kept JSON-encoded (see ``_metadata``)."""
    return Or((Exists(field), Eq(KEYS_KEY, field)))


def _seen_encoded(node: Filter) -> Filter:
    """The core's ``$exists`` node widened to encoded keys; every other node as it is."""
    if isinstance(node, Exists):
        return _exists(node.field)
    if isinstance(node, Not) and isinstance(node.filter, Exists):
        return Not(_exists(node.filter.field))
    return node
