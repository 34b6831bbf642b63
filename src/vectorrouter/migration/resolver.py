"""The router seam of a migration: which version answers a search, and where writes are mirrored.

The router consults a :class:`VersionResolver` (when one is attached) on every search of a *logical*
namespace (``tenant:feature``) and after every write. :class:`MigrationResolver` answers from the migration
state store, read on every search, so a rollback flag flipped by any process is obeyed by every process on its
next search. A searched versioned name (``tenant:feature:version``) bypasses the resolver: shadow queries and
audits use that to reach one arm explicitly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from vectorrouter.errors import BackendError, ConfigurationError
from vectorrouter.migration.adapters import QueryAdapter, load_adapter
from vectorrouter.migration.rollout import Arm
from vectorrouter.migration.state import MigrationState, StateStore
from vectorrouter.types import Namespace, SearchResult

if TYPE_CHECKING:
    from vectorrouter.migration.quality import QualityMonitor
    from vectorrouter.router import Router

__all__ = ["MigrationResolver", "Route", "VersionResolver"]

log = logging.getLogger("vectorrouter.migration")


@dataclass(frozen=True, slots=True)
class Route:
    """Where one search goes: the namespace whose index answers, and how the query is embedded."""

    namespace: Namespace
    arm: Arm
    #: The model version that embeds the query text.
    query_version: str
    #: Maps the query vector into the searched index's space (the adapter arm), else ``None``.
    adapter: Callable[[np.ndarray], np.ndarray] | None = None


class VersionResolver(Protocol):
    """What the router asks; every method must be cheap and must not raise for a store outage."""

    def route(self, logical: str, routing_key: str | None) -> Route | None:
        """The route for a search of ``logical``, or ``None`` for the catalog's active version."""

    def mirrors(self, namespace: Namespace) -> list[Namespace]:
        """Other namespaces a write to ``namespace`` must also reach (dual writes during a migration)."""

    def mirror_failed(self, namespace: Namespace, ids: Sequence[str], error: BaseException) -> None:
        """A mirrored write to ``namespace`` failed: remember ``ids`` so the backfill repairs them."""

    def observe(self, route: Route, query: str | None, result: SearchResult) -> None:
        """Called after every routed search (quality monitoring)."""

    def feedback(self, query_id: str, doc_id: str, signal: float) -> None:
        """A click or rating on a result of an earlier search."""


def _versions(state: MigrationState) -> tuple[Namespace, Namespace]:
    tenant, feature = state.logical.split(":")
    return Namespace(tenant, feature, state.source), Namespace(tenant, feature, state.target)


_MIRRORING = ("backfilling", "paused", "backfilled", "rolling_out", "finished")


