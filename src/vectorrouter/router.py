"""The ``Router`` facade: the one object a RAG application talks to.

Sync methods hold the logic; the ``a``-prefixed async methods are a thin face that runs them on a worker
thread, so the two can never drift (the embedded engines are in-process and blocking anyway).

Every search walks the namespace's degradation ladder (:mod:`vectorrouter.ladder`); every write goes to every
store of that ladder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np

from vectorrouter.backends import make_keyword_backend, make_vector_factory
from vectorrouter.backends.base import KeywordBackend, VectorBackend
from vectorrouter.embeddings import DEFAULT_MODEL, EmbeddingService, ModelSpec
from vectorrouter.embeddings.base import Embedder
from vectorrouter.errors import (
    BackendError,
    ConfigurationError,
    DimensionMismatch,
    InvalidRecord,
    ResidencyViolation,
)
from vectorrouter.filters import Filter
from vectorrouter.hooks import PLAIN_IDS, IdCodec, IngestContext, IngestHook, run_hooks
from vectorrouter.ingest import IngestEvent, IngestQueue, MemoryQueue
from vectorrouter.ladder import (
    KeywordStep,
    Ladder,
    MetricsRegistry,
    Query,
    StepHealth,
    StepPolicy,
    VectorStep,
)
from vectorrouter.plans import id_list
from vectorrouter.progress import progress as show_progress
from vectorrouter.routing import Catalog, NamespaceInfo, VectorFactory
from vectorrouter.types import (
    Namespace,
    Record,
    SearchMode,
    SearchResult,
    check_encodable,
    check_vector,
    check_vectors,
    id_text,
    parse_logical,
    validate_metadata,
)

if TYPE_CHECKING:
    from vectorrouter.compliance.erasure import ErasureReport
    from vectorrouter.migration.resolver import Route, VersionResolver

__all__ = ["IngestReport", "Router"]

log = logging.getLogger("vectorrouter")
P = ParamSpec("P")
T = TypeVar("T")

RecordLike = str | Record | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ``ingest`` call wrote."""

    namespace: str
    written: int
    batches: int
    seconds: float
    ids: list[str] = field(default_factory=list, repr=False)


def text_id(text: str) -> str:
    """The id a bare text gets: a digest of its content, so re-ingesting the same text is idempotent."""
    return "t-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _many(items: Iterable[RecordLike]) -> Iterable[RecordLike]:
    """``items`` when it is a collection of them; one text, record or dict passed bare is an error (a bare
    string would otherwise be ingested one character at a time)."""
    if isinstance(items, str | bytes | Record | Mapping):
        raise InvalidRecord(
            f"items must be a list (or any iterable) of texts, records or dicts, not one {type(items).__name__}; "
            "wrap it in a list: [item]"
        )
    if items is None or not isinstance(items, Iterable):
        raise InvalidRecord(
            f"items must be a list (or any iterable) of texts, records or dicts, got {type(items).__name__}"
        )
    return items


def _vetted(result: SearchResult, vector: Sequence[float]) -> SearchResult:
    """``result`` of a dense search with the caller's vector. A vector holding NaN or infinity (or no numbers)
    comes back as no hits or NaN scores; only then is it checked, so a healthy search pays one comparison."""
    hits = result.hits
    if not hits or hits[0].score != hits[0].score:
        check_vector(vector, "query")
    return result


