"""One implementation for a sync and an async face: plans that yield router operations, and two drivers.

A framework integration (LangChain, LlamaIndex) writes each public method once, as a *plan*: a generator that
yields the operations it needs and receives their results. :meth:`Runner.run` performs them with blocking calls,
:meth:`Runner.arun` with the router's async twins, so a method's logic exists once and its faces cannot drift.
Reading from a namespace nobody has written yet yields nothing rather than an error, as a new framework store
would; a wrong-width vector is still refused there.

>>> from vectorrouter import Router
>>> from vectorrouter.backends import NumpyBackend
>>> from vectorrouter.embeddings import EmbeddingService, ModelSpec
>>> router = Router(embeddings=EmbeddingService([ModelSpec("h8", "hash", 8)]), vector_factory=NumpyBackend,
...                 default_model="h8")
>>> def count_then_search():
...     n = yield Count("acme:docs", None)
...     found = yield Search("acme:docs", "hello", None, 3, "dense", None)
...     return n, found
>>> Runner(router).run(count_then_search())
(0, None)

An integration with operations of its own subclasses :class:`Runner` and overrides :meth:`Runner.call_other`
and :meth:`Runner.acall_other`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from vectorrouter.errors import DimensionMismatch, InvalidRecord, NamespaceNotFound
from vectorrouter.filters import Filter
from vectorrouter.types import Namespace, Record, SearchMode, id_text, parse_logical

if TYPE_CHECKING:
    from vectorrouter.router import Router

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
    "check_width",
    "id_list",
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
    batch_size: int | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    namespace: str
    ids: Sequence[str] | None
    filter: Filter | None = None


@dataclass(frozen=True, slots=True)
class EmbedQuery:
    """A query vector from the namespace's active model version (or, in a subclass, the framework's model)."""

    namespace: str
    text: str


#: The operations every runner performs; integrations may yield their own beside these.
Op = Search | Get | Scroll | Count | Ingest | Delete | EmbedQuery
Plan = Generator[Any, Any, T]


def write_target(router: Router, namespace: str) -> Namespace:
    """The versioned namespace ``namespace`` names now, or the one a first write would create."""
    try:
        return router.resolve(namespace)
    except NamespaceNotFound:
        tenant, feature, version = parse_logical(namespace)
        default = router.namespace_models.get(f"{tenant}:{feature}") or router.default_model
        return Namespace(tenant, feature, version or default)


def id_list(ids: Iterable[str], name: str = "ids") -> list[str]:
    """``ids`` as a list of strings (an integer id is read as its digits, as ingest stores it). One id passed as
    a bare string is an error: iterating it would look up (or delete) the ids made of its characters.

    >>> id_list(("a", 7))
    ['a', '7']
    >>> id_list("apple")
    Traceback (most recent call last):
    vectorrouter.errors.InvalidRecord: ids must be a list of strings, not one string; wrap it in a list: [id]
    """
    if isinstance(ids, str | bytes):
        raise InvalidRecord(f"{name} must be a list of strings, not one string; wrap it in a list: [id]")
    if not isinstance(ids, Iterable):
        raise InvalidRecord(f"{name} must be a list of strings, got {type(ids).__name__}")
    out: list[str] = []
    for i, one in enumerate(ids):
        text = id_text(one)
        if text is None:
            raise InvalidRecord(f"{name}[{i}] is {one!r}; ids are strings (an integer is read as its digits)")
        out.append(text)
    return out


def check_width(router: Router, namespace: str, vector: Sequence[float]) -> None:
    """Raise :class:`DimensionMismatch` when ``vector`` does not fit the namespace's model version."""
    ns = write_target(router, namespace)
    spec = router.embeddings.spec(ns.model_version)
    if len(vector) != spec.dimensions:
        raise DimensionMismatch(spec.dimensions, len(vector), where=f"namespace {ns} ({spec.version})")


class Runner:
    """Executes plans against one router."""

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

    # -- extension points -------------------------------------------------------------------------
    def embed_query(self, op: EmbedQuery) -> list[float]:
        version = write_target(self.router, op.namespace).model_version
        return [float(x) for x in self.router.embeddings.embed(version, [op.text], "query")[0]]

    async def aembed_query(self, op: EmbedQuery) -> list[float]:
        return await asyncio.to_thread(self.embed_query, op)

    def call_other(self, op: Any) -> Any:
        """An operation of a subclass's own; the base runner knows none."""
        raise TypeError(f"{type(self).__name__} cannot perform {type(op).__name__}")

    async def acall_other(self, op: Any) -> Any:
        return await asyncio.to_thread(self.call_other, op)

    # -- drivers ----------------------------------------------------------------------------------
    def _scroll(self, op: Scroll) -> list[Record]:
        return [r for batch in self.router.scroll(op.namespace, op.filter) for r in batch]

    def _empty(self, op: Any) -> Any:
        """What reading from (or deleting in) a namespace nobody wrote yields: nothing, and no error."""
        if isinstance(op, Search):
            if op.vector is not None:
                check_width(self.router, op.namespace, op.vector)  # a wrong vector is wrong even here
            return None
        if isinstance(op, Get | Scroll):
            return []
        if isinstance(op, Delete | Count):
            return 0
        raise NamespaceNotFound(getattr(op, "namespace", ""))

    def _call(self, op: Any) -> Any:
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
                return r.ingest(op.namespace, op.records, batch_size=op.batch_size, progress=False)
            if isinstance(op, Delete):
                return r.delete(op.namespace, op.ids, filter=op.filter)
            if isinstance(op, EmbedQuery):
                return self.embed_query(op)
            return self.call_other(op)
        except NamespaceNotFound:
            return self._empty(op)

    async def _acall(self, op: Any) -> Any:
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
                return await r.aingest(op.namespace, op.records, batch_size=op.batch_size, progress=False)
            if isinstance(op, Delete):
                return await r.adelete(op.namespace, op.ids, filter=op.filter)
            if isinstance(op, EmbedQuery):
                return await self.aembed_query(op)
            return await self.acall_other(op)
        except NamespaceNotFound:
            return self._empty(op)
