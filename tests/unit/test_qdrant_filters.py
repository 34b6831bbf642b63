"""The shared Qdrant filter translator, checked node by node without an engine.

A recording target turns the translation into plain tuples; ``qdrant_eval`` evaluates those tuples with
Qdrant's documented semantics (match-value on any list element, ranges over numbers only, is-empty for
missing/null/[]), so each case can be compared with the reference ``Filter.matches``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vectorrouter.backends._qdrant_filters import QdrantTarget, quote_key, scoped_filter, translate_filter
from vectorrouter.errors import UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range

REC = QdrantTarget(
    name="recording",
    filter=lambda must, should, must_not: ("filter", must, should, must_not),
    match_value=lambda key, value: ("match", key, value),
    match_any=lambda key, values: ("any", key, values),
    range=lambda key, gt, gte, lt, lte: ("range", key, gt, gte, lt, lte),
    is_empty=lambda key: ("is_empty", key),
)


def _values(payload: dict[str, Any], quoted: str) -> list[Any]:
    value = payload.get(quoted[1:-1])
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def qdrant_eval(cond: Any, payload: dict[str, Any]) -> bool:
    """Qdrant's condition semantics over a flat payload (the model the translation is checked against)."""
    kind = cond[0]
    if kind == "filter":
        _, must, should, must_not = cond
        return (
            all(qdrant_eval(c, payload) for c in must or [])
            and (not should or any(qdrant_eval(c, payload) for c in should))
            and not any(qdrant_eval(c, payload) for c in must_not or [])
        )
    if kind == "match":  # a bool matches only booleans; a string only strings
        _, key, want = cond
        return any(type(v) is type(want) and v == want for v in _values(payload, key))
    if kind == "any":
        _, key, wants = cond
        return any(isinstance(v, str) and v in wants for v in _values(payload, key))
    if kind == "range":
        _, key, gt, gte, lt, lte = cond
        return any(
            _number(v)
            and (gt is None or v > gt)
            and (gte is None or v >= gte)
            and (lt is None or v < lt)
            and (lte is None or v <= lte)
            for v in _values(payload, key)
        )
    if kind == "is_empty":
        return not _values(payload, cond[1])
    raise AssertionError(f"unknown condition {cond!r}")


PAYLOADS: list[dict[str, Any]] = [
    {"color": "red", "year": 2003, "score": 2.5, "tags": ["apple", "pear"], "flag": True},
    {"color": "blue", "year": 2003.0, "score": 2, "tags": ["pear"], "flag": False, "maybe": "m"},
    {"color": ["red", "green"], "year": 1999, "score": None, "tags": [], "flag": 1},
    {"color": "1", "year": "2003", "tags": [2003, 4.5], "maybe": None},
    {},
]


def _agrees(f: Filter) -> None:
    translated = translate_filter(f, REC)
    for p in PAYLOADS:
        assert qdrant_eval(translated, p) == f.matches(p), (f, p)


# -- structure, operator by operator ----------------------------------------------------------------
def test_eq_on_a_string_is_a_match_value_on_the_quoted_key() -> None:
    assert translate_filter(Eq("color", "red"), REC) == ("match", '"color"', "red")


def test_eq_on_a_bool_is_a_match_value_of_the_bool() -> None:
    assert translate_filter(Eq("flag", True), REC) == ("match", '"flag"', True)


@pytest.mark.parametrize("value", [2003, 2.5, -0.0, 2.0])
def test_eq_on_a_number_is_a_closed_range_so_ints_and_floats_compare(value: float) -> None:
    assert translate_filter(Eq("year", value), REC) == ("range", '"year"', None, value, None, value)


def test_ne_is_must_not_of_eq_so_records_without_the_field_match() -> None:
    t = translate_filter(Ne("maybe", "m"), REC)
    assert t == ("filter", None, None, [("match", '"maybe"', "m")])
    assert qdrant_eval(t, {}) is True
    assert qdrant_eval(t, {"maybe": None}) is True
    assert qdrant_eval(t, {"maybe": "m"}) is False


def test_in_of_strings_is_one_match_any() -> None:
    assert translate_filter(In("color", ("red", "blue")), REC) == ("any", '"color"', ["red", "blue"])


def test_in_of_mixed_values_ors_match_any_with_one_condition_per_other_value() -> None:
    t = translate_filter(In("year", ("x", 2003, True)), REC)
    assert t == (
        "filter",
        None,
        [("any", '"year"', ["x"]), ("range", '"year"', None, 2003, None, 2003), ("match", '"year"', True)],
        None,
    )


def test_in_of_one_number_is_just_that_condition() -> None:
    assert translate_filter(In("year", (2003,)), REC) == ("range", '"year"', None, 2003, None, 2003)


def test_nin_is_must_not_of_in_so_records_without_the_field_match() -> None:
    t = translate_filter(Nin("color", ("red",)), REC)
    assert t == ("filter", None, None, [("any", '"color"', ["red"])])
    assert qdrant_eval(t, {}) is True


def test_range_passes_every_bound_through() -> None:
    assert translate_filter(Range("score", gt=1, lte=2.5), REC) == ("range", '"score"', 1, None, None, 2.5)


