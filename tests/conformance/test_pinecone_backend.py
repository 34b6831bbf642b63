"""The Pinecone adapter passes the vector backend contract through the official SDK.

Here it talks to a faithful local double of Pinecone's data-plane HTTP API (``tests/doubles/pinecone_http.py``):
Pinecone cannot run on this machine. The ``live`` class runs the same contract against a real index when
``PINECONE_API_KEY`` is set (``PINECONE_INDEX_HOST`` names a 16-d cosine index, or one is created).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

pytest.importorskip("pinecone")

from tests.doubles.pinecone_http import PineconeDouble

from vectorrouter.backends.base import IndexSpec
from vectorrouter.backends.pinecone import PineconeBackend
from vectorrouter.filters import Filter
from vectorrouter.testing import VectorBackendConformance
from vectorrouter.types import Record


@pytest.fixture(scope="module")
def double() -> Iterator[PineconeDouble]:
    d = PineconeDouble(VectorBackendConformance.dimension)
    yield d
    d.close()


@pytest.fixture(scope="module")
def sdk_index(double: PineconeDouble) -> Iterator[Any]:
    from pinecone import Index

    index = Index(host=double.host, api_key="test-key")  # one SDK client for the module: it is slow to build
    yield index
    index.close()


class TestPineconeAgainstHTTPDouble(VectorBackendConformance):
    @pytest.fixture
    def backend(self, double: PineconeDouble, sdk_index: Any) -> Iterator[PineconeBackend]:
        double.reset()
        b = PineconeBackend(IndexSpec.for_dimension(self.dimension), index=sdk_index)
        yield b
        b.close()

    def reopen(self, backend: PineconeBackend) -> PineconeBackend:
        backend.close()
        return PineconeBackend(
            IndexSpec.for_dimension(self.dimension), host=backend.index.host, api_key="test-key"
        )


class Settled:
    """A live Pinecone index is eventually consistent: after each write, wait until reads agree."""

    def __init__(self, inner: PineconeBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.spec = inner.spec
        self.expected: dict[str, set[str]] = {}

    def _settle(self, namespace: str) -> None:
        want = len(self.expected.get(namespace, set()))
        deadline = time.monotonic() + 90
        while self.inner.count(namespace) != want and time.monotonic() < deadline:
            time.sleep(1.0)
        time.sleep(2.0)  # queries lag the stats a little more

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        self.inner.upsert(namespace, records)
        self.expected.setdefault(namespace, set()).update(r.id for r in records)
        self._settle(namespace)

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        n = self.inner.delete(namespace, ids)
        self.expected.setdefault(namespace, set()).difference_update(ids)
        self._settle(namespace)
        return n

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        doomed = [r.id for b in self.inner.scroll(namespace, filter) for r in b]
        n = self.inner.delete_by_filter(namespace, filter)
        self.expected.setdefault(namespace, set()).difference_update(doomed)
        self._settle(namespace)
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _live_host(dimension: int) -> str:
    host = os.environ.get("PINECONE_INDEX_HOST")
    if host:
        return host
    from pinecone import Pinecone, ServerlessSpec

    pc = Pinecone()
    name = f"vr-conformance-{dimension}d"
    if not pc.indexes.exists(name):
        pc.indexes.create(
            name=name,
            dimension=dimension,
            metric="cosine",
            spec=ServerlessSpec(
                cloud=os.environ.get("PINECONE_CLOUD", "aws"),
                region=os.environ.get("PINECONE_REGION", "us-east-1"),
            ),
        )
    return str(pc.indexes.describe(name).host)


@pytest.mark.live
@pytest.mark.skipif(not os.environ.get("PINECONE_API_KEY"), reason="PINECONE_API_KEY is not set")
class TestPineconeLive(VectorBackendConformance):
    @pytest.fixture
    def backend(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settled]:
        # a run-unique suffix keeps parallel runs apart on a shared index
        from vectorrouter.testing import conformance as kit

        suffix = uuid.uuid4().hex[:8]
        monkeypatch.setattr(kit, "NS", f"tenant-a:docs:{suffix}")
        monkeypatch.setattr(kit, "OTHER_NS", f"tenant-b:docs:{suffix}")
        b = Settled(PineconeBackend(IndexSpec.for_dimension(self.dimension), host=_live_host(self.dimension)))
        yield b
        for ns in (kit.NS, kit.OTHER_NS):
            b.inner.delete_by_filter(ns, None)
        b.inner.close()
