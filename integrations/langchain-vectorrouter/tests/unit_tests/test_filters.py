"""LangChain dict filters become the core tree; what the stores cannot run raises instead of vanishing."""

from typing import Any

import pytest
from langchain_core.documents import Document
from vectorrouter import InvalidFilter, Router, UnsupportedFilter
from vectorrouter.filters import And, Eq, Exists, In, Ne, Nin, Not, Or, Range

from langchain_vectorrouter import BLOB_KEY, VectorRouterStore, to_filter
from langchain_vectorrouter._metadata import KEYS_KEY


@pytest.mark.parametrize(
    ("spec", "tree"),
    [
        ({"lang": "en"}, Eq("lang", "en")),
        ({"lang": {"$eq": "en"}}, Eq("lang", "en")),
        ({"lang": {"$ne": "en"}}, Ne("lang", "en")),
        ({"year": {"$gt": 1, "$lte": 5}}, Range("year", gt=1, lte=5)),
        ({"year": {"$gte": 1, "$lt": 5}}, Range("year", gte=1, lt=5)),
        ({"year": {"$between": [2020, 2023]}}, Range("year", gte=2020, lte=2023)),
        ({"lang": {"$in": ["en", "fr"]}}, In("lang", ("en", "fr"))),
        ({"lang": {"$nin": ["en"]}}, Nin("lang", ("en",))),
        # $exists also looks for the key among those kept JSON-encoded (see _metadata)
        ({"lang": {"$exists": True}}, Or((Exists("lang"), Eq(KEYS_KEY, "lang")))),
        ({"lang": {"$exists": False}}, Not(Or((Exists("lang"), Eq(KEYS_KEY, "lang"))))),
        ({"tags": {"$all": ["a", "b"]}}, And((Eq("tags", "a"), Eq("tags", "b")))),
        ({"$and": [{"a": 1}, {"b": 2}]}, And((Eq("a", 1), Eq("b", 2)))),
        ({"$or": [{"a": 1}, {"b": 2}]}, Or((Eq("a", 1), Eq("b", 2)))),
        ({"$nor": [{"a": 1}, {"b": 2}]}, Not(Or((Eq("a", 1), Eq("b", 2))))),
        ({"$not": {"a": 1}}, Not(Eq("a", 1))),
        ({"a": 1, "b": {"$ne": 2}}, And((Eq("a", 1), Ne("b", 2)))),
    ],
)
def test_each_operator_translates_to_its_core_node(spec: dict[str, Any], tree: object) -> None:
    assert to_filter(spec) == tree


@pytest.mark.parametrize(
    ("spec", "operator"),
    [
        ({"title": {"$like": "%ice%"}}, "$like"),
        ({"title": {"$ilike": "%ice%"}}, "$ilike"),
        ({"title": {"$regex": "^ice"}}, "$regex"),
        ({"tags": {"$contains": "a"}}, "$contains"),
        ({"$text": {"$search": "ice"}}, "$text"),
        ({"$or": [{"a": 1}, {"b": {"$size": 2}}]}, "$size"),
    ],
)
def test_operators_the_stores_cannot_run_raise_naming_the_operator(
    spec: dict[str, Any], operator: str
) -> None:
    with pytest.raises(UnsupportedFilter, match=operator.replace("$", r"\$")):
        to_filter(spec)


def test_a_callable_filter_raises_rather_than_being_ignored() -> None:
    with pytest.raises(UnsupportedFilter, match="callable"):
        to_filter(lambda doc: True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "spec",
    [{}, {"$and": []}, {"$or": {"a": 1}}, {"a": {}}, {"a": {"$between": [1]}}, {"a": {"$exists": "yes"}}],
)
def test_malformed_filters_are_invalid(spec: dict[str, Any]) -> None:
    with pytest.raises(InvalidFilter):
        to_filter(spec)


