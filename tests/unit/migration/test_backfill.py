from collections.abc import Sequence

import numpy as np
import pytest

from vectorrouter import Record, Router
from vectorrouter.errors import BackendUnavailable, ConfigurationError
from vectorrouter.migration import (
    Backfill,
    FileStateStore,
    MigrationResolver,
    MigrationState,
    TokenPriceModel,
)

from .conftest import DOCS, NEW, OLD, CountingEmbedder, SwitchableBackend


class Crash(Exception):
    """Stands for the process dying mid-backfill."""


def state() -> MigrationState:
    return MigrationState("acme:docs", OLD.version, NEW.version)


def test_backfill_copies_every_record_into_the_new_width_index_and_passes_parity(
    router: Router, store: FileStateStore, backends: dict[int, SwitchableBackend]
) -> None:
    report = Backfill(router, store, state(), batch_size=16).run()
    assert report.status == "complete"
    assert report.embedded == len(DOCS)
    assert report.parity is not None
    assert report.parity.passed
    assert backends[48].inner.count("acme:docs:hash-48") == len(DOCS)
    assert router.resolve("acme:docs").model_version == OLD.version  # the old version still serves
    saved = store.load("acme:docs")
    assert saved is not None
    assert saved.phase == "backfilled"
    assert saved.parity_passed
    copied = router.get("acme:docs:hash-48", ["d007"])[0]
    assert copied.text == DOCS[7].text
    assert copied.metadata == DOCS[7].metadata


def test_a_crashed_backfill_resumes_without_re_embedding_finished_batches(
    router: Router, store: FileStateStore, new_embedder: CountingEmbedder
) -> None:
    calls = 0

    def dying(texts: Sequence[str]) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise Crash()
        return router.embeddings.embed(NEW.version, list(texts), "document")

    with pytest.raises(Crash):
        Backfill(router, store, state(), batch_size=10, embed=dying).run()
    after_crash = list(new_embedder.texts)
    assert len(after_crash) == 20  # two batches done before the crash

    resumed_state = store.load("acme:docs")
    assert resumed_state is not None
    assert resumed_state.checkpoint.embedded == 20
    report = Backfill(router, store, resumed_state, batch_size=10).run()
    assert report.parity is not None
    assert report.parity.passed
    assert report.skipped == 20
    assert sorted(new_embedder.texts) == sorted(r.text for r in DOCS)  # each document embedded exactly once
    assert store.load("acme:docs").checkpoint.embedded == len(DOCS)  # type: ignore[union-attr]


def test_budget_cap_pauses_the_backfill_and_a_raised_cap_resumes_it(
    router: Router, store: FileStateStore
) -> None:
    price = TokenPriceModel(price_per_million=1000.0)
    per_doc = price.estimate(NEW.version, [DOCS[0].text]).usd
    st = state()
    st.budget = per_doc * 25  # room for two batches of 10, not three
    report = Backfill(router, store, st, batch_size=10, cost=price).run()
    assert report.status == "paused"
    assert "budget cap" in report.reason
    saved = store.load("acme:docs")
    assert saved is not None
    assert saved.phase == "paused"
    assert saved.checkpoint.embedded == 20
    assert saved.checkpoint.spent <= st.budget
    assert saved.checkpoint.estimated_cost == pytest.approx(
        price.estimate(NEW.version, [d.text for d in DOCS]).usd
    )

    saved.budget = None
    report = Backfill(router, store, saved, batch_size=10, cost=price).run()
    assert report.status == "complete"
    assert report.parity is not None
    assert report.parity.passed


