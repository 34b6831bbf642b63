"""MetadataFilters operator by operator into the core tree; what cannot be expressed raises."""

from typing import Any

import pytest
from llama_index.core.vector_stores.types import FilterCondition, MetadataFilter, MetadataFilters
from vectorrouter import InvalidFilter, UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, In, Ne, Nin, Not, Or, Range

from llama_index.vector_stores.vectorrouter import to_filter


def one(op: str, value: Any, key: str = "k") -> MetadataFilters:
    return MetadataFilters(filters=[MetadataFilter(key=key, operator=op, value=value)])


@pytest.mark.parametrize(
    ("filters", "tree"),
    [
        (one("==", "x"), Eq("k", "x")),
        (one("!=", 3), Ne("k", 3)),
        (one(">", 1), Range("k", gt=1)),
        (one(">=", 1.5), Range("k", gte=1.5)),
        (one("<", 2), Range("k", lt=2)),
        (one("<=", 2), Range("k", lte=2)),
        (one("in", ["a", "b"]), In("k", ("a", "b"))),
        (one("nin", [1, 2]), Nin("k", (1, 2))),
        (one("any", ["a", "b"]), In("k", ("a", "b"))),
        (one("all", ["a", "b"]), And((Eq("k", "a"), Eq("k", "b")))),
        (one("contains", "a"), Eq("k", "a")),
        (one("is_empty", None), Or((Not(Exists("k")), Eq("k", "")))),
        (
            MetadataFilters(
                filters=[MetadataFilter(key="a", value=1), MetadataFilter(key="b", value=2)],
                condition=FilterCondition.OR,
            ),
            Or((Eq("a", 1), Eq("b", 2))),
        ),
        (
            MetadataFilters(
                filters=[MetadataFilter(key="a", value=1), MetadataFilter(key="b", value=2)],
                condition=FilterCondition.NOT,
            ),
            Not(Or((Eq("a", 1), Eq("b", 2)))),
        ),
        (
            MetadataFilters(
                filters=[
                    MetadataFilter(key="a", value=1),
                    MetadataFilters(
                        filters=[MetadataFilter(key="b", value=2), MetadataFilter(key="c", value=3)],
                        condition=FilterCondition.OR,
                    ),
                ]
            ),
            And((Eq("a", 1), Or((Eq("b", 2), Eq("c", 3))))),
        ),
        (MetadataFilters(filters=[]), And(())),
    ],
)
def test_each_operator_and_condition_translates(filters: MetadataFilters, tree: object) -> None:
    assert to_filter(filters) == tree


@pytest.mark.parametrize("op", ["text_match", "text_match_insensitive"])
def test_substring_operators_raise_unsupported(op: str) -> None:
    with pytest.raises(UnsupportedFilter, match=op):
        to_filter(one(op, "needle"))


def test_comparing_strings_by_order_raises_unsupported() -> None:
    with pytest.raises(UnsupportedFilter, match="string"):
        to_filter(one(">", "2020-01-01"))


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (one("==", None), "is_empty"),
        (one("in", "a"), "non-empty list"),
        (one("all", []), "non-empty list"),
        (one("==", ["a"]), "one value"),
    ],
)
def test_malformed_values_are_invalid_and_say_why(filters: MetadataFilters, message: str) -> None:
    with pytest.raises(InvalidFilter, match=message):
        to_filter(filters)


def test_no_filters_means_no_filter() -> None:
    assert to_filter(None) is None


@pytest.mark.parametrize(
    "filters",
    [
        one("==", 2**70),
        one("!=", -(2**64)),
        one(">", float("inf")),
        one("in", [1, 2**63]),
        one("nin", [float("nan")]),
    ],
)
def test_a_value_flat_metadata_cannot_hold_is_refused_not_matched_against_nothing(
    filters: MetadataFilters,
) -> None:
    # such values stay only inside the node's JSON: a condition on them would silently find nothing
    with pytest.raises(UnsupportedFilter, match="not held in filterable metadata"):
        to_filter(filters)


def test_the_largest_64_bit_integers_still_filter() -> None:
    assert to_filter(one("==", 2**63 - 1)) == Eq("k", 2**63 - 1)
    assert to_filter(one("in", [-(2**63)])) == In("k", (-(2**63),))
