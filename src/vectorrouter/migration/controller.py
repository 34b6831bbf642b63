"""The migration procedure as one object: plan, start (backfill + parity), advance, rollback, finish.

Every step reads and writes the shared :class:`~vectorrouter.migration.state.StateStore`, so the commands can
run in any process while the serving processes route by the same state.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vectorrouter.backends.base import IndexSpec
from vectorrouter.errors import ConfigurationError, VectorRouterError
from vectorrouter.migration.adapters import load_adapter
from vectorrouter.migration.backfill import Backfill, BackfillReport, EmbedFn, versions_of
from vectorrouter.migration.cost import CostModel, Quota
from vectorrouter.migration.quality import describe, merge_summaries, ndcg_at_k
from vectorrouter.migration.rollout import Schedule
from vectorrouter.migration.state import MigrationState, StateStore
from vectorrouter.types import parse_logical

if TYPE_CHECKING:
    from vectorrouter.router import Router

__all__ = ["Migration", "Plan", "QualityGate"]

#: Phases after which a migration is over: nothing to roll back, advance or finish.
_ENDED = ("finished", "aborted")


def _check_budget(budget: float) -> float:
    """A budget cap is an amount of money: a finite number >= 0 (``None``, no cap, is handled by callers)."""
    if (
        isinstance(budget, bool)
        or not isinstance(budget, int | float)
        or not math.isfinite(budget)
        or budget < 0
    ):
        raise ConfigurationError(
            f"{budget!r} is not a budget: the cap is the most the backfill may spend, in dollars",
            field="budget",
            fix="give a number >= 0 (e.g. 25), or None (no --budget) for no cap",
        )
    return float(budget)


@dataclass(frozen=True, slots=True)
class QualityGate:
    """When the candidate arm may grow on its own: enough traffic, agreement with the old arm, no slowdown.

    Judged on the quality summaries every serving process publishes (``migrate status`` shows the same figures).
    """

    min_searches: int = 200
    #: Mean top-k overlap between the candidate's results and the old arm's on shadowed queries.
    min_overlap: float = 0.5
    min_shadow_compared: int = 50
    #: The candidate's p95 latency may be at most this multiple of the old arm's.
    max_latency_ratio: float = 1.5

    def check(self, quality: dict[str, dict[str, Any]], arm: str) -> list[str]:
        """Reasons the gate is shut (empty when it passes)."""
        cand, old = quality.get(arm), quality.get("old")
        if cand is None or cand["searches"] < self.min_searches:
            return [f"{arm} arm served {cand['searches'] if cand else 0} searches, needs {self.min_searches}"]
        reasons = []
        compared = cand["shadow_compared"] + (old["shadow_compared"] if old else 0)
        overlaps = [d["overlap_at_k"] for d in (cand, old) if d and d["overlap_at_k"] is not None]
        if compared < self.min_shadow_compared or not overlaps:
            reasons.append(f"{compared} shadow comparisons, needs {self.min_shadow_compared}")
        elif min(overlaps) < self.min_overlap:
            reasons.append(f"overlap@k {min(overlaps):.2f} is below {self.min_overlap}")
        if (
            old
            and old["p95_ms"]
            and cand["p95_ms"]
            and cand["p95_ms"] > self.max_latency_ratio * old["p95_ms"]
        ):
            reasons.append(
                f"p95 {cand['p95_ms']:.1f} ms exceeds {self.max_latency_ratio}x the old arm's {old['p95_ms']:.1f} ms"
            )
        return reasons


@dataclass(frozen=True, slots=True)
class Plan:
    """What a migration will cost before it starts."""

    logical: str
    source: str
    target: str
    documents: int
    tokens: int
    cost: float
    seconds_at_quota: float | None
    source_index: IndexSpec
    target_index: IndexSpec
    schedule: Schedule


class Migration:
    """Drive the migration of one logical namespace.

    >>> import tempfile
    >>> from vectorrouter import EmbeddingService, ModelSpec, Router
    >>> from vectorrouter.backends import NumpyBackend
    >>> from vectorrouter.migration.state import FileStateStore
    >>> router = Router(embeddings=EmbeddingService([ModelSpec("h32", "hash", 32), ModelSpec("h48", "hash", 48)]),
    ...                 vector_factory=NumpyBackend, default_model="h32")
    >>> _ = router.ingest("acme:docs", ["red apples", "green pears"])
    >>> m = Migration(router, FileStateStore(tempfile.mkdtemp()), "acme:docs")
    >>> m.plan("h48").target_index.name
    'vr-48d-cosine'
    >>> m.start("h48", schedule=Schedule(min_dwell_seconds=0)).parity.passed
    True
    >>> m.advance().split().new
    5.0
    """

    def __init__(
        self,
        router: Router,
        store: StateStore,
        logical: str,
        *,
        cost: CostModel | None = None,
        embed: EmbedFn | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        tenant, feature, version = parse_logical(logical)
        if version is not None:
            raise ConfigurationError(
                f"migrations move a logical namespace; got the versioned {logical!r}",
                field="NAMESPACE",
                fix=f"use {tenant}:{feature}",
            )
        self.router = router
        self.store = store
        self.logical = f"{tenant}:{feature}"
        #: None: price as the embedding layer bills (declared price, cache hits free; see LayerCostModel).
        self.cost = cost
        #: Seams for the embedding layer: what re-embedding costs, and how the backfill embeds (cache, quota).
        self.embed = embed
        #: Wall-clock seconds (shared by every process: step start times are stored in the state). Tests pass
        #: a scripted clock so dwell times are checked without waiting and without depending on the machine.
        self.clock = clock

    # -- reading -----------------------------------------------------------------------------------
    def state(self) -> MigrationState:
        state = self.store.load(self.logical)
        if state is None:
            raise ConfigurationError(
                f"no migration of {self.logical} is recorded",
                field="NAMESPACE",
                fix=f"start one: vectorrouter migrate start {self.logical} --to VERSION",
            )
        return state

    def source_version(self) -> str:
        return self.router.resolve(self.logical).model_version

    def plan(self, target: str, *, quota: Quota | None = None, schedule: Schedule | None = None) -> Plan:
        source = self.source_version()
        state = MigrationState(self.logical, source, target)
        tspec = self.router.embeddings.spec(target)  # an unknown version fails here, naming the fix
        docs, tokens, usd = Backfill(self.router, self.store, state, cost=self.cost).estimate()
        return Plan(
            logical=self.logical,
            source=source,
            target=target,
            documents=docs,
            tokens=tokens,
            cost=usd,
            seconds_at_quota=(quota or Quota()).seconds_for(docs, tokens),
            source_index=self.router.embeddings.spec(source).index_spec(),
            target_index=tspec.index_spec(),
            schedule=schedule or Schedule(),
        )

    def status(self) -> dict[str, Any]:
        state = self.state()
        quality = merge_summaries(self.store.quality(self.logical).values())
        return {
            "state": state,
            "rolled_back": self.store.rolled_back(self.logical),
            "split": state.split(),
            "dual_write_failures": len(self.store.failures(self.logical)),
            "quality": {arm: describe(s) for arm, s in sorted(quality.items())},
        }

    # -- changing ----------------------------------------------------------------------------------
    def start(
        self,
        target: str,
        *,
        schedule: Schedule | None = None,
        budget: float | None = None,
        adapter_path: str | None = None,
        batch_size: int = 64,
        progress: bool | None = False,
    ) -> BackfillReport:
        """Create (or resume) the migration and run the backfill until done or paused by the budget.

        A new migration (none recorded, or the last one ended) clears a rollback flag left behind: the flag
        belongs to a migration, and one that has ended has nothing to roll back.
        """
        if budget is not None:
            budget = _check_budget(budget)
        state = self.store.load(self.logical)
        stale_flag = False
        if state is None or state.phase in _ENDED:
            self.router.embeddings.spec(target)
            state = MigrationState(
                self.logical,
                self.source_version(),
                target,
                schedule=schedule or Schedule(),
                budget=budget,
                adapter_path=adapter_path,
            )
            state.note("start", f"{state.source} -> {target}")
            stale_flag = self.store.rolled_back(self.logical)
        elif state.target != target:
            raise ConfigurationError(
                f"{self.logical} is already migrating to {state.target!r} ({state.phase}); "
                "one namespace has one migration at a time",
                field="--to",
                fix=f"resume it with --to {state.target}, or take it to 100% and finish it "
                f"(vectorrouter migrate advance / finish {self.logical}), then start the migration to "
                f"{target}; meanwhile `vectorrouter migrate rollback {self.logical}` serves {state.source} "
                "to every search",
            )
        else:
            if budget is not None:
                state.budget = budget
            if adapter_path is not None:
                state.adapter_path = adapter_path
        backfill = Backfill(
            self.router,
            self.store,
            state,
            cost=self.cost,
            embed=self.embed,
            batch_size=batch_size,
            progress=progress,
        )
        if stale_flag:  # only now: a start refused above (bad target, batch size…) leaves the store as it was
            self.store.set_rollback(self.logical, False)
            state.note(
                "rollback lifted", "a flag left from an earlier migration; this one starts un-rolled-back"
            )
        return backfill.run()

    def advance(self, *, force: bool = False, now: float | None = None) -> MigrationState:
        """Move the rollout to its next step; refuses without parity (new arm) or before the dwell is over."""
        state = self.state()
        now = self.clock() if now is None else now
        if state.phase in _ENDED:
            raise ConfigurationError(
                f"the migration of {self.logical} to {state.target} is {state.phase}; there is no rollout to advance",
                field="phase",
                fix=f"start a new migration: vectorrouter migrate start {self.logical} --to VERSION",
            )
        if state.phase not in ("backfilled", "rolling_out"):
            raise ConfigurationError(
                f"{self.logical} is {state.phase}; the rollout starts after a complete backfill",
                field="phase",
                fix=f"run: vectorrouter migrate start {self.logical} --to {state.target}",
            )
        if self.store.rolled_back(self.logical):  # even with --force: the flag holds every step
            raise ConfigurationError(
                f"{self.logical} is rolled back (every search is served by {state.source}); "
                "the rollout does not move while the flag is set",
                field="rollback",
                fix=f"lift the flag first: vectorrouter migrate rollback {self.logical} --lift",
            )
        lost = self.store.failures(self.logical)
        if state.schedule.arm == "new" and lost:
            raise ConfigurationError(
                f"{len(lost)} dual writes to {state.target} were lost; no more traffic goes to it",
                field="parity",
                fix=f"repair them first: vectorrouter migrate start {self.logical} --to {state.target}",
            )
        if state.schedule.arm == "new" and not state.parity_passed:
            raise ConfigurationError(
                f"the parity check of {state.target} has not passed; no traffic goes to it",
                field="parity",
                fix="re-run `migrate start` to repair the backfill, then advance",
            )
        if state.schedule.arm == "adapter" and not state.adapter_path:
            raise ConfigurationError("the adapter arm needs an adapter file", field="adapter_path")
        if state.step >= state.schedule.last:
            raise ConfigurationError(
                f"the rollout is at its last step ({state.schedule.steps[-1]}%)",
                field="step",
                fix=f"vectorrouter migrate finish {self.logical}",
            )
        waited = now - state.step_started_at
        if state.step >= 0 and not force and waited < state.schedule.min_dwell_seconds:
            raise ConfigurationError(
                f"step {state.schedule.steps[state.step]}% has run {waited:.0f}s of its "
                f"{state.schedule.min_dwell_seconds:.0f}s",
                field="min_dwell_seconds",
                fix="wait, or pass --force",
            )
        state.step += 1
        state.step_started_at = now
        state.phase = "rolling_out"
        state.note("advance", f"{state.schedule.arm} at {state.schedule.steps[state.step]}%")
        self.store.save(state)
        return state

    def evaluate(
        self, queries: Mapping[str, str], qrels: Mapping[str, Mapping[str, float]], *, k: int = 10
    ) -> dict[str, float]:
        """Mean nDCG@k of each arm on a labelled set (query id → text, query id → {doc id: grade}); saved for status."""
        state = self.state()
        old, new = versions_of(state)
        labelled = [q for q in queries if q in qrels]
        if not labelled:
            raise ConfigurationError("no query of the labelled set has judgements", field="qrels")
        arms: dict[str, Callable[[str], list[str]]] = {
            "old": lambda text: self.router.search(str(old), text, k=k, mode="dense").ids
        }
        if state.parity_passed:
            arms["new"] = lambda text: self.router.search(str(new), text, k=k, mode="dense").ids
        if state.adapter_path:
            adapter = load_adapter(state.adapter_path)

            def adapted(text: str) -> list[str]:
                raw = self.router.embeddings.embed(state.target, [text], "query")[0]
                return self.router.search(str(old), vector=adapter(raw).tolist(), k=k, mode="dense").ids

            arms["adapter"] = adapted
        scores = {
            arm: sum(ndcg_at_k(search(queries[q]), qrels[q], k) for q in labelled) / len(labelled)
            for arm, search in arms.items()
        }
        state.quality["ndcg"] = {"k": k, "queries": len(labelled), "by_arm": scores}
        state.note("evaluate", ", ".join(f"{a} nDCG@{k} {v:.4f}" for a, v in scores.items()))
        self.store.save(state)
        return scores

    def auto_advance(
        self, gate: QualityGate | None = None, *, now: float | None = None
    ) -> tuple[bool, list[str]]:
        """Advance if the step's dwell is over and the quality gate passes; returns (advanced, reasons not to)."""
        state = self.state()
        now = self.clock() if now is None else now
        if self.store.rolled_back(self.logical):
            return False, ["the rollback flag is set"]
        if state.phase != "rolling_out" or state.step >= state.schedule.last:
            return False, [f"nothing to advance automatically ({state.phase}, step {state.step + 1})"]
        waited = now - state.step_started_at
        if waited < state.schedule.min_dwell_seconds:
            return False, [f"step has run {waited:.0f}s of its {state.schedule.min_dwell_seconds:.0f}s"]
        reasons = (gate or QualityGate()).check(self.status()["quality"], state.schedule.arm)
        if reasons:
            return False, reasons
        self.advance(now=now)
        return True, []

    def rollback(self, *, on: bool = True) -> MigrationState | None:
        """Flip the flag: every process serves the old version on its next search (``on=False`` lifts it).

        Only a migration under way can be rolled back: with none recorded (or the last one aborted) there is
        no old version to fall back to, and after ``finish`` the new version is the active one (the old one
        is no longer dual-written, or was dropped). Both refuse and write nothing. Lifting always clears the
        flag, so a stale one can be removed. Returns the migration's state (``None`` when there is none).
        """
        state = self.store.load(self.logical)
        if not on:
            self.store.set_rollback(self.logical, False)
            if state is not None and state.phase not in _ENDED:
                state.note("rollback lifted")
                self.store.save(state)
            return state
        self._check_rollback(state)
        self.store.set_rollback(self.logical, True)
        # a finish that ran between the check and the flip would make the flag send searches to a retired
        # version: read the state again and take the flag back if so
        state = self.store.load(self.logical)
        try:
            self._check_rollback(state)
        except ConfigurationError:
            self.store.set_rollback(self.logical, False)
            raise
        assert state is not None
        state.note("rollback")
        self.store.save(state)
        return state

    def _check_rollback(self, state: MigrationState | None) -> None:
        if state is None or state.phase == "aborted":
            try:
                active = f" (its searches go to the active version, {self.source_version()})"
            except VectorRouterError:  # a name nobody wrote: there is nothing to serve either
                active = ""
            raise ConfigurationError(
                f"no migration of {self.logical} is running, so there is nothing to roll back{active}",
                field="NAMESPACE",
                fix=f"roll back only a migration under way (vectorrouter migrate status {self.logical})",
            )
        if state.phase == "finished":
            dropped = any(h["action"] == "finish" and "old dropped" in h["detail"] for h in state.history)
            raise ConfigurationError(
                f"the migration of {self.logical} to {state.target} is finished: {state.target} is the active "
                f"version, and {state.source} "
                + ("was dropped" if dropped else "no longer receives writes")
                + "; a rollback would serve "
                + ("nothing" if dropped else "stale records"),
                field="phase",
                fix=f"to go back, start a new migration to the old model: vectorrouter migrate start "
                f"{self.logical} --to {state.source}",
            )

    def finish(self, *, drop_old: bool = False) -> MigrationState:
        """Make the new version the active one; retire the old version's data only with ``drop_old``."""
        state = self.state()
        if state.phase in _ENDED:
            raise ConfigurationError(
                f"the migration of {self.logical} to {state.target} is already {state.phase}",
                field="phase",
                fix=f"nothing to do (vectorrouter migrate status {self.logical})",
            )
        if self.store.rolled_back(self.logical):
            raise ConfigurationError(
                "the rollback flag is set",
                field="rollback",
                fix=f"lift it first: vectorrouter migrate rollback {self.logical} --lift",
            )
        if not state.parity_passed or state.step != state.schedule.last or state.schedule.arm != "new":
            raise ConfigurationError(
                f"finish needs the new arm at 100% with parity passed (now: {state.phase}, "
                f"step {state.step}, arm {state.schedule.arm})",
                field="phase",
                fix=f"vectorrouter migrate advance {self.logical}",
            )
        old, new = versions_of(state)
        self.router.catalog.set_active(new)
        if drop_old:
            self.router.drop_namespace(old)
        state.phase = "finished"
        state.note("finish", f"active version is now {state.target}" + ("; old dropped" if drop_old else ""))
        self.store.save(state)
        return state
