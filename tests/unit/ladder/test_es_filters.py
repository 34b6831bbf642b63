"""The Elasticsearch filter translator, operator by operator (a pure function: no cluster, no client)."""

from __future__ import annotations

import pytest

from vectorrouter.backends.elasticsearch import doc_id, to_es_query
from vectorrouter.errors import UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, Filter, In, Ne, Nin, Not, Or, Range


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Eq("f", "a"), {"term": {"md.f": "a"}}),
        (Eq("f", 2), {"term": {"md.f": 2}}),
        (Eq("f", False), {"term": {"md.f": False}}),
        (Ne("f", "a"), {"bool": {"must_not": [{"term": {"md.f": "a"}}]}}),
        (In("f", ("a", "b")), {"terms": {"md.f": ["a", "b"]}}),
        (Nin("f", (1, 2)), {"bool": {"must_not": [{"terms": {"md.f": [1, 2]}}]}}),
        (Range("f", gt=1, lte=4.5), {"range": {"md.f": {"gt": 1, "lte": 4.5}}}),
        (Exists("f"), {"exists": {"field": "md.f"}}),
        (And(()), {"match_all": {}}),
        (And((Eq("a", 1), Eq("b", 2))), {"bool": {"filter": [{"term": {"md.a": 1}}, {"term": {"md.b": 2}}]}}),
        (
            Or((Eq("a", 1), Exists("b"))),
            {
                "bool": {
                    "should": [{"term": {"md.a": 1}}, {"exists": {"field": "md.b"}}],
                    "minimum_should_match": 1,
                }
            },
        ),
        (Not(Range("f", gte=3)), {"bool": {"must_not": [{"range": {"md.f": {"gte": 3}}}]}}),
        (Not(Exists("f")), {"bool": {"must_not": [{"exists": {"field": "md.f"}}]}}),
    ],
    ids=lambda v: v.op if isinstance(v, Filter) else "",
)
def test_each_operator_has_an_exact_elasticsearch_form(flt: Filter, expected: dict[str, object]) -> None:
    assert to_es_query(flt) == expected


def test_dotted_metadata_keys_address_the_same_path() -> None:
    assert to_es_query(Eq("author.name", "ada")) == {"term": {"md.author.name": "ada"}}


def test_an_unknown_filter_node_raises_instead_of_being_dropped() -> None:
    class Regex(Filter):
        op = "regex"

    with pytest.raises(UnsupportedFilter, match="elasticsearch cannot express the filter node Regex"):
        to_es_query(Regex())


def test_document_ids_are_stable_digests_of_namespace_and_id() -> None:
    assert doc_id("a:b:v", "x") == doc_id("a:b:v", "x")
    assert doc_id("a:b:v", "x") != doc_id("a:b:w", "x")
    assert len(doc_id("a:b:v", "x" * 512)) == 40