class MigrationResolver:
    """Routes searches by the migration state: rollback flag first, then the sticky split, gated on parity.

    A finished migration routes to its new version whatever the flag says (it rolls nothing back any more).

    A store it cannot read makes it answer ``None``: the catalog's active version, which is the old version
    until ``migrate finish`` — so an outage of the state store degrades to the safe side.

    >>> import tempfile
    >>> from vectorrouter.migration.state import FileStateStore
    >>> store = FileStateStore(tempfile.mkdtemp())
    >>> store.save(MigrationState("acme:docs", "v1", "v2", phase="rolling_out", step=3, parity={"passed": True}))
    >>> MigrationResolver(store).route("acme:docs", "user-7").arm
    'new'
    >>> store.set_rollback("acme:docs", True)
    >>> MigrationResolver(store).route("acme:docs", "user-7").arm
    'old'
    """

    def __init__(
        self, store: StateStore, *, monitor: QualityMonitor | None = None, publish_every: float | None = 60.0
    ) -> None:
        self.store = store
        self.monitor = monitor
        #: Seconds between publishing this process's quality summary to the store (None: never).
        self.publish_every = publish_every
        self._published: dict[str, float] = {}
        self._router: Router | None = None
        self.store_errors = 0
        self._adapters: dict[str, QueryAdapter] = {}
        self._lock = threading.Lock()

    def _snapshot(self, logical: str) -> tuple[MigrationState | None, bool]:
        try:
            return self.store.snapshot(logical)
        except BackendError as exc:
            self.store_errors += 1
            log.warning("migration state for %s unreadable (%s); serving the active version", logical, exc)
            return None, False

    def _adapter(self, path: str) -> QueryAdapter | None:
        with self._lock:
            adapter = self._adapters.get(path)
            if adapter is None:
                try:
                    adapter = self._adapters[path] = load_adapter(path)
                except (ConfigurationError, OSError, ValueError) as exc:
                    log.warning("adapter %s unusable (%s); serving the old arm", path, exc)
                    return None
            return adapter

    def route(self, logical: str, routing_key: str | None) -> Route | None:
        state, rolled_back = self._snapshot(logical)
        if state is None or state.phase == "aborted":
            return None
        old, new = _versions(state)
        if state.phase == "finished":
            # the new version is the active one and the old may be dropped: a flag left from before (a
            # rollback is refused after finish) must not send searches to a retired version
            return Route(new, "new", state.target)
        old_route = Route(old, "old", state.source)
        if rolled_back:
            return old_route  # before anything else: a rollback never touches the new version's store
        if state.phase != "rolling_out":
            return old_route
        arm = state.split().arm_for(routing_key, salt=state.salt)
        if arm == "new":
            return Route(new, "new", state.target) if state.parity_passed else old_route
        if arm == "adapter":
            adapter = self._adapter(state.adapter_path) if state.adapter_path else None
            return Route(old, "adapter", state.target, adapter) if adapter is not None else old_route
        return old_route

    def mirrors(self, namespace: Namespace) -> list[Namespace]:
        state, _ = self._snapshot(namespace.logical)
        if state is None or state.phase not in _MIRRORING:
            return []
        old, new = _versions(state)
        return [new] if namespace == old else []

    def mirror_failed(self, namespace: Namespace, ids: Sequence[str], error: BaseException) -> None:
        """Record the lost ids for the backfill, and shut the parity gate: the new version no longer holds
        exactly the old one's documents, so no search may go to it until a backfill run repairs them."""
        log.warning("dual write of %d records to %s failed: %s", len(ids), namespace, error)
        try:
            self.store.add_failures(namespace.logical, ids)
            state = self.store.load(namespace.logical)
            if state is not None and state.parity_passed:
                state.parity = {
                    **(state.parity or {}),
                    "passed": False,
                    "reason": f"{len(ids)} dual writes to {namespace} failed; run the backfill to repair them",
                }
                state.note("parity", f"shut: {len(ids)} dual writes failed ({error})")
                self.store.save(state)
        except BackendError as exc:  # both stores down: the parity check still sees the gap
            log.error("could not record failed dual writes for %s: %s", namespace, exc)

    def attach(self, router: Router) -> MigrationResolver:
        """Make ``router`` consult this resolver, and let the monitor shadow queries through it."""
        router.resolver = self
        self._router = router
        if self.monitor is not None and self.monitor.shadow is None:
            self.monitor.shadow = self.shadow_search
        return self

    def shadow_search(
        self, served: Route, query: str, result: SearchResult
    ) -> tuple[str, SearchResult] | None:
        """Run ``query`` on the arm that did not serve it (old ↔ the schedule's candidate), never routed."""
        if self._router is None:
            raise ConfigurationError("shadow queries need a router", fix="call resolver.attach(router)")
        state = self.store.load(served.namespace.logical)
        if state is None:
            return None
        old, new = _versions(state)
        other: Arm = state.schedule.arm if served.arm == "old" else "old"
        k, mode = len(result.hits) or 10, result.mode
        if other == "old":
            return "old", self._router.search(str(old), query, k=k, mode=mode)
        if other == "new":
            if not state.parity_passed:
                return None  # a half-copied version would only make the comparison look bad
            return "new", self._router.search(str(new), query, k=k, mode=mode)
        adapter = self._adapter(state.adapter_path) if state.adapter_path else None
        if adapter is None:
            return None
        raw = self._router.embeddings.embed(state.target, [query], "query")[0]
        vector = adapter(raw).tolist()
        return "adapter", self._router.search(str(old), query, vector=vector, k=k, mode=mode)

    def observe(self, route: Route, query: str | None, result: SearchResult) -> None:
        if self.monitor is None:
            return
        self.monitor.record(route, query, result)
        logical = route.namespace.logical
        now = time.monotonic()
        last = self._published.get(logical)
        if self.publish_every is not None and (last is None or now - last >= self.publish_every):
            self._published[logical] = now
            try:
                self.monitor.publish(self.store, logical, drain=False)
            except BackendError as exc:  # monitoring never fails a search
                log.warning("could not publish quality for %s: %s", logical, exc)

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.drain(timeout=5.0)
        self.store.close()

    def feedback(self, query_id: str, doc_id: str, signal: float) -> None:
        if self.monitor is None:
            raise ConfigurationError(
                "feedback needs a quality monitor",
                field="resolver.monitor",
                fix="attach one: MigrationResolver(store, monitor=QualityMonitor(...))",
            )
        self.monitor.feedback(query_id, doc_id, signal)
