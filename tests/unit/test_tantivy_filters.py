"""The tantivy filter translation, operator by operator: the pure plan, then what it matches in a real index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vectorrouter.backends.tantivy_filters import (
    AllOf,
    AnyOf,
    Everything,
    NoneOf,
    NumRange,
    Terms,
    encode_number,
    facts,
    translate_filter,
)
from vectorrouter.backends.tantivy_keyword import TantivyBackend
from vectorrouter.errors import InvalidRecord, UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range
from vectorrouter.types import Record

NS = "t:f:v"
I64_MAX = 2**63 - 1


# -- the number key ---------------------------------------------------------------------------------
numbers = st.one_of(
    st.integers(min_value=-(2**63), max_value=I64_MAX),
    st.floats(allow_nan=False, allow_infinity=False),
)


@given(numbers, numbers)
def test_number_keys_order_and_equal_exactly_like_the_numbers(a: float, b: float) -> None:
    ka, kb = encode_number(a), encode_number(b)
    assert (ka < kb) == (a < b)
    assert (ka == kb) == (a == b)


def test_number_keys_separate_integers_that_float64_would_merge() -> None:
    big = 2**62 + 1  # float64 rounds it to 2**62
    assert float(big) == float(2**62)
    assert encode_number(2**62) < encode_number(big) < encode_number(2**62 + 2)
    assert encode_number(2**62) == encode_number(float(2**62))
    assert encode_number(I64_MAX) < encode_number(float(2**63))


def test_negative_zero_equals_zero() -> None:
    assert encode_number(-0.0) == encode_number(0.0) == encode_number(0)


# -- facts ------------------------------------------------------------------------------------------
def test_facts_tag_each_type_so_booleans_never_equal_numbers() -> None:
    got = facts({"a": True, "b": 1, "c": "1"})
    assert got == ["f1:ab1", "f1:ae", f"f1:bn{encode_number(1)}", "f1:be", "f1:cs1", "f1:ce"]


def test_facts_give_one_term_per_list_element_and_no_exists_for_null_or_empty() -> None:
    got = facts({"tags": ["x", "y"], "gone": None, "none": [], "blank": ""})
    assert got == ["f4:tagssx", "f4:tagssy", "f4:tagse", "f5:blanks", "f5:blanke"]


def test_long_strings_and_field_names_are_indexed_by_digest() -> None:
    (value_fact, _) = facts({"k": "v" * 500})
    assert value_fact.startswith("f1:kh")
    assert len(value_fact) == len("f1:kh") + 64
    (name_fact, _) = facts({"n" * 300: "x"})
    assert name_fact.startswith("g")
    assert name_fact.endswith("sx")


def test_field_names_cannot_run_into_values() -> None:
    # without the length prefix, field "ab" value "c" and field "a" value "bc" could share a term
    assert set(facts({"ab": "c"})).isdisjoint(facts({"a": "bc"}))


def test_integers_beyond_64_bits_are_refused_naming_record_and_key() -> None:
    with pytest.raises(InvalidRecord, match=r"'r1'.*'big'"):
        facts({"big": 2**64}, record_id="r1")


# -- the plan, operator by operator ----------------------------------------------------------------
def test_eq_translates_to_one_typed_term() -> None:
    assert translate_filter(Eq("color", "red")) == Terms(("f5:colorsred",))
    assert translate_filter(Eq("flag", False)) == Terms(("f4:flagb0",))
    assert translate_filter(Eq("year", 2003)) == translate_filter(Eq("year", 2003.0))


def test_ne_and_nin_subtract_from_everything_so_missing_fields_match() -> None:
    assert translate_filter(Ne("color", "red")) == NoneOf(Terms(("f5:colorsred",)))
    assert translate_filter(Nin("n", (1, 1.0, 2))) == NoneOf(
        Terms((f"f1:nn{encode_number(1)}", f"f1:nn{encode_number(2)}"))
    )


def test_in_matches_any_of_its_terms() -> None:
    assert translate_filter(In("c", ("a", "b"))) == Terms(("f1:csa", "f1:csb"))


def test_range_keeps_the_tightest_bounds() -> None:
    plan = translate_filter(Range("x", gt=1, gte=1, lt=5.5, lte=4))
    assert plan == NumRange("f1:xn", encode_number(1), False, encode_number(4), True)
    assert translate_filter(Range("x", gte=2)) == NumRange("f1:xn", encode_number(2), True, None, True)


def test_range_admits_only_numeric_facts_of_its_field_within_bounds() -> None:
    plan = translate_filter(Range("x", gte=2, lt=3))
    assert isinstance(plan, NumRange)
    assert plan.admits(f"f1:xn{encode_number(2)}")
    assert plan.admits(f"f1:xn{encode_number(2.999)}")
    assert not plan.admits(f"f1:xn{encode_number(3)}")
    assert not plan.admits(f"f1:yn{encode_number(2.5)}")
    assert plan.scan_prefix().startswith("f1:xn")
    assert len(plan.scan_prefix()) > len("f1:xn")


def test_exists_and_combinators() -> None:
    assert translate_filter(Exists("m")) == Terms(("f1:me",))
    assert translate_filter(And(())) == Everything()
    assert translate_filter(Eq("a", 1) & Eq("b", 2)) == AllOf(
        (translate_filter(Eq("a", 1)), translate_filter(Eq("b", 2)))
    )
    assert translate_filter(Eq("a", 1) | Eq("b", 2)) == AnyOf(
        (translate_filter(Eq("a", 1)), translate_filter(Eq("b", 2)))
    )
    assert translate_filter(~Exists("m")) == NoneOf(Terms(("f1:me",)))


def test_values_beyond_64_bits_raise_unsupported_instead_of_matching_wrongly() -> None:
    for flt in (Eq("n", 2**70), In("n", (1, -(2**64))), Range("n", gt=2**63)):
        with pytest.raises(UnsupportedFilter, match="tantivy"):
            translate_filter(flt)


def test_unknown_filter_nodes_raise_unsupported() -> None:
    class Near(Filter):
        op = "near"

    with pytest.raises(UnsupportedFilter, match="Near"):
        translate_filter(Near())


# -- what each operator matches in a real index -----------------------------------------------------
EDGE: list[dict[str, Any]] = [
    {"s": "red", "i": 1, "f": 1.0, "b": True, "l": ["x", "y"], "nums": [1, 10]},
    {"s": "Red", "i": 2, "f": 2.5, "b": False, "l": ["y"], "nums": [5]},
    {"s": "blue", "i": -3, "f": -0.0, "l": [], "nums": [4.5, 6]},
    {"s": "", "i": I64_MAX, "f": 1e300, "b": None, "nums": []},
    {"i": 2**62 + 1, "f": 2**62, "l": ["z"]},
    {"s": "1", "i": True, "f": "2.5"},
    {},
]

CASES: list[tuple[str, Filter]] = [
    ("eq_str_is_case_sensitive", Eq("s", "red")),
    ("eq_empty_string", Eq("s", "")),
    ("eq_int_matches_equal_float", Eq("f", 1)),
    ("eq_float_matches_equal_int", Eq("i", 1.0)),
    ("eq_bool_never_matches_int", Eq("i", True)),
    ("eq_int_never_matches_bool", Eq("b", 1)),
    ("eq_float", Eq("f", 2.5)),
    ("eq_str_never_matches_number", Eq("f", "1.0")),
    ("eq_negative_zero", Eq("f", 0)),
    ("eq_big_int_exact", Eq("i", 2**62 + 1)),
    ("eq_big_int_neighbour", Eq("i", 2**62)),
    ("eq_list_element", Eq("l", "y")),
    ("eq_numeric_list_element", Eq("nums", 4.5)),
    ("ne_includes_missing_field", Ne("s", "red")),
    ("ne_on_list", Ne("l", "y")),
    ("in_mixed_types", In("i", (2, "1", True))),
    ("in_list_field", In("l", ("z", "x"))),
    ("nin_includes_missing_and_null", Nin("b", (True,))),
    ("nin_int", Nin("i", (1, 2))),
    ("range_int", Range("i", gte=1, lt=3)),
    ("range_float_open_above", Range("f", gt=1.0)),
    ("range_excludes_booleans_and_strings", Range("i", lte=1)),
    ("range_needs_one_element_within_both_bounds", Range("nums", gte=4, lte=6)),
    ("range_list_gap", Range("nums", gt=6, lt=10)),
    ("range_huge", Range("f", gte=1e299)),
    ("range_near_i64_max", Range("i", gt=2**62)),
    ("exists", Exists("b")),
    ("exists_empty_list_is_absent", Exists("l")),
    ("exists_empty_string_is_present", Exists("s")),
    ("not_exists", Not(Exists("nums"))),
    ("and", And((Exists("l"), Range("i", gt=0)))),
    ("or", Or((Eq("s", "blue"), Eq("b", False)))),
    ("not_of_or", Not(Or((Eq("s", "red"), Exists("b"))))),
    ("nested", And((Not(Eq("s", "red")), Or((Range("f", lt=0.5), In("l", ("z",))))))),
    ("and_of_nothing", And(())),
]


@pytest.fixture(scope="module")
def edge_backend() -> Iterator[TantivyBackend]:
    b = TantivyBackend()
    b.upsert(NS, [Record(id=f"r{i}", text="word", metadata=md) for i, md in enumerate(EDGE)])
    b.upsert("other:f:v", [Record(id="r0", text="word", metadata=EDGE[0])])  # must never leak in
    yield b
    b.close()


def _expected(flt: Filter) -> set[str]:
    return {f"r{i}" for i, md in enumerate(EDGE) if flt.matches(md)}


@pytest.mark.parametrize(("case", "flt"), CASES, ids=[c for c, _ in CASES])
def test_each_operator_matches_exactly_what_the_reference_semantics_say(
    edge_backend: TantivyBackend, case: str, flt: Filter
) -> None:
    got = {r.id for batch in edge_backend.scroll(NS, flt) for r in batch}
    assert got == _expected(flt), case
    assert edge_backend.count(NS, flt) == len(_expected(flt)), case
    assert {h.id for h in edge_backend.search(NS, "word", k=50, filter=flt)} == _expected(flt), case


def test_metadata_comes_back_with_its_types(edge_backend: TantivyBackend) -> None:
    got = {r.id: dict(r.metadata) for r in edge_backend.get(NS, [f"r{i}" for i in range(len(EDGE))])}
    for i, md in enumerate(EDGE):
        assert got[f"r{i}"] == md
        for key, value in md.items():
            assert type(got[f"r{i}"][key]) is type(value), (i, key)


def test_unsupported_filter_raises_from_every_verb_and_deletes_nothing(edge_backend: TantivyBackend) -> None:
    bad = Eq("s", "red") & Eq("i", 2**70)
    for call in (
        lambda: edge_backend.count(NS, bad),
        lambda: edge_backend.search(NS, "word", k=5, filter=bad),
        lambda: edge_backend.search(NS, "", k=5, filter=bad),
        lambda: edge_backend.delete_by_filter(NS, bad),
        lambda: list(edge_backend.scroll(NS, bad)),
    ):
        with pytest.raises(UnsupportedFilter):
            call()
    assert edge_backend.count(NS) == len(EDGE)


# -- random filters against the reference ----------------------------------------------------------
FIELDS = ("a", "b", "tags")
VALUES = st.one_of(
    st.sampled_from(["x", "y", "z", ""]),
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.0, -2.0, 2.0]),
    st.booleans(),
)
META_VALUES = st.one_of(VALUES, st.none(), st.lists(st.sampled_from(["x", "y", 1, 2, 2.5]), max_size=3))


def _leaf() -> st.SearchStrategy[Filter]:
    field = st.sampled_from(FIELDS)
    bound = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from([0.5, 1.0, 2.5]))
    ranges = st.tuples(field, bound, bound, bound, bound).filter(lambda t: any(b is not None for b in t[1:]))
    return st.one_of(
        st.builds(Eq, field, VALUES),
        st.builds(Ne, field, VALUES),
        st.builds(In, field, st.lists(VALUES, min_size=1, max_size=3).map(tuple)),
        st.builds(Nin, field, st.lists(VALUES, min_size=1, max_size=3).map(tuple)),
        st.builds(Exists, field),
        ranges.map(lambda t: Range(t[0], gt=t[1], gte=t[2], lt=t[3], lte=t[4])),
    )


filters = st.recursive(
    _leaf(),
    lambda kids: st.one_of(
        st.lists(kids, max_size=3).map(lambda fs: And(tuple(fs))),
        st.lists(kids, min_size=1, max_size=3).map(lambda fs: Or(tuple(fs))),
        kids.map(Not),
    ),
    max_leaves=6,
)

RANDOM_META = [
    {k: v for k, v in zip(FIELDS, vals, strict=True) if v != "__missing__"}
    for vals in [
        ("x", 1, ["x", 1]),
        ("y", 2.0, []),
        ("", True, None),
        (None, -3, [2.5, "y"]),
        ("__missing__", 0.5, ["x"]),
        ("z", "__missing__", [1, 2]),
        (False, 2, "__missing__"),
        (0, -2.0, ["y", "x"]),
    ]
]


@pytest.fixture(scope="module")
def random_backend() -> Iterator[TantivyBackend]:
    b = TantivyBackend()
    b.upsert(NS, [Record(id=f"m{i}", text="word", metadata=md) for i, md in enumerate(RANDOM_META)])
    yield b
    b.close()


@settings(max_examples=300, deadline=None)
@given(flt=filters)
def test_random_filter_trees_agree_with_the_reference(random_backend: TantivyBackend, flt: Filter) -> None:
    expected = {f"m{i}" for i, md in enumerate(RANDOM_META) if flt.matches(md)}
    got = {r.id for batch in random_backend.scroll(NS, flt) for r in batch}
    assert got == expected, flt.canonical()
