"""One implementation for the sync and async faces: plans yield router operations, two drivers run them.

A plan is a generator that yields the operations it needs and receives their results; :meth:`Runner.run`
performs them with blocking calls and :meth:`Runner.arun` with the router's async twins, so each store method's
logic exists once. Reading a namespace nobody has written yet yields nothing rather than an error, as a new
LlamaIndex store would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from vectorrouter import Router
from vectorrouter.errors import DimensionMismatch, NamespaceNotFound
from vectorrouter.filters import Filter
from vectorrouter.types import Namespace, Record, SearchMode, parse_logical

__all__ = [
    "Count",
    "Delete",
    "EmbedQuery",
    "Get",
    "Ingest",
    "Op",
    "Plan",
    "Runner",
    "Scroll",
    "Search",
    "write_target",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Search:
    """``Router.search``; ``None`` comes back when the namespace was never written."""

    namespace: str
    query: str | None
    vector: Sequence[float] | None
    k: int
    mode: SearchMode | None
    filter: Filter | None


@dataclass(frozen=True, slots=True)
class Get:
    namespace: str
    ids: Sequence[str]
    with_vectors: bool = False


@dataclass(frozen=True, slots=True)
class Scroll:
    """Every record matching ``filter`` (``Router.scroll``, gathered)."""

    namespace: str
    filter: Filter | None


@dataclass(frozen=True, slots=True)
class Count:
    namespace: str
    filter: Filter | None


@dataclass(frozen=True, slots=True)
class Ingest:
    namespace: str
    records: Sequence[Record]


@dataclass(frozen=True, slots=True)
class Delete:
    namespace: str
    ids: Sequence[str] | None
    filter: Filter | None = None


@dataclass(frozen=True, slots=True)
class EmbedQuery:
    """A query vector from the namespace's active model (for MMR and node-id queries given only text)."""

    namespace: str
    text: str


Op = Search | Get | Scroll | Count | Ingest | Delete | EmbedQuery
Plan = Generator[Op, Any, T]


def write_target(router: Router, namespace: str) -> Namespace:
    """The versioned namespace ``namespace`` names now, or the one a first write would create."""
    try:
        return router.resolve(namespace)
    except NamespaceNotFound:
        tenant, feature, version = parse_logical(namespace)
        default = router.namespace_models.get(f"{tenant}:{feature}") or router.default_model
        return Namespace(tenant, feature, version or default)


def check_width(router: Router, namespace: str, vector: Sequence[float]) -> None:
    """Raise :class:`DimensionMismatch` when ``vector`` does not fit the namespace's model version."""
    ns = write_target(router, namespace)
    spec = router.embeddings.spec(ns.model_version)
    if len(vector) != spec.dimensions:
        raise DimensionMismatch(spec.dimensions, len(vector), where=f"namespace {ns} ({spec.version})")


class Runner:
    def __init__(self, router: Router) -> None:
        self.router = router

    def run(self, plan: Plan[T]) -> T:
        try:
            op = next(plan)
            while True:
                op = plan.send(self._call(op))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def arun(self, plan: Plan[T]) -> T:
        try:
            op = next(plan)
            while True:
                op = plan.send(await self._acall(op))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def _scroll(self, op: Scroll) -> list[Record]:
        return [r for batch in self.router.scroll(op.namespace, op.filter) for r in batch]

    def _embed(self, op: EmbedQuery) -> list[float]:
        version = write_target(self.router, op.namespace).model_version
        return [float(x) for x in self.router.embeddings.embed(version, [op.text], "query")[0]]

    def _empty(self, op: Op) -> Any:
        if isinstance(op, Search):
            if op.vector is not None:
                check_width(self.router, op.namespace, op.vector)  # wrong is wrong, even when empty
            return None
        if isinstance(op, Get | Scroll):
            return []
        if isinstance(op, Delete | Count):
            return 0
        raise NamespaceNotFound(op.namespace)

    def _call(self, op: Op) -> Any:
        r = self.router
        try:
            if isinstance(op, Search):
                return r.search(
                    op.namespace, op.query, vector=op.vector, k=op.k, mode=op.mode, filter=op.filter
                )
            if isinstance(op, Get):
                return r.get(op.namespace, op.ids, with_vectors=op.with_vectors)
            if isinstance(op, Scroll):
                return self._scroll(op)
            if isinstance(op, Count):
                return r.count(op.namespace, op.filter)
            if isinstance(op, Ingest):
                return r.ingest(op.namespace, op.records, progress=False)
            if isinstance(op, Delete):
                return r.delete(op.namespace, op.ids, filter=op.filter)
            return self._embed(op)
        except NamespaceNotFound:
            return self._empty(op)

    async def _acall(self, op: Op) -> Any:
        r = self.router
        try:
            if isinstance(op, Search):
                return await r.asearch(
                    op.namespace, op.query, vector=op.vector, k=op.k, mode=op.mode, filter=op.filter
                )
            if isinstance(op, Get):
                return await r.aget(op.namespace, op.ids, with_vectors=op.with_vectors)
            if isinstance(op, Scroll):
                return await asyncio.to_thread(self._scroll, op)
            if isinstance(op, Count):
                return await r.acount(op.namespace, op.filter)
            if isinstance(op, Ingest):
                return await r.aingest(op.namespace, op.records, progress=False)
            if isinstance(op, Delete):
                return await r.adelete(op.namespace, op.ids, filter=op.filter)
            return await asyncio.to_thread(self._embed, op)
        except NamespaceNotFound:
            return self._empty(op)
