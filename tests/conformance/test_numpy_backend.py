from collections.abc import Iterator
from pathlib import Path

import pytest

from vectorrouter.backends import IndexSpec, NumpyBackend
from vectorrouter.testing import VectorBackendConformance


class TestNumpyInMemory(VectorBackendConformance):
    @pytest.fixture
    def backend(self) -> Iterator[NumpyBackend]:
        b = NumpyBackend(IndexSpec.for_dimension(self.dimension))
        yield b
        b.close()


class TestNumpyPersistent(VectorBackendConformance):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[NumpyBackend]:
        self.path = tmp_path / "idx"
        b = NumpyBackend(IndexSpec.for_dimension(self.dimension), self.path)
        yield b
        b.close()

    def reopen(self, backend: NumpyBackend) -> NumpyBackend:
        backend.close()
        return NumpyBackend(IndexSpec.for_dimension(self.dimension), self.path)
