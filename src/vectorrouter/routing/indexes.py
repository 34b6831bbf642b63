"""Dimension-aware index choice: every model version goes to the shared index of its width and metric."""

from __future__ import annotations

import threading
from collections.abc import Callable

from vectorrouter.backends.base import IndexSpec, VectorBackend
from vectorrouter.embeddings.base import ModelSpec

__all__ = ["IndexRouter", "VectorFactory"]

VectorFactory = Callable[[IndexSpec], VectorBackend]


class IndexRouter:
    """Opens one physical index per (dimension, metric) on first use and hands it to every model of that shape.

    >>> from vectorrouter.backends.numpy_exact import NumpyBackend
    >>> r = IndexRouter(NumpyBackend)
    >>> a = r.for_model(ModelSpec("a", "hash", 64)); b = r.for_model(ModelSpec("b", "hash", 64))
    >>> a is b, r.for_model(ModelSpec("c", "hash", 32)).spec.dimension
    (True, 32)
    """

    def __init__(self, factory: VectorFactory) -> None:
        self._factory = factory
        self._open: dict[IndexSpec, VectorBackend] = {}
        self._by_version: dict[str, VectorBackend] = {}
        self._lock = threading.Lock()

    def for_model(self, spec: ModelSpec) -> VectorBackend:
        # a version's width never changes (the registry refuses redeclaring it), so its index is looked up once
        backend = self._by_version.get(spec.version)
        if backend is None or backend.spec.dimension != spec.dimensions:
            backend = self._by_version[spec.version] = self.for_index(spec.index_spec())
        return backend

    def for_index(self, index: IndexSpec) -> VectorBackend:
        backend = self._open.get(index)
        if backend is None:
            with self._lock:
                backend = self._open.get(index)
                if backend is None:
                    backend = self._open[index] = self._factory(index)
        return backend

    def open_indexes(self) -> dict[IndexSpec, VectorBackend]:
        return dict(self._open)

    def close(self) -> None:
        with self._lock:
            for b in self._open.values():
                b.close()
            self._open.clear()
            self._by_version.clear()