@pytest.fixture
def store(router: Router) -> VectorRouterStore:
    s = VectorRouterStore(router=router, namespace="filters:docs")
    s.add_documents(
        [
            Document(page_content="ice in 2019", metadata={"year": 2019, "tags": ["a"], "lang": "en"}),
            Document(page_content="ice in 2021", metadata={"year": 2021, "tags": ["a", "b"], "lang": "fr"}),
            Document(page_content="ice in 2023", metadata={"year": 2023, "tags": ["b"]}),
        ],
        ids=["y2019", "y2021", "y2023"],
    )
    return s


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"year": {"$between": [2020, 2023]}}, {"y2021", "y2023"}),
        ({"tags": {"$all": ["a", "b"]}}, {"y2021"}),
        ({"$nor": [{"lang": "en"}, {"lang": "fr"}]}, {"y2023"}),
        ({"lang": {"$exists": False}}, {"y2023"}),
        ({"$or": [{"year": 2019}, {"tags": "b", "lang": "fr"}]}, {"y2019", "y2021"}),
    ],
)
def test_filters_narrow_searches_in_every_mode(
    store: VectorRouterStore, spec: dict[str, Any], expected: set[str]
) -> None:
    for mode in ("dense", "keyword", "hybrid"):
        assert {d.id for d in store.similarity_search("ice", k=10, filter=spec, mode=mode)} == expected


def test_a_misspelt_filter_keyword_raises_instead_of_searching_everything(store: VectorRouterStore) -> None:
    with pytest.raises(TypeError, match="filters"):
        store.similarity_search("ice", k=3, filters={"lang": "en"})


def test_delete_by_filter_removes_only_the_matches(store: VectorRouterStore) -> None:
    store.delete(filter={"year": {"$lt": 2022}})
    assert {d.id for d in store.similarity_search("ice", k=10)} == {"y2023"}


@pytest.mark.parametrize(
    "spec",
    [
        {BLOB_KEY: {"$exists": True}},
        {BLOB_KEY: '{"author":{"name":"Ada"}}'},
        {KEYS_KEY: "author"},
        {KEYS_KEY: {"$exists": False}},
        {"$or": [{"lang": "en"}, {BLOB_KEY: {"$ne": "x"}}]},
        {"$not": {KEYS_KEY: {"$in": ["author"]}}},
    ],
)
def test_a_condition_on_the_metadata_encoding_itself_raises(spec: dict[str, Any]) -> None:
    # these keys hold the package's JSON encoding, not a caller's value: no answer would mean what was asked
    with pytest.raises(UnsupportedFilter, match="encoding"):
        to_filter(spec)


@pytest.fixture
def encoded(router: Router) -> VectorRouterStore:
    """Documents whose values under ``nested`` and ``mixed`` are kept JSON-encoded, beside flat ones."""
    s = VectorRouterStore(router=router, namespace="filters:encoded")
    s.add_documents(
        [
            Document(page_content="ice nested", metadata={"nested": {"a": 1}, "lang": "en"}),
            Document(page_content="ice mixed", metadata={"mixed": ["x", 1, None], "lang": "fr"}),
            Document(page_content="ice flat", metadata={"nested": "plain", "mixed": "plain"}),
            Document(page_content="ice bare", metadata={"lang": "en"}),
        ],
        ids=["nested", "mixed", "flat", "bare"],
    )
    return s


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"nested": {"$exists": True}}, {"nested", "flat"}),
        ({"nested": {"$exists": False}}, {"mixed", "bare"}),
        ({"mixed": {"$exists": True}}, {"mixed", "flat"}),
        ({"mixed": {"$exists": False}}, {"nested", "bare"}),
        ({"$nor": [{"nested": {"$exists": True}}, {"mixed": {"$exists": True}}]}, {"bare"}),
        ({"lang": {"$exists": False}}, {"flat"}),  # a flat key: as before
        ({"nested": "plain"}, {"flat"}),  # value operators compare flat values only
    ],
)
def test_exists_sees_keys_whose_values_are_kept_encoded(
    encoded: VectorRouterStore, spec: dict[str, Any], expected: set[str]
) -> None:
    for mode in ("dense", "keyword", "hybrid"):
        assert {d.id for d in encoded.similarity_search("ice", k=10, filter=spec, mode=mode)} == expected, (
            mode
        )


def test_delete_refuses_a_filter_on_the_encoding_and_deletes_nothing(encoded: VectorRouterStore) -> None:
    with pytest.raises(UnsupportedFilter):
        encoded.delete(filter={BLOB_KEY: {"$exists": True}})
    assert len(encoded.get_by_ids(["nested", "mixed", "flat", "bare"])) == 4
    encoded.delete(filter={"nested": {"$exists": False}})
    assert {d.id for d in encoded.get_by_ids(["nested", "mixed", "flat", "bare"])} == {"nested", "flat"}
