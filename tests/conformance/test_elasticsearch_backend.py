"""The Elasticsearch keyword and vector adapters pass the backend contracts through the official client.

Here they talk to a local double of the Elasticsearch REST endpoints (``tests/doubles/elasticsearch_http.py``):
Elasticsearch cannot run on this machine. The ``live`` classes run the same contracts against a real cluster
when ``ELASTICSEARCH_URL`` is set (``ELASTICSEARCH_API_KEY`` if it needs one); they use run-unique index names.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("elasticsearch")

from tests.doubles.elasticsearch_http import ElasticsearchDouble

from vectorrouter.backends.base import IndexSpec
from vectorrouter.backends.elasticsearch import ElasticsearchKeywordBackend, ElasticsearchVectorBackend
from vectorrouter.testing import KeywordBackendConformance, VectorBackendConformance


@pytest.fixture(scope="module")
def double() -> Iterator[ElasticsearchDouble]:
    d = ElasticsearchDouble()
    yield d
    d.close()


@pytest.fixture(scope="module")
def client(double: ElasticsearchDouble) -> Iterator[Any]:
    from elasticsearch import Elasticsearch

    c = Elasticsearch(double.url, max_retries=0)
    yield c
    c.close()


class TestElasticsearchKeywordAgainstHTTPDouble(KeywordBackendConformance):
    @pytest.fixture
    def backend(self, double: ElasticsearchDouble, client: Any) -> Iterator[ElasticsearchKeywordBackend]:
        double.reset()
        b = ElasticsearchKeywordBackend(client=client)
        yield b
        b.close()

    def reopen(self, backend: ElasticsearchKeywordBackend) -> ElasticsearchKeywordBackend:
        backend.close()
        return ElasticsearchKeywordBackend(client=backend.client)


class TestElasticsearchVectorAgainstHTTPDouble(VectorBackendConformance):
    @pytest.fixture
    def backend(self, double: ElasticsearchDouble, client: Any) -> Iterator[ElasticsearchVectorBackend]:
        double.reset()
        b = ElasticsearchVectorBackend(IndexSpec.for_dimension(self.dimension), client=client)
        yield b
        b.close()

    def reopen(self, backend: ElasticsearchVectorBackend) -> ElasticsearchVectorBackend:
        backend.close()
        return ElasticsearchVectorBackend(IndexSpec.for_dimension(self.dimension), client=backend.client)


class TestElasticsearchExactKnnAgainstHTTPDouble(TestElasticsearchVectorAgainstHTTPDouble):
    @pytest.fixture
    def backend(self, double: ElasticsearchDouble, client: Any) -> Iterator[ElasticsearchVectorBackend]:
        double.reset()
        b = ElasticsearchVectorBackend(IndexSpec.for_dimension(self.dimension), client=client, knn="exact")
        yield b
        b.close()


LIVE = pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"), reason="ELASTICSEARCH_URL is not set")


def _drop(backend: Any) -> None:
    backend.client.options(ignore_status=404).indices.delete(index=backend.index)
    backend.close()


@pytest.mark.live
@LIVE
class TestElasticsearchKeywordLive(KeywordBackendConformance):
    @pytest.fixture
    def backend(self) -> Iterator[ElasticsearchKeywordBackend]:
        b = ElasticsearchKeywordBackend(index=f"vr-conformance-kw-{uuid.uuid4().hex[:8]}")
        yield b
        _drop(b)


@pytest.mark.live
@LIVE
class TestElasticsearchVectorLive(VectorBackendConformance):
    @pytest.fixture
    def backend(self) -> Iterator[ElasticsearchVectorBackend]:
        # exact scoring: the contract checks exact nearest neighbours, which HNSW only approximates
        b = ElasticsearchVectorBackend(
            IndexSpec.for_dimension(self.dimension),
            index_prefix=f"vr-conformance-{uuid.uuid4().hex[:8]}-",
            knn="exact",
        )
        yield b
        _drop(b)
