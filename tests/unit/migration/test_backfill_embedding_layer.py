"""The backfill embeds through the embedding layer: its cache, batching, quota and cost ledger.

No seam is replaced here: the backfill uses the router's ``EmbeddingService`` as it would in production, on a
scripted clock so the quota's waits are recorded instead of slept.
"""

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from vectorrouter import EmbeddingService, ModelSpec, Router
from vectorrouter.backends.base import IndexSpec, VectorBackend
from vectorrouter.migration import Backfill, FileStateStore, LayerCostModel, MigrationState
from vectorrouter.policies.clock import FakeClock

from .conftest import DOCS, OLD, CountingEmbedder, SwitchableBackend

#: The new model is paid and rate limited: 1,000,000 USD per million tokens makes every token cost 1 USD.
PAID = ModelSpec("paid-48", "hash", 48, price_per_million=1_000_000.0, requests_per_minute=60)


class Crash(BaseException):
    """Stands for the process dying mid-backfill (not an error any policy would retry)."""


class Batches(CountingEmbedder):
    """Records every provider request, and can die on the n-th one."""

    def __init__(self, dims: int) -> None:
        super().__init__(dims)
        self.requests: list[int] = []
        self.die_on: int | None = None

    def embed(self, texts: Sequence[str], task: str) -> np.ndarray:
        if self.die_on is not None and len(self.requests) + 1 == self.die_on:
            raise Crash()
        self.requests.append(len(texts))
        return super().embed(texts, task)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider() -> Batches:
    return Batches(48)


@pytest.fixture
def paid_router(clock: FakeClock, provider: Batches) -> Iterator[Router]:
    def factory(spec: IndexSpec) -> VectorBackend:
        return SwitchableBackend(spec)  # type: ignore[return-value]

    svc = EmbeddingService([OLD, PAID], embedders={PAID.version: provider}, batch_size=10, clock=clock)
    r = Router(embeddings=svc, vector_factory=factory, default_model=OLD.version)
    r.ingest("acme:docs", DOCS)
    yield r
    r.close()


def state(budget: float | None = None) -> MigrationState:
    st = MigrationState("acme:docs", OLD.version, PAID.version)
    st.budget = budget
    return st


def test_backfill_is_batched_rate_limited_and_billed_by_the_embedding_layer(
    paid_router: Router, store: FileStateStore, provider: Batches, clock: FakeClock
) -> None:
    report = Backfill(paid_router, store, state(), batch_size=30).run()
    assert report.status == "complete"
    assert report.parity is not None
    assert report.parity.passed
    # the layer cut each backfill batch of 30 into provider requests of at most 10 texts
    assert provider.requests == [10] * 6
    # 60 requests a minute with a 2-second burst: the layer waited on the clock rather than exceeding it
    assert sum(clock.sleeps) >= 3.0
    ledger = paid_router.embeddings.costs.total(version=PAID.version, tenant="acme")
    assert (ledger.calls, ledger.embedded) == (6, len(DOCS))
    # spend is what the layer billed, and a full run spends what it estimated
    assert report.spent == pytest.approx(ledger.cost)
    assert report.spent == pytest.approx(report.estimated_cost)
    assert report.spent > 0


def test_texts_the_layer_has_cached_are_neither_sent_nor_charged(
    paid_router: Router, store: FileStateStore, provider: Batches
) -> None:
    warm = [d.text for d in DOCS[:20]]
    paid_router.embeddings.embed(PAID.version, warm, "document")  # e.g. embedded by an earlier trial run
    provider.requests.clear()
    price = LayerCostModel(paid_router.embeddings)
    full = price.estimate(PAID.version, [d.text for d in DOCS[20:]])
    report = Backfill(paid_router, store, state(), batch_size=30).run()
    assert sum(provider.requests) == len(DOCS) - 20
    assert report.estimated_cost == pytest.approx(full.usd)
    assert report.spent == pytest.approx(full.usd)
    assert report.embedded == len(DOCS)  # the cached ones were still written to the new version


def test_budget_cap_pauses_at_the_layers_price_and_the_resume_pays_only_the_rest(
    paid_router: Router, store: FileStateStore, provider: Batches
) -> None:
    price = LayerCostModel(paid_router.embeddings)
    per_batch = price.estimate(PAID.version, [d.text for d in DOCS[:20]]).usd
    report = Backfill(paid_router, store, state(budget=per_batch * 1.5), batch_size=20).run()
    assert report.status == "paused"
    assert "budget cap" in report.reason
    saved = store.load("acme:docs")
    assert saved is not None
    assert saved.checkpoint.spent == pytest.approx(per_batch)
    assert saved.checkpoint.spent <= saved.budget  # type: ignore[operator]
    assert sum(provider.requests) == 20

    saved.budget = None
    report = Backfill(paid_router, store, saved, batch_size=20).run()
    assert report.status == "complete"
    assert sum(provider.requests) == len(DOCS)  # nothing embedded twice
    ledger = paid_router.embeddings.costs.total(version=PAID.version, tenant="acme")
    assert report.spent == pytest.approx(ledger.cost)  # cumulative over both runs
    assert report.estimated_cost == pytest.approx(report.spent)


def test_a_crash_inside_the_layer_resumes_from_the_checkpoint(
    paid_router: Router, store: FileStateStore, provider: Batches
) -> None:
    provider.die_on = 4  # the process dies during the second backfill batch's second request
    with pytest.raises(Crash):
        Backfill(paid_router, store, state(), batch_size=20).run()
    crashed = store.load("acme:docs")
    assert crashed is not None
    assert crashed.checkpoint.embedded == 20
    assert crashed.phase == "backfilling"
    provider.die_on = None
    report = Backfill(paid_router, store, crashed, batch_size=20).run()
    assert report.parity is not None
    assert report.parity.passed
    assert report.skipped == 20
    # the request that succeeded just before the crash is in the layer's cache: the resume does not pay twice
    assert sum(provider.requests) == len(DOCS)


def test_the_progress_bar_shows_records_and_spend_against_the_estimate(
    paid_router: Router,
    store: FileStateStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # room for every column of the bar
    report = Backfill(paid_router, store, state(), batch_size=30, progress=True).run()
    err = capsys.readouterr().err
    assert "backfill acme:docs:paid-48" in err
    assert f"{len(DOCS)}/{len(DOCS)}" in err
    assert f"spent ${report.spent:.4f} of est. ${report.estimated_cost:.4f}" in err