def test_exists_is_must_not_is_empty() -> None:
    t = translate_filter(Exists("maybe"), REC)
    assert t == ("filter", None, None, [("is_empty", '"maybe"')])
    assert [
        qdrant_eval(t, p) for p in ({}, {"maybe": None}, {"maybe": []}, {"maybe": "x"}, {"maybe": [0]})
    ] == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_and_or_not_nest_as_must_should_must_not() -> None:
    f = Or((And((Eq("color", "red"), Not(Eq("flag", True)))), In("year", (2008,))))
    assert translate_filter(f, REC) == (
        "filter",
        None,
        [
            (
                "filter",
                [("match", '"color"', "red"), ("filter", None, None, [("match", '"flag"', True)])],
                None,
                None,
            ),
            ("range", '"year"', None, 2008, None, 2008),
        ],
        None,
    )


def test_empty_and_matches_everything() -> None:
    t = translate_filter(And(()), REC)
    assert t == ("filter", [], None, None)
    assert all(qdrant_eval(t, p) for p in PAYLOADS)


def test_namespace_condition_is_always_anded_in() -> None:
    ns = ("match", '"_vr_ns"', "t:f:v")
    assert scoped_filter(REC, ns, None) == ("filter", [ns], None, None)
    assert scoped_filter(REC, ns, Or((Eq("a", "x"), Eq("b", "y")))) == (
        "filter",
        [ns, ("filter", None, [("match", '"a"', "x"), ("match", '"b"', "y")], None)],
        None,
        None,
    )


# -- semantics against the reference ----------------------------------------------------------------
@pytest.mark.parametrize(
    "f",
    [
        Eq("color", "red"),  # list field: any element
        Eq("tags", "pear"),
        Eq("year", 2003),  # matches 2003 and 2003.0, not "2003"
        Eq("score", 2.5),  # float equality
        Eq("score", 2.0),  # matches the int 2
        Eq("flag", True),  # not the integer 1
        Eq("flag", 1),  # not True
        Eq("tags", 4.5),
        Ne("color", "red"),
        Ne("maybe", "m"),
        In("color", ("green", "blue")),
        In("tags", (2003, "apple")),
        Nin("color", ("red",)),
        Nin("year", (2003, 1999)),
        Range("year", gte=2000),
        Range("score", gt=2, lt=3),
        Range("tags", lte=2003),
        Exists("maybe"),
        Exists("score"),
        Exists("tags"),
        Not(Exists("maybe")),
        And((Eq("color", "red"), Range("year", gte=2000))),
        Or((Eq("color", "blue"), Not(Exists("tags")))),
        Not(Or((Eq("flag", True), In("year", (1999,))))),
    ],
    ids=repr,
)
def test_translation_agrees_with_reference_semantics(f: Filter) -> None:
    _agrees(f)


_fields = st.sampled_from(["color", "year", "score", "tags", "flag", "maybe", "a.b"])
_values_st = st.one_of(
    st.sampled_from(["red", "blue", "pear", "1"]),
    st.integers(-3, 3),
    st.sampled_from([0.5, 2.0, -1.5]),
    st.booleans(),
)
_leaves = st.one_of(
    st.builds(Eq, _fields, _values_st),
    st.builds(Ne, _fields, _values_st),
    st.builds(In, _fields, st.lists(_values_st, min_size=1, max_size=3).map(tuple)),
    st.builds(Nin, _fields, st.lists(_values_st, min_size=1, max_size=3).map(tuple)),
    st.builds(Range, _fields, gte=st.integers(-3, 3)),
    st.builds(Range, _fields, lt=st.sampled_from([0.5, 2.0])),
    st.builds(Exists, _fields),
)
_trees = st.recursive(
    _leaves,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3).map(lambda k: And(tuple(k))),
        st.lists(kids, min_size=1, max_size=3).map(lambda k: Or(tuple(k))),
        kids.map(Not),
    ),
    max_leaves=8,
)
_meta_values = st.one_of(
    st.none(),
    _values_st,
    st.lists(
        st.one_of(st.sampled_from(["red", "pear"]), st.integers(-3, 3), st.sampled_from([0.5, 2.0])),
        max_size=3,
    ),
)
_payloads = st.dictionaries(_fields, _meta_values, max_size=5)


@settings(max_examples=300, deadline=None)
@given(_trees, _payloads)
def test_any_filter_tree_agrees_with_reference_semantics(f: Filter, payload: dict[str, Any]) -> None:
    assert qdrant_eval(translate_filter(f, REC), payload) == f.matches(payload)


# -- what cannot be expressed raises ----------------------------------------------------------------
@pytest.mark.parametrize(
    "f",
    [Eq("n", 2**53), Eq("n", -(2**60)), In("n", ("a", 2**53)), Range("n", gt=1e17), Eq("n", 9.1e15)],
    ids=repr,
)
def test_numbers_qdrant_cannot_compare_exactly_are_refused(f: Filter) -> None:
    with pytest.raises(UnsupportedFilter, match="2\\*\\*53"):
        translate_filter(f, REC)


@pytest.mark.parametrize("field", ['say "hi"', "back\\slash"])
def test_field_names_the_json_path_cannot_quote_are_refused(field: str) -> None:
    with pytest.raises(UnsupportedFilter, match="cannot address"):
        translate_filter(Exists(field), REC)


def test_an_unknown_node_type_is_refused_not_dropped() -> None:
    class Near(Filter):
        op = "near"

    with pytest.raises(UnsupportedFilter, match="Near"):
        translate_filter(And((Eq("a", "x"), Near())), REC)


def test_keys_are_quoted_so_dots_and_brackets_stay_in_the_name() -> None:
    assert quote_key("author.name", "x") == '"author.name"'
    assert quote_key("tags[0]", "x") == '"tags[0]"'