def _to_record(item: RecordLike, position: int) -> Record:
    if isinstance(item, Record):
        return item
    if isinstance(item, str):
        return Record(id=text_id(item), text=item)
    if isinstance(item, Mapping):
        unknown = set(item) - {"id", "_id", "text", "title", "metadata", "vector"}
        if unknown:
            raise InvalidRecord(
                f"item {position}: unknown keys {sorted(unknown)}; a record dict has id, text, metadata, vector"
                " (and optional title, stored as metadata['title'])"
            )
        text = item.get("text", "")
        given = item.get("id", item.get("_id"))
        # no id: the content's digest, so the same text is written once
        rid = text_id(str(text)) if given is None else id_text(given)
        if rid is None:
            raise InvalidRecord(f"item {position}: id must be a string (or an integer), got {given!r}")
        try:
            md = validate_metadata(item.get("metadata"))  # a mapping, or InvalidRecord naming the type
        except InvalidRecord as exc:
            raise InvalidRecord(f"item {position}: {exc}") from None
        if item.get("title"):
            md.setdefault("title", item["title"])
        return Record(id=rid, text=text, metadata=md, vector=item.get("vector"))
    raise InvalidRecord(f"item {position}: expected a str, a Record or a dict, got {type(item).__name__}")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Router:
    """Ingest into and search across versioned namespaces, whatever stores and models sit underneath.

    >>> from vectorrouter.embeddings import TEST_MODEL
    >>> router = Router.embedded(None, model=TEST_MODEL)      # in memory, deterministic test embedder
    >>> report = router.ingest("acme:docs", ["Qdrant Edge runs in process.", "BM25 ranks by term rarity."])
    >>> router.search("acme:docs", "which engine runs in process?", k=1).hits[0].text
    'Qdrant Edge runs in process.'
    >>> router.close()
    """

    def __init__(
        self,
        *,
        embeddings: EmbeddingService,
        vector_factory: VectorFactory | None = None,
        keyword: KeywordBackend | None = None,
        catalog: Catalog | None = None,
        default_model: str | None = None,
        namespace_models: Mapping[str, str] | None = None,
        hooks: Sequence[IngestHook] = (),
        batch_size: int = 64,
        hybrid_candidates: int = 100,
        queue: IngestQueue | None = None,
        ladder: Ladder | None = None,
        resolver: VersionResolver | None = None,
    ) -> None:
        self.embeddings = embeddings
        #: The degradation ladder every search walks; without one, the vector store then the keyword store.
        self.ladder = ladder if ladder is not None else self._implicit_ladder(vector_factory, keyword)
        first = self.ladder.route(Namespace("default", "default", "default"))
        #: The default ladder's first vector store (its indexes) and first keyword store.
        self.indexes = next(s for s in first if isinstance(s, VectorStep)).indexes
        self.keyword = next((s.backend for s in first if isinstance(s, KeywordStep)), None)
        self.catalog = catalog or Catalog()
        versions = embeddings.versions()
        self.default_model = default_model or (versions[0] if len(versions) == 1 else DEFAULT_MODEL.version)
        embeddings.spec(self.default_model)  # fail now, not on the first write
        self.namespace_models = dict(namespace_models or {})
        for logical, version in self.namespace_models.items():
            parse_logical(logical)
            embeddings.spec(version)
        #: The ordered compliance-hook slot: every ingest passes through these before any write.
        self.hooks: list[IngestHook] = list(hooks)
        #: Called with the namespace after every write or delete (result caches invalidate here).
        self.on_change: list[Callable[[Namespace], None]] = [c.invalidate for c in self.ladder.cache_steps()]
        #: Maps callers' ids to stored ids and back (keyed identifiers install one; default: unchanged).
        self.id_codec: IdCodec = PLAIN_IDS
        #: ``forget(user_id)`` runs this (installed by ``vectorrouter.compliance.Compliance.attach``).
        self.eraser: Callable[[str], ErasureReport] | None = None
        if batch_size <= 0:
            raise ConfigurationError("must be positive", field="ingest.batch_size", fix="use e.g. 64")
        self.batch_size = batch_size
        self.hybrid_candidates = hybrid_candidates
        #: Where ``enqueue`` puts events for an :class:`~vectorrouter.ingest.IngestWorker` (in-process by default).
        self.queue: IngestQueue = queue if queue is not None else MemoryQueue()
        #: Migration seam: picks the version a logical search goes to and mirrors writes (dual writes).
        self.resolver: VersionResolver | None = resolver
        #: Called by :meth:`close` (e.g. the compliance layer's database, when a config file attached it).
        self.on_close: list[Callable[[], None]] = []

    # -- construction -----------------------------------------------------------------------------
    @staticmethod
    def _implicit_ladder(vector_factory: VectorFactory | None, keyword: KeywordBackend | None) -> Ladder:
        if vector_factory is None:
            raise ConfigurationError(
                "a router needs a vector store",
                field="vector_store.kind",
                fix="pass vector_factory= or ladder=",
            )
        # named after the stores so results say which one answered; calls are inline like before the ladder
        name = str(getattr(vector_factory, "name", "") or "primary")
        steps: list[VectorStep | KeywordStep] = [
            VectorStep(name, vector_factory, policy=StepPolicy.in_process())
        ]
        if keyword is not None:
            kw_name = keyword.name if keyword.name != name else f"{keyword.name}-keyword"
            steps.append(KeywordStep(kw_name, keyword, policy=StepPolicy.in_process()))
        return Ladder(steps)

    @classmethod
    def embedded(
        cls,
        path: str | Path | None = ".vectorrouter",
        *,
        model: ModelSpec = DEFAULT_MODEL,
        embedder: Embedder | None = None,
        vector_kind: str = "qdrant-edge",
        hooks: Sequence[IngestHook] = (),
    ) -> Router:
        """A router on the embedded defaults: Qdrant Edge + tantivy on disk under ``path`` (memory if None).

        No server, no API key, no network. ``model`` defaults to the offline all-MiniLM-L6-v2.
        """
        from vectorrouter.config import EmbeddingsConfig

        root = Path(path) if path is not None else None
        # the same embedding defaults as a configuration file: L1 memory + L3 SQLite cache under ``path``
        embeddings = EmbeddingsConfig().build([model], root)
        if embedder is not None:
            embeddings.add(model, embedder)
        router = cls(
            embeddings=embeddings,
            vector_factory=make_vector_factory(vector_kind, root / "vectors" if root else None),
            keyword=make_keyword_backend("tantivy", root / "keyword" if root else None),
            catalog=Catalog(root / "catalog.sqlite" if root else None),
            default_model=model.version,
            hooks=hooks,
        )
        if root is not None:  # on disk: obey migration state and rollback flags kept beside the stores
            from vectorrouter.migration import FileStateStore, MigrationResolver, QualityMonitor

            MigrationResolver(FileStateStore(root / "migrations"), monitor=QualityMonitor()).attach(router)
        return router

    @classmethod
    def from_config(cls, path: str | Path = "vectorrouter.toml") -> Router:
        """Build from a TOML file, validated by field (see ``vectorrouter init`` for a commented example)."""
        from vectorrouter.config import load_config

        return load_config(path).build()

    # -- namespaces -------------------------------------------------------------------------------
    def _namespace_for_write(self, name: str | Namespace) -> Namespace:
        if isinstance(name, Namespace):
            return name
        tenant, feature, version = parse_logical(name)
        logical = f"{tenant}:{feature}"
        if version is None:
            version = (
                self.catalog.active_version(logical)
                or self.namespace_models.get(logical)
                or self.default_model
            )
        return Namespace(tenant, feature, version)

    def resolve(self, name: str | Namespace) -> Namespace:
        """The existing versioned namespace ``name`` refers to (``tenant:feature`` → its active version)."""
        return self.catalog.resolve(name)

    def namespaces(self, tenant: str | None = None) -> list[NamespaceInfo]:
        return self.catalog.list(tenant)

    def _vector_backend(self, ns: Namespace) -> tuple[ModelSpec, VectorBackend]:
        """The model of ``ns`` and its index in the default ladder's first vector store."""
        spec = self.embeddings.spec(ns.model_version)
        return spec, self.indexes.for_model(spec)

    def _changed(self, ns: Namespace) -> None:
        for callback in self.on_change:
            callback(ns)

    # -- ingest -----------------------------------------------------------------------------------
    def ingest(
        self,
        namespace: str | Namespace,
        items: Iterable[RecordLike],
        *,
        batch_size: int | None = None,
        progress: bool | None = None,
    ) -> IngestReport:
        """Embed (with the namespace's model version) and write ``items`` to every store of the namespace.

        Items are texts, :class:`Record` objects or dicts (``id``, ``text``, ``metadata``, ``vector``).
        Idempotent by id: writing the same id again replaces it. Everything is validated, and passed through
        the compliance hooks, before the first write.
        """
        started = time.perf_counter()
        size = self._batch_size(batch_size)  # refused before anything is read or written
        ns, records = self.prepare(namespace, items)  # checks the vectors: _write does not again
        return self._write(ns, records, size, progress, started)

    def prepare(
        self, namespace: str | Namespace, items: Iterable[RecordLike]
    ) -> tuple[Namespace, list[Record]]:
        """Validate ``items`` and run the compliance hooks, writing nothing.

        The result is what :meth:`write` (or an ingest queue) accepts: hooks have already run, so they run
        exactly once however the records reach the stores.
        """
        ns = self._namespace_for_write(namespace)
        spec = self.embeddings.spec(ns.model_version)
        by_id: dict[str, Record] = {}
        given = 0
        for given, item in enumerate(_many(items), start=1):
            rec = _to_record(item, given - 1)
            by_id[rec.id] = rec  # last write of an id wins, as it would across two calls
        if given > len(by_id):
            log.warning(
                "%s: %d of %d items repeat an id given earlier in the same call; the last of each is kept",
                ns,
                given - len(by_id),
                given,
            )
        records = run_hooks(self.hooks, list(by_id.values()), IngestContext(ns, spec))
        self._check_vectors(spec, ns, records)
        return ns, records

    def _batch_size(self, batch_size: int | None) -> int:
        """The batch size to write with: the router's default for None, else a positive integer."""
        if batch_size is None:
            return self.batch_size
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise InvalidRecord(
                f"batch_size must be a positive integer, got {batch_size!r}; "
                f"leave it out for the router's default ({self.batch_size})"
            )
        return batch_size

    @staticmethod
    def _check_vectors(spec: ModelSpec, ns: Namespace, records: Sequence[Record]) -> None:
        """The caller's vectors, before anything is written: the model's width, and finite numbers only."""
        for rec in records:
            if rec.vector is not None and len(rec.vector) != spec.dimensions:
                raise DimensionMismatch(
                    spec.dimensions, len(rec.vector), where=f"record {rec.id!r} in namespace {ns}"
                )
        check_vectors(records, f"namespace {ns}")

    def write(
        self,
        namespace: Namespace,
        records: Sequence[Record],
        *,
        batch_size: int | None = None,
        progress: bool | None = False,
        started: float | None = None,
    ) -> IngestReport:
        """Embed and upsert already-prepared records into every store of ``namespace`` (no hooks run here).

        The records' vectors are checked again (width, finite numbers): they may come from a queue."""
        size = self._batch_size(batch_size)
        self._check_vectors(self.embeddings.spec(namespace.model_version), namespace, records)
        return self._write(namespace, records, size, progress, started)

    def _write(
        self,
        ns: Namespace,
        records: Sequence[Record],
        size: int,
        progress: bool | None,
        started: float | None,
    ) -> IngestReport:
        started = time.perf_counter() if started is None else started
        batches = self._write_one(ns, records, size, progress)
        for mirror in self.resolver.mirrors(ns) if self.resolver is not None else ():
            self._write_mirror(mirror, records, size)
        seconds = time.perf_counter() - started
        log.info("ingested %d records into %s in %d batches (%.2fs)", len(records), ns, batches, seconds)
        own_ids = self.id_codec.to_caller(ns, [r.id for r in records])
        return IngestReport(str(ns), len(records), batches, seconds, own_ids)

    def _write_one(
        self, ns: Namespace, records: Sequence[Record], size: int, progress: bool | None = False
    ) -> int:
        spec = self.embeddings.spec(ns.model_version)
        self.catalog.register(ns, index_name=spec.index_spec().name, dimensions=spec.dimensions)
        batches = 0
        try:
            with show_progress(progress, len(records), f"ingest {ns}") as advance:
                for batch in _chunks(records, size):
                    embedded = self._embed_missing(spec, ns, batch)
                    self.ladder.write(
                        ns,
                        "ingest",
                        lambda s, e=embedded: s.backend(spec).upsert(str(ns), e),  # type: ignore[misc]
                        lambda s, e=embedded: s.backend.upsert(str(ns), e),  # type: ignore[misc]
                    )
                    batches += 1
                    advance(len(batch))
        finally:
            self._changed(ns)  # even a partial write must invalidate cached answers
        return batches

    def _write_mirror(self, mirror: Namespace, records: Sequence[Record], size: int) -> None:
        """Dual write during a migration: re-embed with the mirror's model; a failure is recorded, not raised."""
        assert self.resolver is not None
        texted = [Record(id=r.id, text=r.text, metadata=r.metadata) for r in records if r.text]
        untexted = [r.id for r in records if not r.text]
        if untexted:  # a vector-only record cannot be re-embedded for the new model
            self.resolver.mirror_failed(mirror, untexted, InvalidRecord("record has no text to re-embed"))
        try:
            self._write_one(mirror, texted, size)
        except BackendError as exc:  # the primary write stands; the backfill repairs the mirror
            self.resolver.mirror_failed(mirror, [r.id for r in texted], exc)

    def enqueue(
        self, namespace: str | Namespace, items: Iterable[RecordLike], *, batch_size: int | None = None
    ) -> list[str]:
        """Validate and run hooks now, then queue the records for a worker; returns the event ids.

        Nothing is written to a store here. Each event is accepted durably by the queue or this call raises.
        """
        size = self._batch_size(batch_size)
        ns, records = self.prepare(namespace, items)
        ids = []
        for batch in _chunks(records, size):
            event = IngestEvent(namespace=str(ns), op="upsert", records=tuple(batch))
            self.queue.put(event)
            ids.append(event.event_id)
        return ids

    def _embed_missing(self, spec: ModelSpec, ns: Namespace, batch: Sequence[Record]) -> list[Record]:
        todo = [i for i, r in enumerate(batch) if r.vector is None]
        out = list(batch)
        if todo:
            texts = [batch[i].text for i in todo]
            vecs = self.embeddings.embed(spec.version, texts, "document", tenant=ns.tenant)
            for i, vec in zip(todo, vecs, strict=True):
                out[i] = batch[i].with_vector(vec)
        return out

    # -- search -----------------------------------------------------------------------------------
    def search(
        self,
        namespace: str | Namespace,
        query: str | None = None,
        *,
        vector: Sequence[float] | None = None,
        k: int = 10,
        mode: SearchMode | None = None,
        filter: Filter | Mapping[str, Any] | None = None,
        routing_key: str | None = None,
    ) -> SearchResult:
        """Search one namespace. ``mode`` is ``dense``, ``keyword`` or ``hybrid`` (reciprocal rank fusion).

        The default is ``hybrid`` when there is query text and a keyword store, else ``dense``. Pass
        ``vector`` to search with a precomputed embedding (its width is checked against the namespace's model).
        ``routing_key`` (a user or session id) keeps a caller on one arm of a migration's rollout.
        """
        route = self._route(namespace, routing_key, vector)
        ns = route.namespace if route is not None else self.catalog.resolve(namespace)
        flt = self.id_codec.stored_filter(ns, Filter.from_dict(filter))
        chosen = self._mode(mode, query, vector, ns)
        if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
            raise InvalidRecord(f"k must be a positive integer, got {k!r}")
        spec = self.embeddings.spec(ns.model_version)
        embed: Callable[[], Sequence[float]]
        if route is not None and route.adapter is not None:
            adapted = route
            if vector is not None:
                vector = self._adapted_query(adapted, query, vector)
            embed = lambda: self._adapted_query(adapted, query, None)  # noqa: E731
        else:
            if vector is not None:
                vector = self._query_vector(spec, ns, query, vector)
            embed = lambda: self._query_vector(spec, ns, query, None)  # noqa: E731
        if (
            chosen == "dense"
            and vector is not None
            and flt is None
            and route is None
            and self.id_codec is PLAIN_IDS
        ):
            # the commonest search (the caller's vector, nothing to route, filter or map back): the ladder's
            # short path, which declines (None) unless the namespace's first vector step can take it alone
            found = self.ladder.search_dense(ns, spec, vector, k, query)
            if found is not None:
                return _vetted(found, vector)
        q = Query(
            namespace=ns,
            model=spec,
            mode=chosen,
            k=k,
            text=query,
            vector=vector,
            filter=flt,
            embed=embed,
            candidates=self.hybrid_candidates,
        )
        if vector is not None and chosen == "hybrid":
            check_vector(vector, "query")  # fused with keyword hits, a broken dense half would go unseen
        result = self.ladder.search(q)
        if vector is not None and chosen == "dense":
            _vetted(result, vector)
        if route is not None and self.resolver is not None:
            self.resolver.observe(route, query, result)
        if self.id_codec is PLAIN_IDS:
            return result
        own_ids = self.id_codec.to_caller(ns, [h.id for h in result.hits])
        if own_ids == [h.id for h in result.hits]:
            return result
        hits = [
            h if h.id == i else dataclasses.replace(h, id=i)
            for h, i in zip(result.hits, own_ids, strict=True)
        ]
        return dataclasses.replace(result, hits=hits)

    def _route(
        self, namespace: str | Namespace, routing_key: str | None, vector: Sequence[float] | None
    ) -> Route | None:
        # only a logical name is routed: an explicit version always means exactly that version
        if self.resolver is None or not isinstance(namespace, str):
            return None
        tenant, feature, version = parse_logical(namespace)
        if version is not None:
            return None
        route = self.resolver.route(f"{tenant}:{feature}", routing_key)
        # a caller's precomputed vector can only go where its model's width fits; elsewhere the active version
        fits = (
            vector is None
            or route is None
            or len(vector) == self.embeddings.spec(route.query_version).dimensions
        )
        return route if fits else None

    def _adapted_query(
        self, route: Route, query: str | None, vector: Sequence[float] | None
    ) -> Sequence[float]:
        """The adapter arm: embed with the new model, then map into the searched (old) index's space."""
        assert route.adapter is not None
        qspec = self.embeddings.spec(route.query_version)
        raw = self._query_vector(qspec, route.namespace.with_version(route.query_version), query, vector)
        return route.adapter(np.asarray(raw, dtype=np.float32)).tolist()  # type: ignore[no-any-return]

    def feedback(self, query_id: str, doc_id: str, signal: float = 1.0) -> None:
        """Record a click (``1.0``) or rating on hit ``doc_id`` of search ``query_id``, credited to its arm."""
        if self.resolver is None:
            raise ConfigurationError(
                "feedback is recorded per migration arm and no resolver is attached",
                field="router.resolver",
                fix="attach a MigrationResolver with a QualityMonitor",
            )
        self.resolver.feedback(query_id, doc_id, signal)

    def _mode(
        self, mode: SearchMode | None, query: str | None, vector: Sequence[float] | None, ns: Namespace
    ) -> SearchMode:
        if query is None and vector is None:
            raise InvalidRecord("search needs query text, a vector, or both")
        if query is not None:
            if not isinstance(query, str):
                raise InvalidRecord(
                    f"query must be text (str), got {type(query).__name__}; pass an embedding as vector="
                )
            if query.strip():
                check_encodable(query, "query")
            elif vector is None:
                raise InvalidRecord(
                    f"query text is blank ({query!r}): there is nothing to embed or match; pass words, or a vector"
                )
            else:
                query = None  # the caller's vector is the whole query
        has_keyword = self.ladder.has_keyword_steps(ns)
        if mode is None:
            return "hybrid" if query and has_keyword else "dense"
        if mode not in ("dense", "keyword", "hybrid"):
            raise InvalidRecord(f"mode must be 'dense', 'keyword' or 'hybrid', got {mode!r}")
        if mode in ("keyword", "hybrid"):
            if not query:
                raise InvalidRecord(f"mode={mode!r} needs query text")
            refused = [r for n, r in self.ladder.refused(ns) if self.ladder.steps[n].kind == "keyword"]
            if not has_keyword and refused:  # a keyword store exists but may not serve this namespace
                raise ResidencyViolation(f"mode={mode!r} needs a keyword store, and {refused[0]}")
            if not has_keyword:
                raise ConfigurationError(
                    f"mode={mode!r} needs a keyword store",
                    field="keyword_store.kind",
                    fix="set kind = 'tantivy'",
                )
        return mode

    def _query_vector(
        self, spec: ModelSpec, ns: Namespace, query: str | None, vector: Sequence[float] | None
    ) -> Sequence[float]:
        if vector is not None:
            if len(vector) != spec.dimensions:
                raise DimensionMismatch(
                    spec.dimensions, len(vector), where=f"namespace {ns} ({spec.version})"
                )
            return vector
        return self.embeddings.embed(spec.version, [query or ""], "query", tenant=ns.tenant)[0]  # type: ignore[no-any-return]

    def health(self) -> list[StepHealth]:
        """Each ladder step's breaker state, recent error rate and latency (see ``vectorrouter status``)."""
        return self.ladder.health()

    @property
    def metrics(self) -> MetricsRegistry:
        """Search and step metrics; ``router.metrics.render_prometheus()`` exports them."""
        return self.ladder.metrics

    # -- reads and deletes ------------------------------------------------------------------------
    def get(
        self, namespace: str | Namespace, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[Record]:
        """Records by id, in the order asked; unknown ids are left out."""
        asked = id_list(ids)
        ns = self.catalog.resolve(namespace)
        spec = self.embeddings.spec(ns.model_version)
        wanted = self.id_codec.to_stored(ns, asked)
        found = self.ladder.read(
            ns, lambda s: s.backend(spec).get(str(ns), wanted, with_vectors=with_vectors)
        )
        own_ids = self.id_codec.to_caller(ns, [r.id for r in found])
        return [
            r if r.id == i else Record(id=i, text=r.text, metadata=r.metadata, vector=r.vector)
            for r, i in zip(found, own_ids, strict=True)
        ]

    def scroll(
        self,
        namespace: str | Namespace,
        filter: Filter | Mapping[str, Any] | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        """Every record of ``namespace`` matching ``filter``, in batches, with the caller's own ids.

        For listing by metadata (framework ``get_nodes(filters=...)``), exports and audits; order is the store's.
        """
        ns = self.catalog.resolve(namespace)
        _, backend = self._vector_backend(ns)
        flt = self.id_codec.stored_filter(ns, Filter.from_dict(filter))
        for batch in backend.scroll(str(ns), flt, batch_size=batch_size, with_vectors=with_vectors):
            own_ids = self.id_codec.to_caller(ns, [r.id for r in batch])
            yield [
                r if r.id == i else Record(id=i, text=r.text, metadata=r.metadata, vector=r.vector)
                for r, i in zip(batch, own_ids, strict=True)
            ]

    def count(self, namespace: str | Namespace, filter: Filter | Mapping[str, Any] | None = None) -> int:
        ns = self.catalog.resolve(namespace)
        spec = self.embeddings.spec(ns.model_version)
        flt = self.id_codec.stored_filter(ns, Filter.from_dict(filter))
        return self.ladder.read(ns, lambda s: s.backend(spec).count(str(ns), flt))

    def delete(
        self,
        namespace: str | Namespace,
        ids: Sequence[str] | None = None,
        *,
        filter: Filter | Mapping[str, Any] | None = None,
    ) -> int:
        """Delete by ids or by filter from every store of the namespace; returns how many records went."""
        if (ids is None) == (filter is None):
            raise InvalidRecord(
                "delete takes ids or filter (exactly one); to remove a whole namespace use drop_namespace()"
            )
        if ids is not None:
            ids = id_list(ids)
        if isinstance(filter, Mapping) and not filter:
            # a filter built at run time that came out empty must not empty the namespace by accident
            raise InvalidRecord(
                "delete with filter={} would remove every record of the namespace; refusing. Fix: pass a "
                "non-empty filter, filter=And(()) to empty the namespace on purpose, or drop_namespace()"
            )
        ns = self.catalog.resolve(namespace)
        flt = None if filter is None else self.id_codec.stored_filter(ns, Filter.from_dict(filter))
        n = self._delete_one(ns, ids, flt)
        for mirror in self.resolver.mirrors(ns) if self.resolver is not None else ():
            try:
                self._delete_one(mirror, ids, flt)
            except BackendError as exc:  # recorded; parity reports the extra records until repaired
                self.resolver.mirror_failed(mirror, list(ids or ()), exc)  # type: ignore[union-attr]
        return n

    def _delete_one(self, ns: Namespace, ids: Sequence[str] | None, flt: Filter | None) -> int:
        spec = self.embeddings.spec(ns.model_version)
        try:
            if ids is not None:
                doomed = self.id_codec.to_stored(ns, list(ids))
                return self.ladder.write(
                    ns,
                    "delete",
                    lambda s: s.backend(spec).delete(str(ns), doomed),
                    lambda s: s.backend.delete(str(ns), doomed),
                )
            return self.ladder.write(
                ns,
                "delete",
                lambda s: s.backend(spec).delete_by_filter(str(ns), flt),
                lambda s: s.backend.delete_by_filter(str(ns), flt),
            )
        finally:
            self._changed(ns)

    def drop_namespace(self, namespace: str | Namespace) -> int:
        """Remove a versioned namespace and all its records from every store; returns how many records went."""
        ns = self.catalog.resolve(namespace)
        spec = self.embeddings.spec(ns.model_version)
        try:
            n = self.ladder.write(
                ns,
                "drop",
                lambda s: s.backend(spec).delete_by_filter(str(ns), None),
                lambda s: s.backend.delete_by_filter(str(ns), None),
            )
            self.catalog.drop(ns)  # only once every store let go of the records
            for cache in self.ladder.cache_steps():
                cache.purge(ns)  # the namespace is gone: no stale answer of it may remain either
        finally:
            self._changed(ns)
        return n

    def forget(self, user_id: str) -> ErasureReport:
        """Erase one user's data from every place the compliance layer knows, verify, and report per place."""
        if self.eraser is None:
            raise ConfigurationError(
                "forget needs the compliance layer",
                field="compliance",
                fix="attach one: vectorrouter.compliance.Compliance(...).attach(router)",
            )
        return self.eraser(user_id)

    def close(self) -> None:
        close_resolver = getattr(self.resolver, "close", None)
        if callable(close_resolver):
            close_resolver()
        self.queue.close()
        self.ladder.close()
        self.embeddings.close()
        self.catalog.close()
        for callback in self.on_close:
            callback()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- async face -------------------------------------------------------------------------------
    async def aingest(
        self, namespace: str | Namespace, items: Iterable[RecordLike], **kw: Any
    ) -> IngestReport:
        return await _in_thread(self.ingest, namespace, list(_many(items)), **kw)

    async def asearch(self, namespace: str | Namespace, query: str | None = None, **kw: Any) -> SearchResult:
        return await _in_thread(self.search, namespace, query, **kw)

    async def aget(self, namespace: str | Namespace, ids: Sequence[str], **kw: Any) -> list[Record]:
        return await _in_thread(self.get, namespace, ids, **kw)

    async def acount(
        self, namespace: str | Namespace, filter: Filter | Mapping[str, Any] | None = None
    ) -> int:
        return await _in_thread(self.count, namespace, filter)

    async def adelete(self, namespace: str | Namespace, ids: Sequence[str] | None = None, **kw: Any) -> int:
        return await _in_thread(self.delete, namespace, ids, **kw)

    async def adrop_namespace(self, namespace: str | Namespace) -> int:
        return await _in_thread(self.drop_namespace, namespace)

    async def aforget(self, user_id: str) -> ErasureReport:
        return await _in_thread(self.forget, user_id)


async def _in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)
