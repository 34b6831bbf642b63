"""The Pinecone filter translator, operator by operator (a pure function: no server, no SDK)."""

from __future__ import annotations

import pytest

from vectorrouter.backends.pinecone import from_metadata, to_metadata, to_pinecone_filter
from vectorrouter.errors import InvalidRecord, UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range
from vectorrouter.types import Record

MISSING = {"f": {"$exists": False}}


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Eq("f", "a"), {"f": {"$eq": "a"}}),
        (Eq("f", 3), {"f": {"$eq": 3}}),
        (Eq("f", True), {"f": {"$eq": True}}),
        (Ne("f", "a"), {"$or": [{"f": {"$ne": "a"}}, MISSING]}),
        (In("f", ("a", 2)), {"f": {"$in": ["a", 2]}}),
        (In("f", (True, False)), {"$or": [{"f": {"$eq": True}}, {"f": {"$eq": False}}]}),
        (Nin("f", ("a", "b")), {"$or": [{"f": {"$nin": ["a", "b"]}}, MISSING]}),
        (
            Nin("f", (True,)),
            {"$or": [{"f": {"$ne": True}}, MISSING]},
        ),
        (Range("f", gte=1, lt=5), {"f": {"$gte": 1, "$lt": 5}}),
        (Range("f", gt=0.5), {"f": {"$gt": 0.5}}),
        (Exists("f"), {"f": {"$exists": True}}),
        (And((Eq("a", 1), Eq("b", 2))), {"$and": [{"a": {"$eq": 1}}, {"b": {"$eq": 2}}]}),
        (Or((Eq("a", 1), Eq("b", 2))), {"$or": [{"a": {"$eq": 1}}, {"b": {"$eq": 2}}]}),
        (And((Eq("a", 1),)), {"a": {"$eq": 1}}),
    ],
    ids=lambda v: v.op if isinstance(v, Filter) else "",
)
def test_each_operator_translates_to_pinecone_syntax(flt: Filter, expected: dict[str, object]) -> None:
    assert to_pinecone_filter(flt) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Not(Eq("f", "a")), {"$or": [{"f": {"$ne": "a"}}, MISSING]}),
        (Not(Ne("f", "a")), {"f": {"$eq": "a"}}),
        (Not(In("f", ("a",))), {"$or": [{"f": {"$nin": ["a"]}}, MISSING]}),
        (Not(Nin("f", ("a",))), {"f": {"$in": ["a"]}}),
        (Not(Exists("f")), MISSING),
        (Not(Not(Eq("f", 1))), {"f": {"$eq": 1}}),
        (
            Not(And((Eq("a", 1), Exists("b")))),
            {"$or": [{"$or": [{"a": {"$ne": 1}}, {"a": {"$exists": False}}]}, {"b": {"$exists": False}}]},
        ),
        (
            Not(Or((Eq("a", 1), Exists("b")))),
            {"$and": [{"$or": [{"a": {"$ne": 1}}, {"a": {"$exists": False}}]}, {"b": {"$exists": False}}]},
        ),
    ],
)
def test_negations_are_pushed_down_because_pinecone_has_no_not(
    flt: Filter, expected: dict[str, object]
) -> None:
    assert to_pinecone_filter(flt) == expected


@pytest.mark.parametrize(
    "flt",
    [Not(Range("f", gte=1)), Or((Eq("a", 1), And(()))), Not(And(()))],
    ids=["negated_range", "nested_empty_and", "negated_empty_and"],
)
def test_what_pinecone_cannot_express_raises_instead_of_being_dropped(flt: Filter) -> None:
    with pytest.raises(UnsupportedFilter, match="pinecone cannot express"):
        to_pinecone_filter(flt)


def test_metadata_round_trips_nulls_empty_lists_and_integers() -> None:
    rec = Record(
        id="r", text="body", metadata={"n": 3, "x": 1.5, "b": True, "none": None, "tags": [], "s": ["a"]}
    )
    md = to_metadata(rec)
    assert md["_vr_text"] == "body"
    assert "none" not in md
    assert "tags" not in md
    stored = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in md.items()}
    text, back = from_metadata(stored)  # as Pinecone returns it: every number a float
    assert text == "body"
    assert back == rec.metadata
    assert type(back["n"]) is int
    assert type(back["x"]) is float


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"nums": [1, 2]}, "lists of strings only"),
        ({"big": 2**60}, "exceeds 2\\*\\*53"),
    ],
)
def test_metadata_pinecone_cannot_hold_is_refused(metadata: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRecord, match=message):
        to_metadata(Record(id="r", text="t", metadata=metadata))  # type: ignore[arg-type]


def test_oversized_text_is_refused_before_any_write() -> None:
    with pytest.raises(InvalidRecord, match="Pinecone allows 40960"):
        to_metadata(Record(id="r", text="x" * 50_000))


@pytest.mark.parametrize(
    "flt",
    [
        Eq("n", 2**53 + 1),
        Ne("n", -(2**60)),
        In("n", ("a", 2**53)),
        Nin("n", (1, 2**54)),
        Range("n", gt=1e17),
        Not(Eq("n", 2**53 + 1)),
        Eq("n", 1) | Range("n", lte=2**53),
    ],
)
def test_numbers_pinecone_cannot_hold_exactly_are_refused_not_rounded(flt: Filter) -> None:
    # Pinecone keeps numbers as 64-bit floats: a condition on 2**53 + 1 would also match 2**53
    with pytest.raises(UnsupportedFilter, match=r"exact only within ±2\*\*53"):
        to_pinecone_filter(flt)


def test_the_largest_exact_integer_still_passes() -> None:
    assert to_pinecone_filter(Eq("n", 2**53 - 1)) == {"n": {"$eq": 2**53 - 1}}
