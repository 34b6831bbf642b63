"""The Elasticsearch adapters' wire behaviour, through the official client, against the local HTTP double:
request bodies, per-item bulk errors, error mapping (429 with Retry-After, 503) and the kNN fallback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

pytest.importorskip("elasticsearch")

from tests.doubles.elasticsearch_http import ElasticsearchDouble

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.backends.base import IndexSpec
from vectorrouter.backends.elasticsearch import (
    ElasticsearchKeywordBackend,
    ElasticsearchVectorBackend,
    doc_id,
)
from vectorrouter.errors import BackendUnavailable, InvalidRecord, RateLimited
from vectorrouter.filters import Eq, In
from vectorrouter.ladder import KeywordStep, Ladder, StepPolicy, VectorStep
from vectorrouter.testing.scripted import Script

NS = "acme:docs:v1"


@pytest.fixture
def double() -> Iterator[ElasticsearchDouble]:
    d = ElasticsearchDouble()
    yield d
    d.close()


@pytest.fixture
def kw(double: ElasticsearchDouble) -> Iterator[ElasticsearchKeywordBackend]:
    b = ElasticsearchKeywordBackend(url=double.url)
    yield b
    b.close()


def docs() -> list[Record]:
    return [
        Record(
            id="a",
            text="Wind turbines generate power at sea",
            metadata={"kind": "energy", "year": 2021, "title": "Offshore wind"},
        ),
        Record(id="b", text="Solar panels on roofs", metadata={"kind": "energy", "year": 2019}),
        Record(id="c", text="Apples grow on trees", metadata={"kind": "fruit", "year": 2020}),
    ]


def test_the_index_is_created_once_with_strict_mappings(
    double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend
) -> None:
    (put,) = [r for r in double.requests if r.method == "PUT" and r.path == "/vr-keyword"]
    mappings = put.body["mappings"]
    assert mappings["dynamic"] == "strict"
    assert mappings["properties"]["text"] == {"type": "text", "analyzer": "english"}
    assert mappings["properties"]["ns"] == {"type": "keyword"}
    ElasticsearchKeywordBackend(url=double.url).close()
    assert len([r for r in double.requests if r.method == "PUT" and r.path == "/vr-keyword"]) == 1


def test_bulk_sends_ndjson_pairs_with_deterministic_ids_and_waits_for_refresh(
    double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend
) -> None:
    kw.upsert(NS, docs()[:1])
    (bulk,) = double.seen("/_bulk")
    assert bulk.query == {"refresh": ["wait_for"]}
    assert "x-ndjson" in bulk.headers["content-type"]
    action, source = (json.loads(line) for line in bulk.raw.decode().splitlines())
    assert action == {"index": {"_index": "vr-keyword", "_id": doc_id(NS, "a")}}
    assert source == {
        "ns": NS,
        "rid": "a",
        "key": doc_id(NS, "a"),
        "text": "Wind turbines generate power at sea",
        "md": {"kind": "energy", "year": 2021, "title": "Offshore wind"},
        "title": "Offshore wind",
    }


def test_keyword_search_is_bm25_over_title_and_text_scoped_to_the_namespace_and_filter(
    double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend
) -> None:
    kw.upsert(NS, docs())
    hits = kw.search(NS, "offshore energy", k=2, filter=In("kind", ("energy",)))
    (req,) = double.seen("/vr-keyword/_search")
    assert req.body == {
        "query": {
            "bool": {
                "must": [
                    {
                        "combined_fields": {
                            "query": "offshore energy",
                            "fields": ["title", "text"],
                            "operator": "or",
                        }
                    }
                ],
                "filter": [{"term": {"ns": NS}}, {"terms": {"md.kind": ["energy"]}}],
            }
        },
        "size": 2,
        "_source": ["rid", "text", "md"],
    }
    assert [h.id for h in hits] == ["a"], "only the title says offshore"
    assert hits[0].metadata["year"] == 2021


def test_a_blank_query_makes_no_request(double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend) -> None:
    assert kw.search(NS, "   ", k=3) == []
    assert double.seen("/vr-keyword/_search") == []


def test_delete_by_ids_and_by_filter_report_what_was_deleted(
    double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend
) -> None:
    kw.upsert(NS, docs())
    assert kw.delete(NS, ["a", "zz"]) == 1
    (dbq,) = double.seen("/vr-keyword/_delete_by_query")
    assert dbq.query == {"conflicts": ["proceed"], "refresh": ["true"]}
    assert dbq.body == {
        "query": {"bool": {"filter": [{"term": {"ns": NS}}, {"terms": {"rid": ["a", "zz"]}}]}}
    }
    assert kw.delete_by_filter(NS, Eq("kind", "fruit")) == 1
    assert kw.count(NS) == 1


def test_a_429_maps_to_rate_limited_with_retry_after(
    double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend
) -> None:
    double.fail_next(429, retry_after=3, path="_search")
    with pytest.raises(RateLimited) as info:
        kw.search(NS, "wind", k=1)
    assert info.value.retry_after == 3
    assert len(double.seen("/vr-keyword/_search")) == 1, (
        "the client's own retries are off: the ladder decides"
    )


def test_a_503_is_an_outage(double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend) -> None:
    double.fail_next(503, path="_count")
    with pytest.raises(BackendUnavailable, match="503"):
        kw.count(NS)


def test_bulk_item_failures_are_reported_not_swallowed(
    double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend
) -> None:
    kw.upsert(NS, docs()[:1])
    bad = Record(id="x", text="t", metadata={"year": "twenty"})  # a string where the mapping holds numbers
    with pytest.raises(InvalidRecord, match="1 of 2 writes failed.*document_parsing_exception"):
        kw.upsert(NS, [docs()[1], bad])
    assert kw.count(NS) == 2, "the valid record of the batch was written; re-running after the fix is safe"


def test_a_rejected_bulk_is_rate_limited(
    double: ElasticsearchDouble, kw: ElasticsearchKeywordBackend
) -> None:
    double.fail_next(429, path="_bulk")
    with pytest.raises(RateLimited):
        kw.upsert(NS, docs())


def test_knn_search_body_has_candidates_and_the_namespace_filter(double: ElasticsearchDouble) -> None:
    store = ElasticsearchVectorBackend(IndexSpec.for_dimension(3), url=double.url)
    store.upsert(NS, [Record(id="v", text="t", vector=[1.0, 0.0, 0.0], metadata={"k": 1})])
    hits = store.search(NS, [1.0, 0.1, 0.0], k=1, filter=Eq("k", 1))
    (req,) = double.seen("/vr-3d-cosine/_search")
    assert req.body["knn"] == {
        "field": "vector",
        "query_vector": [1.0, 0.1, 0.0],
        "k": 1,
        "num_candidates": 100,
        "filter": {"bool": {"filter": [{"term": {"ns": NS}}, {"term": {"md.k": 1}}]}},
    }
    assert hits[0].score == pytest.approx(0.995, abs=1e-3), (
        "the (1 + cos) / 2 score is turned back into a cosine"
    )
    store.close()


def test_a_cluster_without_knn_search_is_scored_exactly(double: ElasticsearchDouble) -> None:
    double.version = "8.2.3"
    store = ElasticsearchVectorBackend(IndexSpec.for_dimension(3), url=double.url)
    assert store.knn == "exact"
    store.upsert(NS, [Record(id="v", text="t", vector=[0.0, 1.0, 0.0])])
    assert store.search(NS, [0.0, 1.0, 0.0], k=1)[0].score == pytest.approx(1.0)
    (req,) = double.seen("/vr-3d-cosine/_search")
    assert "script_score" in req.body["query"]
    store.close()


def test_elasticsearch_keyword_step_answers_when_the_vector_stores_are_down(
    double: ElasticsearchDouble,
) -> None:
    model = ModelSpec("hash-32", "hash", 32)
    primary = Script()
    policy = StepPolicy(timeout=5.0, retries=0)
    ladder = Ladder(
        [
            VectorStep("primary", primary.wrap_factory(NumpyBackend), policy=policy),
            KeywordStep("elasticsearch", ElasticsearchKeywordBackend(url=double.url), policy=policy),
        ]
    )
    router = Router(embeddings=EmbeddingService([model]), ladder=ladder)
    router.ingest("acme:docs", docs())
    primary.kill()
    res = router.search("acme:docs", "offshore turbines", k=1, mode="dense")
    assert (res.served_by, res.degraded, res.ids) == ("elasticsearch", True, ["a"])
    router.close()
