"""The router's own stores as erasure places: every namespace and model version, vector and keyword.

The erasure index says which namespaces a user reached; each is expanded to every model version of its
logical namespace that the catalog knows (a migration's backfill copies records into a new version), and
with ``sweep=True`` (the default) every other namespace is searched for residue too. Records are deleted
by a filter on the user-reference fields, so a record that another user has since overwritten under the
same id is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from vectorrouter.backends.base import StoreBackend
from vectorrouter.compliance.erasure import ErasureTarget
from vectorrouter.errors import ConfigurationError, InvalidNamespace
from vectorrouter.types import Namespace

if TYPE_CHECKING:
    from vectorrouter.router import Router

__all__ = ["RouterStores", "StorePlace", "UnreachablePlace"]


class StorePlace:
    """One namespace of one of the router's stores."""

    def __init__(self, router: Router, ns: Namespace, kind: Literal["vector", "keyword"]) -> None:
        self.router = router
        self.ns = ns
        self.kind = kind
        self.name = f"{kind}/{ns}"

    def _backend(self) -> StoreBackend:
        if self.kind == "keyword":
            assert self.router.keyword is not None
            return self.router.keyword
        return self.router.indexes.for_model(self.router.embeddings.spec(self.ns.model_version))

    def erase(self, target: ErasureTarget) -> int:
        n = self._backend().delete_by_filter(str(self.ns), target.filter())
        for callback in self.router.on_change:  # result caches drop what they hold for this namespace
            callback(self.ns)
        return n

    def residue(self, target: ErasureTarget) -> int:
        return self._backend().count(str(self.ns), target.filter())

    def present(self, target: ErasureTarget) -> set[str]:
        ids = target.records.get(str(self.ns), ())
        return {r.id for r in self._backend().get(str(self.ns), list(ids))} if ids else set()


class UnreachablePlace:
    """A namespace whose store this router cannot open (its model version is not configured).

    It reports one unit of residue, so the erasure is never called verified while it may hold data.
    """

    def __init__(self, ns: Namespace) -> None:
        self.name = f"unreachable/{ns}"

    def erase(self, target: ErasureTarget) -> int:
        return 0

    def residue(self, target: ErasureTarget) -> int:
        return 1


class RouterStores:
    """Place provider for a :class:`~vectorrouter.router.Router`'s vector and keyword stores."""

    def __init__(self, router: Router, *, sweep: bool = True) -> None:
        self.router = router
        self.sweep = sweep

    def _namespaces(self, target: ErasureTarget) -> list[Namespace]:
        catalog = self.router.catalog.list()
        wanted: dict[str, Namespace] = {}
        for name in target.records:
            try:
                ns = Namespace.parse(name)
            except InvalidNamespace:
                continue
            wanted[str(ns)] = ns
            for info in catalog:
                if info.namespace.logical == ns.logical:
                    wanted[str(info.namespace)] = info.namespace
        if self.sweep:
            wanted.update((str(i.namespace), i.namespace) for i in catalog)
        return [wanted[k] for k in sorted(wanted)]

    def places(self, target: ErasureTarget) -> Iterator[StorePlace | UnreachablePlace]:
        for ns in self._namespaces(target):
            try:
                self.router.embeddings.spec(ns.model_version)
            except ConfigurationError:
                yield UnreachablePlace(ns)
                continue
            yield StorePlace(self.router, ns, "vector")
            if self.router.keyword is not None:
                yield StorePlace(self.router, ns, "keyword")
