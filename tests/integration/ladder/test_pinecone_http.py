"""The Pinecone adapter's wire behaviour, through the official SDK, against the local HTTP double:
request bodies, error mapping (429 with Retry-After, 503, 401, 400) and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("pinecone")

from tests.doubles.pinecone_http import PineconeDouble

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.backends.base import IndexSpec
from vectorrouter.backends.pinecone import PineconeBackend
from vectorrouter.errors import BackendUnavailable, DimensionMismatch, InvalidRecord, RateLimited
from vectorrouter.filters import Eq, Range
from vectorrouter.ladder import Ladder, StepPolicy, VectorStep

SPEC = IndexSpec.for_dimension(4)
NS = "acme:docs:v1"


@pytest.fixture
def double() -> Iterator[PineconeDouble]:
    d = PineconeDouble(4, page=3)
    yield d
    d.close()


@pytest.fixture
def store(double: PineconeDouble) -> Iterator[PineconeBackend]:
    b = PineconeBackend(SPEC, host=double.host, api_key="test-key")
    yield b
    b.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The SDK's own retry backoff, recorded instead of slept (the SDK exposes this seam for tests)."""
    import pinecone._internal.http_client as http

    seen: list[float] = []
    monkeypatch.setattr(http, "_retry_sleep", seen.append)
    return seen


def rec(i: int, **md: Any) -> Record:
    return Record(id=f"d{i}", text=f"text {i}", metadata=md, vector=[1.0, float(i), 0.5, -0.5])


def test_upsert_sends_values_metadata_text_and_namespace(
    double: PineconeDouble, store: PineconeBackend
) -> None:
    store.upsert(NS, [rec(1, year=2020, tags=["a"], gone=None)])
    (req,) = double.seen("/vectors/upsert")
    assert req.headers["api-key"] == "test-key"
    assert req.body == {
        "namespace": NS,
        "vectors": [
            {
                "id": "d1",
                "values": [1.0, 1.0, 0.5, -0.5],
                "metadata": {
                    "_vr_text": "text 1",
                    "year": 2020,
                    "tags": ["a"],
                    "_vr_nulls": ["gone"],
                    "_vr_ints": ["year"],
                },
            }
        ],
    }


def test_query_sends_top_k_filter_and_asks_for_metadata(
    double: PineconeDouble, store: PineconeBackend
) -> None:
    store.upsert(NS, [rec(i, year=2020 + i) for i in range(5)])
    hits = store.search(NS, [1.0, 2.0, 0.5, -0.5], k=2, filter=Range("year", gte=2022))
    (req,) = double.seen("/query")
    assert req.body == {
        "topK": 2,
        "vector": [1.0, 2.0, 0.5, -0.5],
        "namespace": NS,
        "filter": {"year": {"$gte": 2022}},
        "includeMetadata": True,
        "includeValues": False,
    }
    assert [h.id for h in hits] == ["d2", "d3"]
    assert hits[0].metadata == {"year": 2022}
    assert type(hits[0].metadata["year"]) is int, "Pinecone returned 2022.0; the adapter restores the int"


def test_fetch_sends_ids_as_query_parameters_and_keeps_order(
    double: PineconeDouble, store: PineconeBackend
) -> None:
    store.upsert(NS, [rec(i) for i in range(3)])
    assert [r.id for r in store.get(NS, ["d2", "nope", "d0"])] == ["d2", "d0"]
    (req,) = double.seen("/vectors/fetch")
    assert req.query == {"ids": ["d2", "nope", "d0"], "namespace": [NS]}


def test_ids_outside_ascii_round_trip(double: PineconeDouble, store: PineconeBackend) -> None:
    store.upsert(
        NS,
        [
            Record(id="café/№5", text="t", vector=[1.0, 0, 0, 0]),
            Record(id="50%", text="u", vector=[0, 1.0, 0, 0]),
        ],
    )
    assert set(double.data[NS]) == {"caf%C3%A9/%E2%84%965", "50%25"}
    assert [r.id for r in store.get(NS, ["café/№5", "50%"])] == ["café/№5", "50%"]
    assert store.search(NS, [1.0, 0, 0, 0], k=1)[0].id == "café/№5"


def test_persistent_429_maps_to_rate_limited_with_the_servers_retry_after(
    double: PineconeDouble, store: PineconeBackend, sleeps: list[float]
) -> None:
    double.fail_next(429, times=10, retry_after=7, path="/query")
    with pytest.raises(RateLimited) as info:
        store.search(NS, [1.0, 0, 0, 0], k=1)
    assert info.value.retry_after == 7
    assert "429" in str(info.value)
    assert all(s >= 7 for s in sleeps), "the SDK's own retries waited the Retry-After"