def test_failed_embeddings_are_listed_and_keep_parity_shut_until_repaired(
    router: Router, store: FileStateStore
) -> None:
    from vectorrouter.policies.clock import FakeClock
    from vectorrouter.policies.retry import Retry

    def flaky(texts: Sequence[str]) -> np.ndarray:
        if any("rockets" in t for t in texts):
            raise BackendUnavailable("provider 503")
        return router.embeddings.embed(NEW.version, list(texts), "document")

    retry = Retry(attempts=2, clock=FakeClock())
    report = Backfill(router, store, state(), batch_size=1, embed=flaky, retry=retry).run()
    rockets = [d.id for d in DOCS if "rockets" in d.text]
    assert report.failed == len(rockets)
    assert report.parity is not None
    assert not report.parity.passed
    assert report.parity.missing == len(rockets)

    repaired = Backfill(router, store, store.load("acme:docs"), batch_size=8).run()  # type: ignore[arg-type]
    assert repaired.embedded == len(DOCS)
    assert repaired.parity is not None
    assert repaired.parity.passed


def test_parity_catches_changed_and_extra_records(router: Router, store: FileStateStore) -> None:
    Backfill(router, store, state()).run()
    router.write(router.resolve("acme:docs"), [Record(id="d001", text="rewritten without a mirror")])
    router.ingest("acme:docs:hash-48", [Record(id="stray", text="only in the new version")])
    result = Backfill(router, store, store.load("acme:docs")).check_parity()  # type: ignore[arg-type]
    assert not result.passed
    assert (result.changed, result.extra, result.missing) == (1, 1, 0)
    assert result.examples == {"changed": ["d001"], "extra": ["stray"]}


def test_dual_writes_reach_both_versions_during_a_migration(
    router: Router, store: FileStateStore, resolver: MigrationResolver
) -> None:
    Backfill(router, store, state()).run()
    router.ingest("acme:docs", [Record(id="late", text="rockets added mid migration")])
    router.delete("acme:docs", ["d002"])
    assert router.get("acme:docs:hash-48", ["late"])[0].text == "rockets added mid migration"
    assert router.get("acme:docs:hash-48", ["d002"]) == []
    result = Backfill(router, store, store.load("acme:docs")).check_parity()  # type: ignore[arg-type]
    assert result.passed


def test_a_dual_write_to_a_down_store_keeps_the_primary_write_and_is_repaired_by_the_backfill(
    router: Router, store: FileStateStore, resolver: MigrationResolver, backends: dict[int, SwitchableBackend]
) -> None:
    Backfill(router, store, state()).run()
    backends[48].down = True
    router.ingest("acme:docs", [Record(id="d003", text="updated while the new store was down")])
    assert router.get("acme:docs", ["d003"])[0].text == "updated while the new store was down"
    assert store.failures("acme:docs") == {"d003"}
    backends[48].down = False
    assert not Backfill(router, store, store.load("acme:docs")).check_parity().passed  # type: ignore[arg-type]
    report = Backfill(router, store, store.load("acme:docs")).run()  # type: ignore[arg-type]
    assert report.skipped == len(DOCS) - 1  # only the lost dual write is redone
    assert report.embedded == len(DOCS) + 1  # cumulative over both runs
    assert report.parity is not None
    assert report.parity.passed
    assert store.failures("acme:docs") == set()


def test_backfill_refuses_a_finished_migration(router: Router, store: FileStateStore) -> None:
    st = state()
    st.phase = "finished"
    with pytest.raises(ConfigurationError, match="finished"):
        Backfill(router, store, st).run()


def test_a_repair_run_during_the_rollout_returns_to_its_step_once_parity_passes(
    router: Router, store: FileStateStore, resolver: MigrationResolver, backends: dict[int, SwitchableBackend]
) -> None:
    from vectorrouter.migration import Migration, Schedule

    m = Migration(router, store, "acme:docs")
    m.start(NEW.version, schedule=Schedule(min_dwell_seconds=0))
    m.advance()
    m.advance()
    backends[48].down = True
    router.ingest("acme:docs", [Record(id="d004", text="changed while the new store was down")])
    backends[48].down = False
    report = m.start(NEW.version)  # the repair
    assert report.parity is not None
    assert report.parity.passed
    st = m.state()
    assert st.phase == "rolling_out"
    assert st.split().new == 25.0
