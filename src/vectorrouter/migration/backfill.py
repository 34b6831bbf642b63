"""The shadow backfill: re-embed a namespace into its new version while the old one keeps serving.

The old version is read through the backend ``scroll``; each batch is embedded with the target model and
written to the new version's namespace (its own index when the widths differ). The new namespace itself is the
durable record of what is done: on resume, ids already present there are skipped, so a crash at any point
costs at most the batch in flight and never re-embeds finished work. The checkpoint in the migration state adds
the counters (embedded, tokens, spend) and the ids that failed, which are retried on the next run and keep the
parity gate shut until they succeed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vectorrouter.errors import BackendError, ConfigurationError
from vectorrouter.migration.cost import CostModel, LayerCostModel
from vectorrouter.migration.parity import ParityResult, check_parity, record_digest
from vectorrouter.migration.state import Checkpoint, MigrationState, StateStore
from vectorrouter.policies.retry import Retry
from vectorrouter.progress import progress as show_progress
from vectorrouter.types import Namespace, Record

if TYPE_CHECKING:
    from vectorrouter.backends.base import VectorBackend
    from vectorrouter.router import Router

__all__ = ["Backfill", "BackfillReport", "EmbedFn"]

log = logging.getLogger("vectorrouter.migration")

#: Embeds document texts with the target model. Defaults to the router's embedding service; the embedding
#: layer (cache, batching, quota) plugs in here.
EmbedFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class BackfillReport:
    """One run of the backfill: what it did and where it stopped."""

    status: str  # "complete" | "paused"
    processed: int
    embedded: int
    skipped: int
    failed: int
    spent: float
    estimated_cost: float
    seconds: float
    parity: ParityResult | None = None
    reason: str = ""


def _spend(cp: Checkpoint) -> str:
    """The backfill bar's status column: money spent against the estimate."""
    return f"spent ${cp.spent:.4f} of est. ${cp.estimated_cost:.4f}"


def versions_of(state: MigrationState) -> tuple[Namespace, Namespace]:
    tenant, feature = state.logical.split(":")
    return Namespace(tenant, feature, state.source), Namespace(tenant, feature, state.target)


