"""One implementation for the sync and the async faces: plans that yield operations, and two drivers.

Each public method builds a *plan*: a generator that yields the router (or embedding) operations it needs and
receives their results. :meth:`Runner.run` executes the operations with blocking calls, :meth:`Runner.arun`
awaits the router's async twins, so a method's logic exists once and its two faces cannot drift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.embeddings import Embeddings
from vectorrouter import Router
from vectorrouter.errors import DimensionMismatch, NamespaceNotFound
from vectorrouter.filters import Filter
from vectorrouter.types import Namespace, Record, SearchMode, parse_logical

__all__ = [
    "Delete",
    "EmbedDocuments",
    "EmbedQuery",
    "Get",
    "Ingest",
    "Op",
    "Plan",
    "Runner",
    "Search",
    "write_target",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Search:
    """``Router.search``; the result is ``None`` when the namespace was never written (nothing to find)."""

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
class Ingest:
    namespace: str
    records: Sequence[Record]
    batch_size: int | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    namespace: str
    ids: Sequence[str] | None
    filter: Filter | None = None


@dataclass(frozen=True, slots=True)
class EmbedQuery:
    """A query vector: from the LangChain ``Embeddings`` when the store has one, else the namespace's model."""

    namespace: str
    text: str


@dataclass(frozen=True, slots=True)
class EmbedDocuments:
    """Document vectors from the LangChain ``Embeddings`` (only planned when the store has one)."""

    texts: Sequence[str]


Op = Search | Get | Ingest | Delete | EmbedQuery | EmbedDocuments
Plan = Generator[Op, Any, T]


def write_target(router: Router, namespace: str) -> Namespace:
    """The versioned namespace ``namespace`` names now, or the one a first write would create."""
    try:
        return router.resolve(namespace)
    except NamespaceNotFound:
        tenant, feature, version = parse_logical(namespace)
        logical = f"{tenant}:{feature}"
        return Namespace(
            tenant, feature, version or router.namespace_models.get(logical) or router.default_model
        )


def check_width(router: Router, namespace: str, vector: Sequence[float]) -> None:
    """Raise :class:`DimensionMismatch` when ``vector`` does not fit the namespace's model version."""
    ns = write_target(router, namespace)
    spec = router.embeddings.spec(ns.model_version)
    if len(vector) != spec.dimensions:
        raise DimensionMismatch(spec.dimensions, len(vector), where=f"namespace {ns} ({spec.version})")


class Runner:
    """Executes plans against one router (and an optional LangChain embedding model)."""

    def __init__(self, router: Router, embedding: Embeddings | None) -> None:
        self.router = router
        self.embedding = embedding

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

    def _router_query_vector(self, op: EmbedQuery) -> list[float]:
        version = write_target(self.router, op.namespace).model_version
        return [float(x) for x in self.router.embeddings.embed(version, [op.text], "query")[0]]

    def _empty(self, op: Op) -> Any:
        """What reading from (or deleting in) a namespace nobody wrote yields: nothing, and no error."""
        if isinstance(op, Search):
            if op.vector is not None:
                check_width(self.router, op.namespace, op.vector)  # a wrong vector is wrong even here
            return None
        if isinstance(op, Get):
            return []
        if isinstance(op, Delete):
            return 0
        raise NamespaceNotFound(getattr(op, "namespace", ""))

    def _call(self, op: Op) -> Any:
        r = self.router
        try:
            if isinstance(op, Search):
                return r.search(
                    op.namespace, op.query, vector=op.vector, k=op.k, mode=op.mode, filter=op.filter
                )
            if isinstance(op, Get):
                return r.get(op.namespace, op.ids, with_vectors=op.with_vectors)
            if isinstance(op, Ingest):
                return r.ingest(op.namespace, op.records, batch_size=op.batch_size, progress=False)
            if isinstance(op, Delete):
                return r.delete(op.namespace, op.ids, filter=op.filter)
            if isinstance(op, EmbedQuery):
                if self.embedding is not None:
                    return self.embedding.embed_query(op.text)
                return self._router_query_vector(op)
            assert self.embedding is not None, "documents are embedded here only with a LangChain model"
            return self.embedding.embed_documents(list(op.texts))
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
            if isinstance(op, Ingest):
                return await r.aingest(op.namespace, op.records, batch_size=op.batch_size, progress=False)
            if isinstance(op, Delete):
                return await r.adelete(op.namespace, op.ids, filter=op.filter)
            if isinstance(op, EmbedQuery):
                if self.embedding is not None:
                    return await self.embedding.aembed_query(op.text)
                return await asyncio.to_thread(self._router_query_vector, op)
            assert self.embedding is not None, "documents are embedded here only with a LangChain model"
            return await self.embedding.aembed_documents(list(op.texts))
        except NamespaceNotFound:
            return self._empty(op)
