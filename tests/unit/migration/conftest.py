from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.configs import hash_config

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.backends.base import IndexSpec, VectorBackend
from vectorrouter.embeddings import HashEmbedder
from vectorrouter.errors import BackendUnavailable
from vectorrouter.migration import FileStateStore, MigrationResolver, QualityMonitor

OLD = ModelSpec("hash-32", "hash", 32)
NEW = ModelSpec("hash-48", "hash", 48)
TOPICS = ["apples and pears", "rockets and orbits", "violins and cellos", "glaciers and ice", "tax and law"]
#: A vectorrouter.toml declaring OLD and NEW on numpy, for the CLI tests (with a data folder).
CONFIG = hash_config(32, 48)

DOCS = [
    Record(id=f"d{i:03d}", text=f"note {i} about {TOPICS[i % 5]} number {i}", metadata={"n": i})
    for i in range(60)
]


class SwitchableBackend:
    """A numpy index that can be switched off, as if its store went down."""

    def __init__(self, spec: IndexSpec) -> None:
        self.inner = NumpyBackend(spec)
        self.spec = spec
        self.name = "numpy"
        self.down = False
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.down:
                raise BackendUnavailable("store is down", backend="numpy")
            return attr(*args, **kwargs)

        return call


class CountingEmbedder:
    def __init__(self, dims: int) -> None:
        self.inner = HashEmbedder(dims)
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], task: str) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts, task)  # type: ignore[arg-type]


@pytest.fixture
def backends() -> dict[int, SwitchableBackend]:
    return {}


@pytest.fixture
def new_embedder() -> CountingEmbedder:
    return CountingEmbedder(48)


@pytest.fixture
def router(backends: dict[int, SwitchableBackend], new_embedder: CountingEmbedder) -> Iterator[Router]:
    def factory(spec: IndexSpec) -> VectorBackend:
        backends[spec.dimension] = SwitchableBackend(spec)
        return backends[spec.dimension]  # type: ignore[return-value]

    embeddings = EmbeddingService([OLD, NEW], embedders={NEW.version: new_embedder})
    r = Router(embeddings=embeddings, vector_factory=factory, default_model=OLD.version)
    r.ingest("acme:docs", DOCS)
    yield r
    r.close()


@pytest.fixture
def store(tmp_path: Path) -> FileStateStore:
    return FileStateStore(tmp_path / "migrations")


@pytest.fixture
def monitor() -> QualityMonitor:
    return QualityMonitor(k=5)


@pytest.fixture
def resolver(router: Router, store: FileStateStore, monitor: QualityMonitor) -> MigrationResolver:
    resolver = MigrationResolver(store, monitor=monitor)
    router.resolver = resolver
    return resolver