class Backfill:
    """Re-embed ``state.logical`` from ``state.source`` into ``state.target``; resumable and budget-capped.

    >>> from vectorrouter import EmbeddingService, ModelSpec, Router
    >>> from vectorrouter.backends import NumpyBackend
    >>> from vectorrouter.migration.state import FileStateStore
    >>> import tempfile
    >>> old, new = ModelSpec("h32", "hash", 32), ModelSpec("h48", "hash", 48)
    >>> router = Router(embeddings=EmbeddingService([old, new]), vector_factory=NumpyBackend, default_model="h32")
    >>> _ = router.ingest("acme:docs", ["red apples", "green pears"])
    >>> state = MigrationState("acme:docs", "h32", "h48")
    >>> report = Backfill(router, FileStateStore(tempfile.mkdtemp()), state).run()
    >>> report.status, report.embedded, report.parity.passed
    ('complete', 2, True)
    """

    def __init__(
        self,
        router: Router,
        store: StateStore,
        state: MigrationState,
        *,
        batch_size: int = 64,
        cost: CostModel | None = None,
        embed: EmbedFn | None = None,
        retry: Retry | None = None,
        progress: bool | None = False,
    ) -> None:
        if batch_size <= 0:
            raise ConfigurationError("must be positive", field="batch_size", fix="use e.g. 64")
        self.router = router
        self.store = store
        self.state = state
        self.batch_size = batch_size
        self.source_ns, self.target_ns = versions_of(state)
        #: Prices each batch before it is sent (the budget cap) and counts it as spent once written. The
        #: default prices as the embedding layer bills: declared price, its token counter, cache hits free.
        self.cost = cost or LayerCostModel(router.embeddings)
        tenant = self.source_ns.tenant
        # through the embedding layer: its cache, batching, bulkhead, retry and the target's quota; the
        # tokens and money land on the tenant's row of the layer's cost ledger
        self.embed: EmbedFn = embed or (
            lambda texts: router.embeddings.embed(state.target, list(texts), "document", tenant=tenant)
        )
        self.retry = retry or Retry(attempts=5, initial=0.5, maximum=30.0)
        self.progress = progress
        self.source_backend = self._backend(state.source)
        self.target_backend = self._backend(state.target)

    def _backend(self, version: str) -> VectorBackend:
        return self.router.indexes.for_model(self.router.embeddings.spec(version))

    def estimate(
        self, *, remaining: bool = False, retry_ids: set[str] | None = None
    ) -> tuple[int, int, float]:
        """(documents, tokens, cost) of re-embedding the source version, read through ``scroll``.

        ``remaining``: price only what a run still has to embed (records not yet in the new version, and
        ``retry_ids``); ``documents`` still counts every source record.
        """
        docs, tokens, usd = 0, 0, 0.0
        for batch in self.source_backend.scroll(str(self.source_ns), batch_size=512):
            todo = self._todo(batch, retry_ids or set()) if remaining else batch
            c = self.cost.estimate(self.state.target, [r.text for r in todo if r.text])
            docs, tokens, usd = docs + len(batch), tokens + c.tokens, usd + c.usd
        return docs, tokens, usd

    def run(self, *, max_batches: int | None = None) -> BackfillReport:
        """Copy what is missing; pause at the budget cap; end with the parity check."""
        started = time.perf_counter()
        st, cp = self.state, self.state.checkpoint
        if st.phase in ("finished", "aborted"):
            raise ConfigurationError(
                f"migration of {st.logical} is {st.phase}; start a new one to backfill again",
                field="phase",
            )
        # earlier failures and lost dual writes are re-copied even though an (older) copy may be present
        retry_ids = set(cp.failed_ids) | self.store.failures(st.logical)
        total, est_tokens, est_cost = self.estimate(remaining=True, retry_ids=retry_ids)
        # the whole migration's estimate: what earlier runs spent plus what this one still has to embed
        cp.total, cp.estimated_tokens, cp.estimated_cost = total, cp.tokens + est_tokens, cp.spent + est_cost
        cp.failed_ids = []
        cp.processed, cp.skipped, cp.paused_reason = 0, 0, ""
        cp.runs += 1
        # a repair run during the rollout keeps its step: traffic returns to the split once parity passes again
        rolling = st.phase == "rolling_out" or (st.phase in ("backfilling", "paused") and st.step >= 0)
        st.phase = "backfilling"
        st.note("backfill", f"run {cp.runs}: {total} source records, estimate ${cp.estimated_cost:.4f}")
        self._save()
        batches = 0
        with show_progress(
            self.progress, total, f"backfill {self.target_ns}", status=lambda: _spend(cp)
        ) as advance:
            for batch in self.source_backend.scroll(str(self.source_ns), batch_size=self.batch_size):
                if max_batches is not None and batches >= max_batches:
                    return self._pause("stopped after max_batches", started)
                todo = self._todo(batch, retry_ids)
                need = self.cost.estimate(st.target, [r.text for r in todo])
                if st.budget is not None and cp.spent + need.usd > st.budget + 1e-12:
                    return self._pause(
                        f"budget cap ${st.budget:.4f} reached (spent ${cp.spent:.4f}, next batch ${need.usd:.4f})",
                        started,
                    )
                if todo:
                    self._copy(todo, need.tokens, need.usd)
                cp.processed += len(batch)
                cp.skipped += len(batch) - len(todo)
                self._save()
                advance(len(batch))
                batches += 1
        parity = self.check_parity()
        st.phase = "rolling_out" if rolling and parity.passed else "backfilled"
        st.note("parity", parity.summary())
        self._save()
        return self._report("complete", started, parity=parity)

    def check_parity(self) -> ParityResult:
        """Run the parity check now and store its result in the migration state."""
        result = check_parity(
            self.source_backend,
            self.source_ns,
            self.target_backend,
            self.target_ns,
            failed_ids=[*self.state.checkpoint.failed_ids, *self.store.failures(self.state.logical)],
        )
        self.state.parity = result.to_dict()
        return result

    def _todo(self, batch: list[Record], retry_ids: set[str]) -> list[Record]:
        # a copy counts as done only while it matches its source: the target may hold records from an earlier
        # migration (migrating back to a version kept by `finish`) that the source has changed since
        present = {
            r.id: record_digest(r)
            for r in self.target_backend.get(str(self.target_ns), [r.id for r in batch])
        }
        return [r for r in batch if r.id in retry_ids or present.get(r.id) != record_digest(r)]

    def _copy(self, todo: list[Record], tokens: int, usd: float) -> None:
        cp = self.state.checkpoint
        embeddable = [r for r in todo if r.text]
        # a vector-only record cannot be re-embedded: it is listed as failed, never silently left behind
        cp.failed_ids.extend(r.id for r in todo if not r.text)
        if not embeddable:
            return
        try:
            vectors = self.retry.call(lambda: self.embed([r.text for r in embeddable]))
            records = [r.with_vector(v) for r, v in zip(embeddable, vectors, strict=True)]
            self.router.write(self.target_ns, records, progress=False)
        except BackendError as exc:
            log.warning("backfill batch of %d failed after retries: %s", len(embeddable), exc)
            cp.failed_ids.extend(r.id for r in embeddable)
            return
        self.store.clear_failures(self.state.logical, [r.id for r in embeddable])
        cp.embedded += len(embeddable)
        cp.tokens += tokens
        cp.spent += usd

    def _save(self) -> None:
        self.state.checkpoint.updated_at = time.time()
        self.store.save(self.state)

    def _pause(self, reason: str, started: float) -> BackfillReport:
        self.state.phase = "paused"
        self.state.checkpoint.paused_reason = reason
        self.state.note("paused", reason)
        self._save()
        return self._report("paused", started, reason=reason)

    def _report(
        self, status: str, started: float, *, parity: ParityResult | None = None, reason: str = ""
    ) -> BackfillReport:
        cp = self.state.checkpoint
        return BackfillReport(
            status=status,
            processed=cp.processed,
            embedded=cp.embedded,
            skipped=cp.skipped,
            failed=len(cp.failed_ids),
            spent=cp.spent,
            estimated_cost=cp.estimated_cost,
            seconds=time.perf_counter() - started,
            parity=parity,
            reason=reason,
        )
