import pytest

from vectorrouter.errors import InvalidFilter
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range, and_all


def test_dict_syntax_parses_to_the_same_tree_as_node_syntax() -> None:
    parsed = Filter.from_dict({"lang": "en", "year": {"$gte": 2020, "$lt": 2024}, "tag": {"$in": ["a", "b"]}})
    assert parsed == And((Eq("lang", "en"), Range("year", gte=2020, lt=2024), In("tag", ("a", "b"))))


def test_combinators_parse_recursively() -> None:
    parsed = Filter.from_dict({"$or": [{"a": 1}, {"$not": {"b": {"$exists": True}}}]})
    assert parsed == Or((Eq("a", 1), Not(Exists("b"))))


def test_exists_false_is_not_exists() -> None:
    assert Filter.from_dict({"x": {"$exists": False}}) == Not(Exists("x"))


def test_round_trip_through_to_dict_is_identity() -> None:
    f = Or((And((Eq("a", "x"), Range("n", gt=1, lte=5))), Nin("t", ("p", "q")), Not(Ne("b", True))))
    assert Filter.from_dict(f.to_dict()) == f


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"a": {"$regex": "x"}}, "unknown operator '\\$regex'"),
        ({"$xor": []}, "unknown combinator"),
        ({"a": {"$in": "abc"}}, "takes a list"),
        ({"a": {"$in": []}}, "at least one value"),
        ({"a": {"$gt": "2020"}}, "must be a finite number"),
        ({"a": {"$exists": "yes"}}, "true or false"),
        ({"a": {"b": 1}}, "unknown operator 'b'"),
        ({"a": [1, 2]}, "type list"),
        ({"$and": {"a": 1}}, "non-empty list"),
        ({"_vr_ns": "x"}, "reserved prefix"),
    ],
)
def test_malformed_filters_name_the_problem(spec: dict, message: str) -> None:
    with pytest.raises(InvalidFilter, match=message):
        Filter.from_dict(spec)


def test_booleans_never_equal_numbers() -> None:
    assert not Eq("flag", True).matches({"flag": 1})
    assert not Eq("n", 1).matches({"n": True})
    assert Eq("n", 1).matches({"n": 1.0})


def test_list_fields_match_any_element() -> None:
    md = {"tags": ["red", "blue"], "nums": [1, 7]}
    assert Eq("tags", "blue").matches(md)
    assert In("tags", ("green", "red")).matches(md)
    assert not Nin("tags", ("red",)).matches(md)
    assert Range("nums", gte=5).matches(md)
    assert Ne("tags", "green").matches(md)
    assert not Ne("tags", "red").matches(md)


def test_negations_match_records_missing_the_field() -> None:
    assert Ne("color", "red").matches({})
    assert Nin("color", ("red",)).matches({})
    assert not Range("year", gte=0).matches({})
    assert not Eq("color", "red").matches({})


def test_exists_treats_null_and_empty_list_as_absent() -> None:
    assert not Exists("x").matches({"x": None})
    assert not Exists("x").matches({"x": []})
    assert Exists("x").matches({"x": 0})
    assert Exists("x").matches({"x": ""})


def test_range_ignores_non_numeric_values() -> None:
    assert not Range("v", gte=0).matches({"v": "5"})
    assert not Range("v", gte=0).matches({"v": True})


def test_operators_build_trees() -> None:
    f = Eq("a", 1) & ~Eq("b", 2) | Exists("c")
    assert f == Or((And((Eq("a", 1), Not(Eq("b", 2)))), Exists("c")))


def test_empty_and_matches_everything_and_and_all_drops_none() -> None:
    assert Filter.from_dict({}) == And(())
    assert And(()).matches({"anything": 1})
    assert and_all(None, None) is None
    assert and_all(Eq("a", 1), None) == Eq("a", 1)


def test_canonical_form_is_stable_for_equal_filters() -> None:
    a = Filter.from_dict({"b": 2, "a": {"$in": [1, 2]}})
    b = Filter.from_dict({"b": 2, "a": {"$in": [1, 2]}})
    assert a is not None
    assert b is not None
    assert a.canonical() == b.canonical()
    assert a.fields() == {"a", "b"}


def test_range_needs_a_bound() -> None:
    with pytest.raises(InvalidFilter, match="at least one of"):
        Range("x")
