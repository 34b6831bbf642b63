"""qdrant-client: the conformance kit in local mode (in memory, on disk with reopen) and, with
``QDRANT_URL`` set, against a real server (``-m live``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from vectorrouter.backends import IndexSpec, make_vector_factory
from vectorrouter.backends.qdrant import QdrantBackend, QdrantOptions
from vectorrouter.testing import VectorBackendConformance


class TestQdrantLocalInMemory(VectorBackendConformance):
    @pytest.fixture
    def backend(self) -> Iterator[QdrantBackend]:
        b = make_vector_factory("qdrant", None)(IndexSpec.for_dimension(self.dimension))
        assert isinstance(b, QdrantBackend)
        yield b
        b.close()


class TestQdrantLocalOnDisk(VectorBackendConformance):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[QdrantBackend]:
        self.factory = make_vector_factory("qdrant", tmp_path)
        b = self.factory(IndexSpec.for_dimension(self.dimension))
        assert isinstance(b, QdrantBackend)
        yield b
        b.close()

    def reopen(self, backend: QdrantBackend) -> QdrantBackend:
        backend.close()
        again = self.factory(IndexSpec.for_dimension(self.dimension))
        assert isinstance(again, QdrantBackend)
        return again


@pytest.mark.live
@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
class TestQdrantLiveServer(VectorBackendConformance):
    """Runs against ``QDRANT_URL`` (and ``QDRANT_API_KEY``) when set; each test uses its own collection."""

    @pytest.fixture
    def backend(self) -> Iterator[QdrantBackend]:
        url = os.environ.get("QDRANT_URL")
        if not url:
            pytest.skip("QDRANT_URL is not set: no Qdrant server to run the live conformance kit against")
        self.url, self.api_key = url, os.environ.get("QDRANT_API_KEY")
        self.prefix = f"vrtest-{uuid.uuid4().hex[:10]}-"
        b = self._open()
        yield b
        b.close()
        cleanup = QdrantClient(url=self.url, api_key=self.api_key)
        cleanup.delete_collection(b.collection)
        cleanup.close()

    def _open(self) -> QdrantBackend:
        opts = QdrantOptions(url=self.url, api_key=self.api_key, collection_prefix=self.prefix)
        client = QdrantClient(url=self.url, api_key=self.api_key)
        return QdrantBackend(IndexSpec.for_dimension(self.dimension), client, local=False, options=opts)

    def reopen(self, backend: QdrantBackend) -> QdrantBackend:
        backend.close()
        return self._open()
