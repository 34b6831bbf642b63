"""The embedded keyword store: BM25 over tantivy, partitioned by namespace, with exact metadata filters.

One tantivy index holds every namespace. Each document has a unique key per ``(namespace, id)`` (so an
upsert deletes the old version in the same commit and a delete is exact), its namespace as a raw term,
the text analysed for BM25, the metadata *facts* filters match on (:mod:`.tantivy_filters`) and one
stored JSON payload that gives id, text and metadata back exactly as written.

Queries are plain text: they are analysed with the same analyzer as the documents and turned into term
queries directly, so quotes, colons, brackets and ``AND``/``OR`` are just words and never a syntax error.
BM25 statistics (document frequencies, average length) are index-wide: in one shared index a tenant's scores
move when another tenant writes, and the term statistics of one tenant's corpus show through in another's. The
default store is therefore :class:`NamespacedTantivy`, one such index per namespace (exact per-namespace BM25,
and dropping a namespace drops its files); ``isolation = "shared"`` keeps one index for many tiny namespaces.

Writes go through one writer under a lock and commit per batch; the reader is reloaded right after each
commit, so a search sees a batch entirely or not at all and always sees the caller's own finished writes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from vectorrouter.backends.tantivy_filters import FACTS_FIELD, facts, plan_to_query, translate_filter
from vectorrouter.errors import (
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    InvalidRecord,
    VectorRouterError,
)
from vectorrouter.filters import Filter
from vectorrouter.types import Hit, Record

__all__ = ["Analysis", "NamespacedTantivy", "TantivyBackend", "from_config", "map_tantivy_error"]

KEY_FIELD = "_vr_key"
NS_FIELD = "_vr_ns"
TEXT_FIELD = "text"
PAYLOAD_FIELD = "_vr_doc"

_LANGUAGES = (
    "arabic", "danish", "dutch", "english", "finnish", "french", "german", "greek", "hungarian",
    "italian", "norwegian", "portuguese", "romanian", "russian", "spanish", "swedish", "tamil", "turkish",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Analysis:
    """How text is analysed: split on non-alphanumerics, drop tokens over 40 bytes, lowercase, then
    optionally remove stop words and stem, both for ``language``.

    The analyzer's name is part of the index schema, so reopening an index with other settings fails
    loudly instead of silently mixing two analyses.

    >>> Analysis().build().analyze("The Documents are RUNNING")
    ['document', 'run']
    """

    language: str | None = "english"
    stopwords: bool = True

    def __post_init__(self) -> None:
        if self.language is not None and self.language not in _LANGUAGES:
            raise ConfigurationError(
                f"unsupported language {self.language!r}",
                field="keyword_store.options.language",
                fix=f"use one of {', '.join(_LANGUAGES)}, or 'none' to disable stemming and stop words",
            )

    @property
    def tokenizer_name(self) -> str:
        stop = "stop" if self.stopwords and self.language else "nostop"
        return f"vr_{self.language or 'plain'}_{stop}"

    def build(self) -> tantivy.TextAnalyzer:
        b = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        b = b.filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
        if self.language is not None:
            if self.stopwords:
                b = b.filter(tantivy.Filter.stopword(self.language))
            b = b.filter(tantivy.Filter.stemmer(self.language))
        return b.build()


def _schema(analysis: Analysis) -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field(KEY_FIELD, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(NS_FIELD, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(FACTS_FIELD, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(TEXT_FIELD, tokenizer_name=analysis.tokenizer_name, index_option="freq")
    sb.add_bytes_field(PAYLOAD_FIELD, stored=True)
    return sb.build()


def _key(namespace: str, record_id: str) -> str:
    return f"{len(namespace)}:{namespace}{record_id}"


def _is_panic(exc: BaseException) -> bool:
    # a Rust panic surfaces as pyo3's PanicException, a BaseException that cannot be imported by name
    return type(exc).__name__ == "PanicException"


def map_tantivy_error(exc: BaseException, *, path: Path | None = None) -> VectorRouterError:
    """The one place tantivy's exceptions become :mod:`vectorrouter.errors` (tantivy raises mostly
    ``ValueError`` with the engine's message, so the message decides)."""
    if isinstance(exc, VectorRouterError):
        return exc
    where = f"the keyword index at {path}" if path else "the in-memory keyword index"
    msg = str(exc)
    if "LockBusy" in msg or "index lock" in msg:
        return BackendUnavailable(
            f"another writer holds the lock on {where}; only one process may write to it at a time",
            backend="tantivy",
        )
    if "schema does not match" in msg:
        return ConfigurationError(
            f"{where} was created with a different layout or analyzer ({msg})",
            field="keyword_store.options",
            fix="open it with the options it was created with, or delete the folder and re-ingest",
        )
    if "IndexWriter was consumed" in msg:
        return BackendUnavailable(f"{where} is closed", backend="tantivy")
    if isinstance(exc, UnicodeEncodeError):
        return InvalidRecord(f"text or metadata is not encodable as UTF-8 ({msg})")
    if isinstance(exc, OSError) or "IoError" in msg or "Io(" in msg or "No such file" in msg:
        return BackendUnavailable(f"{where} cannot be read or written: {msg}", backend="tantivy")
    if _is_panic(exc):
        return BackendError(f"tantivy failed internally: {msg}", backend="tantivy")
    return BackendError(msg or type(exc).__name__, backend="tantivy")


