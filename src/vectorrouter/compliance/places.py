"""The router's own stores as erasure places: every namespace and model version, every vector and keyword
store of the ladder (a secondary store too, and a store residency keeps the namespace away from: data
written there before the policy existed must go as well).

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
from vectorrouter.ladder import KeywordStep, VectorStep
from vectorrouter.types import Namespace

if TYPE_CHECKING:
    from vectorrouter.router import Router

__all__ = ["RouterStores", "StorePlace", "UnreachablePlace"]


class StorePlace:
    """One namespace of one of the router's stores.

    Named ``vector/<ns>`` and ``keyword/<ns>`` for the router's first vector and keyword store, and
    ``<kind>:<step>/<ns>`` for the other steps of its ladder.
    """

    def __init__(
        self,
        router: Router,
        ns: Namespace,
        kind: Literal["vector", "keyword"],
        step: VectorStep | KeywordStep | None = None,
    ) -> None:
        self.router = router
        self.ns = ns
        self.kind = kind
        self.step = step
        first = step is None or (
            step.indexes is router.indexes if isinstance(step, VectorStep) else step.backend is router.keyword
        )
        self.name = f"{kind}/{ns}" if first else f"{kind}:{step.name}/{ns}"  # type: ignore[union-attr]

    def _backend(self) -> StoreBackend:
        if isinstance(self.step, KeywordStep):
            return self.step.backend
        if isinstance(self.step, VectorStep):
            return self.step.backend(self.router.embeddings.spec(self.ns.model_version))
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
            for step in self._steps():
                kind: Literal["vector", "keyword"] = "vector" if isinstance(step, VectorStep) else "keyword"
                yield StorePlace(self.router, ns, kind, step)

    def _steps(self) -> list[VectorStep | KeywordStep]:
        steps = self.router.ladder.steps.values()
        vectors: list[VectorStep | KeywordStep] = [s for s in steps if isinstance(s, VectorStep)]
        keywords: list[VectorStep | KeywordStep] = [s for s in steps if isinstance(s, KeywordStep)]
        # stores shared by two steps (one backend behind two names) are one place
        seen: set[int] = set()
        out: list[VectorStep | KeywordStep] = []
        for s in [*vectors, *keywords]:
            ident = id(s.indexes) if isinstance(s, VectorStep) else id(s.backend)
            if ident not in seen:
                seen.add(ident)
                out.append(s)
        return out
