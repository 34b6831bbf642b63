"""The embedding service: the one door the router embeds through.

``embed(version, texts, task)`` looks like one provider call; behind it:

1. texts are normalized and keyed (model fingerprint + task + text, SHA-256) and de-duplicated;
2. the layered cache (memory → Redis → SQLite/PostgreSQL) answers what it can;
3. keys another caller is already embedding are awaited, not paid twice;
4. the rest is cut into batches (default 25 texts, never above the model's maximum or a request's token
   budget) and sent through the policies — a bulkhead (default 5 concurrent requests), retry with jittered
   backoff that honours Retry-After, and the model's requests/min + tokens/min limiter;
5. every vector's width is checked against the declaration, cached in every layer, and accounted
   (texts, calls, tokens, money) per model version and tenant.

A failure after retries raises a typed :mod:`vectorrouter.errors` error (``RateLimited``, ``QuotaExhausted``,
``BackendUnavailable``…) — never ``None`` — and the batches that did succeed stay cached, so a retry of the
same call only pays for what is missing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date

import numpy as np

from vectorrouter.embeddings.base import (
    TASKS,
    Embedded,
    Embedder,
    ModelSpec,
    Task,
    UsageReporting,
    create_embedder,
)
from vectorrouter.embeddings.batching import InFlight, plan_batches
from vectorrouter.embeddings.cache import (
    CacheKey,
    LayeredCache,
    MemoryLayer,
    Residue,
    cache_key,
    normalize_text,
    text_digest,
)
from vectorrouter.embeddings.costs import CostLedger, Usage
from vectorrouter.embeddings.quota import QuotaLimiter
from vectorrouter.embeddings.tokens import TokenCounter, estimate_tokens
from vectorrouter.errors import ConfigurationError, InvalidRecord, QuotaExhausted, RateLimited
from vectorrouter.policies import SYSTEM_CLOCK, Bulkhead, Clock, Retry
from vectorrouter.progress import progress as show_progress

__all__ = ["DEFAULT_MODEL", "TEST_MODEL", "EmbeddingService", "RetiringModelWarning"]

log = logging.getLogger("vectorrouter.embeddings")

#: The offline default: all-MiniLM-L6-v2 from an installed wheel, 384-d, cosine.
DEFAULT_MODEL = ModelSpec(
    version="minilm-l6", provider="minilm", model="sentence-transformers/all-MiniLM-L6-v2", dimensions=384
)
#: A deterministic hashing embedder for unit tests.
TEST_MODEL = ModelSpec(version="hash-64", provider="hash", model="blake2b-bow", dimensions=64)


class RetiringModelWarning(UserWarning):
    """A model version declared ``lifecycle = "retiring"`` was used."""


@dataclass
class _Runtime:
    """Per-version machinery, created on first use."""

    embedder: Embedder
    bulkhead: Bulkhead
    limiter: QuotaLimiter
    pool: ThreadPoolExecutor
    max_texts: int


class EmbeddingService:
    """Registry of model versions plus the cache, batching, quota and accounting behind every embedding.

    >>> svc = EmbeddingService([TEST_MODEL])
    >>> svc.embed("hash-64", ["hello world", "hello   world"], "query", tenant="acme").shape
    (2, 64)
    >>> u = svc.costs.total(tenant="acme"); (u.requested, u.embedded, u.deduplicated)
    (2, 1, 1)
    """

    def __init__(
        self,
        models: Iterable[ModelSpec] = (DEFAULT_MODEL,),
        *,
        embedders: Mapping[str, Embedder] | None = None,
        cache: LayeredCache | None = None,
        batch_size: int = 25,
        max_concurrent: int = 5,
        retry_attempts: int = 6,
        max_retry_after: float = 120.0,
        token_counter: TokenCounter = estimate_tokens,
        clock: Clock = SYSTEM_CLOCK,
        costs: CostLedger | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigurationError(f"must be at least 1, got {batch_size}", field="embeddings.batch_size")
        if max_concurrent < 1:
            raise ConfigurationError(
                f"must be at least 1, got {max_concurrent}", field="embeddings.max_concurrent"
            )
        self._specs: dict[str, ModelSpec] = {}
        self._embedders: dict[str, Embedder] = dict(embedders or {})
        self._runtimes: dict[str, _Runtime] = {}
        self._lock = threading.Lock()
        for spec in models:
            self.add(spec)
        for version in self._embedders:
            self.spec(version)  # an embedder without a declared spec is a configuration error
        self.cache = cache if cache is not None else LayeredCache([MemoryLayer(10_000)])
        self.batch_size = batch_size
        self.max_concurrent = max_concurrent
        self.retry_attempts = retry_attempts
        self.max_retry_after = max_retry_after
        self.count_tokens = token_counter
        self.clock = clock
        self.costs = costs or CostLedger()
        self._flight = InFlight()
        self._warned: set[str] = set()

    # -- registry ---------------------------------------------------------------------------------
    def add(self, spec: ModelSpec, embedder: Embedder | None = None) -> None:
        if spec.version in self._specs and self._specs[spec.version] != spec:
            raise ConfigurationError(
                f"model version {spec.version!r} is already declared differently",
                field=f"models.{spec.version}",
                fix="give the changed model a new version key; versions are immutable once data exists",
            )
        self._specs[spec.version] = spec
        if embedder is not None:
            self._embedders[spec.version] = embedder

    def spec(self, version: str) -> ModelSpec:
        try:
            return self._specs[version]
        except KeyError:
            raise ConfigurationError(
                f"unknown model version {version!r}",
                field="model_version",
                fix=f"declare it under [models.{version}] or use one of: {', '.join(sorted(self._specs))}",
            ) from None

    def versions(self) -> list[str]:
        return sorted(self._specs)

    def embedder(self, version: str) -> Embedder:
        return self._runtime(version).embedder

    def _runtime(self, version: str) -> _Runtime:
        spec = self.spec(version)
        with self._lock:
            rt = self._runtimes.get(version)
            if rt is None:
                emb = self._embedders.get(version) or create_embedder(spec)
                self._embedders[version] = emb
                limits = [self.batch_size, spec.max_batch, getattr(emb, "max_batch", None)]
                # an in-process model already uses every core; parallel calls would only fight over them
                concurrency = min(
                    self.max_concurrent, int(getattr(emb, "max_concurrent", self.max_concurrent))
                )
                rt = self._runtimes[version] = _Runtime(
                    embedder=emb,
                    bulkhead=Bulkhead(concurrency, name=f"embed:{version}"),
                    limiter=QuotaLimiter(
                        requests_per_minute=spec.requests_per_minute,
                        tokens_per_minute=spec.tokens_per_minute,
                        burst_seconds=float(spec.options.get("quota_burst_seconds", 2.0)),
                        clock=self.clock,
                        name=version,
                    ),
                    pool=ThreadPoolExecutor(concurrency, thread_name_prefix=f"vr-embed-{version}"),
                    max_texts=min(int(n) for n in limits if n),
                )
        return rt

    def _lifecycle_check(self, spec: ModelSpec) -> None:
        if spec.lifecycle != "retiring" or spec.version in self._warned:
            return
        self._warned.add(spec.version)
        when = spec.retire_on
        state = "was retired on" if when is not None and when <= date.today() else "retires on"
        message = (
            f"model version {spec.version!r} ({spec.provider} {spec.model}) {state} {when}; "
            "migrate its namespaces to a current version (see `vectorrouter estimate NAMESPACE --to VERSION`)"
        )
        log.warning(message)
        warnings.warn(message, RetiringModelWarning, stacklevel=3)

    # -- embedding --------------------------------------------------------------------------------
    def embed(
        self,
        version: str,
        texts: Sequence[str],
        task: Task,
        *,
        tenant: str | None = None,
        progress: bool | None = False,
    ) -> np.ndarray:
        """Embed ``texts`` with model ``version`` for ``task`` (``"query"`` or ``"document"``).

        Returns a float32 ``(len(texts), dimensions)`` matrix in input order. ``tenant`` attributes the
        tokens and money in :attr:`costs`; ``progress=None`` shows a bar with rate and ETA on a terminal.
        """
        spec = self.spec(version)
        if task not in TASKS:
            raise InvalidRecord(f"task must be 'query' or 'document', got {task!r}")
        if isinstance(texts, str):
            raise InvalidRecord("texts must be a list of strings, not one string")
        texts = list(texts)  # a generator is read once, here, before any key is claimed
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidRecord(f"texts[{i}] is {type(text).__name__}, not a string; embed text only")
        if not texts:
            return np.zeros((0, spec.dimensions), dtype=np.float32)
        self._lifecycle_check(spec)
        rt = self._runtime(version)

        fingerprint = spec.fingerprint(task)
        norms = [normalize_text(t) for t in texts]
        keys: dict[str, CacheKey] = {}
        for norm in norms:
            if norm not in keys:
                keys[norm] = cache_key(fingerprint, task, norm, normalized=True)
        vectors = self.cache.get_many(list(keys.values()))
        missing = {k.key: norm for norm, k in keys.items() if k.key not in vectors}
        owned, waiting = self._flight.claim(list(missing))
        errors: list[BaseException] = []
        try:  # from the claim on, whatever fails must release the claimed keys
            if owned and self.cache.layers and isinstance(self.cache.layers[0], MemoryLayer):
                # an owner may have finished between our lookup and our claim: its vectors are in L1 by now
                late = self.cache.layers[0].get_many([keys[missing[k]] for k in owned])
                for key, vec in late.items():
                    self._flight.resolve(key, vec)
                vectors.update(late)
                owned = [k for k in owned if k not in late]

            hits = sum(keys[n].key in vectors for n in norms)
            self.costs.record(
                version,
                tenant,
                requested=len(texts),
                cache_hits=hits,
                deduplicated=len(texts) - hits - len(owned),
            )
            self._embed_owned(spec, rt, task, tenant, owned, missing, keys, vectors, errors, progress)
        except BaseException as exc:
            self._flight.fail(owned, exc)  # waiters must never hang on keys this caller gave up on
            raise
        for key, fut in waiting.items():
            try:
                vectors[key] = fut.result()
            except BaseException as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        return np.stack([vectors[keys[n].key] for n in norms]).astype(np.float32, copy=False)

    def _embed_owned(
        self,
        spec: ModelSpec,
        rt: _Runtime,
        task: Task,
        tenant: str | None,
        owned: list[str],
        missing: dict[str, str],
        keys: dict[str, CacheKey],
        vectors: dict[str, np.ndarray],
        errors: list[BaseException],
        progress: bool | None,
    ) -> None:
        """Batch the keys this caller owns and run the batches (in parallel when there are several)."""
        if not owned:
            return
        todo = [(keys[missing[k]], missing[k]) for k in owned]
        counts = [self.count_tokens(spec.task(task).prefix + norm) for _, norm in todo]
        batches = plan_batches(counts, max_texts=rt.max_texts, max_tokens=rt.limiter.max_request_tokens)
        with show_progress(
            progress if len(batches) > 1 else False, len(todo), f"embed {spec.version}", unit="text"
        ) as advance:
            if len(batches) == 1:
                try:
                    vectors.update(self._run_batch(spec, rt, task, tenant, todo, sum(counts)))
                except BaseException as exc:
                    errors.append(exc)
            else:
                futures: dict[Future[dict[str, np.ndarray]], int] = {
                    rt.pool.submit(
                        self._run_batch,
                        spec,
                        rt,
                        task,
                        tenant,
                        [todo[i] for i in batch],
                        sum(counts[i] for i in batch),
                    ): len(batch)
                    for batch in batches
                }
                for fut in as_completed(futures):
                    try:
                        vectors.update(fut.result())
                    except BaseException as exc:
                        errors.append(exc)
                    advance(futures[fut])

    def _run_batch(
        self,
        spec: ModelSpec,
        rt: _Runtime,
        task: Task,
        tenant: str | None,
        items: Sequence[tuple[CacheKey, str]],
        tokens: int,
    ) -> dict[str, np.ndarray]:
        """One provider request under bulkhead → retry → quota; caches and accounts its result."""
        prefix = spec.task(task).prefix
        payload = [prefix + norm for _, norm in items]

        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            if isinstance(exc, RateLimited):
                self.costs.record(spec.version, tenant, rate_limited=1)
            log.info(
                "embedding batch for %s failed (%s); retry %d in %.2fs", spec.version, exc, attempt, delay
            )

        retry = Retry(
            attempts=self.retry_attempts,
            initial=0.5,
            maximum=20.0,
            max_retry_after=self.max_retry_after,
            give_up_on=(QuotaExhausted,),
            trust_retry_after=True,
            clock=self.clock,
            on_retry=on_retry,
        )

        def send() -> Embedded:
            return rt.limiter.call(lambda: _call(rt.embedder, payload, task), tokens=tokens, billed=_billed)

        try:
            answer = (rt.bulkhead | retry).call(send)
            checked = spec.check(answer.vectors, len(items))
        except BaseException as exc:
            if isinstance(exc, RateLimited):
                self.costs.record(spec.version, tenant, rate_limited=1)
            self.costs.record(spec.version, tenant, failed=len(items))
            self._flight.fail([k.key for k, _ in items], exc)
            raise
        pairs = [(k, checked[i]) for i, (k, _) in enumerate(items)]
        self.cache.put_many(pairs)
        billed = answer.tokens if answer.tokens is not None else tokens
        self.costs.record(
            spec.version, tenant, embedded=len(items), calls=1, tokens=billed, cost=spec.cost(billed)
        )
        out = {k.key: vec for k, vec in pairs}
        for key, vec in out.items():
            self._flight.resolve(key, vec)
        return out

    async def aembed(
        self, version: str, texts: Sequence[str], task: Task, *, tenant: str | None = None
    ) -> np.ndarray:
        """The async face: the same pipeline on a worker thread."""
        return await asyncio.to_thread(self.embed, version, list(texts), task, tenant=tenant)

    # -- accounting and erasure -------------------------------------------------------------------
    def usage(self) -> list[Usage]:
        """Texts, calls, tokens and money so far, per (model version, tenant)."""
        return self.costs.rows()

    def _erasure_keys(self, texts: Sequence[str]) -> tuple[list[CacheKey], list[str]]:
        norms = sorted({normalize_text(t) for t in texts})
        keys = [
            cache_key(spec.fingerprint(task), task, norm, normalized=True)
            for spec in self._specs.values()
            for task in TASKS
            for norm in norms
        ]
        return keys, [text_digest(n) for n in norms]

    def forget(self, texts: Sequence[str]) -> dict[str, int]:
        """Delete every cached vector of these texts (all declared versions and tasks, every layer; the
        persistent layer also by text digest, reaching versions no longer declared). Returns counts per layer."""
        keys, digests = self._erasure_keys(texts)
        return self.cache.forget(keys, digests)

    def residue(self, texts: Sequence[str]) -> Residue:
        """How many cached vectors of these texts remain, per layer (zero everywhere after ``forget``)."""
        keys, digests = self._erasure_keys(texts)
        return self.cache.residue(keys, digests)

    def close(self) -> None:
        with self._lock:
            runtimes = list(self._runtimes.values())
            self._runtimes.clear()
        for rt in runtimes:
            rt.pool.shutdown(wait=True)
        for emb in self._embedders.values():
            close = getattr(emb, "close", None)
            if callable(close):
                close()
        self.cache.close()


def _call(embedder: Embedder, texts: list[str], task: Task) -> Embedded:
    if isinstance(embedder, UsageReporting):
        return embedder.embed_with_usage(texts, task)
    return Embedded(np.asarray(embedder.embed(texts, task)), None)


def _billed(answer: Embedded) -> int | None:
    return answer.tokens