class TantivyBackend:
    """BM25 keyword search over tantivy, one index partitioned by namespace (in memory when ``path`` is None).

    >>> from vectorrouter.filters import Eq
    >>> kw = TantivyBackend()
    >>> kw.upsert("acme:docs:v1", [Record(id="a", text="Tantivy ranks documents with BM25", metadata={"lang": "en"}),
    ...                            Record(id="b", text="Qdrant stores vectors", metadata={"lang": "fr"})])
    >>> [h.id for h in kw.search("acme:docs:v1", "ranking documents", k=5)]
    ['a']
    >>> kw.count("acme:docs:v1", Eq("lang", "fr"))
    1
    >>> kw.close()
    """

    name = "tantivy"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        analysis: Analysis | None = None,
        writer_memory_mb: int = 64,
        writer_threads: int = 1,
    ) -> None:
        self.analysis = analysis or Analysis()
        self._path = Path(path) if path is not None else None
        self._writer_memory = writer_memory_mb * 1_000_000
        self._writer_threads = writer_threads
        self._schema = _schema(self.analysis)
        self._lock = threading.Lock()
        self._local = threading.local()  # one analyzer per thread: analysing borrows it mutably
        self._writer: tantivy.IndexWriter | None = None
        with self._errors():
            if self._path is not None:
                self._path.mkdir(parents=True, exist_ok=True)
                index = tantivy.Index(self._schema, path=str(self._path), reuse=True)
            else:
                index = tantivy.Index(self._schema)
            index.register_tokenizer(self.analysis.tokenizer_name, self.analysis.build())
            index.config_reader(reload_policy="manual")  # we reload right after each commit
        self._index: tantivy.Index | None = index

    # -- plumbing ---------------------------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except VectorRouterError:
            raise
        except BaseException as exc:
            if isinstance(exc, Exception) or _is_panic(exc):
                raise map_tantivy_error(exc, path=self._path) from exc
            raise

    def _open_index(self) -> tantivy.Index:
        if self._index is None:
            raise BackendUnavailable("the keyword index is closed", backend=self.name)
        return self._index

    def _searcher(self) -> tantivy.Searcher:
        return self._open_index().searcher()

    def _open_writer(self) -> tantivy.IndexWriter:
        # opened on the first write, so a read-only process never takes the index lock
        if self._writer is None:
            self._writer = self._open_index().writer(self._writer_memory, self._writer_threads)
        return self._writer

    def _analyze(self, text: str) -> list[str]:
        analyzer = getattr(self._local, "analyzer", None)
        if analyzer is None:
            analyzer = self._local.analyzer = self.analysis.build()
        return analyzer.analyze(text)

    def _term(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, field, value, index_option="basic")

    def _scoped(self, searcher: tantivy.Searcher, namespace: str, flt: Filter | None) -> tantivy.Query:
        """``namespace AND filter``, scoring nothing (a constant 0 leaves BM25 scores untouched)."""
        parts = [(tantivy.Occur.Must, self._term(NS_FIELD, namespace))]
        if flt is not None:
            plan = translate_filter(flt)

            def listed(prefix: str) -> list[str]:
                # ranges expand over this searcher's own term dictionary, never a newer one
                return [term for term, _ in searcher.terms_with_prefix(FACTS_FIELD, prefix)]

            parts.append((tantivy.Occur.Must, plan_to_query(plan, self._schema, listed)))
        return tantivy.Query.const_score_query(tantivy.Query.boolean_query(parts), 0.0)

    @staticmethod
    def _count(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
        result = searcher.search(query, 1, count=True)
        return int(result.count)  # type: ignore[attr-defined]  # present at runtime, missing from the stub

    @staticmethod
    def _record(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Record:
        blob = searcher.doc(address).get_first(PAYLOAD_FIELD)
        if blob is None:
            raise BackendError(
                "a document has no stored payload; the index is not one of ours", backend="tantivy"
            )
        payload = json.loads(blob)
        return Record(id=payload["id"], text=payload["text"], metadata=payload["metadata"])

    def _document(self, namespace: str, rec: Record) -> tuple[str, tantivy.Document]:
        """Build one document, validating everything tantivy would otherwise reject halfway through a batch."""
        payload = {"id": rec.id, "text": rec.text, "metadata": dict(rec.metadata)}
        try:
            blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRecord(
                f"record {rec.id!r}: its id, text or metadata holds a lone surrogate, which is not valid UTF-8"
            ) from None
        key = _key(namespace, rec.id)
        doc = tantivy.Document()
        doc.add_text(KEY_FIELD, key)
        doc.add_text(NS_FIELD, namespace)
        for fact in facts(rec.metadata, record_id=rec.id):
            doc.add_text(FACTS_FIELD, fact)
        doc.add_text(TEXT_FIELD, rec.text)
        doc.add_bytes(PAYLOAD_FIELD, blob)
        return key, doc

    def _commit(self, apply: Callable[[tantivy.IndexWriter], object]) -> None:
        """Run ``apply(writer)`` and commit, or roll back on any failure. The caller holds the lock."""
        writer = self._open_writer()
        try:
            apply(writer)
            writer.commit()
        except BaseException:
            try:
                writer.rollback()
            except Exception:
                self._writer = None  # a writer that cannot roll back is not reused
            raise
        self._open_index().reload()

    # -- writes -----------------------------------------------------------------------------------
    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if not records:
            return
        docs = [self._document(namespace, r) for r in records]

        def apply(writer: tantivy.IndexWriter) -> None:
            for key, doc in docs:
                # a delete reaches only documents added before it, so the new version survives
                writer.delete_documents_by_term(KEY_FIELD, key)
                writer.add_document(doc)

        with self._lock, self._errors():
            self._commit(apply)

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        keys = list(dict.fromkeys(_key(namespace, i) for i in ids))
        if not keys:
            return 0

        def apply(writer: tantivy.IndexWriter) -> None:
            for key in keys:
                writer.delete_documents_by_term(KEY_FIELD, key)

        # count and delete under one lock, so both see the same records
        with self._lock, self._errors():
            existing = self._count(
                self._searcher(), tantivy.Query.term_set_query(self._schema, KEY_FIELD, keys)
            )
            if existing:
                self._commit(apply)
            return existing

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        with self._lock, self._errors():
            searcher = self._searcher()
            query = self._scoped(searcher, namespace, filter)
            doomed = self._count(searcher, query)
            if doomed:
                self._commit(lambda writer: writer.delete_documents_by_query(query))
            return doomed

    # -- reads ------------------------------------------------------------------------------------
    def search(self, namespace: str, query: str, k: int, filter: Filter | None = None) -> list[Hit]:
        with self._errors():
            searcher = self._searcher()
            scope = self._scoped(searcher, namespace, filter)  # translate first: bad filters always raise
            tokens = Counter(self._analyze(query))
            limit = min(k, searcher.num_docs)  # tantivy allocates `limit` slots up front
            if not tokens or limit <= 0:
                return []
            text = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, self._boosted(token, n)) for token, n in tokens.items()]
            )
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, text), (tantivy.Occur.Must, scope)])
            hits = []
            for score, address in searcher.search(q, limit).hits:
                rec = self._record(searcher, address)
                hits.append(Hit(id=rec.id, score=float(score), text=rec.text, metadata=rec.metadata))
            return hits

    def _boosted(self, token: str, repeats: int) -> tantivy.Query:
        q = tantivy.Query.term_query(self._schema, TEXT_FIELD, token, index_option="freq")
        # a word said twice in the query counts twice, as in Lucene's BM25
        return tantivy.Query.boost_query(q, float(repeats)) if repeats > 1 else q

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        keys = list(dict.fromkeys(_key(namespace, i) for i in ids))
        if not keys:
            return []
        with self._errors():
            searcher = self._searcher()
            query = tantivy.Query.term_set_query(self._schema, KEY_FIELD, keys)
            found = [self._record(searcher, a) for _, a in searcher.search(query, len(keys)).hits]
        by_id = {r.id: r for r in found}
        return [by_id[i] for i in ids if i in by_id]

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        with self._errors():
            searcher = self._searcher()
            return self._count(searcher, self._scoped(searcher, namespace, filter))

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        # one searcher snapshot for the whole scroll: later writes neither duplicate nor skip records
        with self._errors():
            searcher = self._searcher()
            query = self._scoped(searcher, namespace, filter)
            total = self._count(searcher, query)
            addresses = [a for _, a in searcher.search(query, total).hits] if total else []
        addresses.sort(key=lambda a: (a.segment_ord, a.doc))
        for start in range(0, len(addresses), batch_size):
            with self._errors():
                yield [self._record(searcher, a) for a in addresses[start : start + batch_size]]

    # -- lifecycle --------------------------------------------------------------------------------
    def release_writer(self) -> None:
        """Finish background merges and drop the writer (its memory and the index lock); the next write
        opens a new one. For owners of many indexes, so idle ones do not each hold a writer."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                with self._errors():
                    writer.wait_merging_threads()

    def close(self) -> None:
        """Wait for background merges and release the index lock. Safe to call twice."""
        with self._lock:
            writer, self._writer, self._index = self._writer, None, None
            if writer is not None:
                with self._errors():
                    writer.wait_merging_threads()


class NamespacedTantivy:
    """One :class:`TantivyBackend` per namespace: BM25 statistics of each namespace are its own.

    Each namespace lives in ``path/ns-<digest>/`` (its name in a ``NAMESPACE`` file beside the index), opened
    on first use; a namespace never written reads as empty. Two bounds keep a process with many tenants small:

    - at most ``max_writers`` namespaces keep a writer open between writes (the least recently written one
      gives its writer up first);
    - on disk, at most ``max_open`` namespaces stay open (each open index holds a reader, memory maps and one
      watcher thread): the least recently used idle one is closed and reopened on its next use. An index in
      use by a running call or an unfinished ``scroll`` is never closed under it; while every open index is in
      use the bound is exceeded rather than a call made to wait.

    In memory when ``path`` is None (then nothing is ever closed: it would lose the namespace).

    >>> kw = NamespacedTantivy()
    >>> kw.upsert("a:docs:v1", [Record(id="1", text="glaciers carve valleys"), Record(id="2", text="rivers")])
    >>> before = kw.search("a:docs:v1", "glaciers", k=1)[0].score
    >>> kw.upsert("b:docs:v1", [Record(id=str(i), text="glaciers everywhere") for i in range(50)])
    >>> kw.search("a:docs:v1", "glaciers", k=1)[0].score == before, kw.count("c:docs:v1")
    (True, 0)
    >>> kw.close()
    """

    name = "tantivy"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        analysis: Analysis | None = None,
        writer_memory_mb: int = 64,
        writer_threads: int = 1,
        max_writers: int = 4,
        max_open: int = 64,
    ) -> None:
        self.analysis = analysis or Analysis()
        self._path = Path(path) if path is not None else None
        self._options = {"writer_memory_mb": writer_memory_mb, "writer_threads": writer_threads}
        self._max_writers = max(1, max_writers)
        self._max_open = max(1, max_open)
        self._shards: dict[str, TantivyBackend] = {}  # open namespaces, least recently used first
        self._users: Counter[str] = Counter()  # calls and scrolls running on each open namespace
        self._writing: dict[str, None] = {}  # namespaces holding a writer, least recently written first
        self._lock = threading.Lock()
        self._closed = False
        if self._path is not None:
            self._path.mkdir(parents=True, exist_ok=True)
            if (self._path / "meta.json").exists():
                raise ConfigurationError(
                    f"{self._path} holds one shared keyword index, not one index per namespace",
                    field="keyword_store.options.isolation",
                    fix='set isolation = "shared" to keep using it, or delete the folder and re-ingest',
                )

    def _dir(self, namespace: str) -> Path | None:
        if self._path is None:
            return None
        return self._path / f"ns-{hashlib.sha256(namespace.encode('utf-8')).hexdigest()[:24]}"

    def open_namespaces(self) -> list[str]:
        """The namespaces whose index is open right now, least recently used first."""
        with self._lock:
            return list(self._shards)

    def _acquire(self, namespace: str, *, create: bool) -> TantivyBackend | None:
        """The namespace's index, opened if needed and marked in use; pair with :meth:`_release`.

        ``None`` (and nothing marked) when the namespace was never written and ``create`` is false."""
        with self._lock:
            if self._closed:
                raise BackendUnavailable("the keyword index is closed", backend=self.name)
            shard = self._shards.pop(namespace, None)
            if shard is None:
                folder = self._dir(namespace)
                exists = folder is not None and (folder / "meta.json").exists()
                if not (create or exists):
                    return None
                if folder is not None and not exists:
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / "NAMESPACE").write_text(namespace + "\n", encoding="utf-8")
                shard = TantivyBackend(folder, analysis=self.analysis, **self._options)
            self._shards[namespace] = shard  # (re)inserted last: the most recently used
            self._users[namespace] += 1
            self._evict_idle()
            return shard

    def _release(self, namespace: str) -> None:
        with self._lock:
            self._users[namespace] -= 1
            if self._users[namespace] <= 0:
                del self._users[namespace]
            self._evict_idle()

    def _evict_idle(self) -> None:
        """Close least recently used idle indexes beyond ``max_open`` (on disk only). Caller holds the lock.

        Closing under the lock means no call can reopen the same folder while its writer still holds the
        index lock; it waits for background merges only when that index kept a writer."""
        if self._path is None or len(self._shards) <= self._max_open:
            return
        excess = len(self._shards) - self._max_open
        for name in [n for n in self._shards if not self._users[n]][:excess]:
            self._writing.pop(name, None)
            self._shards.pop(name).close()

    @contextmanager
    def _use(self, namespace: str, *, create: bool = False) -> Iterator[TantivyBackend | None]:
        shard = self._acquire(namespace, create=create)
        try:
            yield shard
        finally:
            if shard is not None:
                self._release(namespace)

    def _wrote(self, namespace: str) -> None:
        """Keep at most ``max_writers`` writers open: the least recently written namespace lets go first."""
        with self._lock:
            self._writing.pop(namespace, None)
            self._writing[namespace] = None
            idle = list(self._writing)[: -self._max_writers]
            for name in idle:
                del self._writing[name]
            shards = [self._shards[n] for n in idle if n in self._shards]
        for shard in shards:
            shard.release_writer()

    # -- writes -----------------------------------------------------------------------------------
    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if not records:
            return
        with self._use(namespace, create=True) as shard:
            assert shard is not None
            shard.upsert(namespace, records)
            self._wrote(namespace)

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        with self._use(namespace) as shard:
            if shard is None:
                return 0
            n = shard.delete(namespace, ids)
            if n:
                self._wrote(namespace)
            return n

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        with self._use(namespace) as shard:
            if shard is None:
                _check(filter)
                return 0
            n = shard.delete_by_filter(namespace, filter)
            if n:
                self._wrote(namespace)
            return n

    # -- reads ------------------------------------------------------------------------------------
    def search(self, namespace: str, query: str, k: int, filter: Filter | None = None) -> list[Hit]:
        with self._use(namespace) as shard:
            if shard is None:
                _check(filter)
                return []
            return shard.search(namespace, query, k, filter)

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        with self._use(namespace) as shard:
            return [] if shard is None else shard.get(namespace, ids, with_vectors=with_vectors)

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        with self._use(namespace) as shard:
            if shard is None:
                _check(filter)
                return 0
            return shard.count(namespace, filter)

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        shard = self._acquire(namespace, create=False)
        if shard is None:
            _check(filter)
            return iter(())
        try:
            batches = shard.scroll(namespace, filter, batch_size=batch_size, with_vectors=with_vectors)
        except BaseException:
            self._release(namespace)
            raise
        return self._held(namespace, batches)

    def _held(self, namespace: str, batches: Iterator[list[Record]]) -> Iterator[list[Record]]:
        """Keep the namespace's index open until the scroll is finished or dropped."""
        try:
            yield from batches
        finally:
            self._release(namespace)

    # -- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        """Close every namespace's index. Safe to call twice."""
        with self._lock:
            self._closed = True
            shards, self._shards, self._writing = list(self._shards.values()), {}, {}
        for shard in shards:
            shard.close()


