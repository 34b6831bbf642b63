"""Metadata comes back exactly as given, whatever the core can or cannot store flat."""

import math

import pytest
from langchain_core.documents import Document
from vectorrouter import InvalidRecord, Router

from langchain_vectorrouter import BLOB_KEY, VectorRouterStore
from langchain_vectorrouter._metadata import KEYS_KEY, decode, encode, storable

AWKWARD = {
    "source": "report.pdf",
    "page": 3,
    "score": 0.25,
    "draft": False,
    "reviewer": None,
    "tags": ["a", "b"],
    "author": {"name": "Ada", "orcid": None, "affiliations": [{"name": "UCL", "since": 2019}]},
    "flags": [True, False],
    "mixed": ["x", 1, None],
    "matrix": [[1, 2], [3, 4]],
    "huge": 2**70,
    "nan": math.inf,
    "_vr_internal": "reserved by the core",
    "": "empty key",
    BLOB_KEY: "a user key that happens to share our blob's name",
    KEYS_KEY: ["a user key that happens to share our key list's name"],
    "empty": [],
    "empty_map": {},
}


def test_flat_values_stay_flat_and_everything_else_goes_into_one_json_field() -> None:
    stored = encode(AWKWARD)
    assert set(stored) == {
        "source",
        "page",
        "score",
        "draft",
        "reviewer",
        "tags",
        "empty",
        BLOB_KEY,
        KEYS_KEY,
    }
    assert decode(stored) == AWKWARD


def test_the_names_of_encoded_keys_are_listed_flat_for_exists_filters() -> None:
    stored = encode(AWKWARD)
    encoded = {"author", "flags", "mixed", "matrix", "huge", "nan", "_vr_internal", "", "empty_map"}
    encoded |= {BLOB_KEY, KEYS_KEY}  # a caller's keys of those names are encoded like any reserved key
    assert sorted(stored[KEYS_KEY]) == sorted(encoded)  # type: ignore[arg-type]
    assert KEYS_KEY not in encode({"source": "a.pdf", "tags": ["a"]}), "flat metadata stays as it was"
    # a record written by others keeps a key of that name: only the encoding's own list is dropped
    assert decode({KEYS_KEY: ["x"], "lang": "en"}) == {KEYS_KEY: ["x"], "lang": "en"}


def test_storable_follows_what_the_core_keeps_unchanged() -> None:
    assert storable("k", [1, 2.5, "x"])
    assert not storable("k", [1, True])  # the core keeps bools out of lists
    assert not storable("k", (1, 2))  # a tuple would come back as a list
    assert not storable("k", float("nan"))
    assert not storable("_vr_x", 1)


def test_nested_metadata_round_trips_through_add_search_and_get(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="meta:roundtrip")
    store.add_documents([Document(page_content="awkward metadata", metadata=AWKWARD)], ids=["m1"])
    assert store.get_by_ids(["m1"])[0].metadata == AWKWARD
    assert store.similarity_search("awkward", k=1)[0].metadata == AWKWARD
    assert store.similarity_search("awkward", k=1, mode="keyword")[0].metadata == AWKWARD
    assert store.max_marginal_relevance_search("awkward", k=1)[0].metadata == AWKWARD


def test_flat_keys_stay_filterable_next_to_encoded_ones(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="meta:filter")
    store.add_documents(
        [
            Document(page_content="one", metadata={"page": 1, "author": {"name": "Ada"}}),
            Document(page_content="two", metadata={"page": 2, "author": {"name": "Bob"}}),
        ],
        ids=["p1", "p2"],
    )
    assert [d.id for d in store.similarity_search("one two", k=5, filter={"page": 2})] == ["p2"]


def test_returned_metadata_is_a_copy_callers_cannot_corrupt_the_store_through(router: Router) -> None:
    store = VectorRouterStore(router=router, namespace="meta:copy")
    store.add_texts(["listy"], [{"tags": ["a"]}], ids=["l1"])
    store.get_by_ids(["l1"])[0].metadata["tags"].append("mutated")
    assert store.get_by_ids(["l1"])[0].metadata == {"tags": ["a"]}


@pytest.mark.parametrize(
    ("metadata", "named"),
    [
        ({"when": __import__("datetime").date(2024, 1, 1)}, "metadata['when']"),
        ({"nested": {"deeper": {1: "int key"}}}, "metadata['nested']['deeper']"),
        ({"bytes": [b"raw"]}, "metadata['bytes'][0]"),
    ],
)
def test_values_json_cannot_hold_are_refused_with_the_key_named(
    router: Router, metadata: dict[str, object], named: str
) -> None:
    store = VectorRouterStore(router=router, namespace="meta:refuse")
    with pytest.raises(InvalidRecord, match=named.replace("[", r"\[").replace("]", r"\]")):
        store.add_texts(["ok", "bad"], [{"fine": 1}, metadata], ids=["ok", "bad"])
    assert store.get_by_ids(["ok", "bad"]) == []  # nothing half-written


def test_records_written_by_the_core_read_back_with_their_plain_metadata(router: Router) -> None:
    router.ingest("meta:core", [{"id": "c1", "text": "written by the CLI", "metadata": {"lang": "en"}}])
    store = VectorRouterStore(router=router, namespace="meta:core")
    assert store.get_by_ids(["c1"]) == [
        Document(id="c1", page_content="written by the CLI", metadata={"lang": "en"})
    ]


def test_a_blob_field_that_is_not_a_json_object_is_reported_not_guessed() -> None:
    with pytest.raises(InvalidRecord, match="not a JSON object"):
        decode({BLOB_KEY: "not json"})
