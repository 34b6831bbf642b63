"""One translation of the :mod:`vectorrouter.filters` tree into a Qdrant filter, for both Qdrant libraries.

Qdrant Edge (``qdrant_edge``) and qdrant-client (``qdrant_client.models``) have different model classes for
the same filter structure, so the translation is written once against a small set of constructors
(:class:`QdrantTarget`) and each backend supplies its own. The function is pure: it is unit-tested node by
node with recording constructors, without an engine.

How each node maps (``key`` is the field name quoted as a JSON-path segment, so ``author.name`` stays one
flat key instead of a nested path):

- ``Eq`` on a string or a bool → match-value (on a list field Qdrant matches any element, as we do).
  On a number → a closed range ``[v, v]``: Qdrant's match-value knows only integers and compares them
  to integers only, while our ``2 == 2.0`` must hold and floats must be comparable at all.
- ``In`` → one match-any for the strings plus one ``Eq`` per other value, OR-ed.
- ``Ne`` / ``Nin`` → ``must_not`` of ``Eq`` / ``In``: records without the field match, as specified.
- ``Range`` → range; Qdrant ranges ignore non-numbers (booleans included), as we do.
- ``Exists`` → ``must_not`` is-empty; Qdrant's is-empty is true for missing, null and ``[]``.
- ``And`` / ``Or`` / ``Not`` → ``must`` / ``should`` / ``must_not`` of nested filters.

Refused with :class:`~vectorrouter.errors.UnsupportedFilter` (never dropped): numbers beyond ±2**53 (Qdrant
compares numbers as 64-bit floats, which cannot tell such integers apart), field names holding ``"`` or
``\\`` (the JSON-path grammar cannot quote them), and filter node types this module does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vectorrouter.errors import UnsupportedFilter
from vectorrouter.filters import (
    EXACT_FLOAT_LIMIT,
    And,
    Eq,
    Exists,
    Filter,
    FilterValue,
    In,
    Ne,
    Nin,
    Not,
    Or,
    Range,
    float_exact,
)

__all__ = ["EXACT_NUMBER_LIMIT", "QdrantTarget", "quote_key", "scoped_filter", "translate_filter"]

#: Beyond this magnitude a 64-bit float no longer represents every integer, so equality and range
#: comparisons inside Qdrant could disagree with ours.
EXACT_NUMBER_LIMIT = EXACT_FLOAT_LIMIT


@dataclass(frozen=True, slots=True)
class QdrantTarget:
    """The constructors of one Qdrant library, each building one condition.

    ``filter(must, should, must_not)`` takes lists (or ``None``); the others take the already-quoted key.
    """

    name: str
    filter: Callable[[list[Any] | None, list[Any] | None, list[Any] | None], Any]
    match_value: Callable[[str, str | bool], Any]
    match_any: Callable[[str, list[str]], Any]
    range: Callable[[str, float | None, float | None, float | None, float | None], Any]
    is_empty: Callable[[str], Any]


def quote_key(field: str, backend: str) -> str:
    """``field`` as one quoted JSON-path segment (dots and brackets stay part of the name)."""
    if '"' in field or "\\" in field:
        raise UnsupportedFilter(
            backend, f"a filter on field {field!r} (Qdrant cannot address '\"' or '\\\\')"
        )
    return f'"{field}"'


def _number(value: float | int, field: str, backend: str) -> float | int:
    float_exact(backend, field, value)
    return value


def _eq(t: QdrantTarget, field: str, value: FilterValue) -> Any:
    key = quote_key(field, t.name)
    if isinstance(value, str | bool):
        return t.match_value(key, value)
    v = _number(value, field, t.name)
    return t.range(key, None, v, None, v)


def _in(t: QdrantTarget, field: str, values: Sequence[FilterValue]) -> Any:
    strings = [v for v in values if isinstance(v, str)]
    conds = [t.match_any(quote_key(field, t.name), strings)] if strings else []
    conds.extend(_eq(t, field, v) for v in values if not isinstance(v, str))
    return conds[0] if len(conds) == 1 else t.filter(None, conds, None)


def _range(t: QdrantTarget, node: Range) -> Any:
    bounds = [
        None if b is None else _number(b, node.field, t.name) for b in (node.gt, node.gte, node.lt, node.lte)
    ]
    return t.range(quote_key(node.field, t.name), *bounds)


def translate_filter(node: Filter, target: QdrantTarget) -> Any:
    """Translate ``node`` with ``target``'s constructors; raise ``UnsupportedFilter`` for what cannot be said.

    >>> rec = QdrantTarget(
    ...     name="demo",
    ...     filter=lambda must, should, must_not: ("filter", must, should, must_not),
    ...     match_value=lambda k, v: ("match", k, v),
    ...     match_any=lambda k, vs: ("any", k, vs),
    ...     range=lambda k, gt, gte, lt, lte: ("range", k, gt, gte, lt, lte),
    ...     is_empty=lambda k: ("is_empty", k),
    ... )
    >>> translate_filter(Ne("lang", "en"), rec)
    ('filter', None, None, [('match', '"lang"', 'en')])
    """
    t = target
    match node:
        case Eq(field=field, value=value):
            return _eq(t, field, value)
        case Ne(field=field, value=value):
            return t.filter(None, None, [_eq(t, field, value)])
        case In(field=field, values=values):
            return _in(t, field, values)
        case Nin(field=field, values=values):
            return t.filter(None, None, [_in(t, field, values)])
        case Range():
            return _range(t, node)
        case Exists(field=field):
            return t.filter(None, None, [t.is_empty(quote_key(field, t.name))])
        case And(filters=kids):
            return t.filter([translate_filter(k, t) for k in kids], None, None)
        case Or(filters=kids):
            return t.filter(None, [translate_filter(k, t) for k in kids], None)
        case Not(filter=inner):
            return t.filter(None, None, [translate_filter(inner, t)])
        case _:
            raise UnsupportedFilter(t.name, f"the filter node {type(node).__name__}")


def scoped_filter(target: QdrantTarget, namespace_condition: Any, node: Filter | None) -> Any:
    """The namespace condition AND the caller's filter: the one shape every backend call uses."""
    if node is None:
        return target.filter([namespace_condition], None, None)
    return target.filter([namespace_condition, translate_filter(node, target)], None, None)