def _check(filter: Filter | None) -> None:
    """An inexpressible filter raises even where there is nothing to search."""
    if filter is not None:
        translate_filter(filter)


_OPTIONS = (
    "language",
    "stopwords",
    "writer_memory_mb",
    "writer_threads",
    "isolation",
    "max_writers",
    "max_open",
)


def from_config(path: Path | None, options: dict[str, Any]) -> TantivyBackend | NamespacedTantivy:
    """Build from ``[keyword_store] kind = "tantivy"``.

    Options: ``isolation`` (``"namespace"``: one index per namespace, BM25 statistics per namespace — the
    default for a new folder; ``"shared"``: one index for every namespace, the default for a folder that
    already holds one), ``language`` (stemming and stop-word language, default ``"english"``; ``"none"`` turns
    both off), ``stopwords`` (default true), ``writer_memory_mb`` (default 64), ``writer_threads`` (default 1),
    ``max_writers`` (namespaces keeping a writer open between writes, default 4), ``max_open`` (namespaces
    whose index stays open on disk, default 64; idle ones beyond it are closed and reopened on use).
    """
    for name in options:
        if name not in _OPTIONS:
            raise ConfigurationError(
                f"unknown option {name!r}",
                field=f"keyword_store.options.{name}",
                fix=f"the tantivy store takes {', '.join(_OPTIONS)}",
            )
    language = options.get("language", "english")
    stopwords = options.get("stopwords", True)
    if not isinstance(language, str):
        raise ConfigurationError(
            f"must be a string, got {language!r}",
            field="keyword_store.options.language",
            fix="e.g. 'english'",
        )
    if not isinstance(stopwords, bool):
        raise ConfigurationError(
            f"must be true or false, got {stopwords!r}", field="keyword_store.options.stopwords", fix="true"
        )
    existing_shared = path is not None and (Path(path) / "meta.json").exists()
    isolation = options.get("isolation", "shared" if existing_shared else "namespace")
    if isolation not in ("namespace", "shared"):
        raise ConfigurationError(
            f"must be 'namespace' or 'shared', got {isolation!r}",
            field="keyword_store.options.isolation",
            fix="'namespace' (BM25 statistics per namespace) or 'shared' (one index for all)",
        )
    sizes = {}
    for name, default, least in (
        ("writer_memory_mb", 64, 15),
        ("writer_threads", 1, 1),
        ("max_writers", 4, 1),
        ("max_open", 64, 1),
    ):
        value = options.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ConfigurationError(
                f"must be an integer of at least {least}, got {value!r}",
                field=f"keyword_store.options.{name}",
                fix=f"e.g. {default}",
            )
        sizes[name] = value
    analysis = Analysis(
        language=None if language.lower() == "none" else language.lower(), stopwords=stopwords
    )
    if isolation == "shared":
        return TantivyBackend(
            path,
            analysis=analysis,
            writer_memory_mb=sizes["writer_memory_mb"],
            writer_threads=sizes["writer_threads"],
        )
    return NamespacedTantivy(
        path,
        analysis=analysis,
        writer_memory_mb=sizes["writer_memory_mb"],
        writer_threads=sizes["writer_threads"],
        max_writers=sizes["max_writers"],
        max_open=sizes["max_open"],
    )