def test_transient_503_is_absorbed(
    double: PineconeDouble, store: PineconeBackend, sleeps: list[float]
) -> None:
    store.upsert(NS, [rec(1)])
    double.fail_next(503, times=1, path="/query")
    assert [h.id for h in store.search(NS, [1.0, 1.0, 0.5, -0.5], k=1)] == ["d1"]
    assert len(double.seen("/query")) == 2


def test_server_errors_that_persist_are_an_outage(
    double: PineconeDouble, store: PineconeBackend, sleeps: list[float]
) -> None:
    double.down = True
    with pytest.raises(BackendUnavailable, match="503"):
        store.count(NS)


def test_a_rejected_api_key_is_reported_as_an_outage_naming_the_key(double: PineconeDouble) -> None:
    from pinecone import Index

    index = Index(host=double.host, api_key="test-key", additional_headers={"Api-Key": ""})
    with pytest.raises(BackendUnavailable, match="401 refused.*PINECONE_API_KEY"):
        PineconeBackend(SPEC, index=index)
    index.close()


def test_a_400_on_upsert_is_the_callers_record_problem(
    double: PineconeDouble, store: PineconeBackend
) -> None:
    double.fail_next(400, path="/vectors/upsert")
    with pytest.raises(InvalidRecord, match="Pinecone rejected the request during upsert"):
        store.upsert(NS, [rec(1)])


def test_records_pinecone_cannot_hold_are_refused_before_any_request(
    double: PineconeDouble, store: PineconeBackend
) -> None:
    before = len(double.requests)
    with pytest.raises(InvalidRecord, match="lists of strings only"):
        store.upsert(NS, [rec(1), rec(2, scores=[1, 2])])
    assert len(double.requests) == before


def test_the_index_width_is_checked_when_opened(double: PineconeDouble) -> None:
    with pytest.raises(DimensionMismatch, match="4 are expected"):
        PineconeBackend(IndexSpec.for_dimension(8), host=double.host, api_key="test-key")


def test_delete_by_filter_finds_ids_server_side_then_deletes_exactly_those(
    double: PineconeDouble, store: PineconeBackend
) -> None:
    store.upsert(NS, [rec(i, kind="a" if i % 2 else "b") for i in range(7)])
    assert store.delete_by_filter(NS, Eq("kind", "a")) == 3
    pages = double.seen("/vectors/fetch_by_metadata")
    assert pages[0].body["filter"] == {"kind": {"$eq": "a"}}
    deletes = double.seen("/vectors/delete")
    assert deletes[-1].body == {"namespace": NS, "ids": ["d1", "d3", "d5"]}
    assert store.count(NS) == 4


def test_scroll_pages_through_list_then_fetch(double: PineconeDouble, store: PineconeBackend) -> None:
    store.upsert(NS, [rec(i) for i in range(205)])
    seen = [r.id for batch in store.scroll(NS, batch_size=50) for r in batch]
    assert sorted(seen) == sorted(f"d{i}" for i in range(205))
    lists = double.seen("/vectors/list")
    assert len(lists) == 3, "three pages of at most 100 ids"
    assert "paginationToken" not in lists[0].query
    assert "paginationToken" in lists[1].query
    assert len(double.seen("/vectors/fetch")) == 5, "each page fetched in batches of 50"


def test_drop_namespace_of_an_unknown_namespace_makes_no_delete_all_call(
    double: PineconeDouble, store: PineconeBackend
) -> None:
    assert store.delete_by_filter("acme:never:v1", None) == 0
    assert double.seen("/vectors/delete") == []


def test_a_pinecone_primary_that_returns_503_falls_back_to_the_next_step(
    double: PineconeDouble, sleeps: list[float]
) -> None:
    model = ModelSpec("hash-4", "hash", 4)
    policy = StepPolicy(timeout=5.0, retries=0, failure_threshold=2)
    ladder = Ladder(
        [
            VectorStep(
                "pinecone",
                lambda spec: PineconeBackend(spec, host=double.host, api_key="test-key"),
                policy=policy,
            ),
            VectorStep("local", NumpyBackend, policy=policy),
        ]
    )
    router = Router(embeddings=EmbeddingService([model]), ladder=ladder)
    router.ingest("acme:docs", ["wind turbines at sea", "solar panels on roofs"])
    assert router.search("acme:docs", "turbines", k=1).served_by == "pinecone"
    double.down = True
    res = router.search("acme:docs", "turbines", k=1)
    assert (res.served_by, res.degraded) == ("local", True)
    assert res.attempts[0].outcome == "error"
    assert "503" in res.attempts[0].detail
    router.close()
