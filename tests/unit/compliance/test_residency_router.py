"""Residency and tenancy enforced by the router itself: searches, reads, writes, fallbacks and mirrors."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.unit.compliance.compliance_setup import SECRET

from vectorrouter import EmbeddingService, ModelSpec, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.compliance import Compliance, Keyring, MetadataAllowlist, NamespacePolicy, ResidencyPolicy
from vectorrouter.compliance.testing import MemoryKeyword
from vectorrouter.errors import ConfigurationError, InvalidFilter, ResidencyViolation
from vectorrouter.ladder import KeywordStep, Ladder, StepPolicy, VectorStep
from vectorrouter.testing.scripted import Script
from vectorrouter.types import Namespace

MODELS = [ModelSpec("h32", "hash", 32), ModelSpec("h64", "hash", 64)]
POLICY = ResidencyPolicy(
    namespaces={"acme-eu:*": "EU", "acme-us:*": "US"},
    stores={"primary-eu": {"EU"}, "secondary-us": {"US"}, "keyword-eu": {"EU"}},
)
DOCS = [
    {"id": f"d{i}", "text": f"glacier report {i} on ice flows", "metadata": {"user_id": f"u{i % 2}"}}
    for i in range(6)
]


@dataclass
class Regions:
    router: Router
    compliance: Compliance
    eu: Script
    us: Script
    keyword: Script
    eu_store: dict[str, NumpyBackend]
    us_store: dict[str, NumpyBackend]

    def held(self, store: dict[str, NumpyBackend], ns: str) -> int:
        return sum(b.count(ns) for b in store.values())


def _factory(script: Script, opened: dict[str, NumpyBackend]):  # type: ignore[no-untyped-def]
    def make(spec):  # type: ignore[no-untyped-def]
        backend = NumpyBackend(spec)
        opened[spec.name] = backend
        return script.wrap(backend)

    return make


def build(*, keyword: bool = False, policy: ResidencyPolicy = POLICY) -> Regions:
    eu, us, kw = Script(), Script(), Script()
    eu_store: dict[str, NumpyBackend] = {}
    us_store: dict[str, NumpyBackend] = {}
    fast = StepPolicy(timeout=None, retries=0, write_attempts=1, failure_threshold=100)
    steps = [
        VectorStep("primary-eu", _factory(eu, eu_store), policy=fast),
        VectorStep("secondary-us", _factory(us, us_store), policy=fast),
    ]
    if keyword:
        steps.append(KeywordStep("keyword-eu", kw.wrap(MemoryKeyword()), policy=fast))
    router = Router(embeddings=EmbeddingService(MODELS), ladder=Ladder(steps), default_model="h32")
    compliance = Compliance(
        keyring=Keyring({"k1": SECRET}),
        allowlist=MetadataAllowlist({"*": NamespacePolicy({"lang"})}),
        residency=policy,
    ).attach(router)
    return Regions(router, compliance, eu, us, kw, eu_store, us_store)


@pytest.fixture
def regions() -> Iterator[Regions]:
    r = build()
    yield r
    r.router.close()
    r.compliance.close()


def test_writes_of_a_region_reach_only_that_regions_stores(regions: Regions) -> None:
    regions.router.ingest("acme-eu:docs", DOCS)
    regions.router.ingest("acme-us:docs", DOCS)
    assert regions.held(regions.eu_store, "acme-eu:docs:h32") == 6
    assert regions.held(regions.us_store, "acme-eu:docs:h32") == 0
    assert regions.held(regions.us_store, "acme-us:docs:h32") == 6
    assert regions.held(regions.eu_store, "acme-us:docs:h32") == 0


def test_a_search_lists_the_out_of_region_step_as_skipped_for_residency(regions: Regions) -> None:
    regions.router.ingest("acme-eu:docs", DOCS)
    result = regions.router.search("acme-eu:docs", "glacier ice", k=3)
    assert result.served_by == "primary-eu"
    [skipped] = result.skipped
    assert skipped.step == "secondary-us"
    assert skipped.outcome == "skipped"
    assert skipped.detail.startswith("residency:")
    assert "EU" in skipped.detail


def test_with_the_compliant_primary_down_search_fails_instead_of_leaving_the_region(
    regions: Regions,
) -> None:
    regions.router.ingest("acme-eu:docs", DOCS)
    regions.router.ingest("acme-us:docs", DOCS)  # the US store is healthy and holds data
    regions.eu.kill()
    calls_before = regions.us.calls["search"]
    with pytest.raises(ResidencyViolation, match="refusing rather than leaving the region") as err:
        regions.router.search("acme-eu:docs", "glacier ice", k=3)
    assert regions.us.calls["search"] == calls_before  # the US store was never asked
    steps = {(a.step, a.outcome) for a in err.value.attempts}  # type: ignore[attr-defined]
    assert steps == {("secondary-us", "skipped"), ("primary-eu", "error")}


def test_reads_with_the_compliant_primary_down_fail_the_same_way(regions: Regions) -> None:
    regions.router.ingest("acme-eu:docs", DOCS)
    regions.eu.kill()
    with pytest.raises(ResidencyViolation):
        regions.router.get("acme-eu:docs", ["d1"])
    with pytest.raises(ResidencyViolation):
        regions.router.count("acme-eu:docs")


def test_writes_with_the_compliant_primary_down_fail_and_write_nothing_elsewhere(regions: Regions) -> None:
    regions.eu.kill()
    with pytest.raises(Exception, match="primary-eu"):
        regions.router.ingest("acme-eu:docs", DOCS)
    assert regions.held(regions.us_store, "acme-eu:docs:h32") == 0


def test_a_degraded_answer_stays_in_region_through_the_keyword_store() -> None:
    r = build(keyword=True)
    try:
        r.router.ingest("acme-eu:docs", DOCS)
        r.router.ingest("acme-us:docs", DOCS)
        r.eu.kill()
        result = r.router.search("acme-eu:docs", "glacier ice", k=3, mode="dense")
        assert result.served_by == "keyword-eu"
        assert result.degraded
        assert "secondary-us" in {a.step for a in result.skipped}
        # a US namespace may not use the EU keyword store either: no hybrid half from it
        us = r.router.search("acme-us:docs", "glacier", k=3)
        assert (us.served_by, us.mode) == ("secondary-us", "dense")
        assert {a.step for a in us.skipped} == {"primary-eu", "keyword-eu"}
        with pytest.raises(
            ResidencyViolation, match="needs a keyword store, and residency: .* must stay in US"
        ):
            r.router.search("acme-us:docs", "glacier", k=3, mode="keyword")
    finally:
        r.router.close()
        r.compliance.close()


def test_migration_mirror_writes_obey_the_mirrors_region(regions: Regions) -> None:
    class Mirror:
        def __init__(self) -> None:
            self.failed: list[str] = []

        def mirrors(self, ns: Namespace) -> list[Namespace]:
            return [ns.with_version("h64")]

        def mirror_failed(self, ns: Namespace, ids: list[str], exc: Exception) -> None:
            self.failed += ids

    regions.router.resolver = Mirror()  # type: ignore[assignment]
    regions.router.ingest("acme-eu:docs", DOCS)
    assert regions.held(regions.eu_store, "acme-eu:docs:h64") == 6
    assert regions.held(regions.us_store, "acme-eu:docs:h64") == 0


def test_every_ladder_step_needs_declared_regions_at_attach_time() -> None:
    partial = ResidencyPolicy(namespaces={"*": "EU"}, stores={"primary-eu": {"EU"}})
    with pytest.raises(ConfigurationError, match=r"compliance\.residency\.stores\.secondary-us"):
        build(policy=partial)


def test_a_namespace_without_any_vector_store_of_its_region_is_refused() -> None:
    policy = ResidencyPolicy(
        namespaces={"clinic:*": "HIPAA"},
        stores={"primary-eu": {"EU"}, "secondary-us": {"US"}},
    )
    r = build(policy=policy)
    try:
        with pytest.raises(ResidencyViolation, match="no vector store"):
            r.router.ingest("clinic:notes", DOCS)
        assert r.held(r.eu_store, "clinic:notes:h32") == r.held(r.us_store, "clinic:notes:h32") == 0
    finally:
        r.router.close()
        r.compliance.close()


def test_each_namespace_residency_decision_is_audited_once(regions: Regions) -> None:
    regions.router.ingest("acme-eu:docs", DOCS)
    for _ in range(3):
        regions.router.search("acme-eu:docs", "glacier", k=1)
    decisions = [e for e in regions.compliance.audit.entries() if e.action == "residency.decision"]
    assert [e.subject for e in decisions] == ["acme-eu:docs:h32"]
    assert decisions[0].details["refused"] == ["secondary-us"]
    assert regions.compliance.audit.verify().ok


# -- tenancy ---------------------------------------------------------------------------------------


def test_searches_are_scoped_to_the_namespace_tenant_by_the_router() -> None:
    router = Router(embeddings=EmbeddingService(MODELS), vector_factory=NumpyBackend, default_model="h32")
    compliance = Compliance(
        keyring=Keyring({"k1": SECRET}), allowlist=MetadataAllowlist({"*": NamespacePolicy({"lang"})})
    ).attach(router)
    try:
        # the same ids, texts and users in two tenants
        router.ingest("acme:docs", DOCS)
        router.ingest("globex:docs", [{**d, "text": d["text"] + " globex"} for d in DOCS])
        for tenant in ("acme", "globex"):
            hits = router.search(f"{tenant}:docs", "glacier report ice flows globex", k=20).hits
            assert len(hits) == 6
            assert all(("globex" in h.text) == (tenant == "globex") for h in hits)
        # a document id is keyed per tenant: the same caller id is two unrelated stored ids
        assert compliance.ids.doc("acme", "d1") != compliance.ids.doc("globex", "d1")
        # the namespace partition cannot be addressed through a filter
        with pytest.raises(InvalidFilter, match="reserved"):
            router.search("acme:docs", "glacier", filter={"_vr_ns": "globex:docs:h32"})
    finally:
        router.close()
        compliance.close()
